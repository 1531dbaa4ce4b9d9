// --offset/--limit on every qless listing (queues, jobs <state> <queue>, jobs complete, failed,
// workers): the JSON page is that slice, and the table shows exactly those rows.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { qless, qlessJson } from '../helpers/cli.ts';
import { useCore } from '../helpers/client-suite.ts';

describe('qless paging', () => {
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

  test('every listing: the JSON page is the --offset/--limit slice; the table shows exactly those rows', async () => {
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
});
