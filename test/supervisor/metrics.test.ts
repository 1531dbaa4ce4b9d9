// --metrics-port, black-box: the real bin/qless-worker serves /metrics, /healthz and /readyz. The
// exposition is parsed (test/helpers/prometheus.ts), and every job counter is compared, per queue
// and klass, with what the jobs did: completed, failed, retried by their handler, handed back
// (a worker killed with -9, a reload, a shutdown), cancelled; the counters survive the
// replacement of a worker. The probes follow Redis going away; a flood of distinct klasses
// leaves at most the cap of label sets.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { putCall } from '../../src/client/commands.ts';
import { DEFAULT_LABEL_SETS } from '../../src/supervisor/metrics/label-budget.ts';
import { type Exposition, probe, samplesOf, scrape, sumOf, table, sampleValue } from '../helpers/prometheus.ts';
import { freePort, startRedis } from '../helpers/redis.ts';
import { eventually, runWorkerToExit, type WorkerRun } from '../helpers/worker.ts';
import { readyLines, startedJob, usePools } from '../worker/blackbox.ts';

const HANDLERS = fileURLToPath(new URL('../fixtures/handlers/metrics', import.meta.url));
const fx = usePools('metrics');

const JOB_COUNTERS = [
  'qless_jobs_started_total',
  'qless_jobs_completed_total',
  'qless_jobs_failed_total',
  'qless_jobs_retried_total',
  'qless_jobs_handed_back_total',
  'qless_lock_lost_total',
];

async function metricsPool(
  name: string,
  queues: string,
  extra: string[],
  redisUrl?: string,
): Promise<{ run: WorkerRun; port: number }> {
  const port = await freePort();
  const args = ['--metrics-port', String(port), ...extra, ...(redisUrl ? ['-r', redisUrl] : [])];
  const run = fx.poolOn(name, queues, HANDLERS, args);
  await run.waitForLine((line) => line.event === 'metrics-listening');
  return { run, port };
}

