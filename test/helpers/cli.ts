// Runs the real bin/qless as a child process for black-box tests: arguments and environment in,
// stdout, stderr and exit code out. Long-running commands (watch) can be started, read while
// they run, signalled and waited for.
import { spawn, type ChildProcess } from 'node:child_process';
import { childEnv } from './child-env.ts';
import { fileURLToPath } from 'node:url';

const QLESS_BIN = fileURLToPath(new URL('../../bin/qless', import.meta.url));

interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface CliOptions {
  /** Passed as QLESS_REDIS_URL (the tests' usual way to point at their private server). */
  redis?: string;
  /** Extra environment; a value of undefined removes the variable. */
  env?: Record<string, string | undefined>;
  /** Kill the command if it runs longer than this (ms); the result then has signal SIGKILL. */
  timeout?: number;
}

/** The test's own environment without anything that would point qless at another Redis. */
function cliEnv(options: CliOptions): NodeJS.ProcessEnv {
  const env = childEnv();
  // Readable times in the tests' expectations do not depend on the machine's zone.
  env.TZ = 'UTC';
  if (options.redis !== undefined) env.QLESS_REDIS_URL = options.redis;
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

class CliRun {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly done: Promise<CliResult>;

  constructor(args: readonly string[], options: CliOptions = {}) {
    this.child = spawn(process.execPath, [QLESS_BIN, ...args], {
      env: cliEnv(options),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), options.timeout ?? 30_000);
    this.done = new Promise<CliResult>((resolve) => {
      // 'close': every byte printed before the exit has been read.
      this.child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  /** Resolves once stdout (or stderr) contains the text; rejects if the command exits first or after `timeout` ms. */
  async waitFor(text: string, stream: 'stdout' | 'stderr' = 'stdout', timeout = 15_000): Promise<void> {
    const deadline = Date.now() + timeout;
    let exited = false;
    void this.done.then(() => {
      exited = true;
    });
    while (!this[stream].includes(text)) {
      if (exited)
        throw new Error(
          `qless exited before printing ${JSON.stringify(text)}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`,
        );
      if (Date.now() > deadline)
        throw new Error(
          `qless did not print ${JSON.stringify(text)} within ${timeout} ms\n` +
            `stdout: ${this.stdout}\nstderr: ${this.stderr}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

/** Starts `qless <args>` and leaves it running (call `signal` and await `done`). */
export function startQless(args: readonly string[], options: CliOptions = {}): CliRun {
  return new CliRun(args, options);
}

/** Runs `qless <args>` to its end. */
export function qless(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return new CliRun(args, options).done;
}

/** Runs `qless <args> --json`, expects exit code 0 and returns the parsed document. */
export async function qlessJson<T = unknown>(args: readonly string[], options: CliOptions = {}): Promise<T> {
  const result = await qless([...args, '--json'], options);
  if (result.code !== 0) throw new Error(`qless ${args.join(' ')} --json exited ${result.code}: ${result.stderr}`);
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`qless ${args.join(' ')} --json printed no single JSON document:\n${result.stdout}`);
  }
}
