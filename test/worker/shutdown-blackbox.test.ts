// Stopping a pool, black-box (the real bin/qless-worker on a private redis-server): TERM, INT and
// QUIT let the jobs in flight finish (completed by the worker that started them) and deregister
// the names; a job still running when the shutdown timeout comes, or at a second INT, is handed
// back to its queue (one retry used) and the pool still exits 0. A handler whose promise never
// settles holds neither the worker nor the shutdown.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isAlive } from '../helpers/worker.ts';
import { dataOf, isReady, JOBS, startedJob, stopPool, SUPERVISED, usePools, whats } from './blackbox.ts';

const fx = usePools('shutdown');

describe('a handler whose promise never settles', () => {
  test('does not hold the worker (other jobs complete meanwhile) nor the shutdown', async () => {
    // Handed back at the timeout, exit 0.
    const run = fx.poolOn('forever', 'forever', JOBS, ['-w', '1', '-c', '2', '--shutdown-timeout', '1']);
    await run.waitForLine(isReady);
    const stuck = await fx.client.queue('forever').put('failing.NeverSettles', {});
    await run.waitForLine(startedJob(stuck));
    const others = await Promise.all([1, 2, 3].map(() => fx.client.queue('forever').put('noop', {})));
    await fx.allComplete(others, run);
    assert.equal((await fx.mustGet(stuck)).state, 'running');
    await stopPool(run);
    const found = await fx.mustGet(stuck);
    assert.equal(found.state, 'waiting', 'handed back to its queue');
    assert.equal(found.queue, 'forever');
    assert.equal(found.remaining, found.retries - 1);
    assert.ok(!(await fx.workerNames()).includes('forever-0'));
  });
});

describe('graceful and immediate shutdown by INT and QUIT', () => {
  for (const signal of ['SIGINT', 'SIGQUIT'] as const) {
    test(`${signal}: the job in flight finishes (completed), names deregistered, exit 0`, async () => {
      const queue = `graceful-${signal.toLowerCase()}`;
      const run = fx.poolOn(queue, queue, SUPERVISED, ['-w', '1']);
      const worker = await run.waitForLine(isReady);
      const jid = await fx.client.queue(queue).put('sleepy', { ms: 1000 });
      await run.waitForLine(startedJob(jid));
      run.signal(signal);
      assert.deepEqual(await run.waitForExit(), { code: 0, signal: null }, run.describe());
      const found = await fx.mustGet(jid);
      assert.equal(found.state, 'complete');
      assert.equal(dataOf(found).ranBy, worker.pid, 'finished by the worker that started it');
      assert.equal(whats(found, 'popped'), 1);
      assert.ok(!(await fx.workerNames()).includes(`${queue}-0`));
      assert.equal(isAlive(worker.pid), false);
    });
  }

  test('a second INT kills at once: the unfinished job is handed back to its queue, exit 0', async () => {
    const run = fx.poolOn('twice', 'twice', SUPERVISED, ['-w', '1', '--shutdown-timeout', '300']);
    const worker = await run.waitForLine(isReady);
    const jid = await fx.client.queue('twice').put('sleepy', { ms: 60_000 });
    await run.waitForLine(startedJob(jid));
    run.signal('SIGINT');
    await run.waitForLine((line) => line.msg.startsWith('SIGINT: graceful shutdown'));
    run.signal('SIGINT');
    assert.deepEqual(await run.waitForExit(20_000), { code: 0, signal: null }, run.describe());
    assert.equal(isAlive(worker.pid), false);
    const found = await fx.mustGet(jid);
    assert.equal(found.state, 'waiting', 'handed back');
    assert.equal(found.queue, 'twice');
    assert.equal(found.remaining, found.retries - 1);
    assert.equal(dataOf(found).ranBy, undefined, 'the handler never finished');
    assert.ok(!(await fx.workerNames()).includes('twice-0'));
  });
});