/** Scrapes until `check` holds for the exposition; returns that exposition. */
async function scrapeUntil(
  port: number,
  what: string,
  check: (metrics: Exposition) => boolean,
  run: WorkerRun,
): Promise<Exposition> {
  const deadline = Date.now() + 30_000;
  let last: Exposition | undefined;
  for (;;) {
    last = await scrape(port).catch(() => last);
    if (last && check(last)) return last;
    if (Date.now() > deadline) {
      const jobs = JOB_COUNTERS.concat('qless_jobs_in_flight').map(
        (name) => `${name} ${JSON.stringify(last ? table(last, name) : undefined)}`,
      );
      throw new Error(`timed out waiting for ${what}; last scrape:\n${jobs.join('\n')}\n${run.describe()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function runningOn(jid: string, run: WorkerRun): Promise<string> {
  return eventually(
    async () => {
      const job = await fx.getJob(jid);
      return job?.state === 'running' ? job.worker : undefined;
    },
    { what: `job ${jid} running\n${run.describe()}` },
  );
}

const started = (queue: string, klass: string) => (metrics: Exposition) =>
  sampleValue(metrics, 'qless_jobs_started_total', { queue, klass });

describe('metrics of a pool at work', () => {
  test(
    'every job counter equals what the jobs did, per queue and klass, ' + 'through a kill -9, a reload and a shutdown',
    async () => {
      const { run, port } = await metricsPool('met', 'mA,mB', ['-w', '2', '-c', '2']);
      await eventually(() => readyLines(run).length >= 2, { what: `two workers ready\n${run.describe()}` });
      // A worker's RSS comes with its answer to the watchdog's ping (once a second): it may be
      // missing from a scrape made just after the worker started.
      const rss = (m: Exposition, worker: string): number =>
        sampleValue(m, 'qless_worker_resident_memory_bytes', { worker }) ?? 0;
      const healthy = await scrapeUntil(
        port,
        'two running workers, Redis up and the RSS of each worker',
        (m) =>
          sampleValue(m, 'qless_workers', { state: 'running' }) === 2 &&
          sampleValue(m, 'qless_redis_up') === 1 &&
          rss(m, 'met-0') > 0 &&
          rss(m, 'met-1') > 0,
        run,
      );
      assert.ok(
        rss(healthy, 'met-0') > 5 * 1024 * 1024,
        'RSS of met-0, in bytes (a Node process holds more than 5 MiB)',
      );
      assert.ok(samplesOf(healthy, 'process_cpu_user_seconds_total').length === 1, "the supervisor's process metrics");
      assert.equal((await probe(port, '/readyz')).status, 200);

      // Completed, failed, retried by the handler.
      const put = (queue: string, klass: string, data: Record<string, unknown> = {}) =>
        fx.client.queue(queue).put(`observed.${klass}`, data);
      const quick = [
        ...(await Promise.all([1, 2, 3].map(() => put('mA', 'Completes')))),
        ...(await Promise.all([1, 2].map(() => put('mA', 'Fails')))),
        await put('mB', 'Fails'),
        ...(await Promise.all([1, 2].map(() => put('mB', 'Retries')))),
      ];
      for (const jid of quick) await fx.settled(jid, run, ['complete', 'failed', 'scheduled']);

      // Cancelled while it runs.
      const cancelled = await put('mA', 'ThrowsOnAbort');
      await runningOn(cancelled, run);
      await fx.client.jobs.cancel(cancelled);
      // Counted before a worker is killed: a worker killed with -9 loses what it did not report yet.
      await scrapeUntil(
        port,
        'the jobs so far counted',
        (m) =>
          sumOf(m, 'qless_jobs_completed_total') === 3 &&
          sumOf(m, 'qless_jobs_failed_total') === 3 &&
          sumOf(m, 'qless_jobs_retried_total') === 2 &&
          sampleValue(m, 'qless_lock_lost_total', { queue: 'mA', why: 'canceled' }) === 1,
        run,
      );

      // A worker killed with -9 in the middle of a job: handed back, run again by another process.
      const gate = join(fx.scratch, 'gate');
      const killedJob = await put('mA', 'Gate', { gate });
      const holder = await runningOn(killedJob, run);
      await scrapeUntil(
        port,
        'the start of the job to kill counted',
        (m) => started('mA', 'observed.Gate')(m) === 1,
        run,
      );
      const beforeKill = await scrape(port);
      const pool = await fx.client.pools.get('met');
      const victim = pool?.slots.find((slot) => slot.worker === holder)?.pid;
      assert.ok(victim, `the pool status names the process of ${holder}`);
      process.kill(victim, 'SIGKILL');
      await scrapeUntil(
        port,
        'the killed job handed back and started again',
        (m) =>
          sampleValue(m, 'qless_jobs_handed_back_total', {
            queue: 'mA',
            klass: 'observed.Gate',
            reason: 'worker-died',
          }) === 1 && started('mA', 'observed.Gate')(m) === 2,
        run,
      );
      writeFileSync(gate, 'open');
      await fx.settled(killedJob, run, ['complete']);
      const afterKill = await scrapeUntil(
        port,
        'the rerun completed',
        (m) => sampleValue(m, 'qless_jobs_completed_total', { queue: 'mA', klass: 'observed.Gate' }) === 1,
        run,
      );
      for (const name of JOB_COUNTERS)
        for (const sample of samplesOf(beforeKill, name))
          assert.ok(
            (sampleValue(afterKill, name, sample.labels) ?? 0) >= sample.value,
            `${name} ${JSON.stringify(sample.labels)} kept its count when the worker was replaced`,
          );

      // A reload (HUP) hands back the job that throws on its signal; the new workers run it again.
      const aborting = await put('mB', 'ThrowsOnAbort');
      await runningOn(aborting, run);
      await scrapeUntil(port, 'its start counted', (m) => started('mB', 'observed.ThrowsOnAbort')(m) === 1, run);
      const readyBefore = readyLines(run).length;
      run.signal('SIGHUP');
      await eventually(() => readyLines(run).length >= readyBefore + 2, { what: `two new workers\n${run.describe()}` });
      await scrapeUntil(
        port,
        'the reload hand-back and the rerun counted',
        (m) =>
          sampleValue(m, 'qless_jobs_handed_back_total', {
            queue: 'mB',
            klass: 'observed.ThrowsOnAbort',
            reason: 'reload',
          }) === 1 && started('mB', 'observed.ThrowsOnAbort')(m) === 2,
        run,
      );

      // A shutdown hands it back again, while a job that ignores its signal keeps the pool stopping.
      const lastGate = join(fx.scratch, 'last-gate');
      const lingering = await put('mA', 'Gate', { gate: lastGate });
      await runningOn(lingering, run);
      await runningOn(aborting, run);
      run.signal('SIGTERM');
      // A pop already on its way when the stop came may take the job again (and hand it back again):
      // how many runs it had is read from the workers' logs once it waits in its queue.
      await eventually(async () => (await fx.mustGet(aborting)).state === 'waiting', {
        what: `the aborting job back in its queue\n${run.describe()}`,
      });
      const runs = run.find(startedJob(aborting)).length;
      assert.ok(runs >= 2, `${runs} runs`);
      const final = await scrapeUntil(
        port,
        'the shutdown hand-backs counted',
        (m) =>
          started('mB', 'observed.ThrowsOnAbort')(m) === runs &&
          sampleValue(m, 'qless_jobs_handed_back_total', {
            queue: 'mB',
            klass: 'observed.ThrowsOnAbort',
            reason: 'shutdown',
          }) ===
            runs - 1 &&
          started('mA', 'observed.Gate')(m) === 3 &&
          sampleValue(m, 'qless_jobs_in_flight', { queue: 'mB' }) === 0,
        run,
      );
      const stopping = await probe(port, '/readyz');
      assert.deepEqual([stopping.status, stopping.body.reason], [503, 'the pool is shutting down']);
      assert.equal(stopping.text.trim().split('\n').length, 1, 'one line of JSON');

      assert.deepEqual(table(final, 'qless_jobs_started_total'), {
        'queue=mA,klass=observed.Completes': 3,
        'queue=mA,klass=observed.Fails': 2,
        'queue=mB,klass=observed.Fails': 1,
        'queue=mB,klass=observed.Retries': 2,
        'queue=mA,klass=observed.ThrowsOnAbort': 1,
        'queue=mA,klass=observed.Gate': 3,
        'queue=mB,klass=observed.ThrowsOnAbort': runs,
      });
      assert.deepEqual(table(final, 'qless_jobs_completed_total'), {
        'queue=mA,klass=observed.Completes': 3,
        'queue=mA,klass=observed.Gate': 1,
      });
      assert.deepEqual(table(final, 'qless_jobs_failed_total'), {
        'queue=mA,klass=observed.Fails,group=mA-TypeError': 2,
        'queue=mB,klass=observed.Fails,group=mB-TypeError': 1,
      });
      assert.deepEqual(table(final, 'qless_jobs_retried_total'), { 'queue=mB,klass=observed.Retries': 2 });
      assert.deepEqual(table(final, 'qless_jobs_handed_back_total'), {
        'queue=mA,klass=observed.Gate,reason=worker-died': 1,
        'queue=mB,klass=observed.ThrowsOnAbort,reason=reload': 1,
        'queue=mB,klass=observed.ThrowsOnAbort,reason=shutdown': runs - 1,
      });
      assert.deepEqual(table(final, 'qless_lock_lost_total'), { 'queue=mA,why=canceled': 1 });
      assert.deepEqual(table(final, 'qless_worker_restarts_total'), {
        'reason=exit-code': 0,
        'reason=signal': 1,
        'reason=watchdog': 0,
        'reason=max-jobs': 0,
        'reason=max-memory': 0,
        'reason=reload': 2,
      });
      // Run times of the jobs whose handler ended them; waits of the jobs on their first pop.
      assert.deepEqual(table(final, 'qless_job_duration_seconds_count'), {
        'queue=mA,klass=observed.Completes': 3,
        'queue=mA,klass=observed.Fails': 2,
        'queue=mB,klass=observed.Fails': 1,
        'queue=mB,klass=observed.Retries': 2,
        'queue=mA,klass=observed.Gate': 1,
      });
      assert.deepEqual(table(final, 'qless_job_wait_seconds_count'), { 'queue=mA': 8, 'queue=mB': 4 });
      assert.equal(sampleValue(final, 'qless_jobs_in_flight', { queue: 'mA' }), 1, 'the lingering job');
      assert.equal(sampleValue(final, 'qless_jobs_in_flight', { queue: 'mB' }), 0);
      for (const command of ['pop', 'fail', 'retry', 'workers'])
        assert.ok(
          (sampleValue(final, 'qless_script_call_seconds_count', { command }) ?? 0) > 0,
          `${command} calls timed`,
        );
      // What Redis says agrees with the counters.
      assert.equal((await fx.client.jobs.failed())['mA-TypeError'], 2);
      assert.equal((await fx.mustGet(killedJob)).state, 'complete');

      writeFileSync(lastGate, 'open');
      assert.deepEqual(await run.waitForExit(30_000), { code: 0, signal: null }, run.describe());
    },
  );

  test('/healthz answers 200 while the loop turns; /readyz 503 while Redis is stopped, 200 again after', async () => {
    const own = await startRedis();
    const port = await freePort();
    // Also: the port from the environment.
    const run = fx.pool(['-q', 'hz', '-r', own.url, '-p', HANDLERS, '-n', 'hz', '--no-watch', '-i', '0.2', '-w', '1'], {
      env: { QLESS_METRICS_PORT: String(port) },
    });
    let restarted: Awaited<ReturnType<typeof startRedis>> | undefined;
    try {
      await eventually(async () => (await probe(port, '/readyz')).status === 200, {
        what: `ready\n${run.describe()}`,
      });
      const health = await probe(port, '/healthz');
      assert.deepEqual([health.status, health.body.status], [200, 'ok']);
      assert.equal((await fetch(`http://127.0.0.1:${port}/elsewhere`)).status, 404);
      assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status, 404);

      await own.stop();
      const down = await eventually(
        async () => {
          const answer = await probe(port, '/readyz');
          return answer.status === 503 ? answer : undefined;
        },
        { what: `503 with Redis stopped\n${run.describe()}` },
      );
      assert.deepEqual(down.body, { status: 'unavailable', reason: 'Redis is not reachable' });
      assert.equal(sampleValue(await scrape(port), 'qless_redis_up'), 0);
      assert.equal((await probe(port, '/healthz')).status, 200, 'the supervisor itself is alive');

      restarted = await startRedis({ port: own.port });
      await eventually(async () => (await probe(port, '/readyz')).status === 200, {
        what: `ready again\n${run.describe()}`,
        timeout: 30_000,
      });
      assert.equal(sampleValue(await scrape(port), 'qless_redis_up'), 1);
    } finally {
      await run.kill();
      await restarted?.stop();
    }
  });

  test('a flood of 5,000 distinct klasses leaves at most the cap of label sets, and counts every job', async () => {
    const { run, port } = await metricsPool('flood', 'flood', ['-w', '2', '-c', '8']);
    const batch = fx.client.batch();
    const jobs = 5_000;
    for (let i = 0; i < jobs; i++) {
      const call = putCall('producer', 'flood', {
        jid: randomUUID().replace(/-/g, ''),
        klass: `nowhere.K${i}`,
        data: {},
      });
      batch.call(call.command, ...call.args);
    }
    for (const result of await batch.exec()) assert.ok(result.ok);
    await eventually(
      async () => {
        const failed = await fx.client.jobs.failed();
        const total = Object.entries(failed)
          .filter(([group]) => group.startsWith('flood-'))
          .reduce((sum, [, count]) => sum + count, 0);
        return total === jobs;
      },
      { what: `every flood job failed\n${run.describe(5)}`, timeout: 120_000, interval: 500 },
    );
    const metrics = await scrapeUntil(
      port,
      'every flood job counted',
      (m) => sumOf(m, 'qless_jobs_started_total') === jobs && sumOf(m, 'qless_jobs_failed_total') === jobs,
      run,
    );
    for (const name of ['qless_jobs_started_total', 'qless_jobs_failed_total', 'qless_job_duration_seconds_count']) {
      const sets = samplesOf(metrics, name).length;
      assert.ok(sets <= DEFAULT_LABEL_SETS, `${name}: ${sets} label sets`);
      assert.ok(sets > DEFAULT_LABEL_SETS / 2, `${name}: the cap is used before "other"`);
    }
    assert.ok((sampleValue(metrics, 'qless_jobs_started_total', { queue: 'flood', klass: 'other' }) ?? 0) > 0);
    const capped = run.find((line) => line.event === 'metric-labels-capped').map((line) => line.metric);
    assert.equal(new Set(capped).size, capped.length, 'logged once per metric');
    assert.ok(capped.includes('qless_jobs_started_total'), run.describe(5));
    await run.kill();
  });
});

