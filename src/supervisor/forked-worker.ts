// One worker process as the supervisor sees it: the fork, its IPC messages, what it holds,
// when it was last heard from, and how it ended.
import { fork, type ChildProcess } from 'node:child_process';
import type { HeldJob, SupervisorMessage, WorkerConfig } from '../protocol/ipc.ts';
import { isWorkerMessage } from '../protocol/ipc.ts';

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

/** Why the supervisor asked the worker to leave (absent: it was not asked). */
export type StopReason = 'reload' | 'retire' | 'shutdown';

export interface ForkOptions {
  entry: string;
  config: WorkerConfig;
  /** Node flags of the child (the tsx loader). */
  execArgv: string[];
  stdout: 'inherit' | 'pipe';
  /** Called whenever something happened that the reconcile loop should look at. */
  wake: () => void;
}

export class ForkedWorker {
  readonly slot: number;
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly startedAt = Date.now();
  readyAt: number | undefined;
  /** The jobs it holds, as last reported, with their lock expiries. */
  held: HeldJob[] = [];
  /** Last time any message came from it (the watchdog's liveness signal). */
  lastHeardAt = Date.now();
  stopReason: StopReason | undefined;
  /** Set when it announced it is leaving by itself (max-jobs, max-memory). */
  recycleReason: string | undefined;
  /** Set when the supervisor killed it, with why. */
  killedFor: string | undefined;
  exit: WorkerExit | undefined;
  private pingId = 0;

  constructor(options: ForkOptions) {
    this.slot = options.config.slot;
    this.name = options.config.name;
    this.child = fork(options.entry, [], {
      cwd: options.config.sandbox,
      execArgv: options.execArgv,
      stdio: ['ignore', options.stdout, 'inherit', 'ipc'],
      serialization: 'json',
    });
    this.pid = this.child.pid ?? -1;
    this.child.on('message', (message: unknown) => {
      this.lastHeardAt = Date.now();
      if (!isWorkerMessage(message)) return;
      switch (message.type) {
        case 'ready':
          this.readyAt = Date.now();
          options.wake();
          break;
        case 'jobs':
          this.held = message.jobs;
          break;
        case 'pong':
          break;
        case 'recycle':
          this.recycleReason = message.reason;
          options.wake();
          break;
      }
    });
    // A failed spawn emits 'error' and then (usually) 'exit'; record it as an exit either way.
    this.child.on('error', () => {
      if (this.child.exitCode === null && this.child.signalCode === null && this.child.pid === undefined) {
        this.exit ??= { code: null, signal: null, at: Date.now() };
        options.wake();
      }
    });
    this.child.on('exit', (code, signal) => {
      this.exit = { code, signal, at: Date.now() };
      options.wake();
    });
    this.send({ type: 'config', config: options.config });
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** Age in ms when it exited (or now). */
  get lifetimeMs(): number {
    return (this.exit?.at ?? Date.now()) - this.startedAt;
  }

  /** How long it had been ready when it exited (or until now); undefined if it never got ready. */
  get readyForMs(): number | undefined {
    return this.readyAt === undefined ? undefined : (this.exit?.at ?? Date.now()) - this.readyAt;
  }

  send(message: SupervisorMessage): void {
    if (!this.alive || !this.child.connected) return;
    // The callback swallows the race where the channel closes between the check and the write.
    this.child.send(message, (error) => {
      if (error) return;
    });
  }

  ping(): void {
    this.send({ type: 'ping', id: ++this.pingId });
  }

  /**
   * Asks it to stop polling, finish its jobs (handing back what still runs at `handBackAt`),
   * deregister and exit 0. Only the first reason counts.
   */
  stop(reason: StopReason, handBackAt: number): void {
    if (this.stopReason !== undefined) return;
    this.stopReason = reason;
    this.send({ type: 'stop', handBackAt });
  }

  kill(why: string): void {
    if (!this.alive) return;
    this.killedFor ??= why;
    this.child.kill('SIGKILL');
  }

  /** Whether the exit was asked for (stop, recycle) and clean; anything else is a death. */
  get leftCleanly(): boolean {
    return (
      this.exit !== undefined &&
      this.exit.code === 0 &&
      this.killedFor === undefined &&
      (this.stopReason !== undefined || this.recycleReason !== undefined)
    );
  }
}
