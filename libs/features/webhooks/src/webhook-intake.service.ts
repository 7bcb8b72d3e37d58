import { Injectable, Logger } from '@nestjs/common';
import { IncomingCallHandler } from './incoming-call.handler.js';
import type { VerifiedWebhook } from './webhook-verifier.js';
import { WebhookError, WebhookErrorCode } from './webhooks.errors.js';
import { Lifecycle } from '#health';
import { IdempotencyStore, WEBHOOK_CLAIM_TTL_MS } from '#storage';

export type WebhookOutcome = 'accepted' | 'rejected' | 'caller_gone' | 'duplicate' | 'ignored';

/**
 * Runs each verified webhook once. Deliveries are at least once and may arrive concurrently: a delivery whose
 * `webhook-id` is being processed right now waits for that processing and shares its outcome (so a failure is
 * answered 5xx to every copy, and OpenAI retries); one already processed is acknowledged at once.
 */
@Injectable()
export class WebhookIntake {
  private readonly logger = new Logger(WebhookIntake.name);
  private readonly inFlight = new Map<string, Promise<WebhookOutcome>>();

  constructor(
    private readonly claims: IdempotencyStore,
    private readonly incomingCall: IncomingCallHandler,
    private readonly lifecycle: Lifecycle,
  ) {}

  async receive({ webhookId, event }: VerifiedWebhook): Promise<WebhookOutcome> {
    const running = this.inFlight.get(webhookId);
    if (running) return running.then((outcome) => (outcome === 'ignored' ? outcome : 'duplicate'));
    const processing = this.process(webhookId, event).finally(() => this.inFlight.delete(webhookId));
    this.inFlight.set(webhookId, processing);
    return processing;
  }

  private async process(webhookId: string, event: VerifiedWebhook['event']): Promise<WebhookOutcome> {
    if (event.type !== 'realtime.call.incoming') {
      this.logger.debug(`webhook ${webhookId}: ${event.type.slice(0, 64)} ignored`);
      return 'ignored';
    }
    // Draining: the call goes to a ready replica when OpenAI delivers the webhook again.
    if (this.lifecycle.draining) throw new WebhookError(WebhookErrorCode.Draining, 'shutting down, new calls go elsewhere');
    const claimKey = `webhook:${webhookId}`;
    if (!(await this.claims.claim(claimKey, WEBHOOK_CLAIM_TTL_MS))) return 'duplicate';
    try {
      return await this.incomingCall.handle(event);
    } catch (error) {
      await this.claims.release(claimKey);
      throw error;
    }
  }
}
