// The script's shortcuts (one stats read/write and one lock/worker-set ZADD for all the jobs of a
// pop, the history cap applied after the push, reads shared within a call) must leave exactly
// what the plain one-job-at-a-time sequence leaves: keys, values, hash field order, replies and
// events.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Reply } from '../helpers/qless.ts';
import { useCore } from '../helpers/client-suite.ts';
import { functionLibrarySource } from '../../src/client/script.ts';

const T = 1700000000;
const fx = useCore();

/** A hash's fields in Redis's own order (listpack hashes keep insertion order). */
async function fieldsInOrder(key: string): Promise<string[]> {
  return (await fx.core.redis.eval("return redis.call('hgetall', KEYS[1])", 1, key)) as string[];
}

/** Jobs put at different times, so their wait samples land in different histogram bins. */
async function putSpread(): Promise<void> {
  const ages = [5, 30.25, 61, 7200.5, 90000, 5.75, 59.999];
  for (const [i, age] of ages.entries()) {
    await fx.core.call(T - age, 'put', 'w', 'q', `j${i}`, 'K', `{"i":${i}}`, 0, 'tags', '["t"]');
  }
  await fx.core.call(T - 1, 'track', 'track', 'j3');
  // An old client's job: its history moves into the list when the pop appends to it.
  await fx.core.redis.del('ql:j:j4-history');
  await fx.core.redis.hset(
    'ql:j:j4',
    'history',
    JSON.stringify([{ q: 'q', put: T - 90000, popped: T - 80000, worker: 'old', failed: T - 70000 }]),
  );
  // j1 has a dependent, so its object lists it.
  await fx.core.call(T - 1, 'put', 'w', 'q2', 'd', 'K', '{}', 0, 'depends', '["j1"]');
}

async function everything(): Promise<{ keys: Record<string, unknown>; order: Record<string, string[]> }> {
  const keys = await fx.core.snapshot();
  const order: Record<string, string[]> = {};
  for (const key of Object.keys(keys)) {
    if ((await fx.core.redis.type(key)) === 'hash') order[key] = await fieldsInOrder(key);
  }
  return { keys, order };
}

describe('pop of several jobs', () => {
  test('leaves what popping them one at a time (same now) leaves, stats field order included', async () => {
    const runs: { objects: unknown[]; messages: [string, string][]; state: Awaited<ReturnType<typeof everything>> }[] =
      [];
    for (const batched of [false, true]) {
      await fx.core.flush();
      await fx.core.call(T, 'config.set', 'max-job-history', 3);
      await putSpread();
      const messages = await fx.core.listen('ql:*');
      const objects: unknown[] = [];
      if (batched) {
        objects.push(...(JSON.parse(String(await fx.core.call(T, 'pop', 'q', 'w1', 7))) as unknown[]));
      } else {
        for (let i = 0; i < 7; i++)
          objects.push(...(JSON.parse(String(await fx.core.call(T, 'pop', 'q', 'w1', 1))) as unknown[]));
      }
      runs.push({ objects, messages: await messages.take(), state: await everything() });
      await messages.close();
    }
    const [single, batched] = runs;
    assert.equal(batched.objects.length, 7);
    assert.deepEqual(batched.objects, single.objects);
    assert.deepEqual(batched.messages, single.messages);
    assert.deepEqual(batched.state, single.state);

    // The comparison covered what it claims to.
    assert.deepEqual(single.messages, [['ql:popped', 'j3']]);
    const stats = single.state.order['ql:s:wait:1699920000:q'];
    // Oldest first: j4 (d1), j3 (h2), j2 (m1), j6 (s59), j1 (s30), j5 and j0 (s5).
    assert.deepEqual(
      stats.filter((_, i) => i % 2 === 0),
      ['d1', 'total', 'mean', 'vk', 'h2', 'm1', 's59', 's30', 's5'],
    );
    assert.equal(stats[stats.indexOf('total') + 1], '7');
    assert.equal((single.state.keys['ql:j:j4-history'] as string[]).length, 3, 'migrated legacy history, capped at 3');
    assert.deepEqual(
      (single.objects as { jid: string; dependents: unknown }[]).find((job) => job.jid === 'j1')?.dependents,
      ['d'],
    );
  });

  test('more jobs than one ZADD/ZREM chunk: all locked, all out of work', async () => {
    for (let i = 0; i < 450; i++)
      await fx.core.call(T, 'put', 'w', 'q', `j${String(i).padStart(3, '0')}`, 'K', '{}', 0);
    const jobs = JSON.parse(String(await fx.core.call(T + 1, 'pop', 'q', 'w1', 450))) as { jid: string }[];
    assert.equal(jobs.length, 450);
    assert.equal(await fx.core.redis.zcard('ql:q:q-locks'), 450);
    assert.equal(await fx.core.redis.zcard('ql:w:w1:jobs'), 450);
    assert.equal(await fx.core.redis.exists('ql:q:q-work'), 0);
    assert.deepEqual(await fx.core.redis.hmget('ql:s:wait:1699920000:q', 's1', 'total'), ['450', '450']);
  });

  test('a histogram bin HINCRBY would refuse still fails the pop', async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'a', 'K', '{}', 0);
    await fx.core.redis.hset('ql:s:wait:1699920000:q', 's1', '007');
    const error = await fx.core.error(T + 1, 'pop', 'q', 'w1', 1);
    assert.match(error, /hash value is not an integer/);
    assert.equal(await fx.core.redis.hget('ql:s:wait:1699920000:q', 's1'), '007');
  });

  test('a job whose `time` is not a number fails the pop after the jobs before it are fully popped', async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'a', 'K', '{}', 0, 'priority', 2);
    await fx.core.call(T, 'put', 'w', 'q', 'b', 'K', '{}', 0, 'priority', 1);
    await fx.core.redis.hset('ql:j:b', 'time', 'soon');
    await fx.core.error(T + 1, 'pop', 'q', 'w1', 2);
    // `a` got everything a pop gives it, as when each job was written on its own.
    assert.deepEqual(await fx.core.redis.zrange('ql:q:q-locks', 0, -1), ['a']);
    assert.deepEqual(await fx.core.redis.zrange('ql:w:w1:jobs', 0, -1), ['a']);
    assert.deepEqual(await fx.core.redis.hmget('ql:s:wait:1699920000:q', 's1', 'total'), ['1', '1']);
  });
});

