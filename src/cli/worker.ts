// `qless-worker`: yargs definitions only. Parses the command line and QLESS_* environment,
// refuses bad values (one line, exit code 2) before any process starts, resolves defaults,
// and hands a WorkerOptions to the supervisor.
import { realpathSync, statSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import type { LevelWithSilent } from 'pino';
import { isSentinelUrl, redactPassword, resolveRedisUrl } from '../client/index.ts';
import {
  CONNECTION_OPTION_NAMES,
  CONNECTION_OPTIONS,
  type ConnectionFlags,
  exportSentinelPassword,
  foldTlsFlags,
  hideSecretArguments,
} from './connection-flags.ts';
import { defaultLogFormat, type LogFormat } from '../log.ts';
import type { ReserverName, WorkerOptions } from '../protocol/options.ts';
import { MetricsPortError } from '../supervisor/metrics/sources.ts';
import { runSupervisor } from '../supervisor/supervisor.ts';
import { UsageError, withUsage } from './usage.ts';

const RESERVERS: readonly ReserverName[] = ['ordered', 'round-robin', 'shuffled'];
const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

/** yargs turns a non-numeric value of a number option into NaN (or null); say so plainly. */
function given(value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value)
    ? `, got ${value}`
    : ', got something that is not a number';
}

function integerAtLeast(name: string, value: unknown, minimum: number): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < minimum) {
    throw new UsageError(`--${name} must be a whole number of at least ${minimum}${given(value)}`);
  }
  return n;
}

function quantity(name: string, value: unknown, options: { unit: string; allowZero: boolean }): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n) || n < 0 || (!options.allowZero && n === 0)) {
    const bound = options.allowZero ? 'zero or more' : 'more than zero';
    throw new UsageError(`--${name} must be a number of ${options.unit}, ${bound} (fractions allowed)${given(value)}`);
  }
  return n;
}

/** The directory's real path (symlinks resolved, so --path and the sandboxes compare as paths). */
function existingDirectory(name: string, value: string): string {
  const absolute = resolve(value);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(absolute).isDirectory();
  } catch {
    throw new UsageError(`--${name} ${absolute} does not exist`);
  }
  if (!isDirectory) throw new UsageError(`--${name} ${absolute} is not a directory`);
  return realpathSync(absolute);
}

function queueNames(values: readonly unknown[] | undefined): string[] {
  const names: string[] = [];
  for (const value of values ?? []) {
    for (const part of String(value).split(',')) {
      const name = part.trim();
      if (name !== '' && !names.includes(name)) names.push(name);
    }
  }
  if (names.length === 0)
    throw new UsageError('at least one queue is required: -q, --queue <name> (repeatable, or a comma list)');
  return names;
}

/** --redis, else QLESS_REDIS_URL, else REDIS_URL, else the local default; --host/--port replace those parts. */
function redisUrl(
  given: string | undefined,
  host: string | undefined,
  port: unknown,
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv,
): string {
  let text: string;
  try {
    text = resolveRedisUrl(given, env);
  } catch (error) {
    throw new UsageError(
      `--redis: ${(error as Error).message} ` +
        '(expected redis://[user:password@]host[:port][/db], rediss://… or redis+sentinel://…)',
    );
  }
  try {
    text = resolveRedisUrl(foldTlsFlags(text, flags), {});
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (host === undefined && port === undefined) return text;
  if (isSentinelUrl(text))
    throw new UsageError('--host and --port cannot change a Sentinel URL: it names its sentinels');
  const url = new URL(text);
  if (host !== undefined) {
    if (host.trim() === '') throw new UsageError('--host must not be empty');
    url.hostname = host;
  }
  if (port !== undefined) {
    const number = integerAtLeast('port', port, 1);
    if (number > 65535) throw new UsageError(`--port must be at most 65535, got ${number}`);
    url.port = String(number);
  }
  if (url.hostname === '') throw new UsageError(`--redis ${redactPassword(text)} has no host`);
  return url.toString();
}

/** A path (starts with `.`, `/` or `file:`) must exist and is made absolute; a package name is kept. */
function importSpecifiers(values: readonly unknown[] | undefined): string[] {
  return (values ?? []).map((value) => {
    const specifier = String(value);
    if (specifier.trim() === '') throw new UsageError('--import needs a module path or package name');
    const isPath = specifier.startsWith('.') || isAbsolute(specifier) || specifier.startsWith('file:');
    if (!isPath) return specifier;
    const absolute = specifier.startsWith('file:') ? fileURLToPath(specifier) : resolve(specifier);
    try {
      statSync(absolute);
    } catch {
      throw new UsageError(`--import ${absolute} does not exist`);
    }
    return absolute;
  });
}

function choice<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
}

