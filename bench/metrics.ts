// Part 6, metrics: what --metrics-port costs.
// - Throughput of 2 workers with and without --metrics-port, at concurrency 1 and 8, measured as in
//   part 1 (bench/throughput.ts); the two are run back to back, --metrics-rounds times each
//   (default 40), so both meet the same load of the (shared) machine; the change of each round
//   is taken and their median compared with the target, and so is the CPU the pool's processes
//   spent per job (which depends less on what else runs on the machine).
// - A scrape of /metrics from a pool that has run one job of each of 20 klasses in each of 100
//   queues: the label sets are as many as the cap allows (1,000 per metric). SCRAPES GETs one after
//   the other, each timed from the request to the last byte of the answer.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, get as httpGet } from 'node:http';
import { join } from 'node:path';
import { newJid, type BenchRedis } from './bench-redis.ts';
import { BenchPool } from './pool.ts';
import { median, medianInterval, percentile } from './statistics.ts';
import { runOnce, type ThroughputSettings } from './throughput.ts';
import { freePort } from '../scripts/private-redis.ts';

const CONCURRENCIES = [1, 8];
const QUEUES = 100;
const KLASSES = 20;
const SCRAPES = 100;
const WAIT_MS = 60_000;
/** The confidence level of the interval reported around the median change. */
export const INTERVAL_LEVEL = 0.9;

export interface MetricsThroughput {
  workers: number;
  concurrency: number;
  /** jobs/s of each round, in the order run. */
  withoutMetrics: number[];
  withMetrics: number[];
  medianWithout: number;
  medianWith: number;
  /** (median with − median without) ÷ median without, in percent. */
  changePercent: number;
  /** Each round's (with − without) ÷ without, in percent, in the order run. */
  roundChangesPercent: number[];
  /** The median of roundChangesPercent: the figure the target is judged on. */
  pairedChangePercent: number;
  /** A 90 % confidence interval of that median (order statistics; undefined below 5 rounds). */
  pairedIntervalPercent: { low: number; high: number } | undefined;
  /**
   * The same median change, of jobs/s from the completion of the first quarter of the jobs to the
   * last (shown, not judged): what is left once both pools' code is compiled.
   */
  pairedChangeAfterFirstQuarterPercent: number;
  /** CPU per job of the workers together, and of the supervisor (medians of the rounds): less sensitive to load. */
  workerCpuUsPerJobWithout: number;
  workerCpuUsPerJobWith: number;
  supervisorCpuUsPerJobWithout: number;
  supervisorCpuUsPerJobWith: number;
}

export interface ScrapeResult {
  queues: number;
  klasses: number;
  jobs: number;
  /** Label sets of qless_jobs_started_total (capped). */
  startedLabelSets: number;
  bytes: number;
  lines: number;
  scrapes: number;
  medianMs: number;
  p99Ms: number;
  maxMs: number;
}

export interface MetricsResult {
  throughput: MetricsThroughput[];
  scrape: ScrapeResult;
}

/**
 * A drain of 20,000 jobs varies by about ±10 % from one run to the next on a shared 2-core machine
 * (measured: the same build 4,900 to 6,900 jobs/s in one session), mostly in spells of tens of
 * seconds when the whole machine is slower. The two runs of a round follow each other, so they
 * mostly meet the same spell: the change is taken in each round (with ÷ without) and the median of
 * those is what counts. An even number of rounds, so each goes first in as many rounds as the other.
 * (Medians of each side over 9 rounds moved by 4 % between two runs of the same build.) Two builds
 * that are the same, 20 rounds, gave changes from −24 % to +17 %: resampled, the median of 20 such
 * rounds moves by about 1.4 % (one standard deviation), of 40 by about 1.1 %, and --metrics-port
 * costs about 2 % at concurrency 8; hence 40 by default (--metrics-rounds), and the 90 % interval of
 * the median shown beside it.
 */
export interface MetricsSettings extends ThroughputSettings {
  /** Rounds per concurrency (even: --metrics-rounds, default 40). */
  rounds: number;
}

async function compareThroughput(bench: BenchRedis, settings: MetricsSettings): Promise<MetricsThroughput[]> {
  const results: MetricsThroughput[] = [];
  for (const concurrency of CONCURRENCIES) {
    const without: number[] = [];
    const withMetrics: number[] = [];
    const later = { without: [] as number[], with: [] as number[] };
    const cpu = {
      workersWith: [] as number[],
      workersWithout: [] as number[],
      with: [] as number[],
      without: [] as number[],
    };
    for (let round = 0; round < settings.rounds; round++) {
      // Alternate which goes first, so neither always follows the other.
      const order = round % 2 === 0 ? [false, true] : [true, false];
      for (const on of order) {
        const variant = on
          ? { name: `-metrics-${round}`, args: ['--metrics-port', String(await freePort())] }
          : { name: `-plain-${round}`, args: [] };
        const result = await runOnce(bench, 2, concurrency, settings, variant);
        (on ? withMetrics : without).push(result.jobsPerSecond);
        (on ? later.with : later.without).push(result.jobsPerSecondAfterFirstQuarter);
        (on ? cpu.workersWith : cpu.workersWithout).push(result.workerCpuUsPerJob);
        (on ? cpu.with : cpu.without).push(result.supervisorCpuUsPerJob);
        settings.progress(
          `  c${concurrency} round ${round + 1} ${on ? 'with' : 'without'} --metrics-port: ` +
            `${Math.round(result.jobsPerSecond)} jobs/s`,
        );
      }
    }
    const medianWithout = median(without);
    const medianWith = median(withMetrics);
    const changes = (plain: number[], metrics: number[]): number[] =>
      plain.map((value, round) => ((metrics[round] - value) / value) * 100);
    const roundChangesPercent = changes(without, withMetrics);
    results.push({
      workers: 2,
      concurrency,
      withoutMetrics: without,
      withMetrics,
      medianWithout,
      medianWith,
      changePercent: ((medianWith - medianWithout) / medianWithout) * 100,
      roundChangesPercent,
      pairedChangePercent: median(roundChangesPercent),
      pairedIntervalPercent: medianInterval(roundChangesPercent, INTERVAL_LEVEL),
      pairedChangeAfterFirstQuarterPercent: median(changes(later.without, later.with)),
      workerCpuUsPerJobWithout: median(cpu.workersWithout),
      workerCpuUsPerJobWith: median(cpu.workersWith),
      supervisorCpuUsPerJobWithout: median(cpu.without),
      supervisorCpuUsPerJobWith: median(cpu.with),
    });
  }
  return results;
}

