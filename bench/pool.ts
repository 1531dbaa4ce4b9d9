// One run of the real bin/qless-worker as a child process, the way a user starts it: JSON logs
// to a file in a private work directory, --no-watch (unless a part asks for the watcher). The
// bench learns which pid serves which slot from /proc (the supervisor's children and their
// working directories), and stops the pool with SIGTERM (the whole process group is killed if
// that does not end it, and whenever the bench itself exits).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type { IdlePartSettings } from './options.ts';
import { cpuSeconds, pssMb, rssMb, type PoolCpu, type PoolMemory, type PoolPss, type PoolRss } from './proc-stats.ts';

const WORKER_BIN = fileURLToPath(new URL('../bin/qless-worker', import.meta.url));
const HANDLERS = fileURLToPath(new URL('./handlers', import.meta.url));
const STOP_TIMEOUT_MS = 20_000;

interface PoolSettings {
  redisUrl: string;
  queue: string;
  workers: number;
  concurrency: number;
  /** Seconds. */
  interval: number;
  logLevel: string;
  /** Directory for this run's --workdir and log file. */
  dir: string;
  /** Worker name prefix: slot k is `<name>-<k>`. */
  name: string;
  /** The handler project (--path); default bench/handlers. */
  path?: string;
  /** Hot reload on (default off: --no-watch). */
  watch?: boolean;
  /** Environment variables for the pool's processes, beyond the bench's own environment. */
  env?: Record<string, string>;
  /** More qless-worker options (e.g. --metrics-port). */
  args?: string[];
  /** The qless-worker launcher; default this tree's bin/qless-worker (another commit's: baseline-tree.ts). */
  bin?: string;
}

const live = new Set<BenchPool>();
process.on('exit', () => {
  for (const pool of live) pool.killGroup();
});

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // Only the command line configures the pool.
    if (key.startsWith('QLESS_') || key === 'REDIS_URL' || key === 'NODE_OPTIONS') continue;
    env[key] = value;
  }
  return env;
}

export class BenchPool {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
  /** performance.timeOrigin-based ms when the process was spawned. */
  readonly spawnedAt: number;
  private readonly exitPromise: Promise<void>;
  private done = false;

  private constructor(readonly settings: PoolSettings) {
    mkdirSync(settings.dir, { recursive: true });
    this.logFile = join(settings.dir, 'qless-worker.log');
    const out = openSync(this.logFile, 'a');
    const args = [
      settings.bin ?? WORKER_BIN,
      ...[
        '--queue',
        settings.queue,
        '--workers',
        String(settings.workers),
        '--concurrency',
        String(settings.concurrency),
      ],
      ...[
        '--interval',
        String(settings.interval),
        '--path',
        settings.path ?? HANDLERS,
        '--workdir',
        settings.dir,
        '--redis',
        settings.redisUrl,
      ],
      ...[
        '--name',
        settings.name,
        ...(settings.watch ? [] : ['--no-watch']),
        '--log-format',
        'json',
        '--log-level',
        settings.logLevel,
      ],
      ...(settings.args ?? []),
    ];
    this.spawnedAt = performance.timeOrigin + performance.now();
    // detached: the supervisor leads its own process group, so a cleanup can reach every worker.
    this.child = spawn(process.execPath, args, {
      cwd: settings.dir,
      env: { ...childEnv(), ...settings.env },
      stdio: ['ignore', out, out],
      detached: true,
    });
    closeSync(out);
    if (this.child.pid === undefined) throw new Error('could not start bin/qless-worker');
    this.pid = this.child.pid;
    this.exitPromise = new Promise((resolve) => {
      this.child.once('exit', () => {
        this.done = true;
        resolve();
      });
    });
    live.add(this);
  }

  static start(settings: PoolSettings): BenchPool {
    return new BenchPool(settings);
  }

