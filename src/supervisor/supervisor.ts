// The supervisor: one reconcile loop in the shape of gunicorn's arbiter. Signal handlers, the
// code watcher, the children and the loop's background work only push events onto one queue.
// Each turn the loop hands the events to the pure decisions (reconcile.ts), lets the watchdog
// kill unresponsive workers, then reaps the exited ones (handing their jobs back) and manages the
// pool: spawns into each missing slot (with per-slot backoff) and retires slots above the target.
// Shutdown is two phases: stop everyone, then kill the rest. This file only does what the
// decisions say: fork, send, kill, hand back, log. Beside the loop it keeps the pool's status
// record in Redis (pool-status.ts) and, with --metrics-port, its metrics (metrics/).
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import type { Logger } from 'pino';
import { redactPassword } from '../client/index.ts';
import type { HeldJob } from '../protocol/ipc.ts';
import type { WorkerOptions } from '../protocol/options.ts';
import { compilerFlagsGiven, SUPERVISOR_SERVING_FLAGS } from '../protocol/v8-flags.ts';
import { CodeWatcher } from './code-watcher.ts';
import { restartReason } from './departure.ts';
import { EventQueue } from './event-queue.ts';
import type { SupervisorEvent } from './events.ts';
import { ForkedWorker } from './forked-worker.ts';
import { type HandedBack, handBackJobsOf } from './handback.ts';
import { askRedis } from './holdings.ts';
import { createLogDisplay, type LogDisplay } from './log-display.ts';
import {
  delaySlot,
  forkFailed,
  initialState,
  type LoopState,
  liveChildren,
  type PoolSettings,
  placeChild,
} from './loop-state.ts';
import type { MetricsEndpoint, PoolReadings } from './metrics/sources.ts';
import { PoolStatusPublisher } from './pool-status.ts';
import { type SlotView, viewSlots } from './pool-view.ts';
import { type Action, handleEvents, nextWakeAt, reconcile, type Turn } from './reconcile.ts';
import { SupervisorRedis } from './redis-connection.ts';
import type { SupervisorCalls } from './redis-calls.ts';
import { listenForSignals } from './signals.ts';
import { withTimeout } from './time-limit.ts';
import { Watchdog, type WatchdogPolicy } from './watchdog.ts';
import { DEFAULT_ENTRY, releaseSpareWorkers, takeSpareWorker, workerConfig, workerExecArgv } from './worker-launch.ts';

/** How long a slot waits for the hand-back of its dead worker's jobs before it is refilled anyway. */
const HANDBACK_WAIT_MS = 3_000;
/** How long shutdown waits for hand-backs when Redis is slow or gone. */
const SHUTDOWN_HANDBACK_WAIT_MS = 10_000;
/** How long the watchdog waits for Redis to say what a silent worker holds. */
const WATCHDOG_LOOKUP_WAIT_MS = 2_000;

type MetricsModule = typeof import('./metrics/start.ts');

/** Internal knobs for tests; never reachable from the command line. */
export interface SupervisorInternals {
  /** The worker entry module (a fake worker in supervisor tests). */
  entry?: string;
  watchdog?: WatchdogPolicy;
}

class Supervisor {
  private readonly logger: Logger;
  private readonly display: LogDisplay;
  private readonly redis: SupervisorRedis;
  private readonly calls: SupervisorCalls;
  private readonly events = new EventQueue<SupervisorEvent>();
  private readonly watchdog: Watchdog;
  private readonly entry: string;
  private readonly execArgv: string[];
  private readonly settings: PoolSettings;
  private state: LoopState<ForkedWorker>;
  private watcher: CodeWatcher | undefined;
  /** Hand-backs still running; shutdown waits for them (within a limit). */
  private readonly pendingHandbacks = new Set<Promise<void>>();
  private readonly status: PoolStatusPublisher;
  /** Only with --metrics-port. */
  private metrics: MetricsEndpoint | undefined;
  /** How many times each slot's process was replaced. */
  private readonly restarts = new Map<number, number>();
  private lastTurnAt = Date.now();

