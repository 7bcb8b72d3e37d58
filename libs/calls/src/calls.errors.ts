export enum CallControlErrorCode {
  /** OpenAI did not answer within the accept deadline (retry included). */
  Timeout = 'timeout',
  /** OpenAI answered with an error other than 404, or could not be reached. */
  Upstream = 'upstream',
}

/** Call control failed in a way OpenAI should retry: the webhook answers 5xx. */
export class CallControlError extends Error {
  constructor(
    readonly code: CallControlErrorCode,
    message: string,
    readonly upstreamStatus?: number,
  ) {
    super(message);
    this.name = 'CallControlError';
  }
}
