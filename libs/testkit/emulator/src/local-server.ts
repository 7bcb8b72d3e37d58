import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * The HTTP server under each local fake (OpenAI, Discord, Twilio): listens on a free loopback port unless told
 * otherwise, tracks its connections, and on close drops them all (keep-alive sockets included) before closing.
 */
export class LocalServer {
  readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly name: string,
    handler: (req: IncomingMessage, res: ServerResponse) => void,
    private readonly options: { host?: string; port?: number } = {},
  ) {
    this.server = createServer(handler);
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** `http://<host>:<port>` (no trailing slash). */
  get origin(): string {
    const address = this.server.address() as AddressInfo | null;
    if (!address) throw new Error(`${this.name} not started`);
    return `http://${this.options.host ?? '127.0.0.1'}:${address.port}`;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', resolve));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server.listening ? this.server.close(() => resolve()) : resolve()));
  }
}
