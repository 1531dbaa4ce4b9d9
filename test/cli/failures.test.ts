// qless failed / retry / cancel --group, against Redis.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { qless, qlessJson } from '../helpers/cli.ts';
import { useCore } from '../helpers/client-suite.ts';

describe('qless and failures', () => {
  const fx = useCore();

  /**
   * Puts, pops and fails one job per jid, in that order (so the last is the newest failure), a
   * minute in the past: the tables show the failure times as "… ago" however fast the test runs.
   */
  async function fail(queue: string, group: string, ...jids: string[]): Promise<void> {
    await fx.withClient('w1', -60, async (client) => {
      for (const jid of jids) {
        await client.queue(queue).put('K', { jid }, { jid });
        const [job] = await client.queue(queue).pop();
        assert.equal(job.jid, jid);
        await job.fail(group, `${jid} broke\nsecond line`);
      }
    });
  }

  test('failed: groups with counts, biggest first', async () => {
    await fail('a', 'a-Boom', 'f1', 'f2');
    await fail('b', 'b-Oops', 'f3');
    const human = await qless(['failed'], { redis: fx.url });
    assert.equal(human.code, 0, human.stderr);
    assert.equal(human.stdout, 'GROUP   JOBS\na-Boom     2\nb-Oops     1\n');
    const document = await qlessJson(['failed'], { redis: fx.url });
    assert.deepEqual(document, {
      total: 2,
      offset: 0,
      limit: null,
      groups: [
        { group: 'a-Boom', count: 2 },
        { group: 'b-Oops', count: 1 },
      ],
    });
    await fx.core.flush();
    assert.equal((await qless(['failed'], { redis: fx.url })).stdout, 'no failed jobs\n');
  });

  test('failed <group>: its jobs, newest first, with paging', async () => {
    await fail('a', 'a-Boom', 'f1', 'f2', 'f3');
    const human = await qless(['failed', 'a-Boom'], { redis: fx.url });
    assert.equal(human.code, 0, human.stderr);
    const rows = human.stdout.trimEnd().split('\n');
    assert.match(rows[0], /^JID\s+KLASS\s+QUEUE\s+STATE\s+PRI\s+FAILED\s+MESSAGE$/);
    assert.match(rows[1], /^f3\s+K\s+a\s+failed\s+0\s+.+ago\s+f3 broke$/);
    assert.match(rows[3], /^f1\s/);
    assert.equal(rows[4], '1–3 of 3 jobs in a-Boom');
    const page = await qlessJson<{
      group: string;
      total: number;
      offset: number;
      limit: number;
      jobs: { jid: string; failure: { message: string } }[];
    }>(['failed', 'a-Boom', '--offset', '1', '--limit', '1'], { redis: fx.url });
    assert.deepEqual([page.group, page.total, page.offset, page.limit], ['a-Boom', 3, 1, 1]);
    assert.deepEqual(
      page.jobs.map((job) => job.jid),
      ['f2'],
    );
    assert.equal(page.jobs[0].failure.message, 'f2 broke\nsecond line');
    assert.equal((await qless(['failed', 'nothing'], { redis: fx.url })).stdout, 'no jobs in failure group nothing\n');
  });

  test('retry: every job of a group back into the queue it failed in, oldest first', async () => {
    // One group, jobs of two queues, interleaved: a, a, b, a (oldest to newest).
    await fail('a', 'Boom', 'r1', 'r2');
    await fail('b', 'Boom', 'r3');
    await fail('a', 'Boom', 'r4');
    const human = await qless(['retry', 'Boom'], { redis: fx.url });
    assert.equal(human.code, 0, human.stderr);
    assert.equal(human.stdout, 'retried 4 jobs of Boom: 3 into a, 1 into b\n');
    assert.equal(await fx.core.redis.exists('ql:f:Boom'), 0);
    assert.equal(await fx.core.redis.sismember('ql:failures', 'Boom'), 0);
    for (const [jid, queue] of [
      ['r1', 'a'],
      ['r2', 'a'],
      ['r3', 'b'],
      ['r4', 'a'],
    ]) {
      const job = await fx.core.redis.hgetall(`ql:j:${jid}`);
      assert.deepEqual([job.state, job.queue], ['waiting', queue], jid);
      assert.notEqual(await fx.core.redis.zscore(`ql:q:${queue}-work`, jid), null);
    }
    const missing = await qless(['retry', 'Boom'], { redis: fx.url });
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'qless: failure group Boom has no jobs\n');
  });

  test('retry --count takes the oldest; --queue puts them into one queue', async () => {
    await fail('a', 'a-Boom', 'o1', 'o2', 'o3');
    const document = await qlessJson(['retry', 'a-Boom', '--count', '2', '--queue', 'elsewhere'], { redis: fx.url });
    assert.deepEqual(document, { group: 'a-Boom', retried: 2, queues: { elsewhere: 2 } });
    assert.deepEqual(await fx.core.redis.lrange('ql:f:a-Boom', 0, -1), ['o3']);
    for (const jid of ['o1', 'o2']) {
      assert.equal(await fx.core.redis.hget(`ql:j:${jid}`, 'queue'), 'elsewhere');
      assert.equal(await fx.core.redis.hget(`ql:j:${jid}`, 'state'), 'waiting');
    }
    assert.equal(await fx.core.redis.hget('ql:j:o3', 'state'), 'failed');
  });

  test('cancel --group deletes every job of the group', async () => {
    await fail('a', 'a-Boom', 'c1', 'c2');
    await fail('a', 'a-Keep', 'k1');
    const human = await qless(['cancel', '--group', 'a-Boom'], { redis: fx.url });
    assert.equal(human.code, 0, human.stderr);
    assert.equal(human.stdout, 'canceled c2\ncanceled c1\n');
    assert.equal(await fx.core.redis.exists('ql:j:c1', 'ql:j:c2', 'ql:f:a-Boom'), 0);
    assert.deepEqual(await fx.core.redis.smembers('ql:failures'), ['a-Keep']);
    assert.deepEqual(await qlessJson(['cancel', '--group', 'a-Keep'], { redis: fx.url }), {
      group: 'a-Keep',
      canceled: ['k1'],
      skipped: [],
    });
    const empty = await qless(['cancel', '--group', 'a-Keep'], { redis: fx.url });
    assert.equal(empty.code, 1);
    assert.equal(empty.stderr, 'qless: failure group a-Keep has no jobs\n');
  });
});
