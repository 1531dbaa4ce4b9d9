// Conformance: configuration of the protocol document §3 — config.get defaults and stored values,
// lock length per queue, the grace period, the max-job-history cap (§2) and completed-job expiry
// by age and by count (§6).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useCore } from '../helpers/client-suite.ts';

const T = 1700000000;

const fx = useCore();

async function zsetMembers(key: string): Promise<string[]> {
  return fx.core.redis.zrange(key, 0, -1);
}

describe('§3 config.get / config.set / config.unset', () => {
  test('defaults: the whole table as one JSON string; single keys as integers (or the string default)', async () => {
    assert.equal(
      await fx.core.call(T, 'config.get'),
      '{"application":"qless","grace-period":10,"stats-history":30,"jobs-history":604800,' +
        '"heartbeat":60,"jobs-history-count":50000,"histogram-history":7}',
    );
    assert.equal(await fx.core.call(T, 'config.get', 'heartbeat'), 60);
    assert.equal(await fx.core.call(T, 'config.get', 'grace-period'), 10);
    assert.equal(await fx.core.call(T, 'config.get', 'jobs-history'), 604800);
    assert.equal(await fx.core.call(T, 'config.get', 'jobs-history-count'), 50000);
    assert.equal(await fx.core.call(T, 'config.get', 'stats-history'), 30);
    assert.equal(await fx.core.call(T, 'config.get', 'histogram-history'), 7);
    assert.equal(await fx.core.call(T, 'config.get', 'application'), 'qless');
  });

  test('stored values come back as strings, in ql:config, and unset restores the default', async () => {
    await fx.core.call(T, 'config.set', 'heartbeat', 30);
    await fx.core.call(T, 'config.set', 'max-job-history', 7);
    assert.deepEqual(await fx.core.redis.hgetall('ql:config'), { heartbeat: '30', 'max-job-history': '7' });
    assert.equal(await fx.core.call(T, 'config.get', 'heartbeat'), '30');
    assert.equal(await fx.core.call(T, 'config.get', 'max-job-history'), '7');
    const all = JSON.parse(String(await fx.core.call(T, 'config.get'))) as Record<string, unknown>;
    assert.deepEqual(all, {
      application: 'qless',
      'grace-period': 10,
      'stats-history': 30,
      'jobs-history': 604800,
      heartbeat: '30',
      'jobs-history-count': 50000,
      'histogram-history': 7,
      'max-job-history': '7',
    });
    await fx.core.call(T, 'config.unset', 'heartbeat');
    assert.deepEqual(await fx.core.redis.hgetall('ql:config'), { 'max-job-history': '7' });
    assert.equal(await fx.core.call(T, 'config.get', 'heartbeat'), 60);
  });
});

describe('§3 heartbeat: lock length for pop and heartbeat, per queue', () => {
  test('global heartbeat and <queue>-heartbeat override', async () => {
    await fx.core.call(T, 'config.set', 'heartbeat', 30);
    await fx.core.call(T, 'config.set', 'fast-heartbeat', 5);
    await fx.core.call(T, 'put', 'w0', 'slow', 'a', 'K', '{}', 0);
    await fx.core.call(T, 'put', 'w0', 'fast', 'b', 'K', '{}', 0);
    await fx.core.call(T, 'pop', 'slow', 'w1', 1);
    await fx.core.call(T, 'pop', 'fast', 'w1', 1);
    assert.equal(Number(await fx.core.redis.zscore('ql:q:slow-locks', 'a')), T + 30);
    assert.equal(Number(await fx.core.redis.zscore('ql:q:fast-locks', 'b')), T + 5);
    assert.equal(await fx.core.call(T + 2, 'heartbeat', 'a', 'w1'), T + 32);
    assert.equal(await fx.core.call(T + 2, 'heartbeat', 'b', 'w1'), T + 7);
    assert.equal(Number(await fx.core.redis.zscore('ql:q:fast-locks', 'b')), T + 7);
    assert.equal(Number(await fx.core.redis.zscore('ql:w:w1:jobs', 'b')), T + 7);
    assert.equal(await fx.core.redis.hget('ql:j:b', 'expires'), '1700000007');
  });

  test('the README spelling heartbeat-<queue> is not used', async () => {
    await fx.core.call(T, 'config.set', 'heartbeat-q', 5);
    await fx.core.call(T, 'put', 'w0', 'q', 'a', 'K', '{}', 0);
    await fx.core.call(T, 'pop', 'q', 'w1', 1);
    assert.equal(Number(await fx.core.redis.zscore('ql:q:q-locks', 'a')), T + 60);
  });
});

