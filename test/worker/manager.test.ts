// The manager's phases, in this process on a private redis-server, with the real fetcher, call
// batcher, runner and work events and the fixture handlers: quiet() takes no new job while the
// jobs in flight finish; stop(deadline) tells the jobs in flight, completes those that end by the
// deadline and hands back those still running at it; a recycle stops without telling them; a
// paused manager takes nothing until resumed. What is asserted is what Redis holds afterwards.
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Client } from '../../src/client/client.ts';
import type { Job } from '../../src/client/job.ts';
import { CallBatcher } from '../../src/worker/call-batcher.ts';
import { Fetcher } from '../../src/worker/fetcher.ts';
import { HeldJobs } from '../../src/worker/held-jobs.ts';
import { JobRunner } from '../../src/worker/job/runner.ts';
import { Manager, type ManagerSettings } from '../../src/worker/manager.ts';
import { Reconciler } from '../../src/worker/reconciler.ts';
import { createReserver } from '../../src/worker/reserver.ts';
import { WakeSignal } from '../../src/worker/wake-signal.ts';
import { WorkEvents } from '../../src/worker/work-events.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { eventually } from '../helpers/worker.ts';
import { JOBS } from './blackbox.ts';

const WORKER = 'manager-0';
const QUEUE = 'q';

let server: RedisServer;
let producer: Client;
let scratch: string;
let home: string;

before(async () => {
  server = await startRedis();
  producer = new Client({ url: server.url, workerName: 'producer' });
  scratch = realpathSync(mkdtempSync(join(tmpdir(), 'qless-manager-')));
  // The runner moves the process into the slot's sandbox (as in a worker process); back after.
  home = process.cwd();
});