/** A handler project with KLASSES no-op klasses: many.K00 … many.K19. */
function writeHandlers(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const exports = Array.from({ length: KLASSES }, (_, k) => `export function ${klassName(k)}(): void {}`);
  writeFileSync(join(dir, 'many.ts'), `// Written by the bench's metrics part.\n${exports.join('\n')}\n`);
  return dir;
}

const klassName = (k: number): string => `K${String(k).padStart(2, '0')}`;
const queueName = (q: number): string => `bench-m${String(q).padStart(3, '0')}`;

async function until<T>(what: string, pool: BenchPool, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (pool.exited) throw new Error(`qless-worker exited while waiting for ${what}; see ${pool.logFile}`);
    if (Date.now() > deadline) throw new Error(`no ${what} after ${WAIT_MS} ms; see ${pool.logFile}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * One GET timed from the request to the last byte, through node:http with a kept-alive
 * connection, as a Prometheus server scrapes (undici's fetch adds ~20 ms of its own to a 1 MB body).
 */
const scrapeAgent = new Agent({ keepAlive: true, maxSockets: 1 });
function get(url: string): Promise<{ ms: number; body: string }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { agent: scrapeAgent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const ms = performance.now() - start;
        if (response.statusCode !== 200) reject(new Error(`${url} answered ${response.statusCode}`));
        else resolve({ ms, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    request.on('error', reject);
  });
}

/** The sum of the samples of qless_jobs_started_total, and how many there are. */
function startedSamples(body: string): { sum: number; sets: number } {
  let sum = 0;
  let sets = 0;
  for (const line of body.split('\n')) {
    if (!line.startsWith('qless_jobs_started_total{')) continue;
    sets++;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return { sum, sets };
}

async function timeScrapes(bench: BenchRedis, settings: ThroughputSettings): Promise<ScrapeResult> {
  const jobs = QUEUES * KLASSES;
  await bench.reset(jobs);
  for (let q = 0; q < QUEUES; q++)
    await bench.put(
      queueName(q),
      Array.from({ length: KLASSES }, (_, k) => ({ jid: newJid(), klass: `many.${klassName(k)}` })),
    );
  const port = await freePort();
  const dir = join(settings.dir, 'metrics-scrape');
  const pool = BenchPool.start({
    redisUrl: bench.url,
    queue: Array.from({ length: QUEUES }, (_, q) => queueName(q)).join(','),
    workers: 2,
    concurrency: 8,
    interval: 1,
    logLevel: settings.logLevel,
    dir,
    name: 'bench',
    path: writeHandlers(join(dir, 'handlers')),
    args: ['--metrics-port', String(port)],
  });
  try {
    const url = `http://127.0.0.1:${port}/metrics`;
    await until('completion of every job', pool, async () =>
      (await bench.redis.zcard('ql:completed')) >= jobs ? true : undefined,
    );
    const counted = await until('every job in the metrics', pool, async () => {
      const { body } = await get(url).catch(() => ({ body: '' }));
      const started = startedSamples(body);
      return started.sum === jobs ? { body, sets: started.sets } : undefined;
    });
    const times: number[] = [];
    for (let i = 0; i < SCRAPES; i++) times.push((await get(url)).ms);
    return {
      queues: QUEUES,
      klasses: KLASSES,
      jobs,
      startedLabelSets: counted.sets,
      bytes: Buffer.byteLength(counted.body),
      lines: counted.body.split('\n').length,
      scrapes: SCRAPES,
      medianMs: median(times),
      p99Ms: percentile(times, 99),
      maxMs: Math.max(...times),
    };
  } finally {
    scrapeAgent.destroy();
    await pool.stop();
  }
}

export async function measureMetrics(bench: BenchRedis, settings: MetricsSettings): Promise<MetricsResult> {
  settings.progress(
    `metrics: ${settings.jobs} no-op jobs, 2 workers, with and without --metrics-port in turns ` +
      `(${settings.rounds} rounds each)`,
  );
  const throughput = await compareThroughput(bench, settings);
  settings.progress(`metrics: scrapes of /metrics after ${QUEUES} queues × ${KLASSES} klasses`);
  const scrape = await timeScrapes(bench, settings);
  settings.progress(`  median ${scrape.medianMs.toFixed(1)} ms, ${scrape.bytes} bytes`);
  return { throughput, scrape };
}