const OPTION_NAMES = [
  'queue',
  'workers',
  'interval',
  'path',
  'workdir',
  'redis',
  'host',
  'port',
  ...CONNECTION_OPTION_NAMES,
  'name',
  'concurrency',
  'reserver',
  'resume',
  'import',
  'max-jobs',
  'max-memory',
  'shutdown-timeout',
  'watch',
  'metrics-port',
  'metrics-host',
  'log-level',
  'log-format',
] as const;
const OPTION_VARIABLES = new Set(OPTION_NAMES.map((name) => `QLESS_${name.toUpperCase().replace(/-/g, '_')}`));

/**
 * yargs' strict mode would refuse any QLESS_* variable that is not an option (QLESS_REDIS_URL, or
 * variables meant for other qless tools), so those are hidden from it while it parses.
 */
function withOnlyOptionVariables<T>(known: ReadonlySet<string>, parse: () => T): T {
  const hidden: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('QLESS_') && !known.has(key) && value !== undefined) {
      hidden[key] = value;
      delete process.env[key];
    }
  }
  try {
    return parse();
  } finally {
    Object.assign(process.env, hidden);
  }
}

function buildParser(argv: string[]) {
  const parser = yargs(argv);
  // Wrap help to the terminal; unwrapped when not on a terminal (columns unknown).
  const width = parser.terminalWidth();
  const defined = parser
    .scriptName('qless-worker')
    .usage(
      '$0 [options]\n\n' +
        'Starts a supervisor that forks worker processes. Each worker pops jobs from the qless queues in Redis ' +
        "and runs the handler module named by the job's klass, found inside --path.",
    )
    .env('QLESS')
    .option('queue', {
      alias: 'q',
      type: 'string',
      array: true,
      requiresArg: true,
      description: 'Queue to work on; repeatable, comma lists work (-q a,b -q c). Required.',
    })
    .option('workers', {
      alias: 'w',
      type: 'number',
      requiresArg: true,
      default: 0,
      defaultDescription: 'available CPUs',
      description: 'Worker processes; 0 = os.availableParallelism()',
    })
    .option('interval', {
      alias: 'i',
      type: 'number',
      requiresArg: true,
      default: 5,
      description: 'Seconds an idle worker waits between polls when every queue was empty (fractions allowed)',
    })
    .option('path', {
      alias: 'p',
      type: 'string',
      requiresArg: true,
      defaultDescription: 'current directory',
      description: 'The handler project: klass a.b.Name loads <path>/a/b and takes its export Name',
    })
    .option('workdir', {
      alias: 'd',
      type: 'string',
      requiresArg: true,
      defaultDescription: 'current directory',
      description: 'Worker k gets the sandbox <workdir>/sandbox/worker-<k>',
    })
    .option('redis', {
      alias: 'r',
      type: 'string',
      requiresArg: true,
      defaultDescription: '$QLESS_REDIS_URL, $REDIS_URL, redis://127.0.0.1:6379',
      description: 'Redis URL',
    })
    .option('host', { type: 'string', requiresArg: true, description: 'Redis host (replaces the host of the URL)' })
    .option('port', { type: 'number', requiresArg: true, description: 'Redis port (replaces the port of the URL)' })
    .options(CONNECTION_OPTIONS)
    .option('name', {
      alias: 'n',
      type: 'string',
      requiresArg: true,
      defaultDescription: '<hostname>-<pid>',
      description: 'Worker name prefix; worker k is named <name>-<k>',
    })
    .option('concurrency', {
      alias: 'c',
      type: 'number',
      requiresArg: true,
      default: 1,
      description: 'Jobs in flight per worker process (for I/O-bound handlers)',
    })
    .option('reserver', {
      type: 'string',
      requiresArg: true,
      default: 'ordered',
      description: `Order in which queues are polled: ${RESERVERS.join(', ')}`,
    })
    .option('resume', {
      type: 'boolean',
      default: false,
      description: 'On start each worker first runs the jobs its name still holds',
    })
    .option('import', {
      alias: 'm',
      type: 'string',
      array: true,
      requiresArg: true,
      description: 'Module loaded in every worker before it polls; repeatable',
    })
    .option('max-jobs', {
      type: 'number',
      requiresArg: true,
      default: 0,
      description: 'Recycle a worker after this many jobs (0 = never)',
    })
    .option('max-memory', {
      type: 'number',
      requiresArg: true,
      default: 0,
      description: 'Recycle a worker after the job during which its RSS passed this many MB (0 = never)',
    })
    .option('shutdown-timeout', {
      type: 'number',
      requiresArg: true,
      default: 30,
      description: 'Seconds to wait for in-flight jobs on shutdown before killing the workers',
    })
    .option('watch', {
      type: 'boolean',
      default: true,
      description: 'Restart the workers when a file under --path changes (--no-watch to disable)',
    })
    .option('metrics-port', {
      type: 'number',
      requiresArg: true,
      description: 'Serve /metrics (Prometheus), /healthz and /readyz on this port (off without it)',
    })
    .option('metrics-host', {
      type: 'string',
      requiresArg: true,
      default: undefined,
      defaultDescription: '127.0.0.1',
      description: 'Address the metrics server listens on (0.0.0.0: every interface)',
    })
    .option('log-level', {
      type: 'string',
      requiresArg: true,
      default: 'info',
      description: `Lowest level logged: ${LOG_LEVELS.join(', ')}`,
    })
    .option('log-format', {
      type: 'string',
      requiresArg: true,
      defaultDescription: 'pretty on a TTY, json otherwise',
      description: `Log output format: ${LOG_FORMATS.join(', ')}`,
    })
    .example([
      ['$0 -q images -w 4 -p ./jobs', 'Four workers run handlers from ./jobs for the queue "images"'],
      [
        '$0 -q urgent,normal -q bulk -c 8 -r redis://redis.internal:6379/2',
        'Three queues, first one first; 8 jobs in flight per worker',
      ],
      [
        'QLESS_QUEUE=mail QLESS_MAX_JOBS=500 $0 --no-watch',
        'Options from the environment; recycle each worker after 500 jobs',
      ],
      [
        'kill -HUP <pid>',
        'Rolling restart (TTIN/TTOU: one worker more/less, USR2/CONT: pause/resume, TERM: graceful stop)',
      ],
    ])
    .epilogue('Every option can also be set as QLESS_<OPTION> (e.g. QLESS_SHUTDOWN_TIMEOUT=60).');
  return withUsage(defined, Number.isFinite(width) ? Math.min(120, width) : null);
}

