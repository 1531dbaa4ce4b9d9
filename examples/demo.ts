// `npm run demo`: the whole system on a fresh machine, in a few seconds. Starts a private
// redis-server, puts a few dozen jobs for the handlers in this folder, runs the real
// bin/qless-worker on them (pretty logs), waits until every job has ended, stops the worker with
// SIGTERM, checks that each job ended as its handler promises, and prints a summary. The dashboard
// (`qless web`) serves the whole time; with --web, the dashboard and the worker keep running
// (with a few new jobs every few seconds) until Ctrl-C.
// Exit 0 when all went as expected (and after Ctrl-C with --web); 1 with the reason otherwise;
// 130 when interrupted before the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedis, type RedisServer } from '../scripts/private-redis.ts';
import { Client } from '../src/client/index.ts';
import type { Job } from '../src/client/index.ts';
import { DEFAULT_PORT, type RunningDashboard, startDashboard } from '../src/web/index.ts';
import type { CountdownData } from './countdown.ts';
import type { ChargeData } from './failing.ts';
import type { PipelineData } from './pipeline.ts';
import type { UploadData } from './retrying.ts';

const EXAMPLES = fileURLToPath(new URL('.', import.meta.url));
const WORKER_BIN = fileURLToPath(new URL('../bin/qless-worker', import.meta.url));

/** `npm run demo -- --web`: keep the dashboard and the worker running until Ctrl-C. */
const WEB = process.argv.slice(2).includes('--web');
/** With --web, this many new jobs every TRICKLE_MS, so the pages have something to show. */
const TRICKLE_JOBS = 3;
const TRICKLE_MS = 5_000;

const WORKERS = 2;
const CONCURRENCY = 4;
/** Every job must have ended by then (they need a few seconds). */
const JOBS_DEADLINE_MS = 45_000;
/** The worker must have exited this long after SIGTERM (its jobs are done by then). */
const STOP_DEADLINE_MS = 15_000;

/** What one job is and how it must end. */
interface PlannedJob {
  queue: string;
  klass: string;
  data: Record<string, unknown>;
  /** What the summary calls it. */
  label: string;
  expect: { state: 'complete' } | { state: 'failed'; group: string };
  /** Further checks of the ended job; returns what is wrong, or undefined. */
  check?: (job: Job) => string | undefined;
}

function plan(): PlannedJob[] {
  const jobs: PlannedJob[] = [];
  for (let i = 0; i < 8; i++) {
    const seconds = (i % 3) + 1;
    jobs.push({
      queue: 'demo',
      klass: 'countdown',
      data: { seconds } satisfies CountdownData,
      label: 'countdown',
      expect: { state: 'complete' },
      check: (job) =>
        dataOf(job).counted === seconds
          ? undefined
          : `counted ${JSON.stringify(dataOf(job).counted)}, expected ${seconds}`,
    });
  }
  for (let i = 0; i < 12; i++) {
    jobs.push({
      queue: 'fetch',
      klass: 'pipeline.Steps',
      data: { image: `photo-${i}.jpg` } satisfies PipelineData,
      label: 'pipeline.Steps (fetch → resize → publish)',
      expect: { state: 'complete' },
      check: (job) => {
        const steps = JSON.stringify(dataOf(job).steps);
        return steps === '["fetch","resize","publish"]' ? undefined : `steps ${steps}`;
      },
    });
  }
  for (let i = 0; i < 5; i++) {
    jobs.push({
      queue: 'demo',
      klass: 'retrying.FlakyUpload',
      data: { failures: 2, delay: 1 } satisfies UploadData,
      label: 'retrying.FlakyUpload (2 retries each)',
      expect: { state: 'complete' },
      check: (job) =>
        dataOf(job).attempts === 3 ? undefined : `attempts ${JSON.stringify(dataOf(job).attempts)}, expected 3`,
    });
  }
  for (let i = 0; i < 4; i++) {
    jobs.push({
      queue: 'demo',
      klass: 'failing.ChargeCard',
      data: { card: String(4242 + i), cents: 1999 + i * 100 } satisfies ChargeData,
      label: 'failing.ChargeCard',
      expect: { state: 'failed', group: 'demo-CardDeclinedError' },
    });
  }
  // A typo in a klass: no module by that name, so the job fails into <queue>-ModuleNotFound.
  jobs.push({
    queue: 'demo',
    klass: 'countdwon',
    data: { seconds: 1 } satisfies CountdownData,
    label: 'countdwon (a typo)',
    expect: { state: 'failed', group: 'demo-ModuleNotFound' },
  });
  return jobs;
}

