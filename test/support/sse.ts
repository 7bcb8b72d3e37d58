/** One Server-Sent Event as a browser's EventSource would hand it over. */
export interface SseMessage {
  id?: string;
  data: string;
}

/**
 * A Server-Sent Events client over fetch, parsing the stream as EventSource does (`id:`, `data:`, comments,
 * blank-line dispatch), so tests can read the console's feed, drop it and resume it with Last-Event-ID.
 */
export class SseClient {
  readonly messages: SseMessage[] = [];
  status = 0;
  headers?: Headers;
  private readonly abort = new AbortController();
  private waiters: Array<{ match: (m: SseMessage) => boolean; resolve: (m: SseMessage) => void }> = [];
  private done?: Promise<void>;

  /** The last id received (what a browser resends as Last-Event-ID). */
  get lastEventId(): string | undefined {
    return this.messages.findLast((m) => m.id !== undefined)?.id;
  }

  /** The parsed `data` of every message. */
  json<T = unknown>(): T[] {
    return this.messages.map((m) => JSON.parse(m.data) as T);
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: client.abort.signal });
    client.status = response.status;
    client.headers = response.headers;
    if (response.status === 200 && response.body) client.done = client.read(response.body);
    return client;
  }

  waitFor(match: (message: SseMessage) => boolean, timeoutMs = 5000): Promise<SseMessage> {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching event within ${timeoutMs} ms (${this.messages.length} seen)`)), timeoutMs);
      this.waiters.push({ match, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }

  waitForJson<T>(match: (data: T) => boolean, timeoutMs = 5000): Promise<T> {
    return this.waitFor((m) => match(JSON.parse(m.data) as T), timeoutMs).then((m) => JSON.parse(m.data) as T);
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.done?.catch(() => undefined);
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    let id: string | undefined;
    let data: string[] = [];
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, '');
        buffer = buffer.slice(newline + 1);
        if (line === '') {
          if (data.length > 0) this.dispatch({ ...(id !== undefined ? { id } : {}), data: data.join('\n') });
          id = undefined;
          data = [];
        } else if (line.startsWith(':')) {
          continue;
        } else {
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id') id = value;
          else if (field === 'data') data.push(value);
        }
      }
    }
  }

  private dispatch(message: SseMessage): void {
    this.messages.push(message);
    this.waiters = this.waiters.filter((w) => (w.match(message) ? (w.resolve(message), false) : true));
  }
}