  constructor(
    private readonly options: WorkerOptions,
    internals: SupervisorInternals = {},
  ) {
    this.display = createLogDisplay(options.logFormat, options.logLevel);
    this.logger = this.display.logger;
    this.redis = new SupervisorRedis(options.redis, this.logger);
    this.calls = this.redis.calls;
    this.watchdog = new Watchdog(
      internals.watchdog,
      // Only asked about silent workers; a Redis that does not answer leaves the IPC reports to decide.
      (name) => withTimeout(askRedis(this.calls, name), WATCHDOG_LOOKUP_WAIT_MS),
      () => this.events.push({ type: 'holdings-answered' }),
    );
    this.entry = internals.entry ?? DEFAULT_ENTRY;
    this.execArgv = workerExecArgv(this.entry, process.env.NODE_OPTIONS);
    this.settings = { shutdownTimeout: options.shutdownTimeout };
    this.state = initialState(options.workers);
    this.status = new PoolStatusPublisher(
      options,
      () => ({
        target: this.state.target,
        paused: this.state.paused,
        stopping: this.state.phase !== 'running',
        slots: this.slots(),
      }),
      this.calls,
      this.logger,
    );
  }

  private slots(): SlotView[] {
    return viewSlots(this.state, this.options.name, this.restarts, Date.now());
  }

  /** With --metrics-port: listens before anything else starts (a port it cannot use is a usage error). */
  private async startMetrics(): Promise<void> {
    const address = this.options.metrics;
    if (!address) return;
    // Loaded here, not imported above: without --metrics-port prom-client is never loaded. require()
    // works both under tsx's CommonJS hooks (bin/qless-worker) and under its ESM loader.
    const { startMetrics } = createRequire(import.meta.url)('./metrics/start.ts') as MetricsModule;
    // Serving scrapes: V8 compiles and sizes its heap for speed again (src/protocol/v8-flags.ts).
    if (!compilerFlagsGiven([process.env.NODE_OPTIONS, ...process.execArgv].join(' ')))
      setFlagsFromString(SUPERVISOR_SERVING_FLAGS.join(' '));
    const readings: PoolReadings = {
      queues: this.options.queues,
      slots: () => this.slots(),
      lastTurnAt: () => this.lastTurnAt,
      stopping: () => this.state.phase !== 'running',
    };
    this.metrics = await startMetrics(address, readings, this.calls, this.logger);
  }

  /** Runs until shut down; resolves to the exit code. */
  async run(): Promise<number> {
    await this.startMetrics();
    const unlisten = listenForSignals((signal) => this.events.push({ type: 'signal', signal }));
    this.logger.info(
      { event: 'supervisor-starting', options: { ...this.options, redis: redactPassword(this.options.redis) } },
      `qless-worker supervisor starting: ${this.state.target} worker(s) on ${this.options.queues.join(', ')}`,
    );
    mkdirSync(this.sandboxRoot(), { recursive: true });
    void this.redis.whenReady().then(() => this.events.push({ type: 'redis-ready' }));
    this.status.start();
    // Not awaited: the workers start while the watcher scans --path; a file changed meanwhile still
    // counts (CodeWatcher.start(since)).
    if (this.options.watch) void this.startWatcher(Date.now());

    for (;;) {
      try {
        this.turn();
      } catch (error) {
        this.logger.error({ err: error }, 'supervisor loop error (continuing)');
      }
      if (this.state.phase === 'stopped') break;
      const now = Date.now();
      await this.events.wait(nextWakeAt(this.state, this.watchdog.nextPingAt(), now) - now);
    }
    unlisten();
    await this.finish();
    return 0;
  }

  private sandboxRoot(): string {
    return join(this.options.workdir, 'sandbox');
  }

  private slotName(index: number): string {
    return `${this.options.name}-${index}`;
  }

  private async startWatcher(since: number): Promise<void> {
    this.watcher = new CodeWatcher(
      this.options.path,
      [this.sandboxRoot()],
      (files) => this.events.push({ type: 'code-settled', files }),
      (error) => this.logger.error({ err: error }, 'file watcher error'),
      (file) => this.events.push({ type: 'code-changing', file }),
    );
    try {
      await this.watcher.start(since);
      this.logger.info({ event: 'watching', path: this.options.path }, `watching ${this.options.path} for changes`);
    } catch (error) {
      this.logger.error({ err: error }, 'could not watch --path; hot reload is off');
      this.watcher = undefined;
    }
  }

