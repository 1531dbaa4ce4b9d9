// Runs one job from start to end: its sandbox, its handler, its heartbeats, and what becomes of
// it afterwards. Exactly one ending wins:
//   returned   → complete (unless the handler already completed, failed, retried, moved,
//                cancelled or timed it out itself)
//   threw      → fail with `<queue>-<ErrorName>`, the stack as message
//   lock lost  → leave it alone (another worker owns it, or it is gone)
//   abandoned  → the worker must go (drain deadline): hand it back with `retry`
// A job aborted because the worker is stopping that then throws is handed back, not failed.
import { chdir } from 'node:process';
import type { Logger } from '../../log.ts';
import type { QlessCaller, ScriptCall } from '../../client/script-caller.ts';
import type { JobJson } from '../../client/types.ts';
import { completeCall, failCall, retryCall } from '../../client/commands.ts';
import { LostLockError } from '../../client/errors.ts';
import { decodeData } from '../../client/reply.ts';
import type { CallBatcher } from '../call-batcher.ts';
import type { HeldJobs } from '../held-jobs.ts';
import type { JobMetrics } from '../job-metrics.ts';
import { type JobLines, workerJobLines } from '../log-output.ts';
import { loadHandler, type Handler } from '../handler/resolve.ts';
import { errorGroupName, errorMessage } from './failure.ts';
import { LockRenewer } from './lock-renewer.ts';
import { SharedTimer } from './shared-timer.ts';
import { runInJobScope } from './job-scope.ts';
import { JobSandboxes } from './sandbox.ts';
import { JobAbortError, RunningJob, type Ending } from './running-job.ts';
import { WorkerJob } from './worker-job.ts';
import type { LockEvent } from '../work-events.ts';
import { SmallMap } from '../small-map.ts';

export type JobOutcome = 'completed' | 'failed' | 'settled-by-handler' | 'lock-lost' | 'canceled' | 'handed-back';

export interface RunnerSettings {
  /** Worker name (also on every log line through the base logger). */
  name: string;
  /** Handler project root. */
  path: string;
  /** The slot's sandbox (the process cwd). */
  sandbox: string;
  concurrency: number;
}

export interface RunnerDeps {
  client: QlessCaller;
  batcher: CallBatcher;
  held: HeldJobs;
  logger: Logger;
  /** Records how jobs end, only when the pool serves metrics. */
  metrics?: JobMetrics;
}

/** How long a cancel of a job not (yet) running here is kept; how many such cancels at most. */
const EARLY_CANCEL_MS = 5_000;
const EARLY_CANCELS_KEPT = 1_000;

export class JobRunner {
  /** By jid (a SmallMap: set and deleted per job, see small-map.ts). */
  private readonly running = new SmallMap<string, RunningJob>();
  private readonly handlers = new Map<string, Promise<Handler>>();
  /** Cancels of jobs that were not running here when they came, by jid (rare: a Map is fine). */
  private readonly earlyCancels = new Map<string, number>();
  private readonly sandboxes: JobSandboxes;
  /** One timer for the lock renewals of every job in flight. */
  private readonly renewals: SharedTimer;

  /** The info lines of each job, written directly (a worker process's logger), else through pino. */
  private readonly jobLines: JobLines | undefined;

  constructor(
    private readonly settings: RunnerSettings,
    private readonly deps: RunnerDeps,
  ) {
    this.sandboxes = new JobSandboxes(settings.sandbox, settings.concurrency);
    this.jobLines = workerJobLines(deps.logger);
    this.renewals = new SharedTimer((error) => deps.logger.error({ err: error }, 'lock renewal failed'));
  }

  get size(): number {
    return this.running.size;
  }

  /**
   * A lock_lost / canceled event for a job: abort it and end it without touching it. A cancel of a
   * job not running here is kept for a moment: the reply of the pop that gave it to this worker may
   * still be on its way (it comes on another connection than the event), and the job then ends as
   * cancelled as soon as it arrives instead of running until its next heartbeat is refused.
   */
  lockLost(jid: string, event: LockEvent): void {
    const job = this.running.get(jid);
    if (!job) {
      if (event === 'canceled') this.noteEarlyCancel(jid);
      return;
    }
    const why = event === 'canceled' ? 'canceled' : 'lock-lost';
    job.abort(
      new JobAbortError(why, event === 'canceled' ? `job ${jid} was cancelled` : `the lock on job ${jid} was lost`),
    );
    job.end({ kind: 'lost', event });
  }

  /** The worker is stopping: the signal of every job in flight fires; their handlers may still finish. */
  signalStopping(): void {
    for (const job of this.running.values())
      if (!job.abortReason) job.abort(new JobAbortError('stopping', 'the worker is stopping'));
  }

