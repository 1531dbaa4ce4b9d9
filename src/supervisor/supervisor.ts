// The supervisor: one reconcile loop in the shape of gunicorn's arbiter. Signal handlers, IPC
// messages, exits and file changes only record facts and wake the loop; each turn it handles the
// queued signals, then murders unresponsive workers (watchdog), reaps the exited ones (handing
// their jobs back), and manages the pool: spawns into each missing slot (with per-slot backoff)
// and retires slots above the target. Shutdown is two phases: stop everyone, then kill the rest.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { RestartBackoff } from './backoff.ts';
import { ForkedWorker } from './forked-worker.ts';
import { redactPassword, type Client } from '../client/index.ts';
import { handBack, unreportedJobs } from './handback.ts';
import type { HeldJob, WorkerConfig } from '../protocol/ipc.ts';
import { createLogDisplay, type LogDisplay } from './log-display.ts';
import type { WorkerOptions } from '../protocol/options.ts';
import { SignalQueue, type PoolSignal } from './signals.ts';
import { SupervisorRedis } from './redis-connection.ts';
import { CodeWatcher } from './code-watcher.ts';
import { Watchdog, type WatchdogPolicy } from './watchdog.ts';

// The CommonJS entry registers tsx's in-thread hooks itself: no loader thread (~25 MB) per worker.
const DEFAULT_ENTRY = fileURLToPath(new URL('../worker/worker-entry.cjs', import.meta.url));
/** How long a slot waits for the hand-back of its dead worker's jobs before it is refilled anyway. */
const HANDBACK_WAIT_MS = 3_000;
/** How long shutdown waits for hand-backs when Redis is slow or gone. */
const SHUTDOWN_HANDBACK_WAIT_MS = 10_000;
/** How long the watchdog waits for Redis to say what a silent worker holds. */
const WATCHDOG_LOOKUP_WAIT_MS = 2_000;
/** A stopping worker hands back its unfinished jobs this long before it would be killed. */
const HANDBACK_MARGIN_MS = 500;
/** The longest the loop sleeps without a reason to wake. */
const MAX_SLEEP_MS = 1_000;

/** Internal knobs for tests; never reachable from the command line. */
export interface SupervisorInternals {
  /** The worker entry module (a fake worker in supervisor tests). */
  entry?: string;
  watchdog?: WatchdogPolicy;
}

interface Slot {
  readonly index: number;
  readonly name: string;
  worker: ForkedWorker | undefined;
  readonly backoff: RestartBackoff;
  /** Not filled before this time (backoff). */
  notBefore: number;
  /** Pending hand-back of the previous worker's jobs; the slot is refilled once it settles. */
  handback: Promise<void> | undefined;
  /** The slot has had a worker before (the next fork is a restart). */
  used: boolean;
}

type Phase = 'running' | 'stopping' | 'killing' | 'stopped';

export class Supervisor {
  private readonly logger: Logger;
  private readonly display: LogDisplay;
  private readonly redis: SupervisorRedis;
  private readonly client: Client;
  private readonly signals: SignalQueue;
  private readonly watchdog: Watchdog;
  private readonly entry: string;
  private readonly execArgv: string[];
  private readonly slots = new Map<number, Slot>();
  private target: number;
  private paused = false;
  private phase: Phase = 'running';
  private shutdownDeadline = Infinity;
  private reloadRequested: string | undefined;
  /** Files under --path are being written: no worker is started until they settle. */
  private codeInFlux = false;
  private redisReady = false;
  private watcher: CodeWatcher | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;

