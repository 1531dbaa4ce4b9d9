// A worker process's log output: JSON lines (pino, with pid and the worker's base fields),
// written in batches by plain synchronous writes. A line logged FLUSH_MS or more after the last
// write goes out at once; the lines that follow it closely gather in memory and go out in one
// write FLUSH_MS after the first pending line, once FLUSH_BYTES are pending, before anything else
// the process writes to its stdout or stderr (a handler's console output comes after the start
// line of its job, in order), and at exit (process.exit and uncaught errors included). A busy worker thus
// writes a few times a second instead of once per job, a quiet one as each line comes. What a
// SIGKILL takes with it is at most the lines of the last FLUSH_MS, or those since a handler blocked
// the event loop (when it started less than FLUSH_MS after the line before); the supervisor logs
// each job a dead worker held when it hands it back. pino's usual asynchronous destination hands
// every write to libuv's thread pool (a thread wake-up and a callback per line or two), and
// sonic-boom's synchronous flush adds an fsync: at thousands of jobs a second either costs more
// than the lines themselves. A full pipe makes the writer wait and retry (back-pressure, not memory).
import { writeSync } from 'node:fs';
import { pino, type DestinationStream, type LevelWithSilent, type Logger } from 'pino';

const FLUSH_MS = 25;
const FLUSH_BYTES = 16 * 1024;
/** How long to wait before writing again to a full (non-blocking) pipe. */
const FULL_PIPE_WAIT_MS = 5;

export interface WorkerLogOptions {
  level: LevelWithSilent;
  /** Fields on every line besides pid (worker name, slot). */
  base: Record<string, unknown>;
  /** File descriptor to write to; 1 (stdout) by default. */
  fd?: number;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Writes all of `text` to `fd`; a closed reader drops it (nobody is listening any more). */
function writeAll(fd: number, text: string): void {
  let data: Buffer | undefined;
  let offset = 0;
  for (;;) {
    try {
      // The whole string in one go is the usual case (a file, a pipe with room).
      if (!data) {
        offset = writeSync(fd, text);
        if (offset === Buffer.byteLength(text)) return;
        data = Buffer.from(text);
      } else {
        offset += writeSync(fd, data, offset);
      }
      if (offset >= data.length) return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN' && code !== 'EBUSY') return;
      data ??= Buffer.from(text);
      Atomics.wait(pause, 0, 0, FULL_PIPE_WAIT_MS);
    }
  }
}

class BatchedLogOutput implements DestinationStream {
  private pending = '';
  private timer: NodeJS.Timeout | undefined;
  /** performance.now() of the last write (-Infinity: none yet). */
  private flushedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly fd: number) {
    // Whatever is still pending when the process exits (also through process.exit) is written.
    process.once('exit', () => this.flushSync());
    flushBeforeWrites('stdout', () => this.flushSync());
    flushBeforeWrites('stderr', () => this.flushSync());
  }

  write(line: string): void {
    this.pending += line;
    if (this.pending.length >= FLUSH_BYTES) {
      this.flushSync();
    } else if (!this.timer && performance.now() - this.flushedAt >= FLUSH_MS) {
      // The first line after a quiet spell goes out at once (a worker's ready line, the start of a
      // job that then blocks the event loop): only lines that follow it closely wait.
      this.flushSync();
    } else if (!this.timer) {
      // Left running by flushes in between (it then finds less or nothing to write): one timer
      // per FLUSH_MS at most, not one per line.
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flushSync();
      }, FLUSH_MS);
      // Pending lines alone never keep the process alive: the exit hook writes them.
      this.timer.unref();
    }
  }

  /** pino's `logger.flush(callback)` lands here. */
  flush(callback?: (error?: Error) => void): void {
    this.flushSync();
    callback?.();
  }

  flushSync(): void {
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    this.flushedAt = performance.now();
    writeAll(this.fd, text);
  }
}

/**
 * Runs `flush` before every write to process.stdout or process.stderr (console.log and the like).
 * The stream is wrapped when first used (Node makes it only then, and so do we), through the
 * property's own getter.
 */
