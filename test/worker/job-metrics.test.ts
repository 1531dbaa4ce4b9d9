// What a worker records for the pool's metrics (src/worker/job-metrics.ts, and the round trips the
// call batcher times for it): tallies per queue and klass by how each job ended, run and wait
// times, script call times (counted into their histogram's buckets); sent on the held-jobs
// schedule (the first change after a quiet spell at once, then at most once per REPORT_EVERY_MS)
// and zeroed by each report (a report holds copies), so the supervisor only ever adds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HistoryEntry, JobJson } from '../../src/client/types.ts';
import {
  type BucketCounts,
  DURATION_BUCKETS,
  SCRIPT_CALL_BUCKETS,
  totalCount,
  WAIT_BUCKETS,
} from '../../src/protocol/histogram.ts';
import type { WorkerMetricsReport } from '../../src/protocol/ipc.ts';
import { REPORT_EVERY_MS } from '../../src/worker/report-throttle.ts';
import { CallBatcher } from '../../src/worker/call-batcher.ts';
import { firstWaitSeconds, JobMetrics } from '../../src/worker/job-metrics.ts';

const microtasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Counts by bucket: `{ bound: count }` (`+Inf` for the last), the empty buckets left out. */
function byBound(histogram: BucketCounts, bounds: readonly number[]): { counts: Record<string, number>; sum: number } {
  const counts: Record<string, number> = {};
  histogram.counts.forEach((count, index) => {
    if (count > 0) counts[index < bounds.length ? String(bounds[index]) : '+Inf'] = count;
  });
  assert.equal(histogram.counts.length, bounds.length + 1);
  return { counts, sum: histogram.sum };
}

function json(queue: string, klass: string, history: HistoryEntry[] = []): JobJson {
  return {
    jid: `${klass}-jid`,
    klass,
    state: 'running',
    queue,
    worker: 'w',
    tracked: false,
    priority: 0,
    expires: 0,
    retries: 5,
    remaining: 5,
    data: '{}',
    tags: [],
    history,
    failure: {},
    spawned_from_jid: false,
    dependents: [],
    dependencies: [],
  };
}

test('the wait of a job on its first pop since its put; unknown for a second pop or a missing put', () => {
  const put = { when: 100, what: 'put', q: 'q' };
  assert.equal(firstWaitSeconds([put, { when: 103, what: 'popped', worker: 'w' }]), 3);
  assert.equal(
    firstWaitSeconds([put, { when: 103, what: 'popped' }, { when: 110, what: 'popped' }]),
    undefined,
    'popped again after a retry: qless keeps no entry for its return to the queue',
  );
  assert.equal(
    firstWaitSeconds([
      put,
      { when: 101, what: 'popped' },
      { when: 150, what: 'put', q: 'r' },
      { when: 151, what: 'popped' },
    ]),
    1,
    'moved on to another queue: waited from that put',
  );
  assert.equal(firstWaitSeconds([{ when: 103, what: 'popped' }]), undefined);
  assert.equal(firstWaitSeconds({}), undefined);
});