function dataOf(job: Job): Record<string, unknown> {
  const data = job.data;
  return typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
}

function say(line: string): void {
  process.stdout.write(`demo: ${line}\n`);
}

class DemoFailure extends Error {
  override name = 'DemoFailure';
}

interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Everything the demo started, so that any way out (error, Ctrl-C) stops all of it. */
class Resources {
  redis: RedisServer | undefined;
  client: Client | undefined;
  worker: ChildProcess | undefined;
  workerExit: Promise<WorkerExit> | undefined;
  workerError: Error | undefined;
  workdir: string | undefined;
  dashboard: RunningDashboard | undefined;
  trickle: NodeJS.Timeout | undefined;
  /** --web, after the summary: Ctrl-C is the expected way out. */
  waitingForCtrlC = false;

  /** SIGKILL to the worker's process group (supervisor and its workers); synchronous, for 'exit'. */
  killWorkerGroup(): void {
    const pid = this.worker?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }

  async release(): Promise<void> {
    if (this.worker && this.worker.exitCode === null && this.worker.signalCode === null) {
      // Ask nicely first; a worker whose Redis is gone may not be able to finish in time.
      this.worker.kill('SIGTERM');
      await Promise.race([this.workerExit, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
    }
    this.killWorkerGroup();
    this.worker = undefined;
    const client = this.client;
    this.client = undefined;
    // Dropped rather than closed: QUIT would wait for a server that Ctrl-C may already have stopped.
    client?.redis.disconnect();
    clearInterval(this.trickle);
    const dashboard = this.dashboard;
    this.dashboard = undefined;
    await dashboard?.close().catch(() => undefined);
    const redis = this.redis;
    this.redis = undefined;
    if (redis) await redis.stop().catch(() => undefined);
    // Retried: a worker killed a moment ago may still have been emptying its sandbox.
    if (this.workdir) rmSync(this.workdir, { recursive: true, force: true, maxRetries: 5 });
    this.workdir = undefined;
  }
}

/** The environment of the worker: no QLESS_* or REDIS_URL of the user's that could change its options. */
function workerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('QLESS_') || key === 'REDIS_URL') continue;
    env[key] = value;
  }
  return env;
}

/** The started qless-worker, and its exit (watched from the start, so that none is missed). */
function startWorker(
  resources: Resources,
  url: string,
  workdir: string,
): { worker: ChildProcess; exited: Promise<WorkerExit> } {
  const args = [
    '--queue',
    'demo,fetch,resize,publish',
    '--workers',
    String(WORKERS),
    '--concurrency',
    String(CONCURRENCY),
    '--interval',
    '0.5',
    '--path',
    EXAMPLES,
    '--workdir',
    workdir,
    '--redis',
    url,
    '--name',
    'demo',
    '--log-format',
    'pretty',
    '--shutdown-timeout',
    '10',
  ];
  // Its own process group, so the cleanup can kill the supervisor and every worker it forked.
  const worker = spawn(WORKER_BIN, args, { env: workerEnv(), stdio: ['ignore', 'inherit', 'inherit'], detached: true });
  resources.worker = worker;
  const exited = new Promise<WorkerExit>((resolve) => worker.once('exit', (code, signal) => resolve({ code, signal })));
  resources.workerExit = exited;
  // A spawn that fails emits 'error' and no 'exit'; the wait below notices.
  worker.once('error', (error) => (resources.workerError = error));
  say(`started qless-worker (pid ${worker.pid}): ${args.join(' ')}`);
  return { worker, exited };
}