describe('scores and counts handed to Redis as text', () => {
  test('a now or a count written differently but equal as a number leaves the same data and replies', async () => {
    const runs: { replies: unknown[]; messages: [string, string][]; state: Awaited<ReturnType<typeof everything>> }[] =
      [];
    for (const [now, count] of [
      ['1700000000.5', '1'],
      [' 1700000000.5 ', ' 1 '],
      ['1.7000000005e9', '1.0'],
      ['17000000005e-1', '1e0'],
    ]) {
      await fx.core.flush();
      const messages = await fx.core.listen('ql:*');
      const replies: unknown[] = [];
      const at = async (command: string, ...args: (string | number)[]) => {
        replies.push(await fx.core.call(now, command, ...args).catch((error: unknown) => String(error)));
      };
      for (const [i, jid] of ['a', 'b', 'c'].entries())
        await fx.core.call(T - 13 + i, 'put', 'w', 'q', jid, 'K', '{}', 0);
      await fx.core.call(T - 10, 'recur', 'q', 'r', 'K', '{}', 'interval', 60, 0);
      await fx.core.call(T - 10, 'put', 'w', 'q', 'later', 'K', '{}', 5);
      await at('pop', 'q', 'w1', count);
      await at('heartbeat', 'a', 'w1');
      await at('pop', 'q', 'w1', count);
      await at('complete.pop', 'q', count, 'a', 'w1', 'q', '{}');
      await at('complete', 'b', 'w1', 'q', '{}', 'next', 'q2', 'delay', 3);
      await at('peek', 'q', count);
      await at('jobs', 'stalled', 'q');
      runs.push({ replies, messages: await messages.take(), state: await everything() });
      await messages.close();
    }
    for (const run of runs.slice(1)) assert.deepEqual(run, runs[0]);
    assert.ok(
      runs[0].replies.every((reply) => !String(reply).startsWith('ReplyError')),
      JSON.stringify(runs[0].replies),
    );
    assert.equal((runs[0].state.keys['ql:workers'] as string[])[1], '1700000000.5');
  });
});

describe('history cap applied after the push', () => {
  const history = (jid: string) => fx.core.redis.lrange(`ql:j:${jid}-history`, 0, -1);

  test('first entry plus the newest, for caps 3 to 5 and a cap lowered below the length', async () => {
    for (const cap of [3, 4, 5]) {
      await fx.core.flush();
      await fx.core.call(T, 'config.set', 'max-job-history', cap);
      await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', '{}', 0);
      for (let i = 1; i <= 9; i++) await fx.core.call(T + i, 'log', 'j', `e${i}`);
      const kept = await history('j');
      assert.equal(kept.length, cap);
      assert.equal(kept[0], '[1700000000,"put",{"q":"q"}]');
      assert.deepEqual(
        kept.slice(1),
        Array.from({ length: cap - 1 }, (_, k) => `[${T + 11 - cap + k},"e${11 - cap + k}"]`),
      );
    }
    await fx.core.flush();
    await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', '{}', 0);
    for (let i = 1; i <= 20; i++) await fx.core.call(T + i, 'log', 'j', `e${i}`);
    await fx.core.call(T, 'config.set', 'max-job-history', 4);
    await fx.core.call(T + 21, 'log', 'j', 'e21');
    assert.deepEqual(await history('j'), [
      '[1700000000,"put",{"q":"q"}]',
      '[1700000019,"e19"]',
      '[1700000020,"e20"]',
      '[1700000021,"e21"]',
    ]);
  });
});

