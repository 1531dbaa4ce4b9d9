// The reconcile on a real Redis: of the jobs a worker name holds, the ones the worker holds too
// (or is about to resume) are left alone; the others are adopted (their lock renewed first, for
// the fetcher to run) while a lane is free, handed back at once (retry, delay 0) when none is or
// the worker stops taking work, and skipped when they are no longer the name's by the time it
// looks. The room here says how many lanes are free and when the worker stops taking work.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Client } from '../../src/client/client.ts';
import { completeCall, sendCall } from '../../src/client/commands.ts';
import { CallBatcher } from '../../src/worker/call-batcher.ts';
import { HeldJobs } from '../../src/worker/held-jobs.ts';
import { type ReconcileOutcome, Reconciler, type Room } from '../../src/worker/reconciler.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';

const WORKER = 'reconcile-0';
const QUEUE = 'reconcile';
let server: RedisServer;
let client: Client;
let clock = 1_000_000;
let batcher: CallBatcher;

before(async () => {
  server = await startRedis();
  client = new Client({ url: server.url, workerName: WORKER, now: () => clock });
  batcher = new CallBatcher((calls) => {
    const batch = client.batch();
    for (const call of calls) batch.call(call.command, ...call.args);
    return batch.exec();
  });
});

after(async () => {
  await client?.close();
  await server?.stop();
});

beforeEach(async () => {
  await client.redis.flushall();
  clock = 1_000_000;
  await client.config.set('heartbeat', 60);
});

/**
 * `lanes` free lanes; `taking` answers from the list given, then its last answer (how often it
 * was asked is counted).
 */
function room(lanes: number, answers: boolean[] = [true], resuming: string[] = []): Room & { asked: number } {
  const made = {
    lanes,
    resuming,
    asked: 0,
    taking: () => answers[Math.min(made.asked++, answers.length - 1)] ?? false,
  };
  return made;
}

/** What the reconcile did, by jid. */
function byJid(outcome: ReconcileOutcome): { adopted: string[]; handedBack: string[]; gone: string[] } {
  return { ...outcome, adopted: outcome.adopted.map((json) => json.jid) };
}

/** The jobs the worker process holds (running, or their end not yet answered). */
function held(...jids: string[]): HeldJobs {
  const jobs = new HeldJobs(() => undefined);
  for (const jid of jids) jobs.add({ jid, queue: QUEUE, klass: 'noop', expires: 0 });
  return jobs;
}

function reconciler(jobs: HeldJobs): Reconciler {
  return new Reconciler(WORKER, { client, batcher, held: jobs, logger: pino({ level: 'silent' }) });
}

/** Puts `count` jobs and pops them all under WORKER at the current clock; their jids in order. */
async function heldJobs(count: number): Promise<string[]> {
  const queue = client.queue(QUEUE);
  const jids: string[] = [];
  for (let index = 0; index < count; index++) {
    jids.push(await queue.put('noop', { index }));
    // One second apart, so they pop in the order put.
    clock += 1;
  }
  const popped = await queue.pop(count);
  assert.deepEqual(
    popped.map((job) => job.jid),
    jids,
  );
  return jids;
}