  /** A pool of one of the idle parts: --concurrency 1, the part's --interval and --log-level, names bench-<k>. */
  static startIdle(
    redisUrl: string,
    settings: IdlePartSettings,
    pool: Pick<PoolSettings, 'queue' | 'workers' | 'dir' | 'path' | 'watch' | 'bin'>,
  ): BenchPool {
    return new BenchPool({
      redisUrl,
      concurrency: 1,
      interval: settings.interval,
      logLevel: settings.logLevel,
      name: 'bench',
      ...pool,
    });
  }

  /** Whether the supervisor has exited. */
  get exited(): boolean {
    return this.done;
  }

  /** The promise's outcome, unless the supervisor exits first (then an error pointing at its log). */
  guard<T>(promise: Promise<T>): Promise<T> {
    const died = this.exitPromise.then(() => {
      throw new Error(`qless-worker exited unexpectedly; see ${this.logFile}`);
    });
    return Promise.race([promise, died]);
  }

  /** Worker names in slot order. */
  get names(): string[] {
    return Array.from({ length: this.settings.workers }, (_, slot) => `${this.settings.name}-${slot}`);
  }

  /**
   * The live worker process of each slot (index = slot): the supervisor's children, told apart by
   * their working directory, which the supervisor sets to the slot's sandbox. Works at every log level.
   */
  slotPids(): (number | undefined)[] {
    const pids: (number | undefined)[] = Array.from({ length: this.settings.workers }, () => undefined);
    const sandboxes = join(realpathSync(this.settings.dir), 'sandbox');
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        // Fields after "(comm)": state, then ppid.
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(ppid) !== this.pid || state === 'Z') continue;
        const slot = /^worker-(\d+)$/.exec(relative(sandboxes, readlinkSync(`/proc/${pid}/cwd`)))?.[1];
        if (slot !== undefined && Number(slot) < pids.length) pids[Number(slot)] = pid;
      } catch {
        // Gone meanwhile, or not ours to read.
      }
    }
    return pids;
  }

  /** Resolves once every slot's worker has popped (its name has a score in ql:workers): the pool is polling. */
  async waitUntilPolling(redis: Redis, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.done) throw new Error(`qless-worker exited before its workers were polling; see ${this.logFile}`);
      const pipeline = redis.pipeline();
      for (const name of this.names) pipeline.zscore('ql:workers', name);
      const scores = ((await pipeline.exec()) ?? []).map(([, score]) => score);
      if (scores.every((score) => score !== null)) return;
      if (Date.now() > deadline)
        throw new Error(`the workers were not polling after ${timeoutMs} ms; see ${this.logFile}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** RSS of the supervisor and of each slot's current worker. */
  rss(): PoolRss {
    return this.memory(rssMb);
  }

  /** PSS of the supervisor and of each slot's current worker. */
  pss(): PoolPss {
    return this.memory(pssMb);
  }

  private memory(read: (pid: number) => number | undefined): PoolMemory {
    return {
      supervisorMb: read(this.pid),
      workersMb: this.slotPids().map((pid) => (pid === undefined ? undefined : read(pid))),
    };
  }

  /** CPU time used so far by the supervisor and by each slot's current worker. */
  cpu(): PoolCpu {
    return {
      supervisorSeconds: cpuSeconds(this.pid),
      workersSeconds: this.slotPids().map((pid) => (pid === undefined ? undefined : cpuSeconds(pid))),
    };
  }

  /** Graceful stop (SIGTERM, as an operator would); kills the group if it takes too long. */
  async stop(): Promise<void> {
    if (!this.done) {
      this.child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), STOP_TIMEOUT_MS);
      });
      const how = await Promise.race([this.exitPromise.then(() => 'exited' as const), late]);
      clearTimeout(timer);
      if (how === 'late') {
        process.stderr.write(
          `bench: qless-worker (pid ${this.pid}) did not stop within ${STOP_TIMEOUT_MS} ms after SIGTERM; killing it\n`,
        );
        this.killGroup();
      }
    }
    await this.exitPromise;
    live.delete(this);
  }

  killGroup(): void {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // The group is gone already.
    }
  }
}
