// The dashboard part of `npm run bench`: with 1,000,000 jobs across 100 queues (put through the
// script, pipelined), how fast `qless web` answers the overview, a queue page and a page of every
// state. Then the live window: the bench's load driver (bench/load-driver.ts, a child process
// acting as qless workers through our client) completes jobs at a target rate (5,000 a second by
// default) while a page is open in headless Chromium: the rate reached (counted from Redis), API
// latency under load, what the live stream sends, whether the page stays responsive (its probes:
// long tasks, timer lag, frame gaps, input delay) and how long a click takes to show a queue.
// Last, a short window with a real qless-worker pool beside the page, for the rate it reaches.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchRedis } from './bench-redis.ts';
import { LivePage, type PageProbe } from './dashboard-page.ts';
import { putWaiting, queueName, type SeedSummary, seedJobs } from './dashboard-seed.ts';
import { type DriverTally, LoadDriver } from './load-driver.ts';
import { currentLoad } from './machine.ts';
import type { PartSettings } from './options.ts';
import { BenchPool } from './pool.ts';
import { cpuSeconds } from './proc-stats.ts';
import { median, percentile } from './statistics.ts';

const QLESS_BIN = fileURLToPath(new URL('../bin/qless', import.meta.url));
const QUEUES = 100;
const WEB_STOP_MS = 10_000;
const SAMPLES = 15;
/** The load driver's window (at least; it lasts until the page's clicks are done). */
const LOAD_SECONDS = 15;
/** The driver gets going before the window starts, and the pool polls, for this long. */
const RAMP_MS = 1_000;
/** Jobs waiting in the driver's queues cover this many seconds beyond the window at the target rate. */
const SUPPLY_SPARE_SECONDS = 25;
/** Jobs a driver pop takes (and completes in one pipeline), and the worker names it pops under. */
const DRIVER = { batch: 50, lanes: 4 };
/** The page watches the live overview this long before the clicks. */
const WATCH_MS = 8_000;
/** Queues clicked on: three the driver works on (their pages refetch live), three it does not. */
const CLICK_QUEUES = [0, 50, 1, 51, 2, 52].map(queueName);
/** The real pool's window (at least; it lasts until the page's clicks are done), beside the page. */
const POOL_SECONDS = 15;
/** Queues clicked on in the pool's window: three the pool works on, three it does not. */
const POOL_CLICK_QUEUES = [10, 60, 11, 61, 12, 62].map(queueName);
const LIVE_POOL = { workers: 2, concurrency: 8 };
/** More than the pool completes a second on this kind of machine: its queues are topped up for that rate. */
const POOL_SUPPLY_PER_SECOND = 6_000;
/** Completions are counted from Redis this often during a window. */
const SAMPLE_MS = 1_000;
/**
 * A page stays responsive when no task holds its main thread for 100 ms, every interaction is
 * answered within 100 ms (Event Timing: from the event to the next paint), the main thread is free
 * within 100 ms 99 times in 100 (the 20 ms timer's lag, p99), and every click shows its queue's jobs
 * within a second. Wall-clock times: they include time Chromium waited for a core.
 */
const RESPONSIVE = { mainThreadMs: 100, clickMs: 1_000 };

export interface Latency {
  name: string;
  /** What the page asks for (one or more requests sent together). */
  requests: string[];
  medianMs: number;
  p95Ms: number;
  maxMs: number;
  /** The target for this kind of page (ms). */
  targetMs: number;
}

/** Completions counted from Redis (qless's run statistics of the window's queues). */
export interface CompletionRate {
  completed: number;
  seconds: number;
  jobsPerSecond: number;
  /** The slowest and the fastest of the window's (about) one-second samples, jobs/s. */
  slowestSecond: number;
  fastestSecond: number;
}

/** What the page in Chromium showed during the driver's window. */
export interface PageFigures {
  /** The probes over the whole window (the live overview, then the clicks). */
  probe: PageProbe;
  /** How many times the overview refetched itself while watched for watchSeconds. */
  watchSeconds: number;
  overviewRefetches: number;
  /** Click on a queue of the overview → the frame that paints its first job row, timed in the page (ms). */
  clicks: { queues: string[]; ms: number[]; median: number; max: number };
}

