import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { OrderedRetryQueue, ToolInvocations, type ToolInvocationRecord } from '#storage';

/** Records per database write. */
const BATCH = 200;
/** How long shutdown waits for the queue to reach the database. */
const SHUTDOWN_FLUSH_MS = 5000;

/**
 * Stores tool runs without ever holding up a call: the executor only enqueues; one writer drains the queue in order,
 * many records per statement, retrying a failed write with backoff. Every write is an upsert keyed by the tool
 * call, so writing a record again after an ambiguous failure is harmless.
 */
@Injectable()
export class ToolInvocationWriter implements OnApplicationShutdown {
  private readonly logger = new Logger(ToolInvocationWriter.name);
  private readonly queue = new OrderedRetryQueue<ToolInvocationRecord>({
    what: 'tool invocations',
    logger: this.logger,
    apply: (records) => this.invocations.upsert(records),
    take: (queue) => Math.min(queue.length, BATCH),
  });

  constructor(private readonly invocations: ToolInvocations) {}

  /** Records waiting for the database. */
  get backlog(): number {
    return this.queue.backlog;
  }

  write(record: ToolInvocationRecord): void {
    this.queue.push(record);
  }

  /** Resolves once everything written so far is stored. */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.flushWithin(SHUTDOWN_FLUSH_MS);
  }
}
