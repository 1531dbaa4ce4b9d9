// The worker's call batcher on a real Redis: calls made in one turn share a pipeline, and a
// complete followed by a pop goes out as one `complete.pop` script call with each caller getting
// its own reply; a refused complete still leaves the pop its jobs.
import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../src/client/client.ts';
import { LostLockError } from '../../src/client/errors.ts';
import { completeCall, failCall, parsePopReply, popCall } from '../../src/client/commands.ts';
import type { Job } from '../../src/client/job.ts';
import { CallBatcher } from '../../src/worker/call-batcher.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';

const WORKER = 'batcher-0';
let server: RedisServer;
let client: Client;
let batcher: CallBatcher;

before(async () => {
  server = await startRedis();
  client = new Client({ url: server.url, workerName: WORKER });
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
  // The script is loaded (a NOSCRIPT retry would count as a call), then the counts start afresh.
  await client.call('config.get', 'heartbeat');
  await client.redis.config('RESETSTAT');
});

/** Script calls Redis ran since the last RESETSTAT. */
async function scriptCalls(): Promise<number> {
  const info = await client.redis.info('commandstats');
  return [...info.matchAll(/^cmdstat_(?:evalsha|eval|fcall):calls=(\d+)/gm)].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );
}

async function popOne(queue: string): Promise<Job> {
  const [job] = await client.queue(queue).pop(1);
  assert.ok(job, `a job in ${queue}`);
  return job;
}

describe('call batcher', () => {
  test('a complete and the pop after it: one script call, each caller gets its own reply', async () => {
    const put = [await client.queue('q').put('noop', { n: 1 }), await client.queue('q').put('noop', { n: 2 })];
    const held = await popOne('q');
    const first = held.jid;
    const second = put.find((jid) => jid !== first) ?? assert.fail('the other job');
    await client.redis.config('RESETSTAT');

    const completed = batcher.call(completeCall(held, WORKER));
    const popped = batcher.call(popCall('q', WORKER, 2));
    assert.equal(await completed, 'complete');
    const jobs = parsePopReply(await popped);
    assert.deepEqual(
      jobs.map((job) => job.jid),
      [second],
    );

    assert.equal(await scriptCalls(), 1);
    assert.equal((await client.jobs.get(first))?.state, 'complete');
    const next = (await client.jobs.get(second)) as Job;
    assert.equal(next.state, 'running');
    assert.equal(next.worker, WORKER);
  });

  test('several completes then a pop: the last complete carries the pop', async () => {
    const jids = [];
    for (let n = 0; n < 4; n++) jids.push(await client.queue('q').put('noop', { n }));
    const held = [await popOne('q'), await popOne('q'), await popOne('q')];
    await client.redis.config('RESETSTAT');

    const states = held.map((job) => batcher.call(completeCall(job, WORKER)));
    const popped = batcher.call(popCall('q', WORKER, 3));
    assert.deepEqual(await Promise.all(states), ['complete', 'complete', 'complete']);
    const left = jids.filter((jid) => !held.some((job) => job.jid === jid));
    assert.deepEqual(
      parsePopReply(await popped).map((job) => job.jid),
      left,
    );
    assert.equal(await scriptCalls(), 3);
    for (const job of held) assert.equal((await client.jobs.get(job.jid))?.state, 'complete');
  });

  test('a refused complete: its own LostLockError, and the pop still hands out the job', async () => {
    const put = [await client.queue('q').put('noop', {}), await client.queue('q').put('noop', {})];
    const held = await popOne('q');
    const lost = held.jid;
    const waiting = put.find((jid) => jid !== lost) ?? assert.fail('the other job');
    // Another worker takes it over: this worker's complete must be refused.
    await new Client({ redis: client.redis, workerName: 'other' }).call('timeout', lost);
    const [taken] = await new Client({ redis: client.redis, workerName: 'other' }).queue('q').pop(1);
    assert.equal(taken?.jid, lost);

    const completed = batcher.call(completeCall(held, WORKER));
    const popped = batcher.call(popCall('q', WORKER, 1));
    await assert.rejects(completed, LostLockError);
    assert.deepEqual(
      parsePopReply(await popped).map((job) => job.jid),
      [waiting],
    );
    const after = (await client.jobs.get(lost)) as Job;
    assert.equal(after.state, 'running');
    assert.equal(after.worker, 'other');
    assert.equal(((await client.jobs.get(waiting)) as Job).worker, WORKER);
  });

  test('a fail before a pop is not fused', async () => {
    const put = [await client.queue('q').put('noop', {}), await client.queue('q').put('noop', {})];
    const held = await popOne('q');
    const failing = held.jid;
    const next = put.find((jid) => jid !== failing) ?? assert.fail('the other job');
    await client.redis.config('RESETSTAT');

    const failed = batcher.call(failCall(held, WORKER, 'q-Error', 'boom'));
    const popped = batcher.call(popCall('q', WORKER, 1));
    assert.equal(await failed, failing);
    assert.deepEqual(
      parsePopReply(await popped).map((job) => job.jid),
      [next],
    );
    assert.equal(await scriptCalls(), 2);
    assert.equal((await client.jobs.get(failing))?.state, 'failed');
  });
});
