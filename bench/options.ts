// The command line of `npm run bench` (bench/run.ts): which parts run and how big they are.
import { parseArgs } from 'node:util';

const PARTS = [
  'throughput',
  'latency',
  'replacement',
  'memory',
  'reload',
  'metrics',
  'dashboard',
  'failover',
  'defaults',
] as const;
type Part = (typeof PARTS)[number];

/** A pool's size: worker processes × jobs in flight per worker. */
export interface PoolShape {
  workers: number;
  concurrency: number;
}

export interface BenchOptions {
  parts: Part[];
  /** No-op jobs per throughput run. */
  jobs: number;
  /** Jobs put one at a time into an idle pool, per pool size. */
  latencyJobs: number;
  /** Workers killed (one after the other) in the replacement part. */
  kills: number;
  /** Handler changes in the reload part. */
  reloads: number;
  /** Jobs put for the dashboard part. */
  dashboardJobs: number;
  /** Completions a second the dashboard part's load driver aims at during its live window. */
  dashboardRate: number;
  /** Primaries killed in the failover part. */
  failovers: number;
  /** No-op jobs per run of the defaults part. */
  defaultsJobs: number;
  /** The pools whose drain rate the defaults part measures. */
  pools: PoolShape[];
  /** Rounds of the defaults part (each measures every pool, and the idle pool). */
  rounds: number;
  /** Rounds of the metrics part (each a run without and one with --metrics-port, per concurrency); even. */
  metricsRounds: number;
  /** Another commit, measured in turns with the work tree by the defaults part. */
  baseline: string | undefined;
  /** --interval of the idle pools (seconds). */
  interval: number;
  /** --log-level of every qless-worker run. */
  logLevel: string;
  json: boolean;
  /** Keep the temporary work directory (logs) and print where it is. */
  keep: boolean;
}

/** What every part of the bench is given: where to work, and how to run and report. */
export interface PartSettings {
  /** --log-level of the pool. */
  logLevel: string;
  /** The run's temporary directory. */
  dir: string;
  progress: (line: string) => void;
}

/** A part that measures idle pools. */
export interface IdlePartSettings extends PartSettings {
  /** --interval of the pool (seconds). */
  interval: number;
}

const DEFAULT_POOLS = '2x1,1x1,4x1,2x8';

export const USAGE = `Usage: npm run bench -- [options]
  --only <parts>        comma list of ${PARTS.join(', ')} (default: all)
  --jobs <n>            no-op jobs per throughput run (also the metrics part's; default 20000)
  --latency-jobs <n>    jobs put one at a time per idle pool (default 200)
  --kills <n>           workers killed in the replacement part (default 5)
  --reloads <n>         handler changes in the reload part (default 200)
  --dashboard-jobs <n>  jobs put (across 100 queues) for the dashboard part (default 1000000)
  --dashboard-rate <n>  completions/s the dashboard part's load driver aims at in its live window (default 5000)
  --failovers <n>       kills of the Redis primary in the failover part (default 5)
  --defaults-jobs <n>   no-op jobs per run of the defaults part (default 10000)
  --pools <list>        workers x concurrency of the defaults part's drains (default ${DEFAULT_POOLS})
  --rounds <n>          rounds of the defaults part (default 3)
  --metrics-rounds <n>  rounds of the metrics part, an even number (default 40)
  --baseline <commit>   defaults part: also measure this commit's tree, in turns with the work tree
  --interval <s>        --interval of the idle pools (default 5)
  --log-level <level>   qless-worker --log-level (default info, the worker's default)
  --json                print one JSON document instead of tables
  --keep                keep the temporary work directory with the qless-worker logs
  --help                this text`;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

function positiveInteger(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new BenchUsageError(`--${name} must be a whole number of at least 1, got ${text}`);
  return n;
}

/** Each side goes first in as many rounds as the other. */
function evenCount(name: string, text: string): number {
  const n = positiveInteger(name, text);
  if (n % 2 !== 0) throw new BenchUsageError(`--${name} must be an even number (each side first in half), got ${text}`);
  return n;
}

