// Audit of issue 4's "Done when" against the CLI suite: what the other test/cli files leave out.
// (1) Every read command, human and --json, changes nothing in Redis, and its JSON document has
// stable top-level field names. (2) --offset/--limit on every listing (queues, jobs <state>
// <queue>, jobs complete, failed, workers): the JSON page is that slice and the table shows
// exactly those rows. (3) Write commands whose --json or human form no other test runs (pause,
// tag, untag), refusals with exit 1 that change nothing (cancel/untrack of a recurring job), and
// config values that would break qless refused with exit 2. (4) watch shows a tracked job's lock
// expiry (stalled, lock_lost) and an advance to another queue. (5) `qless script` needs no Redis.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { qless, qlessJson, startQless } from '../helpers/cli.ts';
import { useCore } from '../helpers/client-suite.ts';
import { freePort } from '../helpers/redis.ts';
import { scriptSource } from '../../src/client/script.ts';

describe('qless: done-when audit', () => {
  const fx = useCore();

  /** The rows of the first table in `text` (the lines after its header, up to a blank line or the end). */
  function tableRows(text: string, header: RegExp): string[] {
    const lines = text.split('\n');
    const start = lines.findIndex((line) => header.test(line));
    assert.ok(start >= 0, `no table header ${header} in:\n${text}`);
    const rows: string[] = [];
    for (const line of lines.slice(start + 1)) {
      if (line.trim() === '' || /^\d+–\d+ of \d+ /.test(line)) break;
      rows.push(line);
    }
    return rows;
  }

  const firstColumn = (rows: string[]): string[] => rows.map((row) => row.split(/\s+/)[0]);

  test('every read command, human and --json, leaves Redis exactly as it was; JSON field names are stable', async () => {
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

  test('--offset/--limit page every listing: the JSON page is that slice, the table shows exactly those rows', async () => {
    // Three queues, three running jobs in p, three completed jobs, three failure groups, three workers.
    await fx.withClient('w1', 0, async (client) => {
      for (const jid of ['p1', 'p2', 'p3']) await client.queue('p').put('K', {}, { jid });
      assert.equal((await client.queue('p').pop(3)).length, 3);
      for (const jid of ['c1', 'c2', 'c3']) {
        await client.queue('c').put('K', {}, { jid });
        const [job] = await client.queue('c').pop();
        await job.complete();
      }
    });
    for (const [worker, group] of [
      ['w2', 'g-one'],
      ['w3', 'g-two'],
    ]) {
      await fx.withClient(worker, 0, async (client) => {
        await client.queue('f').put('K', {}, { jid: group });
        const [job] = await client.queue('f').pop();
        await job.fail(group, 'boom');
      });
    }
    await fx.withClient('w4', 0, async (client) => {
      for (const jid of ['x1', 'x2']) {
        await client.queue('f').put('K', {}, { jid });
        const [job] = await client.queue('f').pop();
        await job.fail('g-big', 'boom');
      }
    });
    const before = await fx.core.snapshot();
    const page = ['--offset', '1', '--limit', '1'];

    // queues
    const allQueues = await qlessJson<{ queues: { name: string }[] }>(['queues'], { redis: fx.url });
    // First-seen order (two puts within one millisecond may tie; Redis then orders by name).
    const known = await fx.core.redis.zrange('ql:queues', 0, -1);
    assert.deepEqual([...known].sort(), ['c', 'f', 'p']);
    assert.deepEqual(
      allQueues.queues.map((queue) => queue.name),
      known,
    );
    const queuePage = await qlessJson<{ total: number; offset: number; limit: number; queues: { name: string }[] }>(
      ['queues', ...page],
      { redis: fx.url },
    );
    assert.deepEqual(
      [queuePage.total, queuePage.offset, queuePage.limit, queuePage.queues.map((queue) => queue.name)],
      [3, 1, 1, [known[1]]],
    );
    assert.deepEqual(firstColumn(tableRows((await qless(['queues', ...page], { redis: fx.url })).stdout, /^QUEUE\s/)), [
      known[1],
    ]);

    // jobs <state> <queue>
    const running = await qlessJson<{ jobs: { jid: string }[] }>(['jobs', 'running', 'p'], { redis: fx.url });
    assert.equal(running.jobs.length, 3);
    const runningPage = await qlessJson<{ offset: number; limit: number; jobs: { jid: string }[] }>(
      ['jobs', 'running', 'p', ...page],
      { redis: fx.url },
    );
    assert.deepEqual([runningPage.offset, runningPage.limit], [1, 1]);
    assert.deepEqual(
      runningPage.jobs.map((job) => job.jid),
      running.jobs.slice(1, 2).map((job) => job.jid),
    );
    const runningRows = tableRows((await qless(['jobs', 'running', 'p', ...page], { redis: fx.url })).stdout, /^JID\s/);
    assert.deepEqual(
      firstColumn(runningRows),
      runningPage.jobs.map((job) => job.jid),
    );
    assert.match(runningRows[0], /\s+K\s+p\s+running\s+0\s+w1\s/);

    // jobs complete: newest first; its human table, which no other test reads.
    const complete = await qlessJson<{ jobs: { jid: string }[] }>(['jobs', 'complete'], { redis: fx.url });
    assert.deepEqual(
      complete.jobs.map((job) => job.jid),
      await fx.core.redis.zrevrange('ql:completed', 0, -1),
    );
    const completeRows = tableRows(
      (await qless(['jobs', 'complete'], { redis: fx.url })).stdout,
      /^JID\s+KLASS\s+QUEUE\s+STATE\s+PRI\s+WORKER\s+TAGS\s+LAST$/,
    );
    assert.deepEqual(
      firstColumn(completeRows),
      complete.jobs.map((job) => job.jid),
    );
    for (const row of completeRows) assert.match(row, /^c\d\s+K\s+-\s+complete\s+0\s+-\s+-\s+done /);
    const completePage = tableRows((await qless(['jobs', 'complete', ...page], { redis: fx.url })).stdout, /^JID\s/);
    assert.deepEqual(firstColumn(completePage), [complete.jobs[1].jid]);

    // failed (groups): biggest first, then by name.
    const groups = await qlessJson<{ groups: { group: string; count: number }[] }>(['failed'], { redis: fx.url });
    assert.deepEqual(groups.groups, [
      { group: 'g-big', count: 2 },
      { group: 'g-one', count: 1 },
      { group: 'g-two', count: 1 },
    ]);
    const groupPage = await qlessJson<{ total: number; offset: number; limit: number; groups: { group: string }[] }>(
      ['failed', ...page],
      { redis: fx.url },
    );
    assert.deepEqual(
      [groupPage.total, groupPage.offset, groupPage.limit, groupPage.groups.map((entry) => entry.group)],
      [3, 1, 1, ['g-one']],
    );
    assert.deepEqual(
      tableRows((await qless(['failed', ...page], { redis: fx.url })).stdout, /^GROUP\s/).map((row) =>
        row.split(/\s+/),
      ),
      [['g-one', '1']],
    );

    // workers: most recently active first.
    const workers = await qlessJson<{ workers: { name: string }[] }>(['workers'], { redis: fx.url });
    assert.deepEqual(
      workers.workers.map((worker) => worker.name),
      await fx.core.redis.zrevrange('ql:workers', 0, -1),
    );
    assert.equal(workers.workers.length, 4);
    const workerPage = await qlessJson<{ total: number; offset: number; limit: number; workers: { name: string }[] }>(
      ['workers', '--offset', '2', '--limit', '2'],
      { redis: fx.url },
    );
    assert.deepEqual([workerPage.total, workerPage.offset, workerPage.limit], [4, 2, 2]);
    assert.deepEqual(
      workerPage.workers.map((worker) => worker.name),
      workers.workers.slice(2, 4).map((worker) => worker.name),
    );
    assert.deepEqual(
      firstColumn(
        tableRows((await qless(['workers', '--offset', '2', '--limit', '2'], { redis: fx.url })).stdout, /^WORKER\s/),
      ),
      workerPage.workers.map((worker) => worker.name),
    );

    // An --offset past the end says so, instead of an empty table.
    assert.equal(
      (await qless(['queues', '--offset', '9'], { redis: fx.url })).stdout.trim(),
      'no queues at offset 9 (3 in all)',
    );
    assert.equal(
      (await qless(['failed', '--offset', '9'], { redis: fx.url })).stdout.trim(),
      'no failed jobs at offset 9 (3 in all)',
    );
    assert.equal(
      (await qless(['workers', '--offset', '9'], { redis: fx.url })).stdout.trim(),
      'no workers at offset 9 (4 in all)',
    );

    assert.deepEqual(await fx.core.snapshot(), before, 'paging read commands changed Redis');
  });

  test('pause --json, tag --json, untag: output and Redis; refusals exit 1 (cancel/untrack of a recurring job) or 2 (config values qless cannot use) and change nothing', async () => {
    await fx.withClient('w1', 0, async (client) => {
      await client.queue('q').put('K', {}, { jid: 'j', tags: ['keep'] });
      await client.queue('q').recur('K', {}, { jid: 'r', interval: 60, offset: 600 });
    });

    assert.deepEqual(await qlessJson(['pause', 'q', 'other'], { redis: fx.url }), { paused: ['q', 'other'] });
    assert.deepEqual((await fx.core.redis.smembers('ql:paused_queues')).sort(), ['other', 'q']);

    assert.deepEqual(await qlessJson(['tag', 'j', 'red', 'blue'], { redis: fx.url }), {
      jid: 'j',
      tags: ['keep', 'red', 'blue'],
    });
    assert.deepEqual(JSON.parse((await fx.core.redis.hget('ql:j:j', 'tags'))!), ['keep', 'red', 'blue']);
    assert.notEqual(await fx.core.redis.zscore('ql:t:blue', 'j'), null);
    const untag = await qless(['untag', 'j', 'keep', 'blue'], { redis: fx.url });
    assert.equal(untag.code, 0, untag.stderr);
    assert.equal(untag.stdout, 'tags of j: red\n');
    assert.deepEqual(JSON.parse((await fx.core.redis.hget('ql:j:j', 'tags'))!), ['red']);
    assert.equal(await fx.core.redis.exists('ql:t:keep', 'ql:t:blue'), 0);
    assert.equal((await qless(['untag', 'j', 'red'], { redis: fx.url })).stdout, 'tags of j: -\n');

    const before = await fx.core.snapshot();
    const refused: [string[], number, RegExp][] = [
      [['cancel', 'r'], 1, /^qless: r: recurring job, stop it with qless unrecur \(nothing canceled\)\n$/],
      [['cancel', 'j', 'r'], 1, /recurring job/],
      [['untrack', 'r'], 1, /^qless: r is a recurring job: it cannot be untracked\n$/],
      [['untag', 'ghost', 'x'], 1, /^qless: job ghost does not exist\n$/],
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

  test("watch shows a tracked job losing its lock at another worker's pop (stalled, lock_lost) and a job advanced to another queue", async () => {
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
    lines.forEach((line, index) => assert.match(line, expected[index]));
    assert.equal(await fx.core.redis.hget('ql:j:x', 'grace'), '1');
    assert.deepEqual(
      [await fx.core.redis.hget('ql:j:y', 'queue'), await fx.core.redis.hget('ql:j:y', 'state')],
      ['q3', 'waiting'],
    );
  });

  test('qless script needs no Redis: it prints the script even when the URL points nowhere', async () => {
    const nowhere = `redis://127.0.0.1:${await freePort()}`;
    const result = await qless(['script'], { redis: nowhere });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.equal(result.stdout, scriptSource());
  });
});
