// An idle worker watches ql:log for new work (so a put wakes it long before --interval); a busy
// one stops, so it does not receive every put and completion of the pool. What is asserted is in
// Redis: the subscribers of ql:log, and the jobs' states.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../src/client/client.ts';
import type { Job } from '../../src/client/job.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { eventually } from '../helpers/worker.ts';
import { makeWorkdir, startWorkerProcess, workerConfig, type WorkerHarness, type Workdir } from './process-harness.ts';

let server: RedisServer;
let client: Client;
let workdir: Workdir;
let worker: WorkerHarness;

before(async () => {
  server = await startRedis();
  client = new Client({ url: server.url, workerName: 'producer' });
  workdir = makeWorkdir();
  // Without a wake-up on new work, an idle worker would only look again after a minute.
  worker = startWorkerProcess(workerConfig(server.url, workdir, { queues: ['watched'], interval: 60 }));
  await worker.waitForMessage('ready');
});

after(async () => {
  await worker?.kill();
  await client?.close();
  await server?.stop();
  workdir?.cleanup();
});

async function logSubscribers(): Promise<number> {
  const [, count] = (await client.redis.pubsub('NUMSUB', 'ql:log')) as [string, number];
  return Number(count);
}

async function state(jid: string): Promise<string | undefined> {
  return ((await client.jobs.get(jid)) as Job | null)?.state;
}

describe('watching for new work', () => {
  test('an idle worker watches ql:log and a put wakes it', async () => {
    await eventually(async () => (await logSubscribers()) === 1, { what: 'the idle worker subscribed to ql:log' });
    const jid = await client.queue('watched').put('noop', {});
    await eventually(async () => (await state(jid)) === 'complete', {
      timeout: 20_000,
      what: 'the job completed (long before the 60 s interval)',
    });
  });

  test('a busy worker stops watching, and watches again once the queue is empty', async () => {
    const jids: string[] = [];
    for (let n = 0; n < 250; n++) jids.push(await client.queue('watched').put('wait.ForAWhile', { ms: 20 }));
    await eventually(async () => (await logSubscribers()) === 0, {
      timeout: 20_000,
      what: 'no ql:log subscriber while busy',
    });
    const waiting = (await client.queue('watched').counts()).waiting;
    assert.ok(waiting > 0, 'it stopped watching while work was still queued');

    await eventually(
      async () => (await client.queue('watched').counts()).waiting === 0 && (await logSubscribers()) === 1,
      {
        timeout: 60_000,
        what: 'watching again after the queue drained',
      },
    );
    for (const jid of jids)
      await eventually(async () => (await state(jid)) === 'complete', { what: `job ${jid} completed` });
    const last = await client.queue('watched').put('noop', {});
    await eventually(async () => (await state(last)) === 'complete', {
      timeout: 20_000,
      what: 'a later put still wakes it',
    });
  });
});
