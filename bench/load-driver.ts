// The bench's side of the dashboard part's load driver (bench/load-driver-child.ts): forks it,
// starts it, stops it and collects its tally. The child is killed whenever the bench exits, and
// ends itself if the bench goes away.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, DriverSettings, DriverTally, ParentMessage } from './load-driver-child.ts';

export type { DriverSettings, DriverTally };

const CHILD = fileURLToPath(new URL('./load-driver-child.ts', import.meta.url));
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class LoadDriver {
  readonly #child: ChildProcess;
  readonly #messages: ChildMessage[] = [];
  readonly #exited: Promise<number | null>;
  #wake: (() => void) | undefined;
  #hasExited = false;

  private constructor(readonly settings: DriverSettings) {
    this.#child = fork(CHILD, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    live.add(this.#child);
    let stderr = '';
    this.#child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-2_000);
    });
    this.#child.on('message', (message: ChildMessage) => {
      this.#messages.push(message);
      this.#wake?.();
    });
    this.#exited = new Promise((resolve) => {
      this.#child.once('exit', (code) => {
        live.delete(this.#child);
        this.#hasExited = true;
        if (code !== 0 && stderr.trim() !== '')
          this.#messages.push({ type: 'failed', message: stderr.trim().split('\n').at(-1) ?? '' });
        this.#wake?.();
        resolve(code);
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Forks the driver and resolves once it is connected and completing jobs. */
  static async start(settings: DriverSettings): Promise<LoadDriver> {
    const driver = new LoadDriver(settings);
    try {
      driver.#send({ type: 'run', settings });
      await driver.#expect('running', START_TIMEOUT_MS);
      return driver;
    } catch (error) {
      await driver.kill();
      throw error;
    }
  }

  /** Tells the driver to stop after the batches in flight; its tally. */
  async stop(): Promise<DriverTally> {
    this.#send({ type: 'stop' });
    try {
      const message = await this.#expect('stopped', STOP_TIMEOUT_MS);
      return message.tally;
    } finally {
      await this.kill();
    }
  }

  /** Ends the child if it still runs, and waits for it to exit. */
  async kill(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
    await this.#exited;
  }

  #send(message: ParentMessage): void {
    if (this.#child.connected) this.#child.send(message);
  }

  async #expect<T extends ChildMessage['type']>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<ChildMessage, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const failed = this.#messages.find((message) => message.type === 'failed');
      if (failed?.type === 'failed') throw new Error(`the load driver failed: ${failed.message}`);
      const found = this.#messages.find((message) => message.type === type);
      if (found) return found as Extract<ChildMessage, { type: T }>;
      if (this.#hasExited) throw new Error(`the load driver exited before it was ${type}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the load driver was not ${type} after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}