describe('§3 grace-period', () => {
  async function expiredLock(): Promise<void> {
    await fx.core.call(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0);
    await fx.core.call(T, 'pop', 'q', 'w1', 1); // lock T+60
  }

  test('default 10: the courtesy lock lasts now + 10; the job is handed on only after it', async () => {
    await expiredLock();
    assert.equal(await fx.core.call(T + 60, 'pop', 'q', 'w2', 1), '{}'); // expiry = now counts as stalled
    assert.equal(Number(await fx.core.redis.zscore('ql:q:q-locks', 'j')), T + 70);
    assert.equal(await fx.core.call(T + 69, 'pop', 'q', 'w2', 1), '{}');
    const handed = JSON.parse(String(await fx.core.call(T + 70, 'pop', 'q', 'w2', 1))) as {
      jid: string;
      worker: string;
      remaining: number;
    }[];
    assert.deepEqual(
      handed.map((job) => [job.jid, job.worker, job.remaining]),
      [['j', 'w2', 4]],
    );
  });

  test('stored value 25 is used', async () => {
    await fx.core.call(T, 'config.set', 'grace-period', 25);
    await expiredLock();
    await fx.core.call(T + 61, 'pop', 'q', 'w2', 1);
    assert.equal(Number(await fx.core.redis.zscore('ql:q:q-locks', 'j')), T + 86);
  });

  for (const value of ['0', '-5']) {
    test(`grace-period ${value} (≤ 0): no courtesy, the job is handed on in the same pop`, async () => {
      await fx.core.call(T, 'config.set', 'grace-period', value);
      await expiredLock();
      const handed = JSON.parse(String(await fx.core.call(T + 61, 'pop', 'q', 'w2', 1))) as {
        jid: string;
        worker: string;
      }[];
      assert.deepEqual(
        handed.map((job) => [job.jid, job.worker]),
        [['j', 'w2']],
      );
      const job = await fx.core.redis.hgetall('ql:j:j');
      assert.equal(job.remaining, '4');
      assert.equal(job.grace, undefined);
      // The courtesy step still ran: history timed-out, stats retries +1.
      const history = await fx.core.redis.lrange('ql:j:j-history', 0, -1);
      assert.deepEqual(history.slice(2), ['[1700000061,"timed-out"]', '[1700000061,"popped",{"worker":"w2"}]']);
      assert.equal(await fx.core.redis.hget('ql:s:stats:1699920000:q', 'retries'), '1');
    });
  }
});

describe('§2/§3 max-job-history cap', () => {
  /** put, then `appends` log entries a1…an, one call each; returns the history list. */
  async function historyAfter(appends: number): Promise<string[]> {
    await fx.core.call(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0);
    for (let i = 1; i <= appends; i++) await fx.core.call(T + i, 'log', 'j', `a${i}`);
    return fx.core.redis.lrange('ql:j:j-history', 0, -1);
  }
  const PUT = '[1700000000,"put",{"q":"q"}]';
  const logEntry = (i: number): string => `[${T + i},"a${i}"]`;
  const logEntries = (from: number, to: number): string[] =>
    Array.from({ length: to - from + 1 }, (_, k) => logEntry(from + k));

  test('n = 3: at most 3 entries, the first plus the newest', async () => {
    await fx.core.call(T, 'config.set', 'max-job-history', 3);
    assert.deepEqual(await historyAfter(4), [PUT, logEntry(3), logEntry(4)]);
  });

  test('n = 2: no cap', async () => {
    await fx.core.call(T, 'config.set', 'max-job-history', 2);
    assert.deepEqual(await historyAfter(4), [PUT, ...logEntries(1, 4)]);
  });

  test('n = 1: 2 entries (first + newest)', async () => {
    await fx.core.call(T, 'config.set', 'max-job-history', 1);
    assert.deepEqual(await historyAfter(4), [PUT, logEntry(4)]);
  });

  for (const value of ['0', '-1']) {
    test(`n = ${value} (≤ 0): no cap`, async () => {
      await fx.core.call(T, 'config.set', 'max-job-history', value);
      assert.deepEqual(await historyAfter(4), [PUT, ...logEntries(1, 4)]);
    });
  }

  test('default 100: the first entry plus the newest 99', async () => {
    assert.deepEqual(await historyAfter(104), [PUT, ...logEntries(6, 104)]);
  });

  test('the cap applies to every history writer, e.g. pop', async () => {
    await fx.core.call(T, 'config.set', 'max-job-history', 3);
    await historyAfter(3);
    await fx.core.call(T + 10, 'pop', 'q', 'w1', 1);
    assert.deepEqual(await fx.core.redis.lrange('ql:j:j-history', 0, -1), [
      PUT,
      logEntry(3),
      '[1700000010,"popped",{"worker":"w1"}]',
    ]);
  });
});

