// What the supervisor shows of its pool, without processes or Redis: the slots' states and jobs
// (pool-view.ts), why a worker was restarted (departure.ts), the probes' verdicts, the label
// budget, and the metrics registry adding up worker reports (prom-client in-process; its text
// parsed like a scrape).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Histogram, Registry } from 'prom-client';
import {
  type BucketCounts,
  countValue,
  DURATION_BUCKETS,
  emptyCounts,
  SCRIPT_CALL_BUCKETS,
  WAIT_BUCKETS,
} from '../../src/protocol/histogram.ts';
import { emptyTally, type HeldJob, type JobTally } from '../../src/protocol/ipc.ts';
import {
  afterKill,
  afterRecycle,
  afterStop,
  type Departure,
  restartReason,
  UNASKED,
} from '../../src/supervisor/departure.ts';
import { initialState, type LoopState, placeChild, withSlot } from '../../src/supervisor/loop-state.ts';
import { CountedHistogram } from '../../src/supervisor/metrics/counted-histogram.ts';
import { LabelBudget, OTHER } from '../../src/supervisor/metrics/label-budget.ts';
import { PoolMetrics } from '../../src/supervisor/metrics/pool-metrics.ts';
import { HEALTHY_WITHIN_MS, healthVerdict, readyVerdict } from '../../src/supervisor/metrics/probes.ts';
import { type SlotView, slotState, type ViewedChild, viewSlots } from '../../src/supervisor/pool-view.ts';
import { parseExposition, samplesOf, sampleValue, sumOf, table } from '../helpers/prometheus.ts';

const NOW = 1_700_000_000_000;

class FakeChild implements ViewedChild {
  alive = true;
  departure: Departure = UNASKED;
  toldToStop = false;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readyForMs: number | undefined;
  held: HeldJob[] = [];
  readyAt: number | undefined = NOW - 5_000;
  rssBytes: number | undefined = 64_000_000;
  readonly startedAt = NOW - 6_000;

  constructor(
    readonly name: string,
    readonly pid: number,
  ) {}
}

describe('the pool as shown', () => {
  test('slot states: running, starting (no process yet, or not ready), backing-off, stopping', () => {
    let state: LoopState<FakeChild> = initialState(4);
    const ready = new FakeChild('p-0', 100);
    ready.held = [{ jid: 'j1', queue: 'q', klass: 'k', expires: NOW / 1000 + 60, startedAt: NOW - 1_000 }];
    const loading = new FakeChild('p-1', 101);
    loading.readyAt = undefined;
    const leaving = new FakeChild('p-3', 103);
    leaving.toldToStop = true;
    leaving.departure = afterStop(UNASKED, 'reload');
    state = placeChild(placeChild(state, 0, ready), 1, loading);
    state = withSlot(state, 2, { notBefore: NOW + 500, streak: 2 });
    state = placeChild(state, 3, leaving);
    const views = viewSlots(state, 'p', new Map([[2, 3]]), NOW);
    assert.deepEqual(
      views.map((view) => [view.slot, view.worker, view.state, view.pid, view.restarts, view.polling]),
      [
        [0, 'p-0', 'running', 100, 0, true],
        [1, 'p-1', 'starting', 101, 0, false],
        [2, 'p-2', 'backing-off', null, 3, false],
        [3, 'p-3', 'stopping', 103, 0, false],
      ],
    );
    assert.deepEqual(views[0].jobs, [{ jid: 'j1', queue: 'q', klass: 'k', startedAt: NOW - 1_000 }]);
    assert.equal(views[0].rssBytes, 64_000_000);
    assert.equal(views[2].startedAt, null);
    assert.equal(
      slotState({ index: 2, child: undefined, streak: 0, notBefore: 0, handback: 1, used: true }, NOW),
      'starting',
    );
    // Paused: running, but not polling.
    assert.equal(viewSlots({ ...state, paused: true }, 'p', new Map(), NOW)[0].polling, false);
    // Stopping: only slots with a live process are shown; above the target too.
    const stopping = viewSlots({ ...state, phase: 'stopping', target: 1 }, 'p', new Map(), NOW);
    assert.deepEqual(
      stopping.map((view) => view.slot),
      [0, 1, 3],
    );
  });

  test('why a slot was restarted', () => {
    assert.equal(restartReason(UNASKED, null), 'exit-code');
    assert.equal(restartReason(UNASKED, 'SIGKILL'), 'signal');
    assert.equal(restartReason(afterKill(UNASKED, 'watchdog: unresponsive for 9 s'), 'SIGKILL'), 'watchdog');
    assert.equal(restartReason(afterRecycle(UNASKED, 'max-jobs: ran 10 jobs'), null), 'max-jobs');
    assert.equal(restartReason(afterRecycle(UNASKED, 'max-memory: RSS 300 MB is above 200 MB'), null), 'max-memory');
    assert.equal(restartReason(afterStop(UNASKED, 'reload'), null), 'reload');
    assert.equal(restartReason(afterStop(UNASKED, 'shutdown'), null), undefined);
    assert.equal(restartReason(afterStop(UNASKED, 'retire'), null), undefined);
  });

  test('/healthz: the loop turned lately; /readyz: not stopping, Redis up, a worker polling', () => {
    assert.equal(healthVerdict(NOW - 1_000, NOW).ok, true);
    assert.deepEqual(healthVerdict(NOW - HEALTHY_WITHIN_MS - 2_000, NOW), {
      ok: false,
      reason: 'the supervisor loop has not turned for 7 s',
    });
    const slot = (state: SlotView['state'], polling: boolean): SlotView => ({
      slot: 0,
      worker: 'p-0',
      pid: 1,
      state,
      startedAt: NOW,
      restarts: 0,
      rssBytes: null,
      jobs: [],
      polling,
    });
    assert.deepEqual(readyVerdict(false, true, [slot('running', true), slot('starting', false)]), {
      ok: true,
      reason: '1 worker(s) polling',
    });
    assert.deepEqual(readyVerdict(true, true, [slot('running', true)]), {
      ok: false,
      reason: 'the pool is shutting down',
    });
    assert.deepEqual(readyVerdict(false, false, [slot('running', true)]), {
      ok: false,
      reason: 'Redis is not reachable',
    });
    assert.deepEqual(readyVerdict(false, true, [slot('running', false)]), { ok: false, reason: 'the pool is paused' });
    assert.deepEqual(readyVerdict(false, true, [slot('backing-off', false)]), {
      ok: false,
      reason: 'no worker is polling',
    });
  });
});