test('job ends tallied per queue and klass, by outcome; run times only for jobs their handler ended', async () => {
  const reports: WorkerMetricsReport[] = [];
  const metrics = new JobMetrics((report) => reports.push(report));
  const a = json('q', 'A', [
    { when: 10, what: 'put', q: 'q' },
    { when: 12, what: 'popped' },
  ]);
  metrics.started(a);
  metrics.ended(a, { outcome: 'completed', settledBy: undefined, group: undefined, seconds: 0.5 });
  metrics.ended(a, { outcome: 'failed', settledBy: undefined, group: 'q-TypeError', seconds: 0.25 });
  metrics.ended(a, { outcome: 'settled-by-handler', settledBy: 'fail', group: 'custom', seconds: 0.1 });
  metrics.ended(a, { outcome: 'settled-by-handler', settledBy: 'retry', group: undefined, seconds: 0.1 });
  metrics.ended(a, { outcome: 'settled-by-handler', settledBy: 'complete', group: undefined, seconds: 0.1 });
  metrics.ended(a, { outcome: 'handed-back', settledBy: undefined, group: undefined, seconds: 9 });
  metrics.ended(a, { outcome: 'lock-lost', settledBy: undefined, group: undefined, seconds: 9 });
  metrics.ended(a, { outcome: 'canceled', settledBy: undefined, group: undefined, seconds: 9 });
  metrics.started(json('r', 'B'));
  metrics.scriptCall('pop', 0.002);
  metrics.scriptCall('pop', 0.003);
  await microtasks();
  const readable = reports.map((report) => ({
    jobs: report.jobs.map((tally) => ({
      ...tally,
      durationSeconds: byBound(tally.durationSeconds, DURATION_BUCKETS),
      waitSeconds: byBound(tally.waitSeconds, WAIT_BUCKETS),
    })),
    calls: report.calls.map(({ command, seconds }) => ({ command, seconds: byBound(seconds, SCRIPT_CALL_BUCKETS) })),
  }));
  assert.deepEqual(readable, [
    {
      jobs: [
        {
          queue: 'q',
          klass: 'A',
          started: 1,
          completed: 2,
          retried: 1,
          handedBack: 1,
          lockLost: 1,
          canceled: 1,
          failed: { 'q-TypeError': 1, custom: 1 },
          durationSeconds: { counts: { '0.1': 3, '0.25': 1, '1': 1 }, sum: 0.5 + 0.25 + 0.1 + 0.1 + 0.1 },
          waitSeconds: { counts: { '2': 1 }, sum: 2 },
        },
        {
          queue: 'r',
          klass: 'B',
          started: 1,
          completed: 0,
          retried: 0,
          handedBack: 0,
          lockLost: 0,
          canceled: 0,
          failed: {},
          durationSeconds: { counts: {}, sum: 0 },
          waitSeconds: { counts: {}, sum: 0 },
        },
      ],
      calls: [{ command: 'pop', seconds: { counts: { '0.0025': 1, '0.005': 1 }, sum: 0.002 + 0.003 } }],
    },
  ]);
});

test('jobs of queues and klasses in turn each count in their own tally, also across reports', async () => {
  const reports: WorkerMetricsReport[] = [];
  const metrics = new JobMetrics((report) => reports.push(report));
  const ends = { outcome: 'completed', settledBy: undefined, group: undefined, seconds: 0.01 } as const;
  for (const [queue, klass] of [
    ['q', 'A'],
    ['q', 'B'],
    ['q', 'A'],
    ['r', 'A'],
    ['q', 'A'],
  ]) {
    metrics.started(json(queue, klass));
    metrics.ended(json(queue, klass), ends);
  }
  metrics.flush();
  metrics.started(json('q', 'A'));
  metrics.flush();
  const counts = reports.map((report) =>
    report.jobs.map((tally) => [
      tally.queue,
      tally.klass,
      tally.started,
      tally.completed,
      totalCount(tally.durationSeconds),
    ]),
  );
  assert.deepEqual(counts, [
    [
      ['q', 'A', 3, 3, 3],
      ['q', 'B', 1, 1, 1],
      ['r', 'A', 1, 1, 1],
    ],
    [['q', 'A', 1, 0, 0]],
  ]);
});

