// The private redis-server of one fault, which the suite can stop and start again on the same
// port and data directory (a restart, with `appendonly yes` so the data survives it) and freeze
// (SIGSTOP) and thaw (SIGCONT). scripts/private-redis.ts cannot restart a server in place, so the
// process is spawned here; its port still comes from freePort() there (never 6379).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../scripts/private-redis.ts';

const READY_TIMEOUT_MS = 10_000;

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface ChaosRedisOptions {
  /** The server's --dir (its AOF and log file). */
  dir: string;
  /** `appendonly yes` with fsync every second: what a restart must not lose. */
  appendonly: boolean;
}

async function answers(port: number): Promise<boolean> {
  const probe = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 500,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

export class ChaosRedis {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly port: number,
    private readonly options: ChaosRedisOptions,
  ) {}

  static async start(options: ChaosRedisOptions): Promise<ChaosRedis> {
    mkdirSync(options.dir, { recursive: true });
    const server = new ChaosRedis(await freePort(), options);
    await server.startProcess();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts redis-server on the same port and directory (after stop()); resolves once it answers PING. */
  async startProcess(): Promise<void> {
    const { dir, appendonly } = this.options;
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
    args.push('--appendonly', appendonly ? 'yes' : 'no', '--appendfsync', 'everysec');
    args.push('--daemonize', 'no', '--logfile', join(dir, 'redis.log'), '--loglevel', 'notice');
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.child = child;
    running.add(child);
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        running.delete(child);
        resolve();
      }),
    );
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await answers(this.port))) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`redis-server on port ${this.port} exited at start; see ${join(dir, 'redis.log')}`);
      if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not answer within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** A clean stop (SIGTERM: Redis writes its AOF out and exits); resolves once the process is gone. */
  async stop(): Promise<void> {
    this.child?.kill('SIGTERM');
    await this.exited;
  }

  /** The server stops answering, its connections stay open: SIGSTOP. */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  /** Ends the server for good, whatever its state (a frozen one too). */
  async close(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }
}
