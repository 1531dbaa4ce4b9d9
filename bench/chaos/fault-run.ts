// One fault's run: its own redis-server (fresh data), the client that puts its jobs, the pools
// it starts (the real bin/qless-worker, through bench/pool.ts), the strand watch, and at the end
// the account of every job and the verdict.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Client } from '../../src/client/client.ts';
import { BenchPool } from '../pool.ts';
import { endedCount, type JobSpec, putJobs, type Tally, tally } from './jobs.ts';
import { groupMembers } from './processes.ts';
import { ChaosRedis } from './redis.ts';
import { RunLog } from './run-log.ts';
import {
  DRAIN_LIMIT_MS,
  GRACE_PERIOD_S,
  HANDLERS,
  HEARTBEAT_S,
  INTERVAL_S,
  LOG_LEVEL,
  POOL_NAME,
  QUEUE,
} from './settings.ts';
import { type Stranding, StrandWatch } from './strand-watch.ts';

const DRAIN_POLL_MS = 250;
/** How long a pool gets to exit after TERM (its --shutdown-timeout is 30 s). */
const STOP_LIMIT_MS = 40_000;

export interface Check {
  what: string;
  ok: boolean;
}

export interface FaultResult {
  name: string;
  title: string;
  tally: Tally;
  /** Processes the suite killed (workers, or the supervisor). */
  kills: number;
  strandings: Stranding[];
  /** The longest stretch a job sat locked while no process ran it, stranding or not. */
  longest: Stranding | undefined;
  /** Seconds from the first pool's start until every job ended; undefined: not within the limit. */
  drainSeconds: number | undefined;
  /** The fault's own checks (exit codes, processes left, expected data), beside the common ones. */
  checks: Check[];
  /** More figures of this fault, one line each. */
  notes: string[];
  passed: boolean;
  /** The fault's files (pool logs, Redis log, run records). */
  dir: string;
}

export interface PoolShape {
  workers: number;
  concurrency: number;
}

export interface StoppedPool {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Processes still in the pool's process group after it exited. */
  left: number[];
}

/**
 * CHAOS_NODE_OPTIONS becomes the pool processes' NODE_OPTIONS (the bench clears the inherited one):
 * a --require probe, or V8 flags to compare (a --max-semi-space-size there replaces the workers' own).
 */
