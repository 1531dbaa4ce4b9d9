// qless queues / queue / peek / jobs / pause / unpause / stats, human and --json, against Redis.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { qless, qlessJson } from '../helpers/cli.ts';
import { useCore } from '../helpers/client-suite.ts';

interface Counts {
  name: string;
  paused: boolean;
  waiting: number;
  running: number;
  stalled: number;
  scheduled: number;
  depends: number;
  recurring: number;
}

interface JobList {
  jobs: { jid: string; state: string; queue: string; worker?: string }[];
}

describe('qless queues and their jobs', () => {
  const fx = useCore({ workers: ['w1'] });

  /** a: one running, one waiting, one depending on it; b: one scheduled, one recurring, paused. */
  async function scene(): Promise<{
    running: string;
    waiting: string;
    depends: string;
    scheduled: string;
    recurring: string;
  }> {
    const running = await fx.clients.w1.queue('a').put('K', {}, { jid: 'run', priority: 5 });
    const waiting = await fx.clients.w1.queue('a').put('K', {}, { jid: 'wait' });
    const [popped] = await fx.clients.w1.queue('a').pop();
    assert.equal(popped.jid, running);
    const depends = await fx.clients.w1.queue('a').put('K', {}, { jid: 'dep', depends: [waiting] });
    const scheduled = await fx.clients.w1.queue('b').put('K', {}, { jid: 'sch', delay: 3600 });
    const recurring = await fx.clients.w1.queue('b').recur('K', {}, { jid: 'rec', interval: 3600, offset: 3600 });
    await fx.clients.w1.queue('b').pause();
    return { running, waiting, depends, scheduled, recurring };
  }

  test('queues: a table of counts, and the same as JSON with paging', async () => {
    await scene();
    const human = await qless(['queues'], { redis: fx.url });
    assert.equal(human.code, 0, human.stderr);
    const lines = human.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^QUEUE\s+WAITING\s+RUNNING\s+STALLED\s+SCHEDULED\s+DEPENDS\s+RECURRING\s+PAUSED$/);
    assert.match(lines[1], /^a\s+1\s+1\s+0\s+0\s+1\s+0\s+-$/);
    assert.match(lines[2], /^b\s+0\s+0\s+0\s+1\s+0\s+1\s+paused$/);
    // Columns line up: every row is as wide as the header up to the last column.
    assert.equal(lines[1].indexOf('-'), lines[0].indexOf('PAUSED'));

    const all = await qlessJson<{ total: number; offset: number; limit: number | null; queues: Counts[] }>(['queues'], {
      redis: fx.url,
    });
    assert.equal(all.total, 2);
    assert.deepEqual(
      all.queues.find((queue) => queue.name === 'b'),
      { name: 'b', paused: true, waiting: 0, running: 0, stalled: 0, scheduled: 1, depends: 0, recurring: 1 },
    );
    assert.deepEqual(await fx.clients.w1.queues(), all.queues);
    const page = await qlessJson<{ total: number; offset: number; limit: number; queues: Counts[] }>(
      ['queues', '--offset', '1', '--limit', '1'],
      { redis: fx.url },
    );
    assert.deepEqual([page.total, page.offset, page.limit, page.queues.map((queue) => queue.name)], [2, 1, 1, ['b']]);
  });

  test("queue: one queue's counts with today's wait and run times", async () => {
    await scene();
    const human = await qless(['queue', 'a'], { redis: fx.url });
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^waiting +1$/m);
    assert.match(human.stdout, /^running +1$/m);
    assert.match(human.stdout, /^depends +1$/m);
    assert.match(human.stdout, /^wait today +1 job, mean /m);
    assert.match(human.stdout, /^run today +no samples$/m);
    const document = await qlessJson<
      Counts & { known: boolean; today: { wait: { count: number }; run: { count: number } } }
    >(['queue', 'a'], { redis: fx.url });
    assert.equal(document.known, true);
    assert.equal(document.waiting, 1);
    assert.equal(document.today.wait.count, 1);
    assert.equal(document.today.run.count, 0);
    const unknown = await qlessJson<Counts & { known: boolean }>(['queue', 'nope'], { redis: fx.url });
    assert.equal(unknown.known, false);
    assert.equal(unknown.waiting, 0);
  });

  test('peek shows what would be popped next without locking anything', async () => {
    await fx.clients.w1.queue('a').put('K', { n: 1 }, { jid: 'low' });
    await fx.clients.w1.queue('a').put('K', { n: 2 }, { jid: 'high', priority: 9, tags: ['vip'] });
    const before = await fx.core.snapshot();
    const human = await qless(['peek', 'a'], { redis: fx.url });
    assert.equal(human.code, 0, human.stderr);
    const rows = human.stdout.trimEnd().split('\n');
    assert.match(rows[0], /^JID\s+KLASS\s+QUEUE\s+STATE\s+PRI\s+WORKER\s+TAGS\s+LAST$/);
    assert.match(rows[1], /^high\s+K\s+a\s+waiting\s+9\s+-\s+vip\s+put /);
    assert.match(rows[2], /^low /);
    const one = await qlessJson<{ queue: string } & JobList>(['peek', 'a', '1'], { redis: fx.url });
    assert.equal(one.queue, 'a');
    assert.deepEqual(
      one.jobs.map((job) => job.jid),
      ['high'],
    );
    assert.deepEqual(await fx.core.snapshot(), before);
    const empty = await qless(['peek', 'empty'], { redis: fx.url });
    assert.equal(empty.stdout, 'nothing to pop in empty\n');
  });

  test('jobs <state> <queue> and jobs complete, with paging', async () => {
    const ids = await scene();
    const running = await qless(['jobs', 'running', 'a'], { redis: fx.url });
    assert.equal(running.code, 0, running.stderr);
    assert.match(running.stdout, new RegExp(`^${ids.running}\\s+K\\s+a\\s+running\\s+5\\s+w1\\s`, 'm'));
    const checks: [string[], string[]][] = [
      [['jobs', 'running', 'a'], [ids.running]],
      [['jobs', 'depends', 'a'], [ids.depends]],
      [['jobs', 'scheduled', 'b'], [ids.scheduled]],
      [['jobs', 'recurring', 'b'], [ids.recurring]],
      [['jobs', 'stalled', 'a'], []],
    ];
    for (const [args, expected] of checks) {
      const document = await qlessJson<{ state: string; queue: string } & JobList>(args, { redis: fx.url });
      assert.equal(document.state, args[1]);
      assert.equal(document.queue, args[2]);
      assert.deepEqual(
        document.jobs.map((job) => job.jid),
        expected,
        args.join(' '),
      );
    }
    const recurring = await qless(['jobs', 'recurring', 'b'], { redis: fx.url });
    assert.match(recurring.stdout, /^rec\s+K\s+b\s+recurring\s+0\s+-\s+-\s+every 1h$/m);

    for (const jid of ['c1', 'c2', 'c3']) {
      await fx.clients.w1.queue('c').put('K', {}, { jid });
      const [job] = await fx.clients.w1.queue('c').pop();
      await job.complete();
    }
    const complete = await qlessJson<{ offset: number; limit: number } & JobList>(['jobs', 'complete'], {
      redis: fx.url,
    });
    assert.deepEqual(complete.jobs.map((job) => job.jid).sort(), ['c1', 'c2', 'c3']);
    assert.ok(complete.jobs.every((job) => job.state === 'complete'));
    const page = await qlessJson<{ offset: number; limit: number } & JobList>(
      ['jobs', 'complete', '--offset', '1', '--limit', '1'],
      { redis: fx.url },
    );
    assert.deepEqual([page.offset, page.limit, page.jobs.length], [1, 1, 1]);
    assert.deepEqual(
      page.jobs.map((job) => job.jid),
      await fx.clients.w1.jobs.complete(1, 1),
    );
    const none = await qless(['jobs', 'stalled', 'a'], { redis: fx.url });
    assert.equal(none.stdout, 'no stalled jobs\n');
  });

  test('pause and unpause several queues', async () => {
    const paused = await qless(['pause', 'a', 'b'], { redis: fx.url });
    assert.equal(paused.code, 0, paused.stderr);
    assert.equal(paused.stdout, 'paused a, b\n');
    assert.deepEqual((await fx.core.redis.smembers('ql:paused_queues')).sort(), ['a', 'b']);
    const document = await qlessJson<{ unpaused: string[] }>(['unpause', 'a'], { redis: fx.url });
    assert.deepEqual(document, { unpaused: ['a'] });
    assert.deepEqual(await fx.core.redis.smembers('ql:paused_queues'), ['b']);
    // Paused means a worker gets nothing.
    await fx.clients.w1.queue('b').put('K', {}, { jid: 'held' });
    assert.deepEqual(await fx.clients.w1.queue('b').pop(), []);
    assert.equal((await qless(['unpause', 'b'], { redis: fx.url })).stdout, 'unpaused b\n');
    assert.deepEqual(
      (await fx.clients.w1.queue('b').pop()).map((job) => job.jid),
      ['held'],
    );
  });

  test('stats: wait and run histograms as text bars, and as JSON for a given day', async () => {
    for (const jid of ['s1', 's2']) {
      await fx.clients.w1.queue('s').put('K', {}, { jid });
      const [job] = await fx.clients.w1.queue('s').pop();
      await job.complete();
    }
    const human = await qless(['stats', 's'], { redis: fx.url });
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^wait time \(put to pop\): 2 jobs, mean /m);
    assert.match(human.stdout, /^run time \(pop to complete\): 2 jobs, mean /m);
    // One bar per non-empty bucket, the fullest 40 blocks wide.
    const { wait } = await fx.clients.w1.queue('s').stats();
    const max = Math.max(...wait.histogram);
    wait.histogram.forEach((count, index) => {
      if (count === 0) return;
      const label =
        index < 60 ? `${index}s` : index < 119 ? `${index - 59}m` : index < 142 ? `${index - 118}h` : `${index - 141}d`;
      assert.match(
        human.stdout,
        new RegExp(`^ +${label} │█{${Math.max(1, Math.round((count / max) * 40))}} ${count}$`, 'm'),
      );
    });

    const today = new Date().toISOString().slice(0, 10);
    const document = await qlessJson<{
      queue: string;
      date: string;
      wait: { count: number; histogram: number[] };
      run: { count: number };
      failures: number;
    }>(['stats', 's'], { redis: fx.url });
    assert.equal(document.queue, 's');
    assert.equal(document.date, today);
    assert.equal(document.wait.count, 2);
    assert.equal(document.wait.histogram.length, 148);
    assert.deepEqual(document.wait.histogram, wait.histogram);
    assert.deepEqual(document.run, (await fx.clients.w1.queue('s').stats()).run);
    const old = await qlessJson<{ date: string; wait: { count: number }; run: { count: number } }>(
      ['stats', 's', '--date', '2001-02-03'],
      { redis: fx.url },
    );
    assert.deepEqual([old.date, old.wait.count, old.run.count], ['2001-02-03', 0, 0]);
    const empty = await qless(['stats', 's', '--date', '2001-02-03'], { redis: fx.url });
    assert.match(empty.stdout, /^wait time \(put to pop\): no samples$/m);
  });

  test('pause --json: the queues it paused, as Redis holds them', async () => {
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'j' });
    assert.deepEqual(await qlessJson(['pause', 'q', 'other'], { redis: fx.url }), { paused: ['q', 'other'] });
    assert.deepEqual((await fx.core.redis.smembers('ql:paused_queues')).sort(), ['other', 'q']);
  });
});
