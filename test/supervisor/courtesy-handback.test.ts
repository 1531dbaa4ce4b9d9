// A dead worker's job that is off its name's job list but still locked under its name, black-box:
// the real bin/qless-worker, a handler that blocks the event loop, and a held-jobs report that
// predates the pop of the blocking job (reports are throttled to one a second). Once the blocked
// job's lock has expired, another worker's pop gives it qless's courtesy period (the grace
// period): that takes it off `ql:w:<name>:jobs` while it stays running under the name. The
// watchdog then kills the worker; the hand-back must still find the job (in its queue's locks)
// and hand it back before the slot is refilled, instead of leaving it to wait out the grace period.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Client, type Job } from '../../src/client/index.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { eventually, startWorker, type WorkerRun } from '../helpers/worker.ts';
import { logged } from './log-events.ts';

const HANDLERS = fileURLToPath(new URL('../fixtures/supervisor/handlers', import.meta.url));
/** Imported at start-up, so the quick job's handler is loaded at once (a slow load would let the report go out). */
const QUICK_HANDLER = fileURLToPath(new URL('../fixtures/supervisor/handlers/sleepy.ts', import.meta.url));
/** Long enough that a job left to it shows (the test's waits give up after 20 s). */
const GRACE_S = 120;
/** The quick job's lock: the watchdog kills past its expiry (the report names it), well after… */
const QUICK_HEARTBEAT_S = 10;
/** … the blocking job's lock has expired and been given its courtesy period. */
const BLOCKED_HEARTBEAT_S = 1;

let redis: RedisServer;
let client: Client;
let run: WorkerRun | undefined;

before(async () => {
  redis = await startRedis();
  client = new Client({ url: redis.url, workerName: 'producer' });
  await client.config.set('grace-period', GRACE_S);
  await client.config.set('quick-heartbeat', QUICK_HEARTBEAT_S);
  await client.config.set('blocked-heartbeat', BLOCKED_HEARTBEAT_S);
});

after(async () => {
  await run?.kill();
  await client.close();
  await redis.stop();
});

async function job(jid: string): Promise<Job> {
  const [found] = await client.jobs.multiget(jid);
  assert.ok(found, `job ${jid} exists`);
  return found;
}

test('a blocked job in its courtesy period, popped after the last report, is handed back at its death', async () => {
  // Both waiting before the pool starts: the worker pops `quick` (reported at once, the first
  // change after a quiet spell), completes it and pops `blocked` in the next few milliseconds,
  // when the next report is throttled; the handler blocks before that report can go out.
  const quick = await client.queue('quick').put('sleepy', {});
  const blocked = await client.queue('blocked').put('blocker', {}, { retries: 0 });
  run = startWorker([
    ...['-q', 'quick,blocked', '-r', redis.url, '-p', HANDLERS, '-m', QUICK_HANDLER],
    ...['-n', 'courtesy', '-w', '1', '--no-watch'],
  ]);
  const ready = await run.waitForLine('worker ready');
  // The handler blocks the event loop at once, so its start line may stay pending in the batched
  // log output: Redis says when it runs.
  await eventually(async () => (await job(blocked)).worker === 'courtesy-0', { what: `job ${blocked} popped` });

  // Another worker polls the queue: its first pop after the blocked job's lock expired gives the
  // job its courtesy period, which takes it off the name's job list.
  const bystander = new Client({ redis: client.redis, workerName: 'bystander' });
  const courtesy = await eventually(
    async () => {
      await bystander.queue('blocked').pop(1);
      const found = await job(blocked);
      return found.history.some((entry) => entry.what === 'timed-out') ? found : undefined;
    },
    { interval: 100, what: `job ${blocked} given its courtesy period\n${run.describe()}` },
  );
  assert.equal(courtesy.state, 'running');
  assert.equal(courtesy.worker, 'courtesy-0', 'still locked under the blocked worker’s name');
  const listed = await client.workers.get('courtesy-0');
  assert.ok(![...listed.jobs, ...listed.stalled].includes(blocked), 'no longer on the name’s job list');
  assert.equal(run.find(logged('watchdog-kill')).length, 0, 'before the watchdog kill (else the test shows nothing)');

  const kill = await run.waitForLine(logged('watchdog-kill'));
  assert.equal(kill.workerPid, ready.pid);
  assert.deepEqual(kill.held, [quick], 'the last report named only the quick job: the blocked one came after it');

  // The hand-back finds it: with no retry left, it fails now, not once the grace period is over.
  const handback = await run.waitForLine(logged('handback', { jid: blocked }));
  assert.equal(handback.outcome, 'out-of-retries');
  const failed = await job(blocked);
  assert.equal(failed.state, 'failed');
  assert.equal(failed.failure?.group, 'failed-retries-blocked');
  assert.equal((await job(quick)).state, 'complete');

  // Before the slot was refilled (the replacement has the same name).
  const refill = run.lines.findIndex(logged('worker-forked', { worker: 'courtesy-0', restart: true }));
  const handedBack = run.lines.findIndex(logged('handback', { jid: blocked }));
  assert.ok(refill === -1 || handedBack < refill, 'hand-back before the refill');
  await run.waitForLine(logged('worker-forked', { worker: 'courtesy-0', restart: true }));
  run.signal('SIGTERM');
  assert.equal((await run.waitForExit()).code, 0);
});