after(async () => {
  process.chdir(home);
  await producer?.close();
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

beforeEach(async () => {
  await producer.redis.flushall();
});

/** One worker's manager and everything under it, as src/worker/process.ts wires them. */
class Stack {
  readonly client: Client;
  readonly events: WorkEvents;
  readonly fetcher: Fetcher;
  readonly manager: Manager;

  constructor(settings: Partial<ManagerSettings>, resume = false) {
    const concurrency = settings.concurrency ?? 2;
    const logger = pino({ level: 'silent' });
    this.client = new Client({ url: server.url, workerName: WORKER });
    const batcher = new CallBatcher((calls) => {
      const batch = this.client.batch();
      for (const call of calls) batch.call(call.command, ...call.args);
      return batch.exec();
    });
    const held = new HeldJobs(() => undefined);
    const sandbox = join(scratch, `slot-${Math.random().toString(36).slice(2)}`);
    const runner = new JobRunner(
      { name: WORKER, path: JOBS, sandbox, concurrency },
      { client: this.client, batcher, held, logger },
    );
    const wake = new WakeSignal();
    this.events = new WorkEvents(this.client, WORKER, [QUEUE], {
      onLockLost: (jid, event) => runner.lockLost(jid, event),
      onWork: () => wake.wake(),
      onError: () => undefined,
    });
    this.fetcher = new Fetcher(
      { name: WORKER, interval: 0.2, resume },
      {
        batcher,
        reserver: createReserver('ordered', [QUEUE]),
        logger,
        workWatch: this.events,
        wake,
        reconciler: new Reconciler(WORKER, { client: this.client, batcher, held, logger }),
      },
    );
    this.manager = new Manager(
      { name: WORKER, concurrency, maxJobs: 0, maxMemory: 0, paused: false, ...settings },
      { fetcher: this.fetcher, runner, logger, wake },
    );
  }

  async start(): Promise<void> {
    await this.events.start();
  }

  async close(): Promise<void> {
    await this.events.close();
    await this.client.close();
  }
}

let stacks: Stack[] = [];

async function stack(settings: Partial<ManagerSettings> = {}, resume = false): Promise<Stack> {
  const made = new Stack(settings, resume);
  stacks.push(made);
  await made.start();
  return made;
}

afterEach(async () => {
  // Whatever a failed test left running is handed back at once.
  for (const made of stacks) await made.manager.stop(Date.now());
  for (const made of stacks) await made.close();
  stacks = [];
});

async function job(jid: string): Promise<Job> {
  const found = await producer.jobs.get(jid);
  assert.ok(found && 'history' in found, `job ${jid} exists`);
  return found;
}

/** Higher priorities pop first (jobs put within the same second have no order otherwise). */
async function put(klass: string, data: Record<string, unknown> = {}, priority = 0): Promise<string> {
  return producer.queue(QUEUE).put(klass, data, { priority });
}

/** Waits until this worker holds these jobs (popped, handlers started). */
async function running(...jids: string[]): Promise<void> {
  await eventually(
    async () => {
      const held = await producer.workers.get(WORKER);
      return jids.every((jid) => held.jobs.includes(jid));
    },
    { what: `${jids.join(', ')} running` },
  );
}

/** The reports a wait.* fixture appended to its file. */
function reports(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('quiet', () => {
  test('takes no new job; the job in flight carries on and completes', async () => {
    const { manager } = await stack({ concurrency: 1 });
    const first = await put('wait.ForAWhile', { ms: 300 });
    const run = manager.run();
    await running(first);
    manager.quiet();
    const second = await put('noop');
    assert.deepEqual(await run, { kind: 'stop' });
    await eventually(async () => (await job(first)).state === 'complete', { what: 'the job in flight completed' });
    await manager.stop(Date.now() + 10_000);
    assert.equal((await job(first)).state, 'complete');
    const untouched = await job(second);
    assert.equal(untouched.state, 'waiting', 'not taken after quiet');
    assert.deepEqual(
      untouched.history.map((entry) => entry.what),
      ['put'],
    );
  });

  test('stop before run: nothing is taken and run ends at once', async () => {
    const { manager } = await stack();
    const jid = await put('noop');
    await manager.stop(Date.now() + 10_000);
    assert.deepEqual(await manager.run(), { kind: 'stop' });
    assert.equal((await job(jid)).state, 'waiting');
  });
});

describe('stop(deadline)', () => {
  test('a job that ends before the deadline completes; one still running at it is handed back', async () => {
    const { manager } = await stack({ concurrency: 2 });
    const quick = await put('wait.ForAWhile', { ms: 200 });
    const stuck = await put('failing.NeverSettles');
    const run = manager.run();
    await running(quick, stuck);
    await manager.stop(Date.now() + 1_500);
    assert.deepEqual(await run, { kind: 'stop' });
    const completed = await job(quick);
    assert.equal(completed.state, 'complete');
    const handedBack = await job(stuck);
    assert.equal(handedBack.state, 'waiting', 'back in its queue');
    assert.equal(handedBack.queue, QUEUE);
    assert.equal(handedBack.remaining, handedBack.retries - 1, 'one retry used');
    assert.deepEqual((await producer.workers.get(WORKER)).jobs, [], 'the worker holds nothing');
  });

  test('tells the jobs in flight: one that throws on its signal is handed back', async () => {
    // … and one that returns completes.
    const { manager } = await stack({ concurrency: 2 });
    const throwsReport = join(scratch, `throws-${Date.now()}.jsonl`);
    const returnsReport = join(scratch, `returns-${Date.now()}.jsonl`);
    const throws = await put('wait.ThrowsOnAbort', { report: throwsReport });
    const returns = await put('wait.UntilAborted', { report: returnsReport });
    const run = manager.run();
    await running(throws, returns);
    await eventually(() => reports(throwsReport).length > 0 && reports(returnsReport).length > 0, {
      what: 'both handlers started',
    });
    await manager.stop(Date.now() + 30_000);
    await run;
    assert.equal(reports(returnsReport).find((entry) => entry.aborted)?.why, 'stopping');
    assert.equal((await job(returns)).state, 'complete');
    const handedBack = await job(throws);
    assert.equal(handedBack.state, 'waiting');
    assert.equal(handedBack.remaining, handedBack.retries - 1);
    assert.equal(handedBack.failure, null, 'not failed');
  });
});

describe('recycle', () => {
  test('--max-jobs quiets the manager by itself', async () => {
    // Its stop leaves the job in flight undisturbed until the deadline.
    const { manager } = await stack({ concurrency: 2, maxJobs: 2 });
    const report = join(scratch, `recycle-${Date.now()}.jsonl`);
    const quick = await put('noop', {}, 2);
    const slow = await put('wait.UntilAborted', { report }, 1);
    const left = await put('noop', {}, 0);
    const reason = await manager.run();
    assert.deepEqual(reason, { kind: 'recycle', reason: 'max-jobs: ran 2 jobs' });
    await manager.stop(Date.now() + 300, 'recycle');
    assert.equal((await job(quick)).state, 'complete');
    // Never told the worker was stopping: its signal fired only when it was handed back.
    const aborted = await eventually(() => reports(report).find((entry) => entry.aborted), { what: 'the abort' });
    assert.equal(aborted.why, 'abandoned');
    assert.equal((await job(slow)).state, 'waiting');
    assert.equal((await job(left)).state, 'waiting', 'the third job is the next process’s');
  });
});

describe('pause', () => {
  test('a manager started paused takes nothing until resumed', async () => {
    const { manager } = await stack({ paused: true });
    const jid = await put('noop');
    const run = manager.run();
    // Unpaused, it would pop at once (the job was put before it started).
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal((await job(jid)).state, 'waiting', 'not taken while paused');
    manager.resume();
    await eventually(async () => (await job(jid)).state === 'complete', { what: 'completed after resume' });
    manager.quiet();
    assert.deepEqual(await run, { kind: 'stop' });
  });
});

/** Pops `jids`' jobs under WORKER's name behind the manager's back (as a pop whose reply was lost). */
async function popBehindItsBack(...jids: string[]): Promise<void> {
  const other = new Client({ redis: producer.redis, workerName: WORKER });
  const popped = await other.queue(QUEUE).pop(jids.length);
  assert.deepEqual(popped.map((found) => found.jid).sort(), [...jids].sort());
}

describe('reconcile', () => {
  test('a free lane: a job the name holds that the worker does not run is run', async () => {
    const stray = await put('noop');
    await popBehindItsBack(stray);
    const { manager, fetcher } = await stack({ concurrency: 1 });
    fetcher.requestReconcile();
    const run = manager.run();
    await eventually(async () => (await job(stray)).state === 'complete', { what: 'the stray completed' });
    const done = await job(stray);
    assert.deepEqual(
      done.history.map((entry) => entry.what),
      ['put', 'popped', 'done'],
      'popped once, run by this worker',
    );
    manager.quiet();
    await run;
  });

  test('paused: what the name holds that no lane runs is handed back at once', async () => {
    const { manager, fetcher } = await stack({ concurrency: 1, paused: true });
    const run = manager.run();
    const stray = await put('noop');
    await popBehindItsBack(stray);
    fetcher.requestReconcile();
    await eventually(async () => (await job(stray)).state === 'waiting', { what: 'the stray handed back' });
    const back = await job(stray);
    assert.equal(back.remaining, back.retries - 1, 'handed back with retry');
    assert.deepEqual(await producer.workers.get(WORKER), { jobs: [], stalled: [] });
    manager.quiet();
    await run;
  });

  test('draining: a reconcile asked for hands back at once, while the job in flight carries on', async () => {
    const { manager, fetcher } = await stack({ concurrency: 1 });
    const report = join(scratch, `drain-${Date.now()}.jsonl`);
    const inFlight = await put('wait.UntilAborted', { report });
    const run = manager.run();
    await running(inFlight);
    const stopped = manager.stop(Date.now() + 30_000, 'recycle');
    await run;
    const stray = await put('noop');
    await popBehindItsBack(stray);
    fetcher.requestReconcile();
    await eventually(async () => (await job(stray)).state === 'waiting', { what: 'the stray handed back' });
    assert.equal((await job(inFlight)).state, 'running', 'the job in flight is still running');
    assert.equal(
      reports(report).some((entry) => entry.aborted),
      false,
      'its handler was not told anything',
    );
    // Now told: its handler returns, which completes it.
    await manager.stop(Date.now());
    await stopped;
    assert.equal((await job(inFlight)).state, 'complete');
  });
});

describe('--resume', () => {
  test('runs the jobs its name holds; a stop hands back the ones it had not come to', async () => {
    const report = join(scratch, `resume-${Date.now()}.jsonl`);
    const first = await put('wait.UntilAborted', { report });
    const second = await put('noop', {}, 1);
    // The name lists its jobs latest lock expiry first: `first` is resumed first.
    await popBehindItsBack(second);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await popBehindItsBack(first);
    const { manager } = await stack({ concurrency: 1 }, true);
    const run = manager.run();
    await eventually(() => reports(report).length > 0, { what: 'the first held job resumed' });
    await manager.stop(Date.now() + 30_000);
    await run;
    assert.equal((await job(first)).state, 'complete', 'told it was stopping, it returned: completed');
    const back = await job(second);
    assert.equal(back.state, 'waiting', 'handed back at the stop, not left to its lock');
    assert.equal(back.remaining, back.retries - 1);
    assert.deepEqual(await producer.workers.get(WORKER), { jobs: [], stalled: [] });
  });
});
