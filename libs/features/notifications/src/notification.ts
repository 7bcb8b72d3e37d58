/** What the outbox stores for one notification (JSON): text, or text with a file attached. */
export type NotificationPayload =
  | {
      kind: 'text';
      /** Already escaped for Discord markdown, at most one message long. */
      text: string;
      /** Short call tag, shown as a header when consecutive messages switch calls. */
      callTag?: string;
    }
  | { kind: 'file'; text: string; callTag?: string; fileName: string; fileContent: string };

/** One request's worth, as a sink sends it. */
export interface RenderedMessage {
  content: string;
  file?: { name: string; content: string };
}

/** What happened to a send, and what the queue should do next. */
export type SendOutcome =
  /** Delivered. `waitMs`: the rate-limit bucket is empty, wait this long before the next request. */
  | { kind: 'delivered'; waitMs: number }
  /** Not delivered, try the same message again after `afterMs` (429) or after a backoff (`afterMs` undefined). */
  | { kind: 'retry'; afterMs?: number; reason: string }
  /** This message will never be accepted (400): record it as failed and move on. */
  | { kind: 'poison'; reason: string }
  /** The destination is gone (401/403/404): stop sending to it. */
  | { kind: 'dead'; reason: string };

/** A place notifications go. `id` is stored with each message and must not reveal a secret. */
export interface NotificationSink {
  readonly id: string;
  /** Shown in logs and health output instead of the secret URL. */
  readonly label: string;
  send(message: RenderedMessage): Promise<SendOutcome>;
}