describe('label budget', () => {
  test('past the cap, new sets count under klass "other" (one per queue), then queue "other"; told once', () => {
    let told = 0;
    const budget = new LabelBudget<{ queue: string; klass: string }>(
      ['queue', 'klass'],
      [['klass'], ['queue']],
      20,
      () => told++,
    );
    const admitted = new Set<string>();
    for (let queue = 0; queue < 5; queue++)
      for (let klass = 0; klass < 10; klass++) {
        const labels = budget.admit({ queue: `q${queue}`, klass: `k${klass}` });
        admitted.add(`${labels.queue}/${labels.klass}`);
      }
    assert.ok(budget.size <= 20 && admitted.size === budget.size, `${budget.size} sets`);
    assert.equal(told, 1);
    // The first 18 (20 less a tenth) kept their names; then one "other" per queue; then all "other".
    assert.ok(admitted.has('q0/k9') && admitted.has('q1/k7') && !admitted.has('q1/k8'));
    assert.ok(admitted.has(`q1/${OTHER}`) && admitted.has(`${OTHER}/${OTHER}`));
    // A set seen before keeps counting under its own name.
    assert.deepEqual(budget.admit({ queue: 'q0', klass: 'k3' }), { queue: 'q0', klass: 'k3' });
  });
});

/** Values counted as a worker counts them. */
function counted(bounds: readonly number[], values: readonly number[]): BucketCounts {
  const histogram = emptyCounts(bounds);
  for (const value of values) countValue(histogram, bounds, value);
  return histogram;
}

describe('histograms counted by the workers', () => {
  test('a value counts in the first bucket it is at most; above every bound, in the last; not finite, nowhere', () => {
    const bounds = [0, 1, 2.5];
    const histogram = emptyCounts(bounds);
    for (const value of [-1, 0, 0.5, 1, 2.5, 2.6, 100, Number.NaN, Number.POSITIVE_INFINITY])
      countValue(histogram, bounds, value);
    assert.deepEqual(histogram, { counts: [2, 2, 1, 2], sum: 105.6 });
  });

  test('written out as prom-client writes its Histogram given the same values one by one', async () => {
    const values = [0.0001, 0.0005, 0.0007, 0.001, 0.003, 0.05, 0.25, 0.5, 1, 4.9, 5, 7, 30];
    const ours = new Registry();
    const theirs = new Registry();
    const histogram = new CountedHistogram<{ command: string }>(
      ours,
      { name: 'calls_seconds', help: 'Calls', labelNames: ['command'] },
      SCRIPT_CALL_BUCKETS,
    );
    const reference = new Histogram({
      name: 'calls_seconds',
      help: 'Calls',
      labelNames: ['command'],
      buckets: [...SCRIPT_CALL_BUCKETS],
      registers: [theirs],
    });
    histogram.add({ command: 'pop' }, counted(SCRIPT_CALL_BUCKETS, values));
    histogram.add({ command: 'pop' }, counted(SCRIPT_CALL_BUCKETS, []));
    histogram.observe({ command: 'complete' }, 0.002);
    histogram.add({ command: 'fail"\\' }, counted(SCRIPT_CALL_BUCKETS, [0.02]));
    for (const value of values) reference.observe({ command: 'pop' }, value);
    reference.observe({ command: 'complete' }, 0.002);
    reference.observe({ command: 'fail"\\' }, 0.02);
    assert.equal(await ours.metrics(), await theirs.metrics());
  });
});

