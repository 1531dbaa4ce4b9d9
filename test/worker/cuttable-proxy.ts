// A TCP proxy between a worker and Redis that a test can cut: cut() drops every connection and
// refuses new ones until restore(). cutAfter(text) arms it to cut when a client sends a command
// containing `text`: the command reaches Redis, which runs it, and the cut comes as its reply
// does, which never reaches the client. (Meant for a connection with nothing else in flight:
// the first bytes back are taken for that reply.)
import { createServer, connect, type Server, type Socket } from 'node:net';

export class CuttableProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private trigger: { text: Buffer; cut: () => void } | undefined;

  constructor(
    readonly port: number,
    private readonly target: number,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async restore(): Promise<void> {
    const server = createServer((client) => this.forward(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Resolves once a client sent `text` (it reached Redis) and every connection was then cut. */
  cutAfter(text: string): Promise<void> {
    return new Promise<void>((resolve) => {
      this.trigger = { text: Buffer.from(text), cut: () => void this.cut().then(resolve) };
    });
  }

  private forward(client: Socket): void {
    const upstream = connect(this.target, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    // The last bytes of the previous chunk: the text may straddle two.
    let tail = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      const trigger = this.trigger;
      const seen = Buffer.concat([tail, chunk]);
      tail = seen.subarray(Math.max(0, seen.length - (trigger?.text.length ?? 0)));
      if (!trigger || !seen.includes(trigger.text)) {
        upstream.write(chunk);
        return;
      }
      this.trigger = undefined;
      // What follows (the rest of the command, if it came in pieces) still goes to Redis; what
      // comes back is its reply, proof that it ran: dropped, and every connection cut.
      upstream.unpipe(client);
      upstream.once('data', () => trigger.cut());
      upstream.resume();
      upstream.write(chunk);
    });
    upstream.pipe(client);
  }
}
