// One worker process as the supervisor sees it: the fork, its IPC messages, what it holds,
// when it was last heard from, and why it leaves. Whatever the loop must look at is also pushed
// to the loop's queue as an event.
import { type ChildProcess, fork } from 'node:child_process';
import type { HeldJob, SupervisorMessage, WorkerConfig, WorkerMetricsReport } from '../protocol/ipc.ts';
import { isWorkerMessage } from '../protocol/ipc.ts';
import {
  afterKill,
  afterRecycle,
  afterStop,
  type Departure,
  type HandBackReason,
  type StopReason,
  UNASKED,
} from './departure.ts';
import type { SupervisorEvent } from './events.ts';

interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

interface ForkOptions {
  entry: string;
  config: WorkerConfig;
  /** Node flags of the child (the tsx loader). */
  execArgv: string[];
  stdout: 'inherit' | 'pipe';
  /** A process started ahead with these same settings (takeSpareWorker), instead of a fork. */
  spare?: ChildProcess;
  /** Where the child's ready, recycling and exit events go (the loop's queue). */
  onEvent: (event: SupervisorEvent) => void;
  /** Its held-jobs report changed (the pool status shows it). */
  onJobs?: () => void;
  /** Its metrics report; `reason`: why it hands jobs back if it does, as far as the supervisor knows. */
  onMetrics?: (report: WorkerMetricsReport, reason: Exclude<HandBackReason, 'worker-died'>) => void;
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
  exit: WorkerExit | undefined;
  /** Resident memory in bytes, from its last pong. */
  rssBytes: number | undefined;
  private leaving: Departure = UNASKED;
  /**
   * Why it hands back jobs it could not finish: the stop's reason, else it leaves by itself (a
   * recycle, whose announcement only comes after its jobs ended; or a TERM sent to it directly).
   */
  private leavingFor: Exclude<HandBackReason, 'worker-died'> = 'recycle';
  private stopSent = false;
  private pingId = 0;

  constructor(options: ForkOptions) {
    this.slot = options.config.slot;
    this.name = options.config.name;
    this.child =
      options.spare ??
      fork(options.entry, [], {
        cwd: options.config.sandbox,
        execArgv: options.execArgv,
        stdio: ['ignore', options.stdout, 'inherit', 'ipc'],
        serialization: 'json',
      });
    this.pid = this.child.pid ?? -1;
    const tell = (type: 'child-ready' | 'child-recycling' | 'child-exited'): void =>
      options.onEvent({ type, slot: this.slot, pid: this.pid });
    this.child.on('message', (message: unknown) => {
      this.lastHeardAt = Date.now();
      if (!isWorkerMessage(message)) return;
      switch (message.type) {
        case 'ready':
          this.readyAt = Date.now();
          tell('child-ready');
          break;
        case 'jobs':
          this.held = message.jobs;
          options.onJobs?.();
          break;
        case 'pong':
          if (typeof message.rss === 'number') this.rssBytes = message.rss;
          break;
        case 'metrics':
          options.onMetrics?.(message.report, this.leavingFor);
          break;
        case 'recycle':
          this.leaving = afterRecycle(this.leaving, message.reason);
          tell('child-recycling');
          break;
      }
    });
    // A failed spawn emits 'error' and then (usually) 'exit'; record it as an exit either way.
    this.child.on('error', () => {
      if (this.child.exitCode === null && this.child.signalCode === null && this.child.pid === undefined) {
        this.exit ??= { code: null, signal: null, at: Date.now() };
        tell('child-exited');
      }
    });
    this.child.on('exit', (code, signal) => {
      this.exit = { code, signal, at: Date.now() };
      tell('child-exited');
    });
    this.send({ type: 'config', config: options.config });
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** Why it leaves (or left), as far as the supervisor knows. */
  get departure(): Departure {
    return this.leaving;
  }

  /** It was sent `stop` (only the first stop is sent). */
  get toldToStop(): boolean {
    return this.stopSent;
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
   * deregister and exit 0. Only the first stop is sent.
   */
  stop(reason: StopReason, handBackAt: number): void {
    if (this.stopSent) return;
    this.stopSent = true;
    this.leaving = afterStop(this.leaving, reason);
    this.leavingFor = reason;
    this.send({ type: 'stop', handBackAt });
  }

  kill(why: string): void {
    if (!this.alive) return;
    this.leaving = afterKill(this.leaving, why);
    this.child.kill('SIGKILL');
  }
}
