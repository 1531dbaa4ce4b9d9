// qless put / recur / unrecur: what they print and what they write into Redis.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { qless, qlessJson } from '../helpers/cli.ts';
import { useCore } from '../helpers/client-suite.ts';

describe('qless put, recur, unrecur', () => {
  const fx = useCore();

  test('put prints the jid and writes the job with its data, priority, tags and retries', async () => {
    const result = await qless(
      [
        'put',
        'images',
        'images.Resize',
        '--data',
        '{"path":"cat.png","w":200}',
        '--priority',
        '3',
        '--tag',
        'cats',
        '--tag',
        'big',
        '--retries',
        '2',
      ],
      { redis: fx.url },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^[0-9a-f]{32}\n$/);
    const jid = result.stdout.trim();
    const job = await fx.core.redis.hgetall(`ql:j:${jid}`);
    assert.equal(job.klass, 'images.Resize');
    assert.equal(job.queue, 'images');
    assert.equal(job.state, 'waiting');
    assert.deepEqual(JSON.parse(job.data), { path: 'cat.png', w: 200 });
    assert.equal(Number(job.priority), 3);
    assert.deepEqual(JSON.parse(job.tags), ['cats', 'big']);
    assert.equal(job.retries, '2');
    assert.notEqual(await fx.core.redis.zscore('ql:q:images-work', jid), null);
    assert.notEqual(await fx.core.redis.zscore('ql:t:cats', jid), null);
    assert.notEqual(await fx.core.redis.zscore('ql:queues', 'images'), null);
  });

  test('put --json with --jid, data defaulting to {}', async () => {
    const document = await qlessJson<{ jid: string; queue: string }>(['put', 'mail', 'Send', '--jid', 'mail-1'], {
      redis: fx.url,
    });
    assert.deepEqual(document, { jid: 'mail-1', queue: 'mail' });
    const job = await fx.core.redis.hgetall('ql:j:mail-1');
    assert.equal(job.data, '{}');
    assert.equal(job.priority, '0');
    assert.equal(job.retries, '5');
  });

  test('put --delay schedules the job; --depends makes it wait for another', async () => {
    const first = (await qless(['put', 'q', 'K', '--jid', 'first'], { redis: fx.url })).stdout.trim();
    const later = await qless(['put', 'q', 'K', '--jid', 'later', '--delay', '600'], { redis: fx.url });
    assert.equal(later.code, 0, later.stderr);
    assert.equal(await fx.core.redis.hget('ql:j:later', 'state'), 'scheduled');
    assert.ok(Number(await fx.core.redis.zscore('ql:q:q-scheduled', 'later')) > Date.now() / 1000 + 500);
    const after = await qless(['put', 'q', 'K', '--jid', 'after', '--depends', first], { redis: fx.url });
    assert.equal(after.code, 0, after.stderr);
    assert.equal(await fx.core.redis.hget('ql:j:after', 'state'), 'depends');
    assert.deepEqual(await fx.core.redis.smembers('ql:j:after-dependencies'), ['first']);
    assert.deepEqual(await fx.core.redis.smembers('ql:j:first-dependents'), ['after']);
  });

  test('recur writes the template; unrecur removes it; a second unrecur is refused with exit 1', async () => {
    const result = await qless(
      [
        'recur',
        'reports',
        'Reports.Daily',
        '--every',
        '3600',
        '--offset',
        '60',
        '--backlog',
        '2',
        '--priority',
        '4',
        '--retries',
        '1',
        '--tag',
        'daily',
        '--data',
        '{"r":1}',
      ],
      { redis: fx.url },
    );
    assert.equal(result.code, 0, result.stderr);
    const jid = result.stdout.trim();
    const template = await fx.core.redis.hgetall(`ql:r:${jid}`);
    assert.equal(template.klass, 'Reports.Daily');
    assert.equal(template.queue, 'reports');
    assert.equal(Number(template.interval), 3600);
    assert.equal(Number(template.backlog), 2);
    assert.equal(Number(template.priority), 4);
    assert.equal(Number(template.retries), 1);
    assert.deepEqual(JSON.parse(template.tags), ['daily']);
    assert.deepEqual(JSON.parse(template.data), { r: 1 });
    assert.ok(Number(await fx.core.redis.zscore('ql:q:reports-recur', jid)) > Date.now() / 1000);

    const stopped = await qless(['unrecur', jid], { redis: fx.url });
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.equal(stopped.stdout, `stopped recurring job ${jid}\n`);
    assert.equal(await fx.core.redis.exists(`ql:r:${jid}`), 0);
    assert.equal(await fx.core.redis.zscore('ql:q:reports-recur', jid), null);

    const again = await qless(['unrecur', jid], { redis: fx.url });
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `qless: no recurring job ${jid}\n`);
  });

  test('recur --json; unrecur of a plain job is refused and leaves it alone', async () => {
    const document = await qlessJson<{ jid: string; queue: string }>(
      ['recur', 'q', 'K', '--every', '60', '--jid', 'rec'],
      { redis: fx.url },
    );
    assert.deepEqual(document, { jid: 'rec', queue: 'q' });
    assert.equal(await fx.core.redis.hget('ql:r:rec', 'state'), 'recur');
    await qless(['put', 'q', 'K', '--jid', 'plain'], { redis: fx.url });
    const before = await fx.core.snapshot();
    const refused = await qless(['unrecur', 'plain'], { redis: fx.url });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /plain is a job, not a recurring job/);
    assert.deepEqual(await fx.core.snapshot(), before);
    const stopped = await qlessJson<{ jid: string; recurring: boolean }>(['unrecur', 'rec'], { redis: fx.url });
    assert.deepEqual(stopped, { jid: 'rec', recurring: false });
    assert.equal(await fx.core.redis.exists('ql:r:rec'), 0);
  });
});