/**
 * Parses and validates. Returns the resolved options, or `undefined` when yargs already printed
 * --help or --version. Throws UsageError for bad input.
 */
export function parseWorkerOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): WorkerOptions | undefined {
  let helpShown = false;
  const parser = buildParser(argv).exitProcess(false);
  const args = withOnlyOptionVariables(OPTION_VARIABLES, () =>
    parser.parseSync(argv, {}, (error, _argv, output) => {
      if (error) throw new UsageError(error.message);
      if (output) {
        helpShown = true;
        process.stdout.write(`${output}\n`);
      }
    }),
  );
  if (helpShown) return undefined;
  // Into the environment (which the worker processes inherit), not into the options.
  exportSentinelPassword(args, env);

  const workers = integerAtLeast('workers', args.workers, 0);
  return {
    queues: queueNames(args.queue),
    workers: workers === 0 ? availableParallelism() : workers,
    interval: quantity('interval', args.interval, { unit: 'seconds', allowZero: false }),
    path: existingDirectory('path', args.path ?? process.cwd()),
    workdir: existingDirectory('workdir', args.workdir ?? process.cwd()),
    redis: redisUrl(args.redis, args.host, args.port, args, env),
    name: nonEmpty('name', args.name ?? `${hostname()}-${process.pid}`),
    concurrency: integerAtLeast('concurrency', args.concurrency, 1),
    reserver: choice('reserver', args.reserver, RESERVERS),
    resume: args.resume,
    imports: importSpecifiers(args.import),
    maxJobs: integerAtLeast('max-jobs', args['max-jobs'], 0),
    maxMemory: quantity('max-memory', args['max-memory'], { unit: 'MB', allowZero: true }),
    shutdownTimeout: quantity('shutdown-timeout', args['shutdown-timeout'], { unit: 'seconds', allowZero: true }),
    watch: args.watch,
    metrics: metricsAddress(args['metrics-port'], args['metrics-host']),
    logLevel: choice('log-level', args['log-level'], LOG_LEVELS),
    logFormat:
      args['log-format'] === undefined ? defaultLogFormat() : choice('log-format', args['log-format'], LOG_FORMATS),
  };
}

/** --metrics-port (1-65535) and --metrics-host (default 127.0.0.1); metrics are off without a port. */
function metricsAddress(port: unknown, host: string | undefined): WorkerOptions['metrics'] {
  if (port === undefined) {
    if (host !== undefined) throw new UsageError('--metrics-host is only used with --metrics-port');
    return undefined;
  }
  const number = integerAtLeast('metrics-port', port, 1);
  if (number > 65535) throw new UsageError(`--metrics-port must be at most 65535, got ${number}`);
  return { host: nonEmpty('metrics-host', host ?? '127.0.0.1'), port: number };
}

function nonEmpty(name: string, value: string): string {
  if (value.trim() === '') throw new UsageError(`--${name} must not be empty`);
  return value;
}

/** Runs the command; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  hideSecretArguments(argv);
  let options: WorkerOptions | undefined;
  try {
    options = parseWorkerOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`qless-worker: ${error.message} (see qless-worker --help)\n`);
    return 2;
  }
  if (!options) return 0;
  try {
    return await runSupervisor(options);
  } catch (error) {
    if (!(error instanceof MetricsPortError)) throw error;
    process.stderr.write(`qless-worker: ${error.message}\n`);
    return 2;
  }
}
