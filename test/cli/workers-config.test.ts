// qless workers / worker / config, against Redis.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { qless, qlessJson } from '../helpers/cli.ts';
import { useCore } from '../helpers/client-suite.ts';

describe('qless workers and config', () => {
  const fx = useCore();

  test('workers: who holds how many jobs; worker <name>: those jobs, running and stalled', async () => {
    await fx.withClient('w1', 0, async (client) => {
      await client.queue('q').put('K', {}, { jid: 'live' });
      assert.equal((await client.queue('q').pop())[0].jid, 'live');
    });
    // Popped with a clock an hour behind: its 60 s lock is long expired now.
    await fx.withClient('w1', -3600, async (client) => {
      await client.queue('q').put('K', {}, { jid: 'old' });
      assert.equal((await client.queue('q').pop())[0].jid, 'old');
    });
    // Another queue: a pop from q would give old's expired lock its courtesy and take it from w1.
    await fx.withClient('w2', 0, async (client) => {
      await client.queue('r').put('K', {}, { jid: 'other' });
      assert.equal((await client.queue('r').pop())[0].jid, 'other');
    });

    const human = await qless(['workers'], { redis: fx.url });
    assert.equal(human.code, 0, human.stderr);
    const lines = human.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^WORKER\s+JOBS\s+STALLED$/);
    assert.ok(
      lines.some((line) => /^w1\s+1\s+1$/.test(line)),
      human.stdout,
    );
    assert.ok(
      lines.some((line) => /^w2\s+1\s+0$/.test(line)),
      human.stdout,
    );
    const all = await qlessJson<{ total: number; workers: { name: string; jobs: number; stalled: number }[] }>(
      ['workers'],
      { redis: fx.url },
    );
    assert.equal(all.total, 2);
    assert.deepEqual(
      all.workers.find((worker) => worker.name === 'w1'),
      { name: 'w1', jobs: 1, stalled: 1 },
    );
    const page = await qlessJson<{ total: number; workers: unknown[] }>(['workers', '--limit', '1'], { redis: fx.url });
    assert.deepEqual([page.total, page.workers.length], [2, 1]);

    const one = await qless(['worker', 'w1'], { redis: fx.url });
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /^running:\nJID.*\nlive\s+K\s+q\s+running\s+0\s+w1\s/m);
    assert.match(one.stdout, /^stalled:\nJID.*\nold\s+K\s+q\s+running\s+0\s+w1\s/m);
    const document = await qlessJson<{
      name: string;
      known: boolean;
      jobs: { jid: string }[];
      stalled: { jid: string }[];
    }>(['worker', 'w1'], { redis: fx.url });
    assert.deepEqual(
      [document.name, document.known, document.jobs.map((job) => job.jid), document.stalled.map((job) => job.jid)],
      ['w1', true, ['live'], ['old']],
    );
    const unknown = await qless(['worker', 'ghost'], { redis: fx.url });
    assert.equal(unknown.code, 0);
    assert.equal(unknown.stdout, 'worker ghost (not a known worker)\n\nrunning: none\n\nstalled: none\n');
  });

  test('config: all values with defaults; get, set, unset one key', async () => {
    const human = await qless(['config'], { redis: fx.url });
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^KEY +VALUE\n/);
    assert.match(human.stdout, /^heartbeat +60$/m);
    assert.match(human.stdout, /^grace-period +10$/m);

    const set = await qless(['config', 'set', 'images-heartbeat', '300'], { redis: fx.url });
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, 'images-heartbeat = 300\n');
    assert.equal(await fx.core.redis.hget('ql:config', 'images-heartbeat'), '300');
    assert.deepEqual(await qlessJson(['config', 'set', 'application', 'shop'], { redis: fx.url }), {
      key: 'application',
      value: 'shop',
    });
    assert.equal(await fx.core.redis.hget('ql:config', 'application'), 'shop');

    const all = await qlessJson<Record<string, string | number>>(['config'], { redis: fx.url });
    assert.equal(all['images-heartbeat'], '300');
    assert.equal(all.heartbeat, 60);
    assert.equal(all.application, 'shop');
    assert.deepEqual(Object.keys(all), Object.keys(all).sort());

    assert.equal((await qless(['config', 'get', 'images-heartbeat'], { redis: fx.url })).stdout, '300\n');
    assert.deepEqual(await qlessJson(['config', 'get', 'heartbeat'], { redis: fx.url }), {
      key: 'heartbeat',
      value: 60,
    });
    const unknown = await qless(['config', 'get', 'no-such-key'], { redis: fx.url });
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'qless: config no-such-key is not set and has no default\n');

    const unset = await qless(['config', 'unset', 'application'], { redis: fx.url });
    assert.equal(unset.stdout, 'application unset (default qless)\n');
    assert.equal(await fx.core.redis.hexists('ql:config', 'application'), 0);
    assert.deepEqual(await qlessJson(['config', 'unset', 'images-heartbeat'], { redis: fx.url }), {
      key: 'images-heartbeat',
      value: null,
    });
    assert.equal(await fx.core.redis.exists('ql:config'), 0);
  });

  test('config set refuses values qless cannot use (exit 2, nothing changes) and takes the rest', async () => {
    // Something in Redis, so "unchanged" means more than "still empty".
    await fx.withClient('w1', 0, (client) => client.queue('q').put('K', {}, { jid: 'j' }));
    const before = await fx.core.snapshot();
    const refused: [string[], number, RegExp][] = [
      [['config', 'set', 'jobs-history-count', '1.5'], 2, /jobs-history-count must be a whole number/],
      [['config', 'set', 'max-job-history', '3.5'], 2, /max-job-history must be a whole number/],
      [['config', 'set', 'q-max-concurrency', '2.5'], 2, /q-max-concurrency must be a whole number/],
      [['config', 'set', 'grace-period', 'ten'], 2, /grace-period must be a number/],
    ];
    for (const [args, code, stderr] of refused) {
      const result = await qless(args, { redis: fx.url });
      assert.equal(result.code, code, `qless ${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, stderr);
      assert.equal(result.stdout, '');
      assert.deepEqual(await fx.core.snapshot(), before, `qless ${args.join(' ')} changed Redis`);
    }
    // Whole numbers (however written) and fractional lock lengths are fine.
    for (const [key, value] of [
      ['jobs-history-count', '1e3'],
      ['q-max-concurrency', '2'],
      ['q-heartbeat', '7.5'],
    ]) {
      const result = await qless(['config', 'set', key, value], { redis: fx.url });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(await fx.core.redis.hget('ql:config', key), value);
    }
  });
});
