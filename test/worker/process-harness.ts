// A small supervisor stand-in for testing one worker process on its own: forks
// src/worker/process.ts exactly as the supervisor does (tsx loader, cwd = sandbox, config as the
// first IPC message), records its IPC messages and JSON log lines, and always kills it at the end.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SupervisorMessage, WorkerConfig, WorkerMessage } from '../../src/protocol/ipc.ts';

/**
 * The ways a worker process can be started: its fork entry (from the launcher's bundle, or with
 * QLESS_WORKER_NO_BUNDLE=1 through tsx's in-thread CommonJS hooks), or tsx's ESM loader.
 */
export type EntryMode = 'cjs' | 'cjs-sources' | 'esm';
const FORK_ENTRY = fileURLToPath(new URL('../../src/worker/worker-entry.cjs', import.meta.url));
const ENTRIES: Record<EntryMode, { entry: string; execArgv: string[]; env?: Record<string, string> }> = {
  cjs: { entry: FORK_ENTRY, execArgv: [] },
  'cjs-sources': { entry: FORK_ENTRY, execArgv: [], env: { QLESS_WORKER_NO_BUNDLE: '1' } },
  esm: {
    entry: fileURLToPath(new URL('../../src/worker/process.ts', import.meta.url)),
    execArgv: ['--import', import.meta.resolve('tsx')],
  },
};
/** QLESS_TEST_WORKER_ENTRY=esm (or cjs-sources) runs these tests through the ESM loader (or tsx's hooks). */
const DEFAULT_MODE: EntryMode =
  (['esm', 'cjs-sources'] as const).find((mode) => mode === process.env.QLESS_TEST_WORKER_ENTRY) ?? 'cjs';

/** A worker's environment: the test's own, without a QLESS_WORKER_NO_BUNDLE its mode does not ask for. */
function entryEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (!('QLESS_WORKER_NO_BUNDLE' in extra)) delete env.QLESS_WORKER_NO_BUNDLE;
  return env;
}
export const HANDLERS = fileURLToPath(new URL('../fixtures/handlers', import.meta.url));

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class WorkerHarness {
  readonly child: ChildProcess;
  readonly config: WorkerConfig;
  readonly messages: WorkerMessage[] = [];
  readonly lines: LogLine[] = [];
  stderr = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private partial = '';
  private listeners: (() => void)[] = [];

  constructor(config: WorkerConfig, mode: EntryMode = DEFAULT_MODE) {
    this.config = config;
    mkdirSync(config.sandbox, { recursive: true });
    const { entry, execArgv, env } = ENTRIES[mode];
    this.child = fork(entry, [], {
      cwd: config.sandbox,
      execArgv,
      env: entryEnv(env),
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    live.add(this.child);
    const { stdout, stderr } = this.child;
    if (!stdout || !stderr) throw new Error('the worker was forked without stdout/stderr pipes');
    stdout.setEncoding('utf8');
    stdout.on('data', (chunk: string) => this.onStdout(chunk));
    stderr.setEncoding('utf8');
    stderr.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.child.on('message', (message: WorkerMessage) => {
      this.messages.push(message);
      this.notify();
    });
    this.exited = new Promise((resolve) => {
      let closed = false;
      const done = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (this.exit) return;
        this.exit = { code, signal };
        live.delete(this.child);
        this.notify();
        resolve(this.exit);
      };
      this.child.once('close', (code, signal) => {
        closed = true;
        done(code, signal);
      });
      // 'close' waits for stdout to end; give the last lines a moment, then trust 'exit'.
      this.child.once('exit', (code, signal) => {
        setTimeout(() => {
          if (!closed) done(code, signal);
        }, 300);
      });
    });
    this.send({ type: 'config', config });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  send(message: SupervisorMessage): void {
    if (this.child.connected) this.child.send(message);
  }

  /** Closes the IPC channel, as a dying supervisor does. */
  disconnect(): void {
    if (this.child.connected) this.child.disconnect();
  }

  private onStdout(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const raw of parts) {
      if (!raw.trim()) continue;
      try {
        this.lines.push(JSON.parse(raw) as LogLine);
      } catch {
        this.stderr += `[stdout] ${raw}\n`;
      }
    }
    this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  /** Waits until `probe` returns something truthy, re-checking on every message, line or exit. */
  async until<T>(probe: () => T | undefined | null | false, what: string, timeoutMs = 15_000): Promise<T> {
    const first = probe();
    if (first) return first;
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        const value = probe();
        if (value) {
          cleanup();
          resolve(value);
        } else if (this.exit) {
          cleanup();
          reject(
            new Error(`worker exited (${JSON.stringify(this.exit)}) while waiting for ${what}\n${this.describe()}`),
          );
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}\n${this.describe()}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((listener) => listener !== check);
      };
      this.listeners.push(check);
    });
  }

  waitForMessage<K extends WorkerMessage['type']>(type: K, after = 0): Promise<Extract<WorkerMessage, { type: K }>> {
    return this.until(
      () =>
        this.messages.slice(after).find((message) => message.type === type) as
          | Extract<WorkerMessage, { type: K }>
          | undefined,
      `IPC message ${type}`,
    );
  }

  waitForLine(predicate: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine> {
    return this.until(() => this.lines.find(predicate), what, timeoutMs);
  }

  /** The line that says how one job ended (the one with its outcome). */
  jobEnded(jid: string): LogLine | undefined {
    return this.lines.find((line) => line.jid === jid && typeof line.outcome === 'string');
  }

  waitForJobEnd(jid: string, timeoutMs?: number): Promise<LogLine> {
    return this.until(() => this.jobEnded(jid), `the end of job ${jid}`, timeoutMs);
  }

  async waitForExit(timeoutMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    await this.until(() => this.exit, 'exit', timeoutMs);
    return this.exited;
  }

  async kill(): Promise<void> {
    if (!this.exit) this.child.kill('SIGKILL');
    await this.exited;
  }

  describe(): string {
    return [...this.lines.slice(-25).map((line) => JSON.stringify(line)), '--- stderr:', this.stderr.slice(-3000)].join(
      '\n',
    );
  }
}

/** A fresh workdir for one test: its sandbox is removed by `cleanup`. */
export interface Workdir {
  dir: string;
  sandbox(slot?: number): string;
  cleanup(): void;
}

export function makeWorkdir(): Workdir {
  const dir = mkdtempSync(join(tmpdir(), 'qless-worker-process-'));
  return {
    dir,
    sandbox: (slot = 0) => join(dir, 'sandbox', `worker-${slot}`),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

let counter = 0;

/** A config with test defaults (short interval, one lane); override what the test is about. */
export function workerConfig(redis: string, workdir: Workdir, overrides: Partial<WorkerConfig> = {}): WorkerConfig {
  const slot = overrides.slot ?? 0;
  return {
    slot,
    name: `test-${process.pid}-${++counter}-${slot}`,
    queues: ['q'],
    interval: 0.5,
    path: join(HANDLERS, 'jobs'),
    sandbox: workdir.sandbox(slot),
    redis,
    concurrency: 1,
    reserver: 'ordered',
    resume: false,
    imports: [],
    maxJobs: 0,
    maxMemory: 0,
    paused: false,
    logLevel: 'info',
    shutdownTimeout: 30,
    ...overrides,
  };
}

export function startWorkerProcess(config: WorkerConfig, mode?: EntryMode): WorkerHarness {
  return new WorkerHarness(config, mode);
}
