// qless's read commands (queues, queue, peek, jobs, get, tagged, workers, worker, failed, config,
// stats), human and --json: each leaves Redis exactly as it was, and each JSON document keeps its
// top-level field names.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { qless, qlessJson } from '../helpers/cli.ts';
import { useCore } from '../helpers/client-suite.ts';

describe('qless read commands', () => {
  const fx = useCore();

  test('human and --json, each leaves Redis exactly as it was; JSON field names are stable', async () => {
    await fx.withClient('w1', 0, async (client) => {
      await client.queue('a').put('K', { n: 1 }, { jid: 'run', priority: 5 });
      await client.queue('a').put('K', {}, { jid: 'wait', tags: ['red'] });
      const [run] = await client.queue('a').pop();
      assert.equal(run.jid, 'run');
      await client.queue('a').put('K', {}, { jid: 'dep', depends: ['wait'] });
      await client.queue('b').put('K', {}, { jid: 'sch', delay: 3600 });
      await client.queue('b').recur('K', {}, { jid: 'rec', interval: 3600, offset: 3600 });
      await client.queue('f').put('K', {}, { jid: 'f1' });
      const [failing] = await client.queue('f').pop();
      await failing.fail('f-Boom', 'boom');
      await client.queue('c').put('K', {}, { jid: 'done' });
      const [finishing] = await client.queue('c').pop();
      await finishing.complete();
      await client.config.set('application', 'shop');
    });
    // Popped an hour ago by the clock of w2: its lock has long expired (stalled).
    await fx.withClient('w2', -3600, async (client) => {
      await client.queue('s').put('K', {}, { jid: 'old' });
      assert.equal((await client.queue('s').pop())[0].jid, 'old');
    });

    const listKeys = ['limit', 'offset', 'total'];
    const reads: [string[], string[] | null][] = [
      [['queues'], [...listKeys, 'queues']],
      [
        ['queue', 'a'],
        ['depends', 'known', 'name', 'paused', 'recurring', 'running', 'scheduled', 'stalled', 'today', 'waiting'],
      ],
      [
        ['queue', 'nope'],
        ['depends', 'known', 'name', 'paused', 'recurring', 'running', 'scheduled', 'stalled', 'today', 'waiting'],
      ],
      [
        ['peek', 'a'],
        ['jobs', 'queue'],
      ],
      [
        ['peek', 's', '1'],
        ['jobs', 'queue'],
      ],
      [
        ['jobs', 'running', 'a'],
        ['jobs', 'limit', 'offset', 'queue', 'state'],
      ],
      [
        ['jobs', 'stalled', 's'],
        ['jobs', 'limit', 'offset', 'queue', 'state'],
      ],
      [
        ['jobs', 'scheduled', 'b'],
        ['jobs', 'limit', 'offset', 'queue', 'state'],
      ],
      [
        ['jobs', 'depends', 'a'],
        ['jobs', 'limit', 'offset', 'queue', 'state'],
      ],
      [
        ['jobs', 'recurring', 'b'],
        ['jobs', 'limit', 'offset', 'queue', 'state'],
      ],
      [
        ['jobs', 'complete'],
        ['jobs', 'limit', 'offset', 'queue', 'state'],
      ],
      [['get', 'run'], null],
      [['get', 'dep'], null],
      [['get', 'f1'], null],
      [['get', 'done'], null],
      [['get', 'rec'], null],
      [
        ['tagged', 'red'],
        [...listKeys, 'jobs', 'tag'],
      ],
      [['workers'], [...listKeys, 'workers']],
      [
        ['worker', 'w1'],
        ['jobs', 'known', 'name', 'stalled'],
      ],
      [
        ['worker', 'w2'],
        ['jobs', 'known', 'name', 'stalled'],
      ],
      [['failed'], [...listKeys, 'groups']],
      [
        ['failed', 'f-Boom'],
        [...listKeys, 'group', 'jobs'],
      ],
      [['config'], null],
      [
        ['config', 'get', 'heartbeat'],
        ['key', 'value'],
      ],
      [
        ['config', 'get', 'application'],
        ['key', 'value'],
      ],
      [
        ['stats', 'a'],
        ['date', 'failed', 'failures', 'queue', 'retries', 'run', 'wait'],
      ],
      [
        ['stats', 'a', '--date', '2001-02-03'],
        ['date', 'failed', 'failures', 'queue', 'retries', 'run', 'wait'],
      ],
    ];
    const before = await fx.core.snapshot();
    for (const [args, keys] of reads) {
      const human = await qless(args, { redis: fx.url });
      assert.equal(human.code, 0, `qless ${args.join(' ')}: ${human.stderr}`);
      assert.notEqual(human.stdout.trim(), '', `qless ${args.join(' ')} printed nothing`);
      assert.deepEqual(await fx.core.snapshot(), before, `qless ${args.join(' ')} changed Redis`);
      const json = await qless([...args, '--json'], { redis: fx.url });
      assert.equal(json.code, 0, `qless ${args.join(' ')} --json: ${json.stderr}`);
      assert.notEqual(json.stdout, human.stdout, `qless ${args.join(' ')} prints the same with and without --json`);
      const document = JSON.parse(json.stdout) as Record<string, unknown>;
      assert.equal(typeof document, 'object');
      if (keys !== null)
        assert.deepEqual(Object.keys(document).sort(), [...keys].sort(), `qless ${args.join(' ')} --json`);
      assert.deepEqual(await fx.core.snapshot(), before, `qless ${args.join(' ')} --json changed Redis`);
    }

    // A few documents checked against Redis itself, beyond their field names.
    const stalled = await qlessJson<{ jobs: { jid: string; worker: string }[] }>(['jobs', 'stalled', 's'], {
      redis: fx.url,
    });
    assert.deepEqual(
      stalled.jobs.map((job) => [job.jid, job.worker]),
      [['old', 'w2']],
    );
    const dep = await qlessJson<{ state: string; dependencies: string[] }>(['get', 'dep'], { redis: fx.url });
    assert.deepEqual(
      [dep.state, dep.dependencies],
      ['depends', [...(await fx.core.redis.smembers('ql:j:dep-dependencies'))]],
    );
    assert.match((await qless(['get', 'dep'], { redis: fx.url })).stdout, /^waits for +wait$/m);
    assert.match((await qless(['get', 'wait'], { redis: fx.url })).stdout, /^needed by +dep$/m);
    const application = await qlessJson<{ key: string; value: unknown }>(['config', 'get', 'application'], {
      redis: fx.url,
    });
    assert.deepEqual(application, { key: 'application', value: await fx.core.redis.hget('ql:config', 'application') });
  });
});
