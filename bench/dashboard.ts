// The dashboard part of `npm run bench`: with 1,000,000 jobs across 100 queues (put through the
// script, pipelined), how fast `qless web` answers the overview, a queue page and a page of every
// state; then, while a real qless-worker completes thousands of jobs a second, how a live page
// behaves (API latency, what the live stream sends, and, in Chromium when it is installed, how
// long a click takes to show the next page).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchRedis } from './bench-redis.ts';
import { queueName, type SeedSummary, seedJobs } from './dashboard-seed.ts';
import type { PartSettings } from './options.ts';
import { BenchPool } from './pool.ts';
import { median, percentile } from './statistics.ts';

const QLESS_BIN = fileURLToPath(new URL('../bin/qless', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const QUEUES = 100;
const SAMPLES = 15;
const LOAD_SECONDS = 15;
/** The pool of the live window: as many jobs a second as the machine allows beside the page. */
const LIVE_POOL = { workers: 2, concurrency: 8 };

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

export interface LiveLoad {
  workers: number;
  concurrency: number;
  /** Jobs completed per second by the pool during the window (qless's run statistics). */
  jobsPerSecond: number;
  seconds: number;
  /** ql:log events published per second during the window (put/completed… as the dashboard receives them). */
  overviewUnderLoad: Latency;
  queueUnderLoad: Latency;
  /** Live-stream messages that reached one page per second, and their bytes per second. */
  streamMessagesPerSecond: number;
  streamBytesPerSecond: number;
  /** In Chromium: click on a queue → its job table shown, ms (undefined without Chromium). */
  clickToQueueMs?: { median: number; max: number; samples: number };
  /** In Chromium: the page's longest main-thread task during the window, ms. */
  longestTaskMs?: number;
  /** In Chromium: how many times the overview refetched itself during the window. */
  overviewRefetches?: number;
}

export interface DashboardResult {
  seed: SeedSummary;
  startupMs: number;
  latencies: Latency[];
  live: LiveLoad;
}

export interface DashboardSettings extends PartSettings {
  jobs: number;
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

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
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

interface BrowserFigures {
  clicks: number[];
  longestTaskMs: number;
  overviewRefetches: number;
}

/** In headless Chromium: the overview open during the load, then clicks on a queue. */
async function inBrowser(base: string, seconds: number): Promise<BrowserFigures | undefined> {
  if (!existsSync(CHROMIUM)) return undefined;
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(process.env.TMPDIR ?? '/tmp', 'qless-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    viewport: { width: 1280, height: 900 },
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    let overviewRefetches = 0;
    page.on('request', (request) => {
      if (request.url().endsWith('/api/overview')) overviewRefetches += 1;
    });
    await page.goto(base);
    await page.locator('table.queues').waitFor();
    await page.evaluate(() => {
      const state = globalThis as unknown as {
        longest: number;
        PerformanceObserver: new (
          callback: (list: { getEntries(): { duration: number }[] }) => void,
        ) => { observe(options: object): void };
      };
      state.longest = 0;
      new state.PerformanceObserver((list) => {
        for (const entry of list.getEntries()) state.longest = Math.max(state.longest, entry.duration);
      }).observe({ type: 'longtask', buffered: false });
    });
    overviewRefetches = 0;
    await page.waitForTimeout(seconds * 500);
    const refetches = overviewRefetches;
    const longestTaskMs = await page.evaluate(() => (globalThis as unknown as { longest: number }).longest);
    const clicks: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await page
        .locator('table.queues a', { hasText: queueName(50 + i) })
        .first()
        .click();
      await page.locator('table.jobs tbody tr').first().waitFor();
      clicks.push(performance.now() - started);
      await page.goBack();
      await page.locator('table.queues').waitFor();
    }
    return { clicks, longestTaskMs, overviewRefetches: refetches };
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
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

    // The live window: a real pool completing jobs of the first ten queues.
    const workQueues = Array.from({ length: 10 }, (_, index) => queueName(index));
    const pool = BenchPool.start({
      redisUrl: redis.url,
      queue: workQueues.join(','),
      workers: LIVE_POOL.workers,
      concurrency: LIVE_POOL.concurrency,
      interval: 1,
      logLevel: settings.logLevel,
      dir: join(settings.dir, 'dashboard-pool'),
      name: 'bench-web',
    });
    try {
      settings.progress(`dashboard: a pool completes jobs for ${LOAD_SECONDS} s while a page is open`);
      await pool.waitUntilPolling(redis.redis);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const before = await completedSoFar(redis, workQueues);
      const windowStarted = performance.now();
      const stop = new AbortController();
      const stream = listen(base, stop.signal);
      const browser = inBrowser(base, LOAD_SECONDS);
      const overviewUnderLoad = await measure(base, 'overview under load', ['api/overview'], 200, 10);
      const queueUnderLoad = await measure(
        base,
        'queue page under load',
        [`api/queues/${queueName(0)}`, `api/queues/${queueName(0)}/jobs?state=waiting`],
        200,
        10,
      );
      const figures = await browser;
      const remaining = LOAD_SECONDS * 1000 - (performance.now() - windowStarted);
      if (remaining > 0) await new Promise((resolve) => setTimeout(resolve, remaining));
      const seconds = (performance.now() - windowStarted) / 1000;
      stop.abort();
      const received = await stream;
      const after = await completedSoFar(redis, workQueues);
      const live: LiveLoad = {
        ...LIVE_POOL,
        jobsPerSecond: (after - before) / seconds,
        seconds,
        overviewUnderLoad,
        queueUnderLoad,
        streamMessagesPerSecond: received.messages / seconds,
        streamBytesPerSecond: received.bytes / seconds,
      };
      if (figures) {
        live.clickToQueueMs = {
          median: median(figures.clicks),
          max: Math.max(...figures.clicks),
          samples: figures.clicks.length,
        };
        live.longestTaskMs = figures.longestTaskMs;
        live.overviewRefetches = figures.overviewRefetches;
      }
      return { seed, startupMs, latencies, live };
    } finally {
      await pool.stop();
    }
  } finally {
    await web.stop();
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
    `6. Dashboard: ${result.seed.jobs.toLocaleString('en-US')} jobs in ${result.seed.queues} queues ` +
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
  const { live } = result;
  lines.push(
    `live window: ${live.workers} worker × concurrency ${live.concurrency} completed ` +
      `${fixed(live.jobsPerSecond, 0)} jobs/s for ${fixed(live.seconds)} s; the page's stream carried ` +
      `${fixed(live.streamMessagesPerSecond, 2)} change messages/s ` +
      `(${fixed(live.streamBytesPerSecond / 1024, 1)} KiB/s)`,
  );
  if (live.clickToQueueMs)
    lines.push(
      `in Chromium under load: click on a queue → its jobs shown ${fixed(live.clickToQueueMs.median, 0)} ms ` +
        `median (max ${fixed(live.clickToQueueMs.max, 0)}, ${live.clickToQueueMs.samples} clicks); longest ` +
        `main-thread task ${fixed(live.longestTaskMs ?? Number.NaN, 0)} ms; the overview refetched itself ` +
        `${live.overviewRefetches} times in ${LOAD_SECONDS / 2} s`,
    );
  return lines.join('\n');
}