export interface LiveLoad {
  /** What the load driver aimed at, and how: jobs a pop, worker names, queues. */
  targetPerSecond: number;
  batch: number;
  lanes: number;
  queues: number;
  /** What Redis counted. */
  rate: CompletionRate;
  /** What the driver counted itself (from its start, ramp included). */
  driver: DriverTally;
  /** Per cent of one core used during the window by Redis, qless web and the driver. */
  cpuPercent: Record<string, number>;
  /** The machine's 1-minute load average when the window started and when it ended. */
  loadAverage: [number, number];
  overviewUnderLoad: Latency;
  queueUnderLoad: Latency;
  /** Live-stream messages that reached one page per second, and their bytes per second. */
  streamMessagesPerSecond: number;
  streamBytesPerSecond: number;
  /** In Chromium (undefined without it). */
  page?: PageFigures;
  /** Whether the page stayed responsive (RESPONSIVE); undefined without Chromium. */
  responsive?: boolean;
}

/** The real pool's window. */
export interface PoolLoad {
  workers: number;
  concurrency: number;
  rate: CompletionRate;
  /** Per cent of one core used by Redis, qless web and the pool (supervisor and workers). */
  cpuPercent: Record<string, number>;
  /** The page's probes and clicks during the window (undefined without Chromium). */
  page?: PageFigures;
  /** The verdict on those figures (undefined without Chromium). */
  responsive?: boolean;
}

export interface DashboardResult {
  seed: SeedSummary;
  startupMs: number;
  latencies: Latency[];
  /** Jobs put into the driver's queues before its window. */
  topUp: { jobs: number; seconds: number };
  live: LiveLoad;
  pool: PoolLoad;
}

export interface DashboardSettings extends PartSettings {
  jobs: number;
  /** Completions a second the load driver aims at. */
  rate: number;
}

class WebServer {
  readonly child: ChildProcess;
  url = '';
  private output = '';

