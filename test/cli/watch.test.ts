// qless watch: a live, readable (or JSON) stream of events until Ctrl-C.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job } from '../../src/client/index.ts';
import { startQless } from '../helpers/cli.ts';
import { useCore } from '../helpers/client-suite.ts';
import { startRedis } from '../helpers/redis.ts';

const READY = 'watching qless events on ';

describe('qless watch', () => {
  const fx = useCore({ workers: ['w1'] });

  test('shows put, popped, failed, lock lost, completed, canceled and config events; Ctrl-C exits 0', async () => {
    const watch = startQless(['watch'], { redis: fx.url });
    await watch.waitFor(READY, 'stderr');
    const q = fx.clients.w1.queue('q');
    await q.put('K', {}, { jid: 'j1' });
    await ((await fx.clients.w1.jobs.get('j1')) as Job).track();
    const [first] = await q.pop();
    await first.fail('q-Boom', 'Error: boom');
    await q.put('K', {}, { jid: 'j2' });
    const [second] = await q.pop();
    await second.timeout();
    await q.put('K', {}, { jid: 'j3' });
    await fx.clients.w1.jobs.cancel('j3');
    await fx.clients.w1.config.set('heartbeat', 30);
    // Another queue: q would hand out the timed-out j2 first.
    await fx.clients.w1.queue('q2').put('K', {}, { jid: 'j4' });
    const [fourth] = await fx.clients.w1.queue('q2').pop();
    await fourth.complete();
    await watch.waitFor('completed');
    const snapshot = await fx.core.snapshot();
    watch.signal('SIGINT');
    const result = await watch.done;
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await fx.core.snapshot(), snapshot, 'watch wrote nothing');

    const expected = [
      /put +j1 +into q$/,
      /track +j1$/,
      /popped +j1 +from q by w1$/,
      /failed +j1 +into q-Boom by w1: Error: boom$/,
      /put +j2 +into q$/,
      /lock_lost +j2 +w1 lost its lock$/,
      /put +j3 +into q$/,
      /canceled +j3 +from q$/,
      /config_set +heartbeat += 30$/,
      /put +j4 +into q2$/,
      /completed +j4 +in q2$/,
    ];
    const lines = result.stdout.trimEnd().split('\n');
    assert.equal(lines.length, expected.length, result.stdout);
    lines.forEach((line, index) => {
      assert.match(line, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}/);
      assert.match(line, expected[index]);
    });
    // What the events said is what happened.
    assert.deepEqual(await fx.core.redis.lrange('ql:f:q-Boom', 0, -1), ['j1']);
    assert.equal(await fx.core.redis.hget('ql:j:j2', 'state'), 'stalled');
    assert.equal(await fx.core.redis.exists('ql:j:j3'), 0);
    assert.equal(await fx.core.redis.hget('ql:j:j4', 'state'), 'complete');
  });

  test('--json --queue: one JSON object per line, only events of that queue', async () => {
    const watch = startQless(['watch', '--json', '--queue', 'mine'], { redis: fx.url });
    await watch.waitFor(READY, 'stderr');
    await fx.clients.w1.queue('other').put('K', {}, { jid: 'o1' });
    await fx.clients.w1.queue('mine').put('K', {}, { jid: 'm1' });
    const [other] = await fx.clients.w1.queue('other').pop();
    await other.fail('other-Boom', 'nope');
    const [mine] = await fx.clients.w1.queue('mine').pop();
    await mine.fail('mine-Boom', 'broke');
    // Events are shown in order: once the last one is out, every earlier one was decided.
    await fx.clients.w1.queue('mine').put('K', {}, { jid: 'last' });
    await watch.waitFor('"last"');
    watch.signal('SIGTERM');
    const result = await watch.done;
    assert.equal(result.code, 0, result.stderr);
    const events = result.stdout
      .trimEnd()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            time: number;
            event: string;
            jid: string;
            queue: string;
            group?: string;
            message?: string;
          },
      );
    assert.deepEqual(
      events.map(({ event, jid, queue, group, message }) => ({ event, jid, queue, group, message })),
      [
        { event: 'put', jid: 'm1', queue: 'mine', group: undefined, message: undefined },
        { event: 'failed', jid: 'm1', queue: 'mine', group: 'mine-Boom', message: 'broke' },
        { event: 'put', jid: 'last', queue: 'mine', group: undefined, message: undefined },
      ],
    );
    assert.ok(events.every((event) => typeof event.time === 'number' && event.time > 0));
  });

  test('exits 3 with one line when Redis goes away', async () => {
    const doomed = await startRedis();
    try {
      const watch = startQless(['watch'], { redis: doomed.url });
      await watch.waitFor(READY, 'stderr');
      await doomed.stop();
      const result = await watch.done;
      assert.equal(result.code, 3);
      assert.match(result.stderr, /\nqless: lost the connection to Redis\n$/);
      assert.doesNotMatch(result.stderr, /\n\s+at /);
    } finally {
      await doomed.stop();
    }
  });

  test("shows a tracked job losing its lock at another worker's pop, and a job advanced elsewhere", async () => {
    // The lock expiry shows as stalled then lock_lost; the advance goes to another queue.
    const watch = startQless(['watch'], { redis: fx.url });
    await watch.waitFor('watching qless events on ', 'stderr');
    // w1's clock is an hour behind: the lock it takes has expired by the time w2 pops.
    await fx.withClient('w1', -3600, async (client) => {
      await client.queue('q').put('K', {}, { jid: 'x' });
      const job = await client.jobs.get('x');
      assert.ok(job && job.state !== 'recur');
      await job.track();
      assert.equal((await client.queue('q').pop())[0].jid, 'x');
    });
    await fx.withClient('w2', 0, async (client) => {
      assert.deepEqual(await client.queue('q').pop(), []);
      await client.queue('q2').put('K', {}, { jid: 'y' });
      const [job] = await client.queue('q2').pop();
      assert.equal(await job.complete('q3'), 'waiting');
      await client.config.set('heartbeat', 30);
      await client.config.unset('heartbeat');
    });
    await watch.waitFor('config_unset');
    const snapshot = await fx.core.snapshot();
    watch.signal('SIGINT');
    const result = await watch.done;
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await fx.core.snapshot(), snapshot, 'watch wrote nothing');
    const expected = [
      /put +x +into q$/,
      /track +x$/,
      /popped +x +from q by w1$/,
      /stalled +x +lock expired$/,
      /lock_lost +x +w1 lost its lock$/,
      /put +y +into q2$/,
      /advanced +y +from q2 to q3$/,
      /config_set +heartbeat += 30$/,
      /config_unset +heartbeat +\(back to its default\)$/,
    ];
    const lines = result.stdout.trimEnd().split('\n');
    assert.equal(lines.length, expected.length, result.stdout);
    for (const [index, line] of lines.entries()) assert.match(line, expected[index]);
    assert.equal(await fx.core.redis.hget('ql:j:x', 'grace'), '1');
    assert.deepEqual(
      [await fx.core.redis.hget('ql:j:y', 'queue'), await fx.core.redis.hget('ql:j:y', 'state')],
      ['q3', 'waiting'],
    );
  });
});