function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        only: { type: 'string' },
        jobs: { type: 'string', default: '20000' },
        'latency-jobs': { type: 'string', default: '200' },
        kills: { type: 'string', default: '5' },
        reloads: { type: 'string', default: '200' },
        'dashboard-jobs': { type: 'string', default: '1000000' },
        'dashboard-rate': { type: 'string', default: '5000' },
        failovers: { type: 'string', default: '5' },
        'defaults-jobs': { type: 'string', default: '10000' },
        pools: { type: 'string', default: DEFAULT_POOLS },
        rounds: { type: 'string', default: '3' },
        'metrics-rounds': { type: 'string', default: '40' },
        baseline: { type: 'string' },
        interval: { type: 'string', default: '5' },
        'log-level': { type: 'string', default: 'info' },
        json: { type: 'boolean', default: false },
        keep: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new BenchUsageError(error instanceof Error ? error.message : String(error));
  }
}

/** `2x1,4x1,2x8` → pools (duplicates dropped, order kept). */
function poolShapes(text: string): PoolShape[] {
  const shapes: PoolShape[] = [];
  for (const item of text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)) {
    const match = /^(\d+)[x×](\d+)$/.exec(item);
    if (!match) throw new BenchUsageError(`--pools: "${item}" is not <workers>x<concurrency> (e.g. 2x1)`);
    const shape = {
      workers: positiveInteger('pools workers', match[1]),
      concurrency: positiveInteger('pools concurrency', match[2]),
    };
    if (!shapes.some((other) => other.workers === shape.workers && other.concurrency === shape.concurrency))
      shapes.push(shape);
  }
  if (shapes.length === 0) throw new BenchUsageError('--pools names no pool');
  return shapes;
}

/** Parses argv; undefined means --help was asked for. */
export function parseBenchOptions(argv: string[]): BenchOptions | undefined {
  const { values } = parseCommandLine(argv);
  if (values.help) return undefined;
  const parts: Part[] = [];
  for (const name of (values.only ?? PARTS.join(','))
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    if (!(PARTS as readonly string[]).includes(name))
      throw new BenchUsageError(`--only: unknown part "${name}" (parts: ${PARTS.join(', ')})`);
    if (!parts.includes(name as Part)) parts.push(name as Part);
  }
  if (parts.length === 0) throw new BenchUsageError('--only names no part');
  if (values.baseline !== undefined && !parts.includes('defaults'))
    throw new BenchUsageError('--baseline is measured by the defaults part only: add defaults to --only');
  if (values.baseline?.trim() === '') throw new BenchUsageError('--baseline needs a commit');
  const interval = Number(values.interval);
  if (!Number.isFinite(interval) || interval <= 0)
    throw new BenchUsageError(`--interval must be a number of seconds above 0, got ${values.interval}`);
  if (!LOG_LEVELS.includes(values['log-level']))
    throw new BenchUsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got ${values['log-level']}`);
  return {
    // Always in the documented order, whatever order --only gave.
    parts: PARTS.filter((part) => parts.includes(part)),
    jobs: positiveInteger('jobs', values.jobs),
    latencyJobs: positiveInteger('latency-jobs', values['latency-jobs']),
    kills: positiveInteger('kills', values.kills),
    reloads: positiveInteger('reloads', values.reloads),
    dashboardJobs: positiveInteger('dashboard-jobs', values['dashboard-jobs']),
    dashboardRate: positiveInteger('dashboard-rate', values['dashboard-rate']),
    failovers: positiveInteger('failovers', values.failovers),
    defaultsJobs: positiveInteger('defaults-jobs', values['defaults-jobs']),
    pools: poolShapes(values.pools),
    rounds: positiveInteger('rounds', values.rounds),
    metricsRounds: evenCount('metrics-rounds', values['metrics-rounds']),
    baseline: values.baseline,
    interval,
    logLevel: values['log-level'],
    json: values.json,
    keep: values.keep,
  };
}