describe('reconcile', () => {
  test('a held job the worker does not run is adopted, its lock renewed; the ones it runs: left alone', async () => {
    const [running, stray] = await heldJobs(2);
    clock += 10;
    const outcome = await reconciler(held(running)).reconcile(room(1));

    assert.deepEqual(byJid(outcome), { adopted: [stray], handedBack: [], gone: [] });
    assert.deepEqual(
      outcome.adopted.map((json) => [json.jid, json.state, json.worker, json.expires]),
      [[stray, 'running', WORKER, clock + 60]],
      'the job as Redis has it after the heartbeat',
    );
    const [runningNow, strayNow] = await client.jobs.multiget(running, stray);
    assert.equal(runningNow.expires, clock - 10 + 60, 'the job the worker runs was not touched');
    assert.equal(strayNow.expires, clock + 60, 'the lock of the adopted job was renewed');
    assert.deepEqual(await client.workers.get(WORKER), { jobs: [stray, running], stalled: [] });
  });

  test('a held job it cannot run (no free lane) is handed back at once, costing one retry', async () => {
    const [stray] = await heldJobs(1);
    const outcome = await reconciler(held()).reconcile(room(0));

    assert.deepEqual(byJid(outcome), { adopted: [], handedBack: [stray], gone: [] });
    const job = await client.jobs.get(stray);
    assert.equal(job?.state, 'waiting');
    assert.equal(job?.remaining, (job?.retries ?? 0) - 1);
    assert.deepEqual(await client.workers.get(WORKER), { jobs: [], stalled: [] });
    assert.deepEqual(
      (await client.queue(QUEUE).peek(1)).map((waiting) => waiting.jid),
      [stray],
      'waiting in its queue, with no delay',
    );
  });

  test('more strays than free lanes: as many are adopted as lanes are free, the others handed back', async () => {
    await heldJobs(3);
    // Taken in the order Redis lists them (the same lock expiry here: by jid).
    const [first, second, third] = (await client.workers.get(WORKER)).jobs;
    const outcome = await reconciler(held()).reconcile(room(2));

    assert.deepEqual(byJid(outcome), { adopted: [first, second], handedBack: [third], gone: [] });
    assert.deepEqual((await client.workers.get(WORKER)).jobs.sort(), [first, second].sort());
    assert.equal((await client.jobs.get(third))?.state, 'waiting');
  });

  test('a worker that takes no more work (stopping) hands every stray back', async () => {
    const jids = await heldJobs(2);
    const outcome = await reconciler(held()).reconcile(room(4, [false]));

    assert.deepEqual(outcome.adopted, []);
    assert.deepEqual(outcome.gone, []);
    assert.deepEqual(outcome.handedBack.sort(), jids.sort());
    assert.deepEqual(await client.workers.get(WORKER), { jobs: [], stalled: [] });
  });

  test('a stop that arrives while the lock is renewed: the job is handed back, not adopted', async () => {
    const [stray] = await heldJobs(1);
    // Taking work when it looks, no longer once the heartbeat is answered.
    const outcome = await reconciler(held()).reconcile(room(1, [true, false]));

    assert.deepEqual(byJid(outcome), { adopted: [], handedBack: [stray], gone: [] });
    assert.equal((await client.jobs.get(stray))?.state, 'waiting');
  });

  test('a job that ends between the listing and the heartbeat is left alone', async () => {
    const [stray, other] = await heldJobs(2);
    const ended = room(1);
    // The first time the reconcile asks whether the worker takes work, the job has just been
    // completed elsewhere (sent before the heartbeat, on the same connection).
    const taking = ended.taking;
    ended.taking = () => {
      if (ended.asked === 0) void sendCall(client, completeCall({ jid: stray, queue: QUEUE, data: {} }, WORKER));
      return taking();
    };
    const outcome = await reconciler(held(other)).reconcile(ended);

    assert.deepEqual(byJid(outcome), { adopted: [], handedBack: [], gone: [stray] });
    const job = await client.jobs.get(stray);
    assert.equal(job?.state, 'complete');
    assert.deepEqual(asWhat(job?.history), ['put', 'popped', 'done'], 'no heartbeat brought it back');
  });

  test('a job held when the listing was sent is no stray, even if it ended before the reply was read', async () => {
    const [ending] = await heldJobs(1);
    const jobs = held(ending);
    const reconciling = reconciler(jobs).reconcile(room(1));
    // Its end answered while the listing is on its way (the job stays running in Redis here, so
    // taking it for a stray would show: it would be adopted).
    jobs.remove(ending);
    const outcome = await reconciling;

    assert.deepEqual(byJid(outcome), { adopted: [], handedBack: [], gone: [] });
  });

  test('jobs --resume is about to run are no strays', async () => {
    const [resuming, stray] = await heldJobs(2);
    const outcome = await reconciler(held()).reconcile(room(0, [true], [resuming]));

    assert.deepEqual(byJid(outcome), { adopted: [], handedBack: [stray], gone: [] });
    assert.deepEqual(await client.workers.get(WORKER), { jobs: [resuming], stalled: [] });
  });

  test('a held job with an expired lock (stalled) is adopted too, its lock renewed', async () => {
    const [stray] = await heldJobs(1);
    clock += 61;
    assert.deepEqual(await client.workers.get(WORKER), { jobs: [], stalled: [stray] });
    const outcome = await reconciler(held()).reconcile(room(1));

    assert.deepEqual(byJid(outcome), { adopted: [stray], handedBack: [], gone: [] });
    assert.deepEqual(await client.workers.get(WORKER), { jobs: [stray], stalled: [] });
  });

  test('nothing held that the worker does not run: nothing changes', async () => {
    const jids = await heldJobs(2);
    const free = room(1);
    const before = await client.jobs.multiget(...jids);
    const outcome = await reconciler(held(...jids)).reconcile(free);

    assert.deepEqual(byJid(outcome), { adopted: [], handedBack: [], gone: [] });
    assert.equal(free.asked, 0, 'not asked whether it takes work');
    assert.deepEqual(await client.jobs.multiget(...jids), before);
  });
});

function asWhat(history: { what: string }[] | undefined): string[] {
  return (history ?? []).map((entry) => entry.what);
}