  /** One turn of the reconcile loop: the queued events, the watchdog, then reap and manage. */
  private turn(): void {
    this.lastTurnAt = Date.now();
    const before = this.state;
    const events = this.events.take();
    this.act(handleEvents(this.state, events, Date.now(), this.settings));
    this.murder(Date.now());
    this.act(reconcile(this.state, Date.now(), this.settings));
    // The first workers are forked in the turn that learns Redis is ready: spares left are not needed.
    if (this.state.redisReady) releaseSpareWorkers();
    // A fork, an exit, a ready worker, a stop, a pause: the published status shows it soon.
    if (events.length > 0 || this.state !== before) this.status.changed();
  }

  private act(turn: Turn<ForkedWorker>): void {
    this.state = turn.state;
    for (const action of turn.actions) this.perform(action);
  }

  private perform(action: Action<ForkedWorker>): void {
    switch (action.do) {
      case 'set-target':
        this.logger.info(
          { event: 'set-target', signal: action.signal, target: action.target },
          `${action.signal}: ${action.target} worker(s) wanted`,
        );
        return;
      case 'pause':
        this.logger.info({ event: 'pause' }, 'SIGUSR2: workers pause polling');
        for (const worker of action.children) worker.send({ type: 'pause' });
        return;
      case 'resume':
        this.logger.info({ event: 'resume' }, 'SIGCONT: workers resume polling');
        for (const worker of action.children) worker.send({ type: 'resume' });
        return;
      case 'rolling-restart':
        this.logger.info(
          { event: 'rolling-restart', why: action.why, file: action.file, workers: action.stop.length },
          `rolling restart (${action.why})`,
        );
        for (const worker of action.stop) worker.stop('reload', action.handBackAt);
        return;
      case 'shutdown':
        this.logger.info(
          {
            event: 'shutdown',
            signal: action.signal,
            workers: action.stop.length,
            timeoutSeconds: this.options.shutdownTimeout,
          },
          `${action.signal}: graceful shutdown, waiting up to ${this.options.shutdownTimeout} s for in-flight jobs`,
        );
        for (const worker of action.stop) worker.stop('shutdown', action.handBackAt);
        void this.watcher?.close();
        this.watcher = undefined;
        return;
      case 'kill-all':
        this.logger.warn(
          { event: 'kill-all', why: action.why, workers: action.kill.map((worker) => worker.name) },
          `${action.why}: killing ${action.kill.length} worker(s)`,
        );
        for (const worker of action.kill) worker.kill(action.why);
        return;
      case 'note-code-settled': {
        const { files } = action;
        this.logger.debug(
          { event: 'code-settled', files },
          `code under --path settled: ${files.slice(0, 5).join(', ')}${files.length > 5 ? ', …' : ''}`,
        );
        return;
      }
      case 'reap':
        this.reaped(action);
        return;
      case 'spawn':
        this.spawn(action.slot, action.restart);
        return;
      case 'stop':
        action.child.stop(action.reason, action.handBackAt);
        return;
      case 'retire': {
        const name = this.slotName(action.slot);
        this.logger.info({ event: 'slot-retired', slot: action.slot, worker: name }, `slot ${action.slot} retired`);
        void this.deregister([name]);
        return;
      }
    }
  }

  private murder(now: number): void {
    for (const { worker, why, held } of this.watchdog.inspect(liveChildren(this.state), now)) {
      this.logger.warn(
        { event: 'watchdog-kill', why, slot: worker.slot, workerPid: worker.pid, worker: worker.name, held },
        `watchdog: killing worker ${worker.name} (pid ${worker.pid}): ${why}`,
      );
      worker.kill(`watchdog: ${why}`);
    }
  }

  private reaped(action: Extract<Action<ForkedWorker>, { do: 'reap' }>): void {
    const { child: worker, reason, slot } = action;
    const exit = worker.exit ?? { code: null, signal: null };
    const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
    const fields = {
      event: 'worker-exited',
      slot,
      workerPid: worker.pid,
      worker: worker.name,
      code: exit.code,
      signal: exit.signal,
      lifetimeMs: worker.lifetimeMs,
      reason,
      clean: action.clean,
    };
    if (action.clean) this.logger.info(fields, `worker ${worker.name} (pid ${worker.pid}) exited (${how}, ${reason})`);
    else this.logger.warn(fields, `worker ${worker.name} (pid ${worker.pid}) exited unexpectedly (${how}, ${reason})`);
    if (action.backoff) {
      const { step, delayMs } = action.backoff;
      this.logger.warn(
        { event: 'backoff', slot, worker: worker.name, step, delayMs },
        `slot ${slot} keeps dying young; next start in ${delayMs} ms (backoff step ${step})`,
      );
    }
    if (this.state.phase === 'running' && slot < this.state.target) {
      const why = restartReason(worker.departure, exit.signal);
      if (why) this.metrics?.workerRestarted(why);
    }
    if (action.handback !== undefined) this.handBack(slot, worker.name, worker.held, action.handback);
  }

