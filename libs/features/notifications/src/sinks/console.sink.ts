import type { NotificationSink, RenderedMessage, SendOutcome } from '../notification.js';

/** Prints notifications on stdout, exactly as they would be posted (the demo's window). */
export class ConsoleSink implements NotificationSink {
  readonly id = 'console';
  readonly label = 'console';

  async send(message: RenderedMessage): Promise<SendOutcome> {
    const attachment = message.file ? `\n  [attached ${message.file.name}, ${message.file.content.length} characters]` : '';
    process.stdout.write(`${message.content.replace(/^/gm, '  │ ')}${attachment}\n`);
    return { kind: 'delivered', waitMs: 0 };
  }
}