describe('the metrics registry', () => {
  const tally = (queue: string, klass: string, change: Partial<JobTally>): JobTally => ({
    ...emptyTally(queue, klass),
    ...change,
  });
  const readings = (slots: SlotView[] = []) => ({
    queues: ['q', 'idle'],
    slots: () => slots,
    lastTurnAt: () => Date.now(),
    stopping: () => false,
  });
  const silent = pino({ level: 'silent' });

  test('worker reports add up; the hand-back reason is the one given; gauges read the pool when scraped', async () => {
    const metrics = new PoolMetrics(readings(), () => true, silent);
    metrics.workerReport(
      {
        jobs: [
          tally('q', 'A', {
            started: 3,
            completed: 2,
            failed: { 'q-Boom': 1 },
            durationSeconds: counted(DURATION_BUCKETS, [0.1, 0.2, 3]),
          }),
          tally('q', 'B', { started: 1, handedBack: 1, waitSeconds: counted(WAIT_BUCKETS, [4]) }),
        ],
        calls: [{ command: 'pop', seconds: counted(SCRIPT_CALL_BUCKETS, [0.001, 0.002]) }],
      },
      'reload',
    );
    metrics.workerReport(
      { jobs: [tally('q', 'A', { started: 1, completed: 1, lockLost: 1, canceled: 2 })], calls: [] },
      'shutdown',
    );
    metrics.handedBack([{ queue: 'q', klass: 'A' }]);
    metrics.outOfRetries([{ queue: 'q', klass: 'B' }]);
    metrics.workerRestarted('watchdog');
    const text = await metrics.registry.metrics();
    const scraped = parseExposition(text);
    assert.deepEqual(table(scraped, 'qless_jobs_started_total'), { 'queue=q,klass=A': 4, 'queue=q,klass=B': 1 });
    assert.deepEqual(table(scraped, 'qless_jobs_completed_total'), { 'queue=q,klass=A': 3 });
    assert.deepEqual(table(scraped, 'qless_jobs_failed_total'), {
      'queue=q,klass=A,group=q-Boom': 1,
      'queue=q,klass=B,group=failed-retries-q': 1,
    });
    assert.deepEqual(table(scraped, 'qless_jobs_handed_back_total'), {
      'queue=q,klass=B,reason=reload': 1,
      'queue=q,klass=A,reason=worker-died': 1,
    });
    assert.deepEqual(table(scraped, 'qless_lock_lost_total'), {
      'queue=q,why=lock-lost': 1,
      'queue=q,why=canceled': 2,
    });
    assert.equal(sampleValue(scraped, 'qless_job_duration_seconds_count', { queue: 'q', klass: 'A' }), 3);
    assert.equal(sampleValue(scraped, 'qless_job_duration_seconds_bucket', { queue: 'q', klass: 'A', le: '0.25' }), 2);
    assert.equal(sampleValue(scraped, 'qless_job_wait_seconds_sum', { queue: 'q' }), 4);
    assert.equal(sampleValue(scraped, 'qless_script_call_seconds_count', { command: 'pop' }), 2);
    assert.equal(sampleValue(scraped, 'qless_worker_restarts_total', { reason: 'watchdog' }), 1);
    assert.equal(sampleValue(scraped, 'qless_worker_restarts_total', { reason: 'max-jobs' }), 0);
    assert.deepEqual(table(scraped, 'qless_jobs_in_flight'), { 'queue=q': 0, 'queue=idle': 0 });
    assert.equal(sampleValue(scraped, 'qless_redis_up'), 1);
    for (const family of ['qless_jobs_started_total', 'qless_job_duration_seconds', 'qless_redis_up'])
      assert.ok(scraped.types.has(family), `${family} has a TYPE`);
  });

  test('5,000 distinct klasses in reports: at most 1,000 label sets per metric, every job counted', async () => {
    const metrics = new PoolMetrics(readings(), () => true, silent);
    const jobs = Array.from({ length: 5_000 }, (_, i) =>
      tally('q', `K${i}`, {
        started: 1,
        failed: { 'q-Missing': 1 },
        durationSeconds: counted(DURATION_BUCKETS, [0.01]),
      }),
    );
    metrics.workerReport({ jobs, calls: [] }, 'shutdown');
    const scraped = parseExposition(await metrics.registry.metrics());
    for (const name of ['qless_jobs_started_total', 'qless_jobs_failed_total', 'qless_job_duration_seconds_count'])
      assert.ok(samplesOf(scraped, name).length <= 1_000, name);
    assert.equal(sumOf(scraped, 'qless_jobs_started_total'), 5_000);
    assert.equal(sumOf(scraped, 'qless_jobs_failed_total'), 5_000);
    assert.equal(sumOf(scraped, 'qless_job_duration_seconds_count'), 5_000);
  });
});
