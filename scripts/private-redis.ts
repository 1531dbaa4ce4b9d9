// A private redis-server on a free loopback port, no persistence, stopped when this process
// ends (also when tests fail or the process is killed). Used by the tests, the demo and the
// benchmarks; it never touches a Redis on 6379.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  port: number;
  url: string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function requireRedisServer(): void {
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      'redis-server was not found on PATH: install it ' +
        '(Debian/Ubuntu: `sudo apt-get install redis-server`, macOS: `brew install redis`) and try again',
    );
  }
}

/** A port the OS just handed out on 127.0.0.1; never 6379. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.unref();
      server.on('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const chosen = typeof address === 'object' && address ? address.port : 0;
        server.close(() => resolve(chosen));
      });
    });
    if (port !== 6379 && port !== 0) return port;
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let reply = '';
    socket.setTimeout(500);
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) {
        socket.destroy();
        // NOAUTH: a server started with --requirepass is up, it just wants a password.
        resolve(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'));
      }
    });
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}

interface StartRedisOptions {
  /** Extra redis-server arguments, after the defaults (e.g. `['--requirepass', 'secret']`, TLS settings). */
  args?: string[];
  /**
   * Own process group, so a terminal's Ctrl-C (sent to the whole foreground group) does not stop
   * Redis before its user has shut down what depends on it (the demo). Still stopped at exit.
   */
  detached?: boolean;
  /** This port instead of a free one (e.g. to start a stopped server again where its clients look for it). */
  port?: number;
}

/** redis-server options for a private data node: loopback, no persistence, quiet. */
export function dataNodeArgs(port: number, dir: string, extra: string[] = []): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--loglevel',
    'warning',
    ...extra,
  ];
}

async function startOnce(port: number, extraArgs: string[], detached: boolean): Promise<RedisServer | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'qless-redis-'));
  const child = spawn('redis-server', dataNodeArgs(port, dir, ['--daemonize', 'no', ...extraArgs]), {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached,
  });
  running.add(child);
  let exited = false;
  child.once('exit', () => {
    exited = true;
    running.delete(child);
  });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !exited) {
    if (await ping(port)) {
      return {
        port,
        url: `redis://127.0.0.1:${port}`,
        stop: async () => {
          if (!exited) {
            const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
            child.kill('SIGTERM');
            await gone;
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  return undefined;
}

/** Starts a private redis-server; retries on another port if the chosen one was taken meanwhile. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  requireRedisServer();
  if (options.port === 6379) throw new Error('a private redis-server never runs on port 6379');
  for (let attempt = 0; attempt < 5; attempt++) {
    const server = await startOnce(options.port ?? (await freePort()), options.args ?? [], options.detached ?? false);
    if (server) return server;
  }
  throw new Error('could not start a private redis-server after 5 attempts');
}