  /** The drain deadline passed: give every job still running back to its queue. */
  abandonAll(): void {
    for (const job of this.running.values()) {
      job.abort(new JobAbortError('abandoned', 'the worker could not wait any longer for this job'));
      job.end({ kind: 'abandoned' });
    }
  }

  /** Resolves when every complete/fail/retry sent so far has its reply. */
  async writesSettled(): Promise<void> {
    await this.deps.batcher.settled();
  }

  private noteEarlyCancel(jid: string): void {
    const now = performance.now();
    for (const [known, at] of this.earlyCancels) if (now - at > EARLY_CANCEL_MS) this.earlyCancels.delete(known);
    if (this.earlyCancels.size >= EARLY_CANCELS_KEPT) return;
    this.earlyCancels.set(jid, now);
  }

  /** Whether a cancel of `jid` came in the last EARLY_CANCEL_MS, before its pop's reply (forgotten once asked). */
  private cancelledBeforeStart(jid: string): boolean {
    if (this.earlyCancels.size === 0) return false;
    const at = this.earlyCancels.get(jid);
    if (at === undefined) return false;
    this.earlyCancels.delete(jid);
    return performance.now() - at <= EARLY_CANCEL_MS;
  }

  /** Runs one popped job in the given lane (0 … concurrency-1); resolves with how it ended. */
  async run(json: JobJson, lane: number): Promise<JobOutcome> {
    const { logger, held, client } = this.deps;
    const started = performance.now();
    const run = new RunningJob(json, logger, this.settings.sandbox);
    // Popped again while an earlier run of it is still here: that run lost the lock (its
    // lock_lost event may simply not have arrived yet on the other connection).
    this.lockLost(json.jid, 'lock_lost');
    this.running.set(json.jid, run);
    held.add({ jid: json.jid, queue: json.queue, klass: json.klass, expires: json.expires, startedAt: Date.now() });
    this.deps.metrics?.started(json);
    const logInfo = logger.isLevelEnabled('info');

    let job: WorkerJob | undefined;
    let entered = false;
    // Its cancel came before the pop's reply: it ends as cancelled, its handler never runs.
    if (this.cancelledBeforeStart(json.jid)) this.lockLost(json.jid, 'canceled');
    else {
      try {
        run.sandbox = this.enterSandbox(lane);
        entered = true;
        job = new WorkerJob(client, json, run);
        run.renewer = this.startRenewer(run, job);
        if (logInfo) {
          // The base logger with the job's fields writes the same line as a child logger would,
          // without making one per job (run.logger is made only when something else needs it).
          if (!this.jobLines?.started(json.jid, json.queue, json.klass))
            logger.info({ jid: json.jid, queue: json.queue, klass: json.klass }, 'job started');
        }
        // The first ending wins: the handler's, or one from outside (lock lost, abandoned, escape).
        void this.callHandler(run, job).then((ending) => run.end(ending));
      } catch (error) {
        run.end({ kind: 'threw', error });
      }
    }
    const ending = await run.ended;
    run.renewer?.stop();
    if (this.running.get(json.jid) === run) this.running.delete(json.jid);

    const outcome = this.conclude(run, job, ending);
    // Only a directory this job was given (never the slot's whole sandbox, other lanes and all).
    if (entered) this.leaveSandbox(run.sandbox, run);
    const elapsedMs = performance.now() - started;
    this.deps.metrics?.ended(json, {
      outcome,
      settledBy: run.settledBy,
      group: run.failureGroup,
      seconds: elapsedMs / 1000,
    });
    const duration = Math.round(elapsedMs * 1000) / 1000;
    const lineWritten =
      outcome !== 'failed' &&
      logInfo &&
      this.jobLines?.ended(json.jid, json.queue, json.klass, outcome, duration, run.settledBy);
    if (!lineWritten && (outcome === 'failed' || logInfo)) {
      const fields = {
        jid: json.jid,
        queue: json.queue,
        klass: json.klass,
        outcome,
        duration,
        ...(run.settledBy ? { settledBy: run.settledBy } : {}),
      };
      if (outcome === 'failed') logger.warn(fields, 'job ended');
      else logger.info(fields, 'job ended');
    }
    return outcome;
  }

