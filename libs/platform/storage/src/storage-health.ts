import { Injectable } from '@nestjs/common';
import { errorMessage as errorText } from '#resilience';

export interface StorageFailure {
  at: Date;
  message: string;
}

/**
 * What the storage adapters know about their own health, for readiness: the last write that failed and the last
 * that succeeded. `failing` is true while the most recent write failed (a later success clears it).
 */
@Injectable()
export class StorageHealth {
  private failure?: StorageFailure;
  private success?: Date;
  private lastFailed = false;

  /** The most recent failed write (kept after a later success, for diagnosis). */
  get lastError(): StorageFailure | undefined {
    return this.failure;
  }

  /** When a write last succeeded. */
  get lastSuccessAt(): Date | undefined {
    return this.success;
  }

  /** The most recent write failed. */
  get failing(): boolean {
    return this.lastFailed;
  }

  recordFailure(error: unknown): void {
    this.failure = { at: new Date(), message: errorMessage(error) };
    this.lastFailed = true;
  }

  recordSuccess(): void {
    this.success = new Date();
    this.lastFailed = false;
  }

  /** Runs a write and records its outcome (the error is rethrown). */
  async track<T>(write: () => Promise<T>): Promise<T> {
    try {
      const result = await write();
      this.recordSuccess();
      return result;
    } catch (error) {
      this.recordFailure(error);
      throw error;
    }
  }
}

/** Storage's error text: the error's (`#resilience`), connection strings redacted (drivers quote them). */
export function errorMessage(error: unknown): string {
  return redactSecrets(errorText(error));
}

const CONNECTION_URL = /\bpostgres(?:ql)?:\/\/[^\s'"]*/gi;

/** Error text is shown on /health/ready and in logs: never a connection string (it carries the password). */
export function redactSecrets(message: string): string {
  return message.replace(CONNECTION_URL, 'postgres://[redacted]');
}