  constructor(
    private readonly options: WorkerOptions,
    internals: SupervisorInternals = {},
  ) {
    this.display = createLogDisplay(options.logFormat, options.logLevel);
    this.logger = this.display.logger;
    this.redis = new SupervisorRedis(options.redis, this.logger);
    this.client = this.redis.client;
    this.signals = new SignalQueue(() => this.wake());
    this.watchdog = new Watchdog(
      internals.watchdog,
      // Only asked about silent workers; a Redis that does not answer leaves the IPC reports to decide.
      async (name) => {
        const held = await withTimeout(this.client.workers.get(name), WATCHDOG_LOOKUP_WAIT_MS);
        return { held: held.jobs, expired: held.stalled };
      },
      () => this.wake(),
    );
    this.entry = internals.entry ?? DEFAULT_ENTRY;
    // A TypeScript entry (test fakes) needs tsx's loader, resolved from this package so it works
    // wherever the package is installed; the default entry registers tsx by itself.
    this.execArgv = [
      ...workerV8Flags(process.env.NODE_OPTIONS),
      ...(this.entry.endsWith('.cjs') ? [] : ['--import', import.meta.resolve('tsx')]),
    ];
    this.target = options.workers;
  }

  private wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    }).then(() => {
      this.wakeUp = undefined;
      this.woken = false;
    });
  }

  /** Runs until shut down; resolves to the exit code. */
  async run(): Promise<number> {
    this.signals.install();
    this.logger.info(
      { options: { ...this.options, redis: redactPassword(this.options.redis) }, pid: process.pid },
      `qless-worker supervisor starting: ${this.target} worker(s) on ${this.options.queues.join(', ')}`,
    );
    mkdirSync(this.sandboxRoot(), { recursive: true });
    void this.redis.whenReady().then(() => {
      this.redisReady = true;
      this.wake();
    });
    if (this.options.watch) await this.startWatcher();

    for (;;) {
      try {
        this.turn();
      } catch (error) {
        this.logger.error({ err: error }, 'supervisor loop error (continuing)');
      }
      if (this.isStopped()) break;
      await this.sleep(this.nextWakeIn());
    }
    await this.finish();
    return 0;
  }

  private isStopped(): boolean {
    return this.phase === 'stopped';
  }

  private sandboxRoot(): string {
    return join(this.options.workdir, 'sandbox');
  }

  private async startWatcher(): Promise<void> {
    this.watcher = new CodeWatcher(
      this.options.path,
      [this.sandboxRoot()],
      (files) => {
        // Every worker was stopped at the burst's first event; the new ones start now, on the settled code.
        this.codeInFlux = false;
        this.logger.debug(
          { files },
          `code under --path settled: ${files.slice(0, 5).join(', ')}${files.length > 5 ? ', …' : ''}`,
        );
        this.wake();
      },
      (error) => this.logger.error({ err: error }, 'file watcher error'),
      (file) => {
        // At the first event, so no worker pops another job with the old code meanwhile.
        this.codeInFlux = true;
        this.reloadRequested = `change under --path: ${file}`;
        this.wake();
      },
    );
    try {
      await this.watcher.start();
      this.logger.info({ path: this.options.path }, `watching ${this.options.path} for changes`);
    } catch (error) {
      this.logger.error({ err: error }, 'could not watch --path; hot reload is off');
      this.watcher = undefined;
    }
  }

  /** One turn of the reconcile loop. */
  private turn(): void {
    for (const signal of this.signals.take()) this.handleSignal(signal);
    if (this.reloadRequested !== undefined) {
      const why = this.reloadRequested;
      this.reloadRequested = undefined;
      if (this.phase === 'running') this.rollingRestart(why);
    }
    this.murder();
    this.reap();
    if (this.phase === 'running') this.manage();
    else this.advanceShutdown();
  }

  private handleSignal(signal: PoolSignal): void {
    switch (signal) {
      case 'SIGTERM':
      case 'SIGQUIT':
      case 'SIGINT':
        if (this.phase === 'running') this.beginShutdown(signal);
        else if (signal === 'SIGINT' && this.phase === 'stopping')
          this.killEveryone(`second ${signal}: immediate shutdown`);
        return;
      case 'SIGHUP':
        if (this.phase === 'running') this.rollingRestart('SIGHUP');
        return;
      case 'SIGTTIN':
        this.target++;
        this.logger.info({ target: this.target }, `SIGTTIN: ${this.target} worker(s) wanted`);
        return;
      case 'SIGTTOU':
        this.target = Math.max(1, this.target - 1);
        this.logger.info({ target: this.target }, `SIGTTOU: ${this.target} worker(s) wanted`);
        return;
      case 'SIGUSR2':
        this.paused = true;
        this.logger.info('SIGUSR2: workers pause polling');
        for (const worker of this.liveWorkers()) worker.send({ type: 'pause' });
        return;
      case 'SIGCONT':
        this.paused = false;
        this.logger.info('SIGCONT: workers resume polling');
        for (const worker of this.liveWorkers()) worker.send({ type: 'resume' });
        return;
    }
  }

  private liveWorkers(): ForkedWorker[] {
    const workers: ForkedWorker[] = [];
    for (const slot of this.slots.values()) if (slot.worker?.alive) workers.push(slot.worker);
    return workers;
  }

  /** Every worker stops at once (nothing pops with old code) and each slot is refilled as soon as its worker exits. */
  private rollingRestart(why: string): void {
    const workers = this.liveWorkers().filter((worker) => worker.stopReason === undefined);
    this.logger.info({ workers: workers.length }, `rolling restart (${why})`);
    for (const worker of workers) worker.stop('reload', this.handBackAt(Date.now()));
    for (const slot of this.slots.values()) {
      // A code change may have fixed whatever made a slot crash: try again at once.
      slot.backoff.reset();
      slot.notBefore = 0;
    }
  }

  private murder(): void {
    for (const { worker, why, held } of this.watchdog.inspect(this.liveWorkers(), Date.now())) {
      this.logger.warn(
        { slot: worker.slot, workerPid: worker.pid, worker: worker.name, held },
        `watchdog: killing worker ${worker.name} (pid ${worker.pid}): ${why}`,
      );
      worker.kill(`watchdog: ${why}`);
    }
  }

  private reap(): void {
    for (const slot of this.slots.values()) {
      const worker = slot.worker;
      const exit = worker?.exit;
      if (!worker || !exit) continue; // no child, or still alive
      slot.worker = undefined;
      const clean = worker.leftCleanly;
      const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
      const reason =
        worker.killedFor ??
        (worker.recycleReason !== undefined
          ? `recycled: ${worker.recycleReason}`
          : worker.stopReason !== undefined
            ? `stopped (${worker.stopReason})`
            : 'died');
      const fields = {
        slot: slot.index,
        workerPid: worker.pid,
        worker: worker.name,
        code: exit.code,
        signal: exit.signal,
        lifetimeMs: worker.lifetimeMs,
        reason,
      };
      if (clean) this.logger.info(fields, `worker ${worker.name} (pid ${worker.pid}) exited (${how}, ${reason})`);
      else
        this.logger.warn(fields, `worker ${worker.name} (pid ${worker.pid}) exited unexpectedly (${how}, ${reason})`);

      const delay = slot.backoff.afterExit(
        worker.readyForMs,
        !clean && worker.stopReason === undefined && worker.recycleReason === undefined,
      );
      slot.notBefore = Date.now() + delay;
      if (delay > 0 && this.phase === 'running' && slot.index < this.target) {
        this.logger.warn(
          { slot: slot.index, worker: slot.name, step: slot.backoff.step, delayMs: delay },
          `slot ${slot.index} keeps dying young; next start in ${delay} ms (backoff step ${slot.backoff.step})`,
        );
      }
      if (!clean || worker.held.length > 0) slot.handback = this.handBackJobsOf(slot, worker.held);
    }
  }

  /**
   * Hands back what the dead worker held. The slot stays empty until that is done (or took too
   * long), so its replacement, which has the same name, cannot pop before the hand-back.
   */
  private handBackJobsOf(slot: Slot, reported: HeldJob[]): Promise<void> {
    const work = (async (): Promise<void> => {
      let jobs = reported;
      // What Redis says the name holds beyond the last report (a worker can die between a pop and
      // its next report). Only safe before the replacement exists, hence the time limit.
      const extra = await withTimeout(unreportedJobs(this.client, slot.name, reported), HANDBACK_WAIT_MS).catch(
        (error: unknown) => {
          this.logger.error({ worker: slot.name, err: error }, 'could not list the jobs of a dead worker');
          return undefined;
        },
      );
      if (extra) jobs = [...reported, ...extra];
      if (jobs.length > 0) await handBack(this.client, slot.name, jobs, this.logger);
    })().catch((error: unknown) => {
      this.logger.error({ worker: slot.name, err: error }, 'hand-back failed');
    });
    this.pendingHandbacks.add(work);
    void work.then(() => this.pendingHandbacks.delete(work));
    const gate = withTimeout(work, HANDBACK_WAIT_MS)
      .catch(() => undefined)
      .then(() => {
        if (slot.handback === gate) slot.handback = undefined;
        this.wake();
      });
    return gate;
  }

  /** Hand-backs still running; shutdown waits for them (within a limit). */
  private readonly pendingHandbacks = new Set<Promise<void>>();

  private slot(index: number): Slot {
    let slot = this.slots.get(index);
    if (!slot) {
      slot = {
        index,
        name: `${this.options.name}-${index}`,
        worker: undefined,
        backoff: new RestartBackoff(),
        notBefore: 0,
        handback: undefined,
        used: false,
      };
      this.slots.set(index, slot);
    }
    return slot;
  }

  private manage(): void {
    if (!this.redisReady) return;
    const now = Date.now();
    for (let index = 0; index < this.target; index++) {
      const slot = this.slot(index);
      if (slot.worker || slot.handback || now < slot.notBefore || this.codeInFlux) continue;
      this.spawn(slot);
    }
    for (const slot of [...this.slots.values()]) {
      if (slot.index < this.target) continue;
      if (slot.worker) slot.worker.stop('retire', this.handBackAt(Date.now()));
      else if (!slot.handback) {
        this.slots.delete(slot.index);
        this.logger.info({ slot: slot.index, worker: slot.name }, `slot ${slot.index} retired`);
        void this.deregister([slot.name]);
      }
    }
  }

  private spawn(slot: Slot): void {
    const sandbox = join(this.sandboxRoot(), `worker-${slot.index}`);
    try {
      mkdirSync(sandbox, { recursive: true });
    } catch (error) {
      this.logger.error({ slot: slot.index, sandbox, err: error }, 'could not create the sandbox; retrying');
      slot.notBefore = Date.now() + 1_000;
      return;
    }
    const config: WorkerConfig = {
      slot: slot.index,
      name: slot.name,
      queues: this.options.queues,
      interval: this.options.interval,
      path: this.options.path,
      sandbox,
      redis: this.options.redis,
      concurrency: this.options.concurrency,
      reserver: this.options.reserver,
      resume: this.options.resume,
      imports: this.options.imports,
      maxJobs: this.options.maxJobs,
      maxMemory: this.options.maxMemory,
      paused: this.paused,
      logLevel: this.options.logLevel,
      shutdownTimeout: this.options.shutdownTimeout,
    };
    let worker: ForkedWorker;
    try {
      worker = new ForkedWorker({
        entry: this.entry,
        config,
        execArgv: this.execArgv,
        stdout: this.display.workerStdout,
        wake: () => this.wake(),
      });
    } catch (error) {
      // fork itself failed (e.g. no more processes allowed): back off like a worker dying young.
      const delay = Math.max(1_000, slot.backoff.afterExit(undefined, true));
      slot.notBefore = Date.now() + delay;
      this.logger.error(
        { slot: slot.index, worker: slot.name, err: error, delayMs: delay },
        `could not fork worker ${slot.name}; next try in ${delay} ms`,
      );
      return;
    }
    this.display.attach(worker.child);
    const restart = slot.used;
    slot.used = true;
    slot.worker = worker;
    this.logger.info(
      { slot: slot.index, workerPid: worker.pid, worker: slot.name },
      `${restart ? 'restarted' : 'forked'} worker ${slot.name} (pid ${worker.pid})`,
    );
  }

  /** When a worker told to stop at `now` hands back what it still runs: --shutdown-timeout later, less a margin. */
  private handBackAt(now: number): number {
    return now + Math.max(0, this.options.shutdownTimeout * 1000 - HANDBACK_MARGIN_MS);
  }

  private beginShutdown(signal: PoolSignal): void {
    this.phase = 'stopping';
    this.shutdownDeadline = Date.now() + this.options.shutdownTimeout * 1000;
    const workers = this.liveWorkers();
    this.logger.info(
      { workers: workers.length, timeoutSeconds: this.options.shutdownTimeout },
      `${signal}: graceful shutdown, waiting up to ${this.options.shutdownTimeout} s for in-flight jobs`,
    );
    for (const worker of workers) worker.stop('shutdown', this.shutdownDeadline - HANDBACK_MARGIN_MS);
    void this.watcher?.close();
    this.watcher = undefined;
  }

  private killEveryone(why: string): void {
    this.phase = 'killing';
    const workers = this.liveWorkers();
    this.logger.warn({ workers: workers.map((worker) => worker.name) }, `${why}: killing ${workers.length} worker(s)`);
    for (const worker of workers) worker.kill(why);
  }

  private advanceShutdown(): void {
    const live = this.liveWorkers();
    if (live.length === 0) {
      this.phase = 'stopped';
      return;
    }
    if (this.phase === 'stopping' && live.length > 0 && Date.now() >= this.shutdownDeadline) {
      this.killEveryone(`shutdown timeout of ${this.options.shutdownTimeout} s reached`);
    }
  }

  private nextWakeIn(): number {
    const now = Date.now();
    let next = Math.min(now + MAX_SLEEP_MS, this.watchdog.nextPingAt());
    if (this.phase === 'stopping') next = Math.min(next, this.shutdownDeadline);
    for (const slot of this.slots.values())
      if (!slot.worker && slot.notBefore > now) next = Math.min(next, slot.notBefore);
    return next - now;
  }

  private async deregister(names: string[]): Promise<void> {
    if (names.length === 0 || !this.redisReady) return;
    try {
      await withTimeout(this.client.workers.deregister(...names), HANDBACK_WAIT_MS);
    } catch (error) {
      this.logger.error({ workers: names, err: error }, 'could not deregister worker names');
    }
  }

  private async finish(): Promise<void> {
    this.signals.uninstall();
    await this.watcher?.close();
    if (this.pendingHandbacks.size > 0) {
      await withTimeout(Promise.all(this.pendingHandbacks), SHUTDOWN_HANDBACK_WAIT_MS).catch(() => {
        this.logger.error(
          'Redis did not answer: some jobs of killed workers were not handed back; ' +
            'they return to their queues when their locks expire',
        );
      });
    }
    // Names of workers that were killed or died never deregistered themselves.
    await this.deregister([...this.slots.values()].filter((slot) => slot.used).map((slot) => slot.name));
    await this.redis.close();
    this.logger.info('qless-worker supervisor stopped');
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/**
 * V8 flags of every worker process: a young generation of at most 1 MB a semi-space (V8's default
 * grows to 16 MB). Start-up garbage no longer leaves an idle worker with a large, mostly empty
 * young generation (about 4 MB less RSS idle, about 25 MB less after a run of jobs), at no
 * measured cost in throughput (`npm run bench`). A --max-semi-space-size in NODE_OPTIONS (which
 * the workers inherit) is left to rule instead.
 */
export function workerV8Flags(nodeOptions: string | undefined): string[] {
  return nodeOptions?.includes('semi-space-size') ? [] : ['--max-semi-space-size=1'];
}

/** Starts the supervisor with resolved options; resolves to the process exit code. */
export function runSupervisor(options: WorkerOptions, internals: SupervisorInternals = {}): Promise<number> {
  return new Supervisor(options, internals).run();
}