describe('§3/§6 completed-job expiry', () => {
  /** put, pop and complete one job at `now` (tag t1 on each). */
  async function completeAt(jid: string, now: number): Promise<void> {
    await fx.core.call(now, 'put', 'w0', 'q', jid, 'K', '{}', 0, 'tags', '["t1"]');
    const popped = JSON.parse(String(await fx.core.call(now, 'pop', 'q', 'w1', 1))) as { jid: string }[];
    assert.deepEqual(
      popped.map((job) => job.jid),
      [jid],
    );
    assert.equal(await fx.core.call(now, 'complete', jid, 'w1', 'q', '{}'), 'complete');
  }

  test('jobs-history-count 2: only the 2 newest completed jobs are kept; tags decremented', async () => {
    await fx.core.call(T, 'config.set', 'jobs-history-count', 2);
    await completeAt('c1', T + 1);
    await completeAt('c2', T + 2);
    await fx.core.call(T, 'track', 'track', 'c1');
    await completeAt('c3', T + 3);
    assert.deepEqual(await zsetMembers('ql:completed'), ['c2', 'c3']);
    assert.equal(await fx.core.redis.exists('ql:j:c1'), 0);
    assert.equal(await fx.core.redis.exists('ql:j:c1-history'), 0);
    assert.equal(await fx.core.redis.exists('ql:j:c2'), 1);
    assert.deepEqual(await zsetMembers('ql:t:t1'), ['c2', 'c3']);
    assert.equal(Number(await fx.core.redis.zscore('ql:tags', 't1')), 2);
    // The ql:tracked entry is left behind.
    assert.deepEqual(await zsetMembers('ql:tracked'), ['c1']);
  });

  test('jobs-history (age): completion time ≤ now − jobs-history is deleted at the next plain completion', async () => {
    await fx.core.call(T, 'config.set', 'jobs-history', 100);
    await completeAt('old', T);
    await completeAt('edge', T + 1);
    await completeAt('new', T + 101); // deletes completions ≤ T+1
    assert.deepEqual(await zsetMembers('ql:completed'), ['new']);
    assert.equal(await fx.core.redis.exists('ql:j:old'), 0);
    assert.equal(await fx.core.redis.exists('ql:j:edge'), 0);
    assert.equal(await fx.core.redis.exists('ql:j:new'), 1);
  });

  test('an advancing complete does not sweep', async () => {
    await fx.core.call(T, 'config.set', 'jobs-history-count', 1);
    await completeAt('c1', T + 1);
    await completeAt('c2', T + 2);
    assert.deepEqual(await zsetMembers('ql:completed'), ['c2']);
    await fx.core.call(T + 3, 'put', 'w0', 'q', 'adv', 'K', '{}', 0);
    await fx.core.call(T + 3, 'pop', 'q', 'w1', 1);
    await fx.core.call(T + 4, 'config.set', 'jobs-history-count', 0);
    assert.equal(await fx.core.call(T + 4, 'complete', 'adv', 'w1', 'q', '{}', 'next', 'q2'), 'waiting');
    assert.deepEqual(await zsetMembers('ql:completed'), ['c2']);
    assert.equal(await fx.core.redis.exists('ql:j:c2'), 1);
  });

  test('jobs-history-count 0 deletes the job just completed too; its dependents are still released', async () => {
    await fx.core.call(T, 'config.set', 'jobs-history-count', 0);
    await fx.core.call(T, 'put', 'w0', 'q', 'parent', 'K', '{}', 0, 'priority', 5);
    await fx.core.call(T, 'put', 'w0', 'q', 'child', 'K', '{}', 0, 'depends', '["parent"]');
    await fx.core.call(T, 'pop', 'q', 'w1', 1);
    assert.equal(await fx.core.call(T + 1, 'complete', 'parent', 'w1', 'q', '{}'), 'complete');
    assert.equal(await fx.core.redis.exists('ql:j:parent'), 0);
    assert.equal(await fx.core.redis.exists('ql:j:parent-history'), 0);
    assert.equal(await fx.core.redis.zcard('ql:completed'), 0);
    assert.equal(await fx.core.redis.hget('ql:j:child', 'state'), 'waiting');
    assert.deepEqual(await zsetMembers('ql:q:q-work'), ['child']);
    assert.equal(await fx.core.redis.exists('ql:q:q-depends'), 0);
  });
});