function poolNodeOptions(): { NODE_OPTIONS?: string } {
  const options = process.env.CHAOS_NODE_OPTIONS;
  return options ? { NODE_OPTIONS: options } : {};
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class FaultRun {
  readonly jobs: JobSpec[] = [];
  readonly checks: Check[] = [];
  readonly notes: string[] = [];
  kills = 0;
  private pools = 0;
  private firstPoolAt: number | undefined;
  private drainedAt: number | undefined;

  private constructor(
    readonly name: string,
    readonly dir: string,
    readonly server: ChaosRedis,
    readonly redis: Redis,
    readonly client: Client,
    readonly runs: RunLog,
    readonly watch: StrandWatch,
    readonly progress: (line: string) => void,
  ) {}

  static async open(
    name: string,
    baseDir: string,
    progress: (line: string) => void,
    options: { appendonly?: boolean } = {},
  ): Promise<FaultRun> {
    const dir = join(baseDir, name);
    const runsDir = join(dir, 'runs');
    mkdirSync(runsDir, { recursive: true });
    const server = await ChaosRedis.start({ dir: join(dir, 'redis'), appendonly: options.appendonly ?? false });
    // Calls wait through a Redis restart instead of failing after a number of retries.
    const redis = new Redis(server.url, { maxRetriesPerRequest: null });
    redis.on('error', () => undefined);
    const client = new Client({ redis, workerName: 'chaos-producer' });
    await client.call('config.set', 'heartbeat', HEARTBEAT_S);
    await client.call('config.set', 'grace-period', GRACE_PERIOD_S);
    const runs = new RunLog(runsDir);
    const watch = new StrandWatch(redis, QUEUE, runs);
    watch.start();
    return new FaultRun(name, dir, server, redis, client, runs, watch, progress);
  }

  /** Puts the jobs (keeping every completed one: qless trims beyond jobs-history-count). */
  async put(jobs: readonly JobSpec[]): Promise<void> {
    // One by one: a spread of a few hundred thousand arguments overflows the stack.
    for (const job of jobs) this.jobs.push(job);
    await this.client.call('config.set', 'jobs-history-count', this.jobs.length + 1_000);
    await putJobs(this.client, QUEUE, jobs);
  }

  startPool(shape: PoolShape): BenchPool {
    this.pools++;
    const pool = BenchPool.start({
      redisUrl: this.server.url,
      queue: QUEUE,
      workers: shape.workers,
      concurrency: shape.concurrency,
      interval: INTERVAL_S,
      logLevel: LOG_LEVEL,
      dir: join(this.dir, `pool-${this.pools}`),
      name: POOL_NAME,
      path: HANDLERS,
      env: { CHAOS_RUNS_DIR: this.runs.dir, ...poolNodeOptions() },
    });
    this.firstPoolAt ??= Date.now();
    return pool;
  }

  /** Jobs in an end state now. */
  ended(): Promise<number> {
    return endedCount(this.redis);
  }

  /** Resolves once at least `count` jobs have ended (false: not within `limitMs`). */
  async waitEnded(count: number, limitMs = DRAIN_LIMIT_MS): Promise<boolean> {
    const deadline = Date.now() + limitMs;
    for (;;) {
      const ended = await this.ended();
      if (ended >= count) {
        if (ended >= this.jobs.length) this.drainedAt ??= Date.now();
        return true;
      }
      if (Date.now() > deadline) return false;
      await sleep(DRAIN_POLL_MS);
    }
  }

  /** Resolves once every job put has ended, or the limit passed; true when drained. */
  waitDrained(limitMs = DRAIN_LIMIT_MS): Promise<boolean> {
    return this.waitEnded(this.jobs.length, limitMs);
  }

  check(what: string, ok: boolean): void {
    this.checks.push({ what, ok });
    this.progress(`  ${ok ? 'ok' : 'FAILED'}: ${what}`);
  }

  note(line: string): void {
    this.notes.push(line);
    this.progress(`  ${line}`);
  }

  /** TERM to the supervisor (as an operator stops a pool); the process group is checked once it exited. */
  async stopPool(pool: BenchPool): Promise<StoppedPool> {
    if (!pool.exited) pool.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const exited = await new Promise<boolean>((resolve) => {
      if (pool.exited) return resolve(true);
      timer = setTimeout(() => resolve(false), STOP_LIMIT_MS);
      pool.child.once('exit', () => resolve(true));
    });
    clearTimeout(timer);
    // The workers leave after the supervisor; give them a moment before counting what is left.
    let left = groupMembers(pool.pid);
    for (let tries = 0; tries < 20 && left.length > 0; tries++) {
      await sleep(100);
      left = groupMembers(pool.pid);
    }
    const stopped = { code: pool.child.exitCode, signal: pool.child.signalCode, left };
    if (!exited || left.length > 0) pool.killGroup();
    await pool.stop();
    return stopped;
  }

  /** Stops the pool (TERM), then accounts for every job and decides. */
  async finish(title: string, pool: BenchPool): Promise<FaultResult> {
    const stopped = await this.stopPool(pool);
    this.check(
      `the last pool exited with code 0 after TERM (got ${stopped.code ?? stopped.signal}) ` +
        `and left no process (${stopped.left.length})`,
      stopped.code === 0 && stopped.left.length === 0,
    );
    await this.watch.stop();
    const account = await tally(this.redis, QUEUE, this.jobs, this.runs);
    const kinds = new Map(this.jobs.map((job) => [job.jid, `${job.kind} job (klass ${job.klass})`]));
    const strandings = this.watch.strandings().map((stranding) => ({ ...stranding, job: kinds.get(stranding.jid) }));
    const longest = this.watch.longest;
    const drainSeconds =
      this.drainedAt !== undefined && this.firstPoolAt !== undefined
        ? (this.drainedAt - this.firstPoolAt) / 1000
        : undefined;
    const common =
      account.lost === 0 &&
      account.running === 0 &&
      strandings.length === 0 &&
      account.runTwice <= this.kills &&
      account.waiting === 0 &&
      account.unexpected === 0 &&
      account.completedUnrun === 0 &&
      drainSeconds !== undefined;
    return {
      name: this.name,
      title,
      tally: account,
      kills: this.kills,
      strandings,
      longest: longest && { ...longest, job: kinds.get(longest.jid) },
      drainSeconds,
      checks: this.checks,
      notes: this.notes,
      passed: common && this.checks.every((check) => check.ok),
      dir: this.dir,
    };
  }

  async close(): Promise<void> {
    await this.watch.stop();
    this.redis.disconnect();
    await this.server.close();
  }
}