test('a report holds copies: what is counted later is not in it; tallies idle for a whole report are dropped', () => {
  const reports: WorkerMetricsReport[] = [];
  const metrics = new JobMetrics((report) => reports.push(report));
  const completed = { outcome: 'completed', settledBy: undefined, group: undefined, seconds: 0.01 } as const;
  const failed = { outcome: 'failed', settledBy: undefined, group: 'q-Error', seconds: 0.02 } as const;
  metrics.started(json('q', 'A'));
  metrics.ended(json('q', 'A'), failed);
  metrics.scriptCall('pop', 0.001);
  metrics.flush();
  metrics.started(json('q', 'A'));
  metrics.ended(json('q', 'A'), completed);
  metrics.ended(json('q', 'A'), failed);
  metrics.scriptCall('pop', 0.002);
  const ends = (report: WorkerMetricsReport) =>
    report.jobs.map((tally) => [tally.started, tally.completed, tally.failed, totalCount(tally.durationSeconds)]);
  const startedByKlass = (report: WorkerMetricsReport) => report.jobs.map((tally) => [tally.klass, tally.started]);
  const [first] = reports;
  assert.deepEqual(ends(first), [[1, 0, { 'q-Error': 1 }, 1]]);
  assert.deepEqual(
    first.calls.map(({ command, seconds }) => [command, totalCount(seconds), seconds.sum]),
    [['pop', 1, 0.001]],
  );
  metrics.flush();
  assert.deepEqual(ends(reports[1]), [[1, 1, { 'q-Error': 1 }, 2]]);
  const kept = metrics as unknown as { tallies: Map<string, unknown>; calls: Map<string, unknown> };
  assert.equal(kept.tallies.size, 1);
  metrics.started(json('q', 'B'));
  metrics.flush();
  assert.deepEqual(startedByKlass(reports[2]), [['B', 1]]);
  assert.deepEqual(reports[2].calls, []);
  assert.deepEqual([...kept.tallies.keys()], ['q\0B'], 'q/A counted nothing in the last report: dropped');
  assert.equal(kept.calls.size, 0);
  metrics.started(json('q', 'A'));
  metrics.flush();
  assert.deepEqual(startedByKlass(reports[3]), [['A', 1]]);
});

test('reports are throttled like the held-jobs report, each holds what is new, flush sends the rest', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const reports: WorkerMetricsReport[] = [];
  const metrics = new JobMetrics(
    (report) => reports.push(report),
    () => Date.now(),
  );
  metrics.scriptCall('pop', 0.001);
  await microtasks();
  assert.equal(reports.length, 1, 'at once after a quiet spell');
  metrics.scriptCall('pop', 0.002);
  metrics.scriptCall('complete', 0.003);
  await microtasks();
  t.mock.timers.tick(REPORT_EVERY_MS - 1);
  assert.equal(reports.length, 1, 'throttled');
  t.mock.timers.tick(1);
  const sums = (report: WorkerMetricsReport | undefined) =>
    report?.calls.map(({ command, seconds }) => [command, totalCount(seconds), seconds.sum]);
  assert.deepEqual(sums(reports.at(-1)), [
    ['pop', 1, 0.002],
    ['complete', 1, 0.003],
  ]);
  metrics.scriptCall('fail', 0.004);
  metrics.flush();
  assert.deepEqual(sums(reports.at(-1)), [['fail', 1, 0.004]]);
  metrics.flush();
  assert.equal(reports.length, 3, 'nothing new, nothing sent');
});

test('a round trip of the call batcher counts once for each of its calls, also when it fails', async () => {
  const reports: WorkerMetricsReport[] = [];
  const metrics = new JobMetrics((report) => reports.push(report));
  let redisGone = false;
  const batcher = new CallBatcher(
    async (calls) => {
      if (redisGone) throw new Error('Redis gone');
      return calls.map(() => ({ ok: true as const, value: null }));
    },
    (command, seconds) => metrics.scriptCall(command, seconds),
  );
  await Promise.all([
    batcher.call({ command: 'heartbeat', args: ['jid-1'] }),
    batcher.call({ command: 'fail', args: ['jid-2'] }),
  ]);
  redisGone = true;
  await assert.rejects(batcher.call({ command: 'pop', args: ['q'] }), /Redis gone/);
  metrics.flush();
  const counted = reports.flatMap((report) => report.calls.map((call) => [call.command, totalCount(call.seconds)]));
  assert.deepEqual(counted, [
    ['heartbeat', 1],
    ['fail', 1],
    ['pop', 1],
  ]);
});