describe('§3 <queue>-max-concurrency and max-worker-age', () => {
  test('max-concurrency 1: pop is capped', async () => {
    // A courtesy lock counts as running, but can push the queue above the cap.
    await fx.core.call(T, 'config.set', 'q-max-concurrency', 1);
    await fx.core.call(T, 'put', 'w0', 'q', 'a', 'K', '{}', 0, 'priority', 2);
    await fx.core.call(T, 'put', 'w0', 'q', 'b', 'K', '{}', 0, 'priority', 1);
    const first = JSON.parse(String(await fx.core.call(T, 'pop', 'q', 'w1', 2))) as { jid: string }[];
    assert.deepEqual(
      first.map((job) => job.jid),
      ['a'],
    );
    assert.equal(await fx.core.call(T + 1, 'pop', 'q', 'w2', 1), '{}');
    // §6 pop step 3: the worker is registered even though nothing was returned.
    assert.equal(Number(await fx.core.redis.zscore('ql:workers', 'w2')), T + 1);
    // At T+61 a's lock has expired: no running lock, so count stays 1; a gets its courtesy
    // (not returned) and b is handed out, leaving two locks in a queue capped at 1.
    const second = JSON.parse(String(await fx.core.call(T + 61, 'pop', 'q', 'w2', 1))) as { jid: string }[];
    assert.deepEqual(
      second.map((job) => job.jid),
      ['b'],
    );
    assert.deepEqual(await fx.core.redis.zrange('ql:q:q-locks', 0, -1, 'WITHSCORES'), [
      'a',
      String(T + 71),
      'b',
      String(T + 121),
    ]);
    assert.equal(await fx.core.call(T + 62, 'pop', 'q', 'w3', 1), '{}');
  });

  test('max-worker-age: workers forgets workers whose last activity ≤ now − age, with their job sets', async () => {
    await fx.core.call(T, 'put', 'w0', 'q', 'a', 'K', '{}', 0);
    await fx.core.call(T, 'pop', 'q', 'w1', 1);
    await fx.core.call(T + 5, 'pop', 'q', 'w2', 1);
    await fx.core.call(T, 'config.set', 'max-worker-age', 10);
    assert.equal(
      await fx.core.call(T + 9, 'workers'),
      '[{"stalled":0,"name":"w2","jobs":0},{"stalled":0,"name":"w1","jobs":1}]',
    );
    assert.equal(await fx.core.call(T + 10, 'workers'), '[{"stalled":0,"name":"w2","jobs":0}]');
    assert.deepEqual(await fx.core.redis.zrange('ql:workers', 0, -1), ['w2']);
    assert.equal(await fx.core.redis.exists('ql:w:w1:jobs'), 0);
  });

  test('max-worker-age default 86400', async () => {
    await fx.core.call(T, 'put', 'w0', 'q', 'a', 'K', '{}', 0);
    await fx.core.call(T, 'pop', 'q', 'w1', 1);
    assert.equal(await fx.core.call(T + 86399, 'workers'), '[{"stalled":1,"name":"w1","jobs":0}]');
    assert.equal(await fx.core.call(T + 86400, 'workers'), '{}');
  });
});
