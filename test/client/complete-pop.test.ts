// The client side of the script's complete.pop extension: Job.completeAndPop, Batch.completeAndPop,
// and the call builder / reply parser a worker uses with its own batching.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  completePopCall,
  InvalidInputError,
  type Job,
  LostLockError,
  parseCompletePopReply,
  QlessError,
} from '../../src/client/index.ts';
import { useCore } from '../helpers/client-suite.ts';

const T0 = 1_700_000_000;
const fx = useCore({ workers: ['w1'], clock: T0 });

/** Puts `count` jobs (j0 oldest, so popped first) and pops the first of them. */
async function holdFirstOf(count: number, queue = 'q'): Promise<Job> {
  for (let index = 0; index < count; index++) {
    fx.now = T0 + index;
    await fx.clients.w1.queue(queue).put('K', { index }, { jid: `j${index}` });
  }
  fx.now = T0 + count;
  const [job] = await fx.clients.w1.queue(queue).pop();
  return job;
}

describe('Job.completeAndPop', () => {
  test('completes the job and hands out the next ones, as Job objects for this worker', async () => {
    const job = await holdFirstOf(4);
    (job.data as { done?: boolean }).done = true; // complete stores the data as it is now
    fx.now = T0 + 10;
    const { state, jobs } = await job.completeAndPop('q', 2);
    assert.equal(state, 'complete');
    assert.deepEqual(
      jobs.map((next) => [next.jid, next.state, next.worker, next.data]),
      [
        ['j1', 'running', 'w1', { index: 1 }],
        ['j2', 'running', 'w1', { index: 2 }],
      ],
    );
    assert.equal(jobs[0].expires, T0 + 70);
    assert.deepEqual(await fx.core.redis.hmget('ql:j:j0', 'state', 'data'), ['complete', '{"index":0,"done":true}']);
    assert.deepEqual(await fx.core.redis.zrange('ql:q:q-locks', 0, -1), ['j1', 'j2']);
    assert.deepEqual(await fx.core.redis.zrange('ql:q:q-work', 0, -1), ['j3']);
    // The popped jobs act like any others.
    assert.equal(await jobs[0].complete(), 'complete');
  });

  test('with next: the advanced job can come straight back from the queue it moved to', async () => {
    const job = await holdFirstOf(1);
    fx.now = T0 + 5;
    const { state, jobs } = await job.completeAndPop('q2', 1, 'q2');
    assert.equal(state, 'waiting');
    assert.deepEqual(
      jobs.map((next) => [next.jid, next.queue, next.state]),
      [['j0', 'q2', 'running']],
    );
  });

  test('an empty pop queue gives no jobs; the complete still happens', async () => {
    const job = await holdFirstOf(1);
    const { state, jobs } = await job.completeAndPop('elsewhere');
    assert.equal(state, 'complete');
    assert.deepEqual(jobs, []);
    assert.equal(await fx.core.redis.hget('ql:j:j0', 'state'), 'complete');
  });

  test('a job this worker no longer holds: LostLockError, and nothing is popped', async () => {
    const job = await holdFirstOf(2);
    await job.timeout();
    await assert.rejects(job.completeAndPop('q'), (error: unknown) => {
      assert.ok(error instanceof LostLockError);
      assert.equal(error.message, 'Complete(): Job j0 is not currently running: stalled');
      assert.equal(error.command, 'complete.pop');
      return true;
    });
    assert.equal(await fx.core.redis.hget('ql:j:j1', 'state'), 'waiting');
  });

  test('bad input is refused before anything is sent', async () => {
    const job = await holdFirstOf(2);
    const before = await fx.core.snapshot();
    await assert.rejects(job.completeAndPop('q', 0), InvalidInputError);
    await assert.rejects(job.completeAndPop('', 1), InvalidInputError);
    await assert.rejects(job.completeAndPop('q', 1, undefined, { delay: 5 }), InvalidInputError);
    assert.deepEqual(await fx.core.snapshot(), before);
  });
});

describe('Batch.completeAndPop', () => {
  test('rides in a pipeline with other calls; its result is the raw reply to parse', async () => {
    const job = await holdFirstOf(3);
    const [other] = await fx.clients.w1.queue('q').pop();
    const results = await fx.clients.w1.batch().complete(other).completeAndPop(job, 'q', 1).exec();
    assert.deepEqual(results[0], { ok: true, value: 'complete' });
    const second = results[1];
    assert.ok(second.ok);
    const reply = parseCompletePopReply(second.value);
    assert.equal(reply.state, 'complete');
    assert.deepEqual(
      reply.jobs.map((json) => [json.jid, json.worker]),
      [['j2', 'w1']],
    );
  });
});

describe('completePopCall and parseCompletePopReply', () => {
  test("the call is the pop's queue and count, then complete's own arguments", () => {
    const ref = { jid: 'j', queue: 'q', data: { a: 1 } };
    assert.deepEqual(completePopCall(ref, 'w', 'q', 3), {
      command: 'complete.pop',
      args: ['q', '3', 'j', 'w', 'q', '{"a":1}'],
    });
    assert.deepEqual(completePopCall(ref, 'w', 'p', 1, 'next-q', { delay: 2, depends: ['x'] }), {
      command: 'complete.pop',
      args: ['p', '1', 'j', 'w', 'q', '{"a":1}', 'next', 'next-q', 'delay', '2', 'depends', '["x"]'],
    });
    assert.throws(() => completePopCall(ref, 'w', 'q', 1.5), InvalidInputError);
  });

  test("cjson's {} is no jobs; anything but [state, JSON] is refused", () => {
    assert.deepEqual(parseCompletePopReply(['complete', '{}']), { state: 'complete', jobs: [] });
    assert.throws(() => parseCompletePopReply('complete'), QlessError);
    assert.throws(() => parseCompletePopReply(['complete']), QlessError);
    assert.throws(() => parseCompletePopReply(['complete', 'not json']), QlessError);
  });
});