  private startRenewer(run: RunningJob, job: WorkerJob): LockRenewer {
    const { held } = this.deps;
    const renewer = new LockRenewer(
      job,
      {
        onRenewed: (expires) => held.updateExpiry(job.jid, expires),
        onLost: (error) => {
          run.abort(new JobAbortError('lock-lost', `heartbeat refused: ${error.message}`));
          run.end({ kind: 'lost', event: 'heartbeat-refused', error });
        },
        onError: (error) => run.logger.warn({ err: error }, 'heartbeat failed; retrying'),
      },
      this.renewals,
    );
    renewer.start();
    return renewer;
  }

  private loadHandler(klass: string, queue: string): Promise<Handler> {
    const key = `${queue}\0${klass}`;
    let handler = this.handlers.get(key);
    if (!handler) {
      handler = loadHandler(this.settings.path, klass, queue);
      // Only successes are kept: a missing module may be added (and the process is replaced on change anyway).
      handler.catch(() => this.handlers.delete(key));
      this.handlers.set(key, handler);
    }
    return handler;
  }

  private async callHandler(run: RunningJob, job: WorkerJob): Promise<Ending> {
    let handler: Handler;
    try {
      handler = await this.loadHandler(job.klass, job.queue);
    } catch (error) {
      return { kind: 'threw', error };
    }
    const scope = { jid: job.jid, escape: (error: unknown) => run.end({ kind: 'threw', error }) };
    try {
      await runInJobScope(scope, () => handler(job));
      return { kind: 'returned' };
    } catch (error) {
      return { kind: 'threw', error };
    }
  }

  private conclude(run: RunningJob, job: WorkerJob | undefined, ending: Ending): JobOutcome {
    const { held } = this.deps;
    const { json, settledBy } = run;
    if (ending.kind === 'lost') {
      // A newer run of the same jid (popped again) owns the held entry now.
      if (!this.running.has(json.jid)) held.remove(json.jid);
      if (settledBy) return 'settled-by-handler';
      if (ending.error) run.logger.warn({ err: ending.error }, 'lock lost: the job is no longer ours');
      else
        run.logger.warn(
          { event: ending.event },
          ending.event === 'canceled' ? 'job cancelled' : 'lock lost: the job is no longer ours',
        );
      return ending.event === 'canceled' ? 'canceled' : 'lock-lost';
    }
    if (settledBy) {
      held.remove(json.jid);
      return 'settled-by-handler';
    }
    const why = run.abortReason?.why;
    if (ending.kind === 'abandoned' || (ending.kind === 'threw' && (why === 'stopping' || why === 'abandoned'))) {
      this.write(retryCall(json, this.settings.name), run, 'hand back');
      return 'handed-back';
    }
    let error = ending.kind === 'threw' ? ending.error : undefined;
    if (ending.kind === 'returned') {
      // The handler may have changed job.data; complete stores what it holds now.
      const ref = job ?? { jid: json.jid, queue: json.queue, data: decodeData(json.data) };
      try {
        this.write(completeCall(ref, this.settings.name), run);
        return 'completed';
      } catch (refused) {
        // job.data left in a state JSON cannot hold (a BigInt, a cycle): the handler's doing.
        error = refused;
      }
    }
    const group = `${json.queue}-${errorGroupName(error)}`;
    run.failureGroup = group;
    run.logger.warn({ err: error, group }, 'handler failed');
    this.write(failCall(json, this.settings.name, group, errorMessage(error)), run);
    return 'failed';
  }

  /** Sends a call that ends the job; the job stays in the held set until Redis answered. */
  private write(call: ScriptCall, run: RunningJob, what = call.command): void {
    const { held } = this.deps;
    this.deps.batcher.send(call, (error) => {
      held.remove(run.jid);
      if (!error) return;
      if (error instanceof LostLockError) run.logger.warn({ err: error }, `${what} refused: the job is no longer ours`);
      else run.logger.error({ err: error }, `${what} failed`);
    });
  }

  /** The job's emptied directory; at concurrency 1 it is also the process cwd. */
  private enterSandbox(lane: number): string {
    const { dir, recreated } = this.sandboxes.prepare(lane);
    // process.cwd() is cached by Node, so the chdir costs a syscall only after a handler moved
    // away or the sandbox had to be made anew.
    if (this.settings.concurrency <= 1 && (recreated || process.cwd() !== dir)) chdir(dir);
    return dir;
  }

  private leaveSandbox(sandbox: string, run: RunningJob): void {
    try {
      const recreated = this.sandboxes.empty(sandbox);
      // A handler may have moved the process elsewhere; the next job starts where it should.
      const cwd = this.settings.concurrency <= 1 ? sandbox : this.settings.sandbox;
      if (recreated || process.cwd() !== cwd) chdir(cwd);
    } catch (error) {
      run.logger.error({ err: error, sandbox }, 'could not empty the sandbox');
    }
  }
}