const ENDED = new Set(['complete', 'failed']);

async function waitUntilEnded(
  client: Client,
  jids: string[],
  resources: Resources,
  worker: ChildProcess,
): Promise<Job[]> {
  const deadline = Date.now() + JOBS_DEADLINE_MS;
  for (;;) {
    const jobs = await client.jobs.multiget(...jids);
    if (jobs.length === jids.length && jobs.every((job) => ENDED.has(job.state))) return jobs;
    if (resources.workerError) throw new DemoFailure(`could not start ${WORKER_BIN}: ${resources.workerError.message}`);
    if (worker.exitCode !== null || worker.signalCode !== null) {
      throw new DemoFailure(
        `qless-worker exited early (code ${worker.exitCode}, signal ${worker.signalCode}) with jobs still to do`,
      );
    }
    if (Date.now() > deadline) {
      const found = new Map(jobs.map((job) => [job.jid, job]));
      const stuck = jids
        .filter((jid) => !ENDED.has(found.get(jid)?.state ?? ''))
        .map((jid) => {
          const job = found.get(jid);
          return job ? `${jid} (${job.klass} in ${job.queue}: ${job.state})` : `${jid} (gone from Redis)`;
        });
      throw new DemoFailure(
        `${stuck.length} job(s) had not ended after ${JOBS_DEADLINE_MS / 1000} s: ${stuck.join(', ')}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** What is wrong with how the jobs ended; empty when every job ended as planned. */
function surprises(planned: PlannedJob[], jobs: Job[]): string[] {
  const wrong: string[] = [];
  planned.forEach((job, index) => {
    const ended = jobs[index];
    const what = `${job.label} ${ended.jid}`;
    if (ended.state !== job.expect.state) {
      const failure = ended.failure ? ` (${ended.failure.group}: ${ended.failure.message.split('\n')[0]})` : '';
      wrong.push(`${what} is ${ended.state}${failure}, expected ${job.expect.state}`);
    } else if (job.expect.state === 'failed' && ended.failure?.group !== job.expect.group) {
      wrong.push(`${what} failed into ${ended.failure?.group}, expected ${job.expect.group}`);
    } else {
      const problem = job.check?.(ended);
      if (problem) wrong.push(`${what}: ${problem}`);
    }
  });
  return wrong;
}

function countBy<T>(items: T[], key: (item: T) => string): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].map(([name, count]) => `${name} ${count}`).join(', ');
}

/** The dashboard on 127.0.0.1:5678, or on a free port when 5678 is taken. */
async function startDemoDashboard(url: string): Promise<RunningDashboard> {
  try {
    return await startDashboard({ host: '127.0.0.1', port: DEFAULT_PORT, redis: url });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    return startDashboard({ host: '127.0.0.1', port: 0, redis: url });
  }
}

function printSummary(planned: PlannedJob[], jobs: Job[], seconds: number, exitCode: number | null): void {
  const completed = planned.filter((_, index) => jobs[index].state === 'complete');
  const failed = jobs.filter((job) => job.state === 'failed');
  const lines = [
    '',
    '── demo summary ──',
    `jobs:      ${jobs.length} put, all ended ${seconds.toFixed(1)} s after the worker started`,
    `completed: ${completed.length} (${countBy(completed, (job) => job.label)})`,
    `failed:    ${failed.length} (${countBy(failed, (job) => job.failure?.group ?? '?')})`,
    `worker:    ${WORKERS} processes × ${CONCURRENCY} jobs in flight; ` +
      (exitCode === null ? 'still running' : `stopped by SIGTERM, exit code ${exitCode}`),
    'Every job ended as its handler promises (see examples/README.md).',
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

async function run(resources: Resources): Promise<void> {
  say('starting a private redis-server');
  const redis = await startRedis({ detached: true });
  resources.redis = redis;
  say(`redis-server listening on port ${redis.port} (private, thrown away at the end)`);
  const client = new Client({ url: redis.url, workerName: 'demo-producer' });
  resources.client = client;
  // Failed calls reject and end the demo; the connection's own reconnect errors add nothing.
  client.redis.on('error', () => undefined);

  const planned = plan();
  const jids: string[] = [];
  for (const job of planned) jids.push(await client.queue(job.queue).put(job.klass, job.data));
  say(`put ${jids.length} jobs: ${countBy(planned, (job) => `${job.klass} → ${job.queue}`)}`);
  resources.dashboard = await startDemoDashboard(redis.url);
  say(
    `dashboard on ${resources.dashboard.url}${WEB ? '' : ' while the demo runs (npm run demo -- --web keeps it open)'}`,
  );

  resources.workdir = mkdtempSync(join(tmpdir(), 'qless-demo-'));
  const started = performance.now();
  const { worker, exited } = startWorker(resources, redis.url, resources.workdir);
  const jobs = await waitUntilEnded(client, jids, resources, worker);
  const seconds = (performance.now() - started) / 1000;

  if (WEB) {
    const wrong = surprises(planned, jobs);
    if (wrong.length > 0)
      throw new DemoFailure(`${wrong.length} job(s) did not end as expected:\n  ${wrong.join('\n  ')}`);
    printSummary(planned, jobs, seconds, null);
    resources.trickle = setInterval(() => {
      for (const job of plan()
        .filter((item) => item.expect.state === 'complete')
        .slice(0, TRICKLE_JOBS))
        void client
          .queue(job.queue)
          .put(job.klass, job.data)
          .catch(() => undefined);
    }, TRICKLE_MS);
    resources.waitingForCtrlC = true;
    say(
      `the dashboard (${resources.dashboard?.url}) and qless-worker keep running, ` +
        'with new jobs every 5 s: Ctrl-C to stop',
    );
    return new Promise<void>(() => undefined);
  }

  say(`all ${jobs.length} jobs ended; stopping qless-worker with SIGTERM`);
  worker.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([
    exited,
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), STOP_DEADLINE_MS);
    }),
  ]);
  clearTimeout(timer);
  if (!exit) throw new DemoFailure(`qless-worker had not exited ${STOP_DEADLINE_MS / 1000} s after SIGTERM`);
  if (exit.code !== 0) {
    const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
    throw new DemoFailure(`qless-worker exited with ${how} after SIGTERM, expected code 0`);
  }

  const wrong = surprises(planned, jobs);
  if (wrong.length > 0)
    throw new DemoFailure(`${wrong.length} job(s) did not end as expected:\n  ${wrong.join('\n  ')}`);
  printSummary(planned, jobs, seconds, exit.code);
}

async function main(): Promise<number> {
  const resources = new Resources();
  // The worker runs in its own process group (Ctrl-C does not reach it); whatever ends this
  // process must take it along.
  process.on('exit', () => resources.killWorkerGroup());
  let interrupted = false;
  const interrupt = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    say(`${signal}: stopping qless-worker and redis-server`);
    const code = resources.waitingForCtrlC ? 0 : 130;
    void resources.release().finally(() => process.exit(code));
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, interrupt);

  try {
    await run(resources);
    await resources.release();
    return 0;
  } catch (error) {
    if (interrupted) return new Promise<number>(() => undefined); // interrupt() exits
    // Expected trouble (a job stuck, redis-server not installed) in one line; a bug with its stack.
    const expected = error instanceof DemoFailure || (error instanceof Error && /redis-server/.test(error.message));
    const message =
      error instanceof Error ? (expected ? error.message : (error.stack ?? error.message)) : String(error);
    process.stderr.write(`demo failed: ${message}\n`);
    await resources.release();
    return 1;
  }
}

process.exitCode = await main();