  constructor(redisUrl: string) {
    this.child = spawn(process.execPath, [QLESS_BIN, 'web', '--port', '0', '--redis', redisUrl], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.output += chunk;
    });
    this.child.stderr?.resume();
    // Whatever ends the bench ends the dashboard too.
    const kill = (): void => {
      this.child.kill('SIGKILL');
    };
    process.once('exit', kill);
    this.child.once('exit', () => process.off('exit', kill));
  }

  async ready(): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const url = /dashboard on (http:\/\/\S+)/.exec(this.output)?.[1];
      if (url) {
        this.url = url;
        return;
      }
      if (this.child.exitCode !== null || Date.now() > deadline)
        throw new Error(`qless web did not start: ${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** SIGTERM, as an operator stops it; SIGKILL if it has not exited after WEB_STOP_MS. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), WEB_STOP_MS);
    await exited;
    clearTimeout(timer);
  }
}

async function timed(base: string, paths: string[]): Promise<number> {
  const started = performance.now();
  await Promise.all(
    paths.map(async (path) => {
      const response = await fetch(`${base}${path}`);
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
    }),
  );
  return performance.now() - started;
}

async function measure(
  base: string,
  name: string,
  requests: string[],
  targetMs: number,
  samples = SAMPLES,
): Promise<Latency> {
  for (let warm = 0; warm < 2; warm++) await timed(base, requests);
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) ms.push(await timed(base, requests));
  return { name, requests, medianMs: median(ms), p95Ms: percentile(ms, 95), maxMs: Math.max(...ms), targetMs };
}

async function completedSoFar(redis: BenchRedis, queues: string[]): Promise<number> {
  const stats = await Promise.all(queues.map((queue) => redis.client.queue(queue).stats()));
  return stats.reduce((sum, item) => sum + item.run.count, 0);
}

/** Reads the live stream of one page for the window; counts messages and bytes. */
function listen(base: string, signal: AbortSignal): Promise<{ messages: number; bytes: number }> {
  return (async () => {
    let messages = 0;
    let bytes = 0;
    try {
      const response = await fetch(`${base}api/events`, { signal });
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
        messages += new TextDecoder()
          .decode(value)
          .split('\n\n')
          .filter((part) => part.includes('event: changes')).length;
      }
    } catch {
      // Aborted at the end of the window.
    }
    return { messages, bytes };
  })();
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Completions of `queues` counted from Redis (qless's run statistics) about once a second until
 * stopped: the rate over the whole window and over its slowest and fastest second.
 */
class CompletionSampler {
  readonly #samples: { at: number; count: number }[] = [];
  #stopped = false;
  #loop: Promise<void> | undefined;
  #error: unknown;

  constructor(
    private readonly redis: BenchRedis,
    private readonly queues: string[],
  ) {}

  /** Takes the first sample, then one a second until stopped. */
  async start(): Promise<void> {
    await this.#sample();
    this.#loop = (async () => {
      try {
        while (!this.#stopped) {
          await sleep(SAMPLE_MS);
          if (!this.#stopped) await this.#sample();
        }
      } catch (error) {
        this.#error = error;
      }
    })();
  }

  /** Stops sampling (also after a failure elsewhere: nothing is left running). */
  async cancel(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }

  /** Takes the last sample; the window's rates. */
  async stop(): Promise<CompletionRate> {
    await this.cancel();
    if (this.#error !== undefined) throw this.#error;
    await this.#sample();
    const first = this.#samples[0];
    const last = this.#samples[this.#samples.length - 1];
    const seconds = (last.at - first.at) / 1000;
    const rates: number[] = [];
    for (let i = 1; i < this.#samples.length; i++) {
      const span = (this.#samples[i].at - this.#samples[i - 1].at) / 1000;
      // A sliver left at the end says little about a rate.
      if (span >= SAMPLE_MS / 2000) rates.push((this.#samples[i].count - this.#samples[i - 1].count) / span);
    }
    return {
      completed: last.count - first.count,
      seconds,
      jobsPerSecond: (last.count - first.count) / seconds,
      slowestSecond: rates.length > 0 ? Math.min(...rates) : Number.NaN,
      fastestSecond: rates.length > 0 ? Math.max(...rates) : Number.NaN,
    };
  }

  async #sample(): Promise<void> {
    const count = await completedSoFar(this.redis, this.queues);
    this.#samples.push({ at: performance.now(), count });
  }
}

/** CPU seconds of one process so far (NaN: gone). */
const processCpu = (pid: number | undefined) => (): number =>
  pid === undefined ? Number.NaN : (cpuSeconds(pid) ?? Number.NaN);

/** CPU seconds so far of Redis and of what the readers read. */
async function cpuNow(redis: BenchRedis, readers: Record<string, () => number>): Promise<Record<string, number>> {
  const readings: Record<string, number> = { redis: await redis.cpuSeconds() };
  for (const [name, read] of Object.entries(readers)) readings[name] = read();
  return readings;
}

/** Per cent of one core each used between two readings. */
function cpuPercent(
  before: Record<string, number>,
  after: Record<string, number>,
  seconds: number,
): Record<string, number> {
  const percent: Record<string, number> = {};
  for (const name of Object.keys(before)) percent[name] = ((after[name] - before[name]) / seconds) * 100;
  return percent;
}

/** Tops queues up with waiting jobs for `seconds` (and SUPPLY_SPARE_SECONDS more) at `rate`: no window runs dry. */
async function topUp(
  redis: BenchRedis,
  queues: string[],
  rate: number,
  seconds: number,
): Promise<{ jobs: number; seconds: number }> {
  const started = performance.now();
  const perQueue = Math.ceil((rate * (seconds + SUPPLY_SPARE_SECONDS)) / queues.length);
  const waiting = new Map((await redis.client.queues()).map((counts) => [counts.name, counts.waiting]));
  let jobs = 0;
  for (const queue of queues) {
    const missing = perQueue - (waiting.get(queue) ?? 0);
    if (missing <= 0) continue;
    await putWaiting(redis, queue, missing);
    jobs += missing;
  }
  return { jobs, seconds: (performance.now() - started) / 1000 };
}

/** Whether the page answered as a responsive page must, by the figures it reported. */
function judgeResponsive(page: PageFigures): boolean {
  return (
    page.probe.timerLagP99Ms < RESPONSIVE.mainThreadMs &&
    page.probe.longestTaskMs < RESPONSIVE.mainThreadMs &&
    page.probe.slowestInputMs < RESPONSIVE.mainThreadMs &&
    page.clicks.max < RESPONSIVE.clickMs
  );
}

/**
 * The page's part of a window: it watches the live overview for WATCH_MS, then clicks on `queues`.
 * `refetchesBefore`: the page's overview requests when the window started.
 */
async function browse(
  page: LivePage,
  queues: string[],
  refetchesBefore: number,
): Promise<{ overviewRefetches: number; clicks: number[] }> {
  await page.wait(WATCH_MS);
  const overviewRefetches = page.overviewRequests - refetchesBefore;
  return { overviewRefetches, clicks: await page.clickQueues(queues) };
}

/** What a window reports of its page: the figures of the probes and clicks, and the verdict on them. */
function pageReport(
  probe: PageProbe,
  browsed: { overviewRefetches: number; clicks: number[] },
  queues: string[],
): { page: PageFigures; responsive: boolean } {
  const page: PageFigures = {
    probe,
    watchSeconds: WATCH_MS / 1000,
    overviewRefetches: browsed.overviewRefetches,
    clicks: { queues, ms: browsed.clicks, median: median(browsed.clicks), max: Math.max(...browsed.clicks) },
  };
  return { page, responsive: judgeResponsive(page) };
}

/** CPU seconds so far of a pool's supervisor and workers together. */
function poolCpu(pool: BenchPool): number {
  const { supervisorSeconds, workersSeconds } = pool.cpu();
  return [supervisorSeconds, ...workersSeconds].reduce<number>((sum, value) => sum + (value ?? Number.NaN), 0);
}

export async function measureDashboard(redis: BenchRedis, settings: DashboardSettings): Promise<DashboardResult> {
  await redis.reset(0);
  settings.progress(`dashboard: putting ${settings.jobs.toLocaleString('en-US')} jobs into ${QUEUES} queues`);
  const seed = await seedJobs(redis, settings.jobs, QUEUES, settings.progress);
  settings.progress(`dashboard: put ${seed.jobs.toLocaleString('en-US')} jobs in ${seed.seconds.toFixed(1)} s`);

  const spawned = performance.now();
  const web = new WebServer(redis.url);
  try {
    await web.ready();
    const startupMs = performance.now() - spawned;
    const base = web.url;
    const queue = queueName(50);
    settings.progress('dashboard: measuring pages');
    const latencies: Latency[] = [
      await measure(base, 'overview', ['api/overview'], 200),
      await measure(
        base,
        `queue page (${queue})`,
        [`api/queues/${queue}`, `api/queues/${queue}/jobs?state=waiting`],
        200,
      ),
    ];
    for (const state of ['waiting', 'running', 'stalled', 'scheduled', 'depends', 'recurring'])
      latencies.push(await measure(base, `${state} page`, [`api/queues/${queue}/jobs?state=${state}`], 100));
    // Deep in the waiting list (most of a queue's jobs wait).
    const deep = Math.floor((seed.jobs / QUEUES) * 0.8);
    const deepPath = `api/queues/${queue}/jobs?state=waiting&offset=${deep}`;
    latencies.push(await measure(base, `waiting page at offset ${deep.toLocaleString('en-US')}`, [deepPath], 100));
    latencies.push(await measure(base, 'failure groups', ['api/failed'], 100));
    latencies.push(await measure(base, 'failed page of a group', [`api/failed/${queue}-Error`], 100));
    latencies.push(await measure(base, 'completed page', ['api/completed'], 100));
    // tag-0 is on every tenth job of ten queues: as many jobs as one queue has.
    const tagged = Math.floor(seed.jobs / QUEUES / 2);
    latencies.push(
      await measure(
        base,
        `tagged page at offset ${tagged.toLocaleString('en-US')}`,
        [`api/tags/tag-0?offset=${tagged}`],
        100,
      ),
    );
    latencies.push(await measure(base, 'job page', [`api/jobs/${queue}-recur`], 100));
    latencies.push(await measure(base, 'metrics', ['metrics'], 1000, 5));

    const page = await LivePage.open(base);
    try {
      const driven = await driverWindow(redis, web, page, settings);
      const pooled = await poolWindow(redis, web, page, settings);
      return { seed, startupMs, latencies, topUp: driven.topUp, live: driven.live, pool: pooled };
    } finally {
      await page?.close();
    }
  } finally {
    await web.stop();
  }
}

/**
 * The main live window: the bench's load driver completes jobs of q-000 … q-009 at the target
 * rate while the page is open on the overview (then clicks on queues) and the API is timed.
 */
async function driverWindow(
  redis: BenchRedis,
  web: WebServer,
  page: LivePage | undefined,
  settings: DashboardSettings,
): Promise<{ live: LiveLoad; topUp: { jobs: number; seconds: number } }> {
  const base = web.url;
  const queues = Array.from({ length: 10 }, (_, index) => queueName(index));
  const supply = await topUp(redis, queues, settings.rate, LOAD_SECONDS);
  settings.progress(
    `dashboard: put ${supply.jobs.toLocaleString('en-US')} more jobs into ${queues[0]} … ${queues.at(-1)} ` +
      `in ${supply.seconds.toFixed(1)} s`,
  );
  settings.progress(
    `dashboard: the load driver completes ${settings.rate.toLocaleString('en-US')} jobs/s for ` +
      `${LOAD_SECONDS} s while a page is open`,
  );
  const driver = await LoadDriver.start({
    redisUrl: redis.url,
    queues,
    rate: settings.rate,
    batch: DRIVER.batch,
    lanes: DRIVER.lanes,
  });
  const sampler = new CompletionSampler(redis, queues);
  const stop = new AbortController();
  try {
    await sleep(RAMP_MS);
    await page?.resetProbes();
    const refetchesBefore = page?.overviewRequests ?? 0;
    await sampler.start();
    const windowStarted = performance.now();
    const readers = { web: processCpu(web.child.pid), driver: processCpu(driver.pid) };
    const cpuBefore = await cpuNow(redis, readers);
    const loadBefore = currentLoad();
    const stream = listen(base, stop.signal);
    const browser = page ? browse(page, CLICK_QUEUES, refetchesBefore) : undefined;
    // Settled even if the API measurements below throw, so no rejection is left unhandled.
    browser?.catch(() => undefined);
    const overviewUnderLoad = await measure(base, 'overview under load', ['api/overview'], 200, 10);
    const queueUnderLoad = await measure(
      base,
      'queue page under load',
      [`api/queues/${queues[0]}`, `api/queues/${queues[0]}/jobs?state=waiting`],
      200,
      10,
    );
    const browsed = await browser;
    const remaining = LOAD_SECONDS * 1000 - (performance.now() - windowStarted);
    if (remaining > 0) await sleep(remaining);
    const probe = await page?.readProbes();
    const rate = await sampler.stop();
    const seconds = (performance.now() - windowStarted) / 1000;
    const cpu = cpuPercent(cpuBefore, await cpuNow(redis, readers), seconds);
    stop.abort();
    const received = await stream;
    const tally = await driver.stop();
    const live: LiveLoad = {
      targetPerSecond: settings.rate,
      batch: DRIVER.batch,
      lanes: DRIVER.lanes,
      queues: queues.length,
      rate,
      driver: tally,
      cpuPercent: cpu,
      loadAverage: [loadBefore, currentLoad()],
      overviewUnderLoad,
      queueUnderLoad,
      streamMessagesPerSecond: received.messages / seconds,
      streamBytesPerSecond: received.bytes / seconds,
    };
    if (browsed && probe) Object.assign(live, pageReport(probe, browsed, CLICK_QUEUES));
    return { live, topUp: supply };
  } finally {
    stop.abort();
    await sampler.cancel();
    await driver.kill();
  }
}

/** The second, shorter window: a real qless-worker pool completes jobs of q-010 … q-019 beside the open page. */
async function poolWindow(
  redis: BenchRedis,
  web: WebServer,
  page: LivePage | undefined,
  settings: DashboardSettings,
): Promise<PoolLoad> {
  const queues = Array.from({ length: 10 }, (_, index) => queueName(10 + index));
  // Enough waiting jobs even when --dashboard-jobs is small (none to add at the default size).
  await topUp(redis, queues, POOL_SUPPLY_PER_SECOND, POOL_SECONDS);
  settings.progress(
    `dashboard: a real pool (${LIVE_POOL.workers} workers × concurrency ${LIVE_POOL.concurrency}) completes ` +
      `jobs for ${POOL_SECONDS} s beside the page`,
  );
  const pool = BenchPool.start({
    redisUrl: redis.url,
    queue: queues.join(','),
    workers: LIVE_POOL.workers,
    concurrency: LIVE_POOL.concurrency,
    interval: 1,
    logLevel: settings.logLevel,
    dir: join(settings.dir, 'dashboard-pool'),
    name: 'bench-web',
    // Every queue in turn (the default takes the first until it is empty): the queues clicked on
    // are being worked and still have waiting jobs to show.
    args: ['--reserver', 'round-robin'],
  });
  const sampler = new CompletionSampler(redis, queues);
  try {
    await pool.guard(pool.waitUntilPolling(redis.redis));
    await sleep(RAMP_MS);
    await page?.resetProbes();
    await sampler.start();
    const started = performance.now();
    const readers = { web: processCpu(web.child.pid), pool: () => poolCpu(pool) };
    const cpuBefore = await cpuNow(redis, readers);
    const refetchesBefore = page?.overviewRequests ?? 0;
    // As in the driver's window: the live overview first, then clicks on queues.
    const browsed = page ? await pool.guard(browse(page, POOL_CLICK_QUEUES, refetchesBefore)) : undefined;
    const remaining = POOL_SECONDS * 1000 - (performance.now() - started);
    if (remaining > 0) await pool.guard(sleep(remaining));
    const probe = await page?.readProbes();
    const rate = await sampler.stop();
    const cpu = cpuPercent(cpuBefore, await cpuNow(redis, readers), (performance.now() - started) / 1000);
    const load: PoolLoad = { ...LIVE_POOL, rate, cpuPercent: cpu };
    if (browsed && probe) Object.assign(load, pageReport(probe, browsed, POOL_CLICK_QUEUES));
    return load;
  } finally {
    await sampler.cancel();
    await pool.stop();
  }
}

function row(cells: string[], widths: number[]): string {
  return cells
    .map((cell, index) => (index === 0 ? cell.padEnd(widths[index]) : cell.padStart(widths[index])))
    .join('  ');
}

export function formatDashboard(result: DashboardResult): string {
  const fixed = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : '-');
  const lines = [
    '',
    `9. Dashboard: ${result.seed.jobs.toLocaleString('en-US')} jobs in ${result.seed.queues} queues ` +
      `(put in ${fixed(result.seed.seconds)} s, ${fixed(result.seed.putsPerSecond, 0)} puts/s); ` +
      `qless web ready in ${fixed(result.startupMs, 0)} ms`,
  ];
  const all = [...result.latencies, result.live.overviewUnderLoad, result.live.queueUnderLoad];
  const widths = [Math.max(...all.map((item) => item.name.length), 4), 9, 6, 6, 9, 6];
  lines.push(row(['page', 'median ms', 'p95 ms', 'max ms', 'target ms', 'met'], widths));
  lines.push(
    row(
      widths.map((width) => '-'.repeat(width)),
      widths,
    ),
  );
  for (const item of all)
    lines.push(
      row(
        [
          item.name,
          fixed(item.medianMs),
          fixed(item.p95Ms),
          fixed(item.maxMs),
          `< ${item.targetMs}`,
          item.p95Ms < item.targetMs ? 'met' : 'MISSED',
        ],
        widths,
      ),
    );
  const { live, pool } = result;
  const count = (value: number): string => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-');
  const rate = (figures: CompletionRate): string =>
    `Redis counted ${count(figures.jobsPerSecond)} completions/s over ${fixed(figures.seconds)} s ` +
    `(slowest second ${count(figures.slowestSecond)}, fastest ${count(figures.fastestSecond)})`;
  const cpu = (percent: Record<string, number>): string =>
    Object.entries(percent)
      .map(([name, value]) => `${name === 'web' ? 'qless web' : name} ${fixed(value, 0)}`)
      .join(', ');
  const mainThread = (probe: PageProbe): string =>
    `longest task ${fixed(probe.longestTaskMs, 0)} ms (${probe.longTasks} over 50 ms), 20 ms timer late by ` +
    `${fixed(probe.timerLagP99Ms, 0)} ms p99, ${fixed(probe.timerLagMaxMs, 0)} ms max, slowest input ` +
    (probe.slowestInputMs > 0 ? `${fixed(probe.slowestInputMs, 0)} ms` : 'under 16 ms or none') +
    `; ${fixed(probe.framesPerSecond, 0)} frames/s, longest gap ${fixed(probe.longestFrameGapMs, 0)} ms ` +
    `(${probe.slowFrames} over 50 ms)`;
  lines.push(
    `live window: the bench's load driver (not a qless-worker pool: ${live.lanes} worker names popping ` +
      `${live.batch} jobs at a time, each batch completed in one pipeline) aimed at ` +
      `${count(live.targetPerSecond)} completions/s on ${live.queues} queues; ${rate(live.rate)}` +
      (live.driver.shortPops > 0 ? `; the queues ran low ${live.driver.shortPops} times` : '') +
      (live.driver.skipped > 0
        ? `; the driver fell over 0.25 s behind and skipped ${count(live.driver.skipped)} jobs`
        : '') +
      (live.driver.refused > 0 ? `; ${live.driver.refused} completes refused (${live.driver.firstRefusal})` : ''),
    `  CPU, % of one core: ${cpu(live.cpuPercent)}; 1-min load average ${fixed(live.loadAverage[0], 2)} → ` +
      `${fixed(live.loadAverage[1], 2)}; the page's stream carried ` +
      `${fixed(live.streamMessagesPerSecond, 2)} change messages/s ` +
      `(${fixed(live.streamBytesPerSecond / 1024, 1)} KiB/s)`,
  );
  const pageLines = (page: PageFigures, responsive: boolean | undefined, criteria: string): string[] => [
    `  in Chromium: the overview refetched itself ${page.overviewRefetches} times in ${page.watchSeconds} s; ` +
      `click on a queue → its first jobs painted ${fixed(page.clicks.median, 0)} ms median, max ` +
      `${fixed(page.clicks.max, 0)} (${page.clicks.queues.join(', ')})`,
    `  the page's main thread over ${fixed(page.probe.seconds)} s: ${mainThread(page.probe)}`,
    `  the page stayed responsive (${criteria}): ${responsive ? 'met' : 'MISSED'}`,
  ];
  if (live.page)
    lines.push(
      ...pageLines(
        live.page,
        live.responsive,
        `longest task, slowest input and timer lag p99 under ${RESPONSIVE.mainThreadMs} ms, ` +
          `every click under ${RESPONSIVE.clickMs} ms`,
      ),
    );
  else lines.push('  no Chromium at /usr/bin/chromium: the page was not measured');
  lines.push(
    `real pool window: ${pool.workers} workers × concurrency ${pool.concurrency} (qless-worker) beside the ` +
      `page; ${rate(pool.rate)}`,
    `  CPU, % of one core: ${cpu(pool.cpuPercent)}`,
  );
  if (pool.page) lines.push(...pageLines(pool.page, pool.responsive, 'as above'));
  return lines.join('\n');
}