  /**
   * Hands back what the dead worker held. The slot stays empty until that is done (or took too
   * long), so its replacement, which has the same name, cannot pop before the hand-back.
   */
  private handBack(slot: number, name: string, reported: HeldJob[], handback: number): void {
    const { queues } = this.options;
    const work = handBackJobsOf(this.calls, name, reported, queues, HANDBACK_WAIT_MS, this.logger).then(
      (done: HandedBack) => {
        this.metrics?.handedBack(done.handedBack);
        this.metrics?.outOfRetries(done.outOfRetries);
      },
      (error: unknown) => {
        this.logger.error({ worker: name, err: error }, 'hand-back failed');
      },
    );
    this.pendingHandbacks.add(work);
    void work.then(() => this.pendingHandbacks.delete(work));
    void withTimeout(work, HANDBACK_WAIT_MS)
      .catch(() => undefined)
      .then(() => this.events.push({ type: 'handback-settled', slot, handback }));
  }

  private spawn(index: number, restart: boolean): void {
    const name = this.slotName(index);
    const sandbox = join(this.sandboxRoot(), `worker-${index}`);
    try {
      mkdirSync(sandbox, { recursive: true });
    } catch (error) {
      this.logger.error({ slot: index, sandbox, err: error }, 'could not create the sandbox; retrying');
      this.state = delaySlot(this.state, index, Date.now() + 1_000);
      return;
    }
    let worker: ForkedWorker;
    const spare = restart ? undefined : takeSpareWorker(this.entry, this.execArgv, this.display.workerStdout);
    try {
      worker = new ForkedWorker({
        entry: this.entry,
        config: workerConfig(this.options, { index, name, sandbox }, this.state.paused),
        execArgv: this.execArgv,
        stdout: this.display.workerStdout,
        spare,
        onEvent: (event) => this.events.push(event),
        onJobs: () => this.status.changed(),
        onMetrics: this.metrics ? (report, reason) => this.metrics?.workerReport(report, reason) : undefined,
      });
    } catch (error) {
      const failed = forkFailed(this.state, index, Date.now(), this.settings);
      this.state = failed.state;
      this.logger.error(
        { slot: index, worker: name, err: error, delayMs: failed.delayMs },
        `could not fork worker ${name}; next try in ${failed.delayMs} ms`,
      );
      return;
    }
    this.display.attach(worker.child);
    this.state = placeChild(this.state, index, worker);
    if (restart) this.restarts.set(index, (this.restarts.get(index) ?? 0) + 1);
    this.logger.info(
      { event: 'worker-forked', restart, spare: spare !== undefined, slot: index, workerPid: worker.pid, worker: name },
      `${restart ? 'restarted' : 'forked'} worker ${name} (pid ${worker.pid}${spare ? ', started ahead' : ''})`,
    );
  }

  private async deregister(names: string[]): Promise<void> {
    if (names.length === 0 || !this.state.redisReady) return;
    try {
      await withTimeout(this.calls.deregister(names), HANDBACK_WAIT_MS);
    } catch (error) {
      this.logger.error({ workers: names, err: error }, 'could not deregister worker names');
    }
  }

  private async finish(): Promise<void> {
    releaseSpareWorkers();
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
    const used = [...this.state.slots.values()].filter((slot) => slot.used);
    await this.deregister(used.map((slot) => this.slotName(slot.index)));
    await this.status.stop();
    await this.metrics?.close();
    await this.redis.close();
    this.logger.info({ event: 'supervisor-stopped' }, 'qless-worker supervisor stopped');
  }
}

/** Starts the supervisor with resolved options; resolves to the process exit code. */
export function runSupervisor(options: WorkerOptions, internals: SupervisorInternals = {}): Promise<number> {
  return new Supervisor(options, internals).run();
}