describe('--metrics-port refused', () => {
  test('a port already in use, or an address not of this machine: one line on stderr, exit 2, no worker', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = taken.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const base = ['-q', 'refused', '-r', fx.redis.url, '-p', HANDLERS, '-n', 'refused', '--no-watch'];
      const busy = await runWorkerToExit([...base, '--metrics-port', String(port)]);
      assert.equal(busy.code, 2, busy.stderr);
      assert.equal(
        busy.stderr,
        `qless-worker: --metrics-port ${port} on --metrics-host 127.0.0.1: the port is already in use\n`,
      );
      assert.doesNotMatch(busy.stdout, /worker-forked/);
      const elsewhere = await runWorkerToExit([...base, '--metrics-port', String(port), '--metrics-host', '192.0.2.1']);
      assert.equal(elsewhere.code, 2, elsewhere.stderr);
      assert.match(elsewhere.stderr, /^qless-worker: --metrics-port \d+ on --metrics-host 192\.0\.2\.1: .+\n$/);
      assert.ok(!(await fx.workerNames()).includes('refused-0'), 'no worker ever popped');
      for (const [args, message] of [
        [['--metrics-port', '70000'], '--metrics-port must be at most 65535, got 70000'],
        [['--metrics-port', 'x'], '--metrics-port must be a whole number of at least 1'],
        [['--metrics-host', '0.0.0.0'], '--metrics-host is only used with --metrics-port'],
      ] as const) {
        const bad = await runWorkerToExit([...base, ...args]);
        assert.equal(bad.code, 2, bad.stderr);
        assert.ok(bad.stderr.startsWith(`qless-worker: ${message}`), bad.stderr);
      }
    } finally {
      taken.close();
    }
  });
});
