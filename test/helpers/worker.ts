// Runs the real bin/qless-worker (or another launcher) as a child process for black-box tests:
// collects its JSON log lines, waits for lines or exit, sends signals, and always kills the
// whole process group at the end (the supervisor and every worker it forked).
import { spawn, type ChildProcess } from 'node:child_process';
import { childEnv } from './child-env.ts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WORKER_BIN = fileURLToPath(new URL('../../bin/qless-worker', import.meta.url));

/** One parsed pino line (workers and supervisor log JSON when stdout is not a TTY). */
export interface LogLine {
  level: number;
  time: number;
  pid: number;
  msg: string;
  [field: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartOptions {
  /** Extra environment; QLESS_* and REDIS_URL from the test's own environment are removed first. */
  env?: Record<string, string | undefined>;
  /**
   * Working directory; default a fresh temporary directory (removed at the end), so the default
   * --workdir is private.
   */
  cwd?: string;
  /**
   * The program and its leading arguments; default [WORKER_BIN]. Tests of supervisor internals
   * use a fixture launcher.
   */
  command?: string[];
}

const DEFAULT_TIMEOUT = 20_000;
const live = new Set<WorkerRun>();

process.on('exit', () => {
  for (const run of live) run.killGroup();
});

interface Waiter {
  predicate: (line: LogLine) => boolean;
  resolve: (line: LogLine) => void;
}

export class WorkerRun {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The directory the process was started in. */
  readonly cwd: string;
  /** Every JSON line printed so far, in order. */
  readonly lines: LogLine[] = [];
  /** stdout lines that were not JSON. */
  readonly otherStdout: string[] = [];
  stderr = '';
  exit: Exit | undefined;

  private readonly ownsCwd: boolean;
  private waiters: Waiter[] = [];
  private readonly exited: Promise<Exit>;
  private partial = '';

  constructor(args: string[], options: StartOptions = {}) {
    this.ownsCwd = options.cwd === undefined;
    this.cwd = options.cwd ?? mkdtempSync(join(tmpdir(), 'qless-worker-run-'));
    const [program, ...leading] = options.command ?? [WORKER_BIN];
    // detached: the child leads its own process group, so the cleanup can kill every worker too.
    this.child = spawn(program, [...leading, ...args], {
      cwd: this.cwd,
      env: childEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    if (this.child.pid === undefined) throw new Error(`could not start ${program}`);
    this.pid = this.child.pid;
    live.add(this);
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => this.onStdout(chunk));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise<Exit>((resolve) => {
      // 'close' (not 'exit') so every line printed before the exit has been collected.
      this.child.once('close', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  private onStdout(chunk: string): void {
    const text = this.partial + chunk;
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const raw of parts) {
      if (raw.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        this.otherStdout.push(raw);
        continue;
      }
      if (typeof parsed !== 'object' || parsed === null || typeof (parsed as LogLine).msg !== 'string') {
        this.otherStdout.push(raw);
        continue;
      }
      const line = parsed as LogLine;
      this.lines.push(line);
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.predicate(line)) return true;
        waiter.resolve(line);
        return false;
      });
    }
  }

  /** The lines matching a predicate (or whose msg contains a text) so far. */
  find(match: string | ((line: LogLine) => boolean)): LogLine[] {
    const predicate = typeof match === 'string' ? (line: LogLine) => line.msg.includes(match) : match;
    return this.lines.filter(predicate);
  }

  /**
   * Resolves with the first line (already printed, or printed later) that matches; `after` skips the
   * first n lines (pass `run.lines.length` to wait only for new ones). Rejects on timeout or exit.
   */
  waitForLine(
    match: string | ((line: LogLine) => boolean),
    options: { timeout?: number; after?: number } = {},
  ): Promise<LogLine> {
    const predicate = typeof match === 'string' ? (line: LogLine) => line.msg.includes(match) : match;
    const already = this.lines.slice(options.after ?? 0).find(predicate);
    if (already) return Promise.resolve(already);
    const timeout = options.timeout ?? DEFAULT_TIMEOUT;
    return new Promise<LogLine>((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      const fail = (why: string): void => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${why} while waiting for a log line matching ${String(match)}\n${this.describe()}`));
      };
      const timer = setTimeout(() => fail(`no match after ${timeout} ms`), timeout);
      this.waiters.push(waiter);
      void this.exited.then((exit) => {
        if (this.waiters.includes(waiter)) {
          clearTimeout(timer);
          fail(`process exited (code ${exit.code}, signal ${exit.signal})`);
        }
      });
    });
  }

  /** Waits until the process (the supervisor) has exited and its output is collected. */
  async waitForExit(timeout = DEFAULT_TIMEOUT): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`process ${this.pid} still running after ${timeout} ms\n${this.describe()}`)),
        timeout,
      );
    });
    try {
      return await Promise.race([this.exited, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a signal to the supervisor only (not to its workers). */
  signal(signal: NodeJS.Signals): void {
    if (this.exit === undefined) this.child.kill(signal);
  }

  /** SIGKILL to the whole process group: supervisor, workers, anything they started. */
  killGroup(): void {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // The group is already gone.
    }
  }

  /** Kills everything that is left, waits for the exit, removes the temporary cwd. Safe to call twice. */
  async kill(): Promise<void> {
    this.killGroup();
    await this.exited;
    live.delete(this);
    if (this.ownsCwd) rmSync(this.cwd, { recursive: true, force: true });
  }

  /** The last log lines and stderr, for failure messages. */
  describe(last = 30): string {
    const tail = this.lines.slice(-last).map((line) => JSON.stringify(line));
    return [
      `--- last ${tail.length} log lines of pid ${this.pid}:`,
      ...tail,
      ...this.otherStdout.slice(-10),
      '--- stderr:',
      this.stderr.slice(-4000),
    ].join('\n');
  }
}

/** Starts bin/qless-worker with these arguments. Call `run.kill()` in an `after`/`finally`. */
export function startWorker(args: string[], options: StartOptions = {}): WorkerRun {
  return new WorkerRun(args, options);
}

/** Runs bin/qless-worker to completion (for option errors, --help, --version) and returns its output. */
export async function runWorkerToExit(
  args: string[],
  options: StartOptions & { timeout?: number } = {},
): Promise<Exit & { stdout: string; stderr: string }> {
  const run = new WorkerRun(args, options);
  try {
    const exit = await run.waitForExit(options.timeout ?? DEFAULT_TIMEOUT);
    const stdout = [...run.lines.map((line) => JSON.stringify(line)), ...run.otherStdout].join('\n');
    return { ...exit, stdout, stderr: run.stderr };
  } finally {
    await run.kill();
  }
}

/** Polls `probe` until it returns something other than undefined/false/null, or fails after `timeout` ms. */
export async function eventually<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  options: { timeout?: number; interval?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeout ?? DEFAULT_TIMEOUT);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const suffix = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new Error(`timed out waiting for ${options.what ?? 'a condition'}${suffix}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.interval ?? 50));
  }
}

/** Whether a process id is still alive (a zombie waiting to be reaped counts as dead). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; the state letter follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}