describe('completed-job expiry shortcuts', () => {
  test('a jobs-history-count that is not an integer is still refused by Redis after the completion', async () => {
    await fx.core.call(T, 'config.set', 'jobs-history-count', '2.5');
    await fx.core.call(T, 'put', 'w', 'q', 'a', 'K', '{}', 0);
    await fx.core.call(T, 'pop', 'q', 'w1', 1);
    const error = await fx.core.error(T + 1, 'complete', 'a', 'w1', 'q', '{}');
    assert.match(error, /not an integer/);
    assert.equal(await fx.core.redis.hget('ql:j:a', 'state'), 'complete');
  });

  test('count and age limits still delete when they apply', async () => {
    await fx.core.call(T, 'config.set', 'jobs-history-count', 2);
    for (const jid of ['a', 'b', 'c']) {
      await fx.core.call(T, 'put', 'w', 'q', jid, 'K', '{}', 0);
      await fx.core.call(T, 'pop', 'q', 'w1', 1);
      await fx.core.call(T + 1, 'complete', jid, 'w1', 'q', '{}');
    }
    assert.deepEqual(await fx.core.redis.zrange('ql:completed', 0, -1), ['b', 'c']);
    assert.equal(await fx.core.redis.exists('ql:j:a'), 0);
    await fx.core.call(T, 'config.set', 'jobs-history', 10);
    await fx.core.call(T + 20, 'put', 'w', 'q', 'd', 'K', '{}', 0);
    await fx.core.call(T + 20, 'pop', 'q', 'w1', 1);
    await fx.core.call(T + 20, 'complete', 'd', 'w1', 'q', '{}');
    assert.deepEqual(await fx.core.redis.zrange('ql:completed', 0, -1), ['d']);
  });
});

describe('job objects of many jobs', () => {
  test('dependents and tracked flags stay per job across the 50- and 100-job look-up chunks', async () => {
    const jids = Array.from({ length: 120 }, (_, i) => `m${String(i).padStart(3, '0')}`);
    for (const jid of jids) await fx.core.call(T, 'put', 'w', 'q', jid, 'K', '{}', 0);
    await fx.core.call(T, 'put', 'w', 'q', 'child', 'K', '{}', 0, 'depends', '["m110"]');
    await fx.core.call(T, 'track', 'track', 'm105');
    const objects = JSON.parse(String(await fx.core.call(T, 'multiget', ...jids))) as {
      jid: string;
      tracked: boolean;
      dependents: unknown;
    }[];
    assert.equal(objects.length, 120);
    for (const object of objects) {
      assert.deepEqual(object.dependents, object.jid === 'm110' ? ['child'] : {}, object.jid);
      assert.equal(object.tracked, object.jid === 'm105', object.jid);
    }
  });
});

describe('the per-call cache lives one call only (function library)', () => {
  test('config, tracking and legacy history changed between FCALLs are seen by the next one', async () => {
    await fx.core.redis.function('LOAD', 'REPLACE', functionLibrarySource());
    const fcall = (now: number, ...args: (string | number)[]) =>
      fx.core.redis.fcall('qless', 0, String(args[0]), String(now), ...args.slice(1).map(String)) as Promise<Reply>;
    await fcall(T - 2, 'put', 'w', 'q', 'a', 'K', '{}', 0);
    await fcall(T - 1, 'put', 'w', 'q', 'b', 'K', '{}', 0);
    const first = JSON.parse(String(await fcall(T, 'pop', 'q', 'w1', 1))) as { expires: number }[];
    assert.equal(first[0].expires, T + 60);
    await fcall(T, 'config.set', 'heartbeat', 5);
    await fcall(T, 'track', 'track', 'b');
    await fx.core.redis.del('ql:j:b-history');
    await fx.core.redis.hset('ql:j:b', 'history', JSON.stringify([{ q: 'q', put: T - 100 }]));
    const messages = await fx.core.listen('ql:popped');
    const second = JSON.parse(String(await fcall(T, 'pop', 'q', 'w1', 1))) as {
      jid: string;
      expires: number;
      tracked: boolean;
      history: unknown[];
    }[];
    assert.equal(second[0].jid, 'b');
    assert.equal(second[0].expires, T + 5);
    assert.equal(second[0].tracked, true);
    assert.deepEqual(second[0].history, [
      { when: T - 100, q: 'q', what: 'put' },
      { when: T, what: 'popped', worker: 'w1' },
    ]);
    assert.equal(await fx.core.redis.hexists('ql:j:b', 'history'), 0);
    assert.deepEqual(await messages.take(), [['ql:popped', 'b']]);
    await messages.close();
  });
});