function flushBeforeWrites(name: 'stdout' | 'stderr', flush: () => void): void {
  const descriptor = Object.getOwnPropertyDescriptor(process, name);
  const get = descriptor?.get;
  if (!descriptor?.configurable || !get) return;
  let wrapped: NodeJS.WriteStream | undefined;
  Object.defineProperty(process, name, {
    ...descriptor,
    get(): NodeJS.WriteStream {
      const stream = get.call(process) as NodeJS.WriteStream;
      if (stream !== wrapped) {
        wrapped = stream;
        const write = stream.write;
        stream.write = function (this: NodeJS.WriteStream, ...args: Parameters<typeof write>): boolean {
          flush();
          return write.apply(this, args);
        } as typeof write;
      }
      return stream;
    },
  });
}

/**
 * The two lines every job logs at info, `job started` and `job ended`, written straight to the
 * logger's output: the bytes pino writes for the same call (level, time, the logger's base fields,
 * the job's fields in the order given, msg), without its generic serializer, which looked up and
 * converted each field of each line; at thousands of jobs a second that was a few per cent of a
 * worker's CPU, and pino's serializer was among the largest functions V8 optimized in every
 * worker. Only for loggers made by createWorkerLogger (no serializers, hooks, mixins or
 * formatters); the caller checks the level (these lines are `info`). Each returns false, having
 * written nothing, when jid, queue or klass is not a string (a job hash missing a field, which the
 * script leaves out of its JSON): pino, which leaves such a field out, writes that line instead.
 */
export interface JobLines {
  started(jid: string, queue: string, klass: string): boolean;
  ended(jid: string, queue: string, klass: string, outcome: string, duration: number, settledBy?: string): boolean;
}

const jobLinesOf = new WeakMap<Logger, JobLines>();

/** The job lines of a worker logger, or undefined for any other logger (then log through pino). */
export function workerJobLines(logger: Logger): JobLines | undefined {
  return jobLinesOf.get(logger);
}

/** A JSON number as pino writes one (not finite: null). */
const jsonNumber = (value: number): string => (Number.isFinite(value) ? String(value) : 'null');

function jobLines(output: DestinationStream, bindings: string): JobLines {
  /** Everything before the fields of its own that a job line has; undefined when a field is not a string. */
  const start = (jid: string, queue: string, klass: string): string | undefined =>
    typeof jid === 'string' && typeof queue === 'string' && typeof klass === 'string'
      ? `{"level":30,"time":${Date.now()}${bindings},"jid":${JSON.stringify(jid)},` +
        `"queue":${JSON.stringify(queue)},"klass":${JSON.stringify(klass)}`
      : undefined;
  return {
    started(jid, queue, klass) {
      const line = start(jid, queue, klass);
      if (line === undefined) return false;
      output.write(`${line},"msg":"job started"}\n`);
      return true;
    },
    ended(jid, queue, klass, outcome, duration, settledBy) {
      const line = start(jid, queue, klass);
      if (line === undefined) return false;
      output.write(
        `${line},"outcome":${JSON.stringify(outcome)},"duration":${jsonNumber(duration)}` +
          `${settledBy ? `,"settledBy":${JSON.stringify(settledBy)}` : ''},"msg":"job ended"}\n`,
      );
      return true;
    },
  };
}

/** The worker process's pino logger (JSON, `pid` and `base` on every line). */
export function createWorkerLogger(options: WorkerLogOptions): Logger {
  const output = new BatchedLogOutput(options.fd ?? 1);
  const logger = pino({ level: options.level, base: { pid: process.pid, ...options.base } }, output);
  // The base fields as pino serialized them once (`,"pid":…,"worker":…`), for the job lines.
  const bindings = (logger as unknown as Record<symbol, unknown>)[pino.symbols.chindingsSym];
  if (typeof bindings === 'string') jobLinesOf.set(logger, jobLines(output, bindings));
  return logger;
}
