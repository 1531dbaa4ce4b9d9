// A redis-server (or sentinel) process that a test can kill -9 and start again on the same port:
// the pieces of a Sentinel cluster, a TLS-only server, a server with ACL users. Loopback only,
// never port 6379, no persistence, killed when this process exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { freePort } from './redis.ts';

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface RedisProcessOptions {
  /** Arguments after the program: a config file first for a sentinel, else redis-server options. */
  args: (port: number, dir: string) => string[];
  /** The port to use; default a free one. */
  port?: number;
  /** Probe the port over TLS (a server started with --port 0 and --tls-port). */
  tls?: boolean;
}

/** Whether something on the port answers a PING like a Redis (a password or ACL refusal counts). */
function answers(port: number, tls: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    let reply = '';
    // Over TLS a finished handshake is enough: the server may want a client certificate for more.
    const socket = tls
      ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
          socket.destroy();
          resolve(true);
        })
      : new Socket().connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.setTimeout(500);
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (!reply.includes('\r\n')) return;
      socket.destroy();
      resolve(/^(\+PONG|-NOAUTH|-NOPERM)/.test(reply));
    });
  });
}

export class RedisProcess {
  child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: RedisProcessOptions,
  ) {}

  /** Starts the process and resolves once it answers on its port. */
  static async start(options: RedisProcessOptions): Promise<RedisProcess> {
    const port = options.port ?? (await freePort());
    const node = new RedisProcess(port, mkdtempSync(join(tmpdir(), 'qless-redis-node-')), options);
    await node.launch();
    return node;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get isRunning(): boolean {
    return this.child !== undefined;
  }

  /** Starts it again on the same port (after a kill), with the same arguments unless new ones are given. */
  async restart(args?: (port: number, dir: string) => string[]): Promise<void> {
    if (this.child) throw new Error(`redis process on port ${this.port} is still running`);
    if (args) this.options.args = args;
    await this.launch();
  }

  private async launch(): Promise<void> {
    let stderr = '';
    const child = spawn('redis-server', this.options.args(this.port, this.dir), {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    this.child = child;
    running.add(child);
    let gone = false;
    this.exited = new Promise<void>((resolve) =>
      child.once('exit', () => {
        gone = true;
        running.delete(child);
        if (this.child === child) this.child = undefined;
        resolve();
      }),
    );
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !gone) {
      if (await answers(this.port, this.options.tls ?? false)) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGKILL');
    await this.exited;
    throw new Error(`redis-server on port ${this.port} did not come up: ${stderr.slice(-2000)}`);
  }

  /** kill -9: the server dies without closing connections cleanly or saving anything. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  /** Stops it for good and removes its directory. */
  async stop(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export { dataNodeArgs } from './redis.ts';
