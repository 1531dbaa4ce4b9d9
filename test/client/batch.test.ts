// Batches: several script calls in one round trip, each with its own result or typed error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError, type Job, LostLockError, QlessError } from '../../src/client/index.ts';
import { useCore } from '../helpers/client-suite.ts';

const T0 = 1_700_000_000;
const fx = useCore({ workers: ['w1'], clock: T0 });

async function popAll(count: number): Promise<Job[]> {
  const q = fx.clients.w1.queue('q');
  for (let index = 0; index < count; index++) await q.put('K', { index }, { jid: `j${index}` });
  return q.pop(count);
}

test('completes, fails and retries in one round trip, results in order', async () => {
  const jobs = await popAll(5);
  const [a, b, c, d, e] = jobs;
  // e is handed to worker w2 before the batch runs: its complete fails alone.
  await e.timeout();
  await fx.clients.w1.call('pop', 'q', 'w2', 1);
  const batch = fx.clients.w1.batch().complete(a).complete(b, 'q2').fail(c, 'grp', 'broken').retry(d).complete(e);
  assert.equal(batch.length, 5);
  const results = await batch.exec();
  assert.equal(batch.length, 0);
  assert.deepEqual(results.slice(0, 4), [
    { ok: true, value: 'complete' },
    { ok: true, value: 'waiting' },
    { ok: true, value: c.jid },
    { ok: true, value: 4 },
  ]);
  const last = results[4];
  assert.equal(last.ok, false);
  assert.ok(!last.ok && last.error instanceof LostLockError);
  assert.equal(await fx.core.redis.hget(`ql:j:${a.jid}`, 'state'), 'complete');
  assert.equal(await fx.core.redis.hget(`ql:j:${b.jid}`, 'queue'), 'q2');
  assert.equal(await fx.core.redis.hget(`ql:j:${c.jid}`, 'state'), 'failed');
  assert.equal(await fx.core.redis.hget(`ql:j:${d.jid}`, 'state'), 'waiting');
  assert.equal(await fx.core.redis.hget(`ql:j:${e.jid}`, 'state'), 'running');
});

test('raw calls mix with job calls; a script refusal is a QlessError result', async () => {
  const [job] = await popAll(1);
  const results = await fx.clients.w1
    .batch()
    .call('put', 'w1', 'q', 'new', 'K', '{}', 0)
    .call('nonsense')
    .complete(job)
    .call('length', 'q')
    .exec();
  assert.deepEqual(results[0], { ok: true, value: 'new' });
  assert.ok(
    !results[1].ok && results[1].error instanceof QlessError && results[1].error.message === 'Unknown command nonsense',
  );
  assert.deepEqual(results[2], { ok: true, value: 'complete' });
  assert.deepEqual(results[3], { ok: true, value: 1 });
});

test('an empty batch sends nothing', async () => {
  assert.deepEqual(await fx.clients.w1.batch().exec(), []);
});

test('bad input is refused when the call is added', async () => {
  const [job] = await popAll(1);
  const batch = fx.clients.w1.batch();
  assert.throws(() => batch.fail(job, '', 'message'), InvalidInputError);
  assert.throws(() => batch.complete(job, undefined, { depends: ['x'] }), InvalidInputError);
  assert.equal(batch.length, 0);
});

test('a batch reloads the script after SCRIPT FLUSH', async () => {
  const jobs = await popAll(3);
  await fx.core.redis.script('FLUSH');
  const batch = fx.clients.w1.batch();
  for (const job of jobs) batch.complete(job);
  const results = await batch.exec();
  assert.deepEqual(
    results,
    jobs.map(() => ({ ok: true, value: 'complete' })),
  );
  assert.equal(await fx.core.redis.zcard('ql:completed'), 3);
});
