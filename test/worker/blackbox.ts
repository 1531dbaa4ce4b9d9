// The shared set-up of the black-box tests: one private redis-server and a producer client per
// test file, the real bin/qless-worker started on it (every pool killed, whole process group, at
// the end of the file), and the questions those tests ask Redis and the pools' log lines.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, type Job } from '../../src/client/index.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { eventually, startWorker, type LogLine, type StartOptions, type WorkerRun } from '../helpers/worker.ts';

export const JOBS = fileURLToPath(new URL('../fixtures/handlers/jobs', import.meta.url));
export const RESOLVE = fileURLToPath(new URL('../fixtures/handlers/resolve', import.meta.url));
export const SUPERVISED = fileURLToPath(new URL('../fixtures/supervisor/handlers', import.meta.url));
export const AUDIT = fileURLToPath(new URL('../fixtures/handlers/audit', import.meta.url));

export class PoolSuite {
  #redis: RedisServer | undefined;
  #client: Client | undefined;
  #scratch: string | undefined;
  readonly #runs: WorkerRun[] = [];

  get redis(): RedisServer {
    assert.ok(this.#redis, 'the suite has started');
    return this.#redis;
  }

  /** A client named `producer`, for putting jobs and reading them back. */
  get client(): Client {
    assert.ok(this.#client, 'the suite has started');
    return this.#client;
  }

  /** A private directory (real path) for this file's tests; removed at the end. */
  get scratch(): string {
    assert.ok(this.#scratch, 'the suite has started');
    return this.#scratch;
  }

  async start(prefix: string): Promise<void> {
    this.#redis = await startRedis();
    this.#client = new Client({ url: this.#redis.url, workerName: 'producer' });
    this.#scratch = realpathSync(mkdtempSync(join(tmpdir(), `qless-${prefix}-`)));
  }

  async stop(): Promise<void> {
    for (const run of this.#runs) await run.kill();
    await this.#client?.close();
    await this.#redis?.stop();
    // A job may have left an unreadable directory behind if a test failed half-way.
    if (this.#scratch) rmSync(this.#scratch, { recursive: true, force: true });
  }

  /** Starts the real bin/qless-worker with these arguments; killed at the end of the file. */
  pool(args: string[], options: StartOptions = {}): WorkerRun {
    const run = startWorker(args, options);
    this.#runs.push(run);
    return run;
  }

  /** A pool on this Redis with the usual test settings: named `name`, no file watching, quick polls. */
  poolOn(name: string, queues: string, path: string, extra: string[] = [], options: StartOptions = {}): WorkerRun {
    return this.pool(
      ['-q', queues, '-r', this.redis.url, '-p', path, '-n', name, '--no-watch', '-i', '0.2', ...extra],
      options,
    );
  }

  async getJob(jid: string): Promise<Job | undefined> {
    const [found] = await this.client.jobs.multiget(jid);
    return found;
  }

  async mustGet(jid: string): Promise<Job> {
    const found = await this.getJob(jid);
    assert.ok(found, `job ${jid} exists`);
    return found;
  }

  /** Waits until the job is in one of the states, and returns it. */
  settled(jid: string, run: WorkerRun, states: string[] = ['complete', 'failed']): Promise<Job> {
    return eventually(
      async () => {
        const found = await this.getJob(jid);
        return found && states.includes(found.state) ? found : undefined;
      },
      { what: `job ${jid} to be ${states.join(' or ')}\n${run.describe()}`, timeout: 30_000 },
    );
  }

  /** Waits until every job completed (a failed one fails the test at once), and returns them. */
  allComplete(jids: string[], run: WorkerRun): Promise<Job[]> {
    return eventually(
      async () => {
        const found = await this.client.jobs.multiget(...jids);
        const failed = found.find((one) => one.state === 'failed');
        if (failed) throw new Error(`job ${failed.jid} failed: ${failed.failure?.group} ${failed.failure?.message}`);
        return found.length === jids.length && found.every((one) => one.state === 'complete') ? found : undefined;
      },
      { what: `${jids.length} jobs to complete\n${run.describe()}`, timeout: 30_000 },
    );
  }

  async workerNames(): Promise<string[]> {
    return (await this.client.workers.list()).map((worker) => worker.name);
  }

  /** The failure groups in Redis that belong to this queue (a file's tests share one Redis). */
  async failedGroupsOf(queue: string): Promise<string[]> {
    return Object.keys(await this.client.jobs.failed()).filter(
      (group) => group.startsWith(`${queue}-`) || group === `failed-retries-${queue}`,
    );
  }
}

export interface PoolSuiteHooks {
  /** The file's own set-up, once the suite has started. */
  setup?(): Promise<void> | void;
  /** The file's own clean-up, after every pool was killed. */
  teardown?(): Promise<void> | void;
}

/**
 * One PoolSuite for the test file, started before its tests and stopped after them. A file's own
 * top-level set-up goes in `hooks`: Node 20 runs sibling top-level before/after hooks at the same
 * time, so a separate one could not count on the suite (hooks inside describe() can).
 */
export function usePools(prefix: string, hooks: PoolSuiteHooks = {}): PoolSuite {
  const suite = new PoolSuite();
  before(async () => {
    await suite.start(prefix);
    await hooks.setup?.();
  });
  after(async () => {
    await suite.stop();
    await hooks.teardown?.();
  });
  return suite;
}

/** SIGTERM to the supervisor: it must exit 0 (every worker stopped gracefully). */
export async function stopPool(run: WorkerRun): Promise<void> {
  run.signal('SIGTERM');
  assert.deepEqual(await run.waitForExit(30_000), { code: 0, signal: null }, run.describe());
}

export function dataOf(found: Job): Record<string, unknown> {
  assert.ok(found.data !== null && typeof found.data === 'object' && !Array.isArray(found.data), 'data is an object');
  return found.data as Record<string, unknown>;
}

/** How many history entries of this kind the job has. */
export function whats(found: Job, what: string): number {
  return found.history.filter((entry) => entry.what === what).length;
}

/** A worker's `ready` line. */
export const isReady = (line: LogLine): boolean => line.event === 'ready';
export const readyLines = (run: WorkerRun): LogLine[] => run.find(isReady);
/** A worker's `recycling` line (it carries the reason). */
export const isRecycling = (line: LogLine): boolean => line.event === 'recycling';
/** The start of one job (the one line that has no field of its own to tell it). */
export const startedJob =
  (jid: string) =>
  (line: LogLine): boolean =>
    line.jid === jid && line.msg === 'job started';
/** The end of one job: the line with its outcome. */
export const endedJob =
  (jid: string) =>
  (line: LogLine): boolean =>
    line.jid === jid && typeof line.outcome === 'string';
