// How a worker takes work: with --resume, first the jobs its name still holds (each heartbeated
// first, so it is surely still ours); then pops from its queues in reserver order, through the
// call batcher so that a pop shares a round trip (and a script call) with the complete before it.
// After a reconnect (or a pop that failed, whose reply may have been lost) the next fetch first
// reconciles what the worker runs with what Redis says its name holds (reconciler.ts): between
// two pops, never during one. Once the manager takes no more work, a reconcile runs as soon as it
// is asked for and hands back what it finds, as it does with the jobs --resume had not come to.
// When every queue was empty it waits: for new work, which wakes it only while it watches ql:log
// (work-events.ts), or for --interval. It starts watching at the first empty poll (and polls once
// more once the watch is active, so a put in between is seen) and stops after it found work at
// every poll for UNWATCH_AFTER_MS. Every wait ends early at a wake-up (new work, a freed lane,
// pause, quiet).
import { parsePopReply, popCall } from '../client/commands.ts';
import type { JobJson } from '../client/types.ts';
import type { Logger } from '../log.ts';
import type { CallBatcher } from './call-batcher.ts';
import type { Reconciler } from './reconciler.ts';
import type { Reserver } from './reserver.ts';
import type { WakeSignal } from './wake-signal.ts';

export interface FetcherSettings {
  /** The worker name the jobs are popped for. */
  name: string;
  /** Seconds to wait when every queue was empty. */
  interval: number;
  /** First run the jobs this worker name still holds. */
  resume: boolean;
}

/** What wakes an idle worker when new work is put (ql:log, through WorkEvents). */
export interface WorkWatch {
  readonly watchingForWork: boolean;
  /** Resolves once new work wakes the worker. */
  watchForWork(): Promise<void>;
  unwatchForWork(): void;
}

export interface FetcherDeps {
  /** Pops go through it, so they share a round trip with the completes sent just before. */
  batcher: CallBatcher;
  reserver: Reserver;
  logger: Logger;
  workWatch: WorkWatch;
  /** Cuts the waits short. */
  wake: WakeSignal;
  /** Lists, adopts and hands back the jobs the worker name holds (--resume and reconciles). */
  reconciler: Reconciler;
}

const NO_JOBS: readonly JobJson[] = Object.freeze([]);
const MAX_ERROR_BACKOFF_MS = 5_000;
/** A worker that found work at every poll for this long stops watching for new work. */
const UNWATCH_AFTER_MS = 1_000;

export class Fetcher {
  private quieted = false;
  private resumeJids: string[] = [];
  private errorBackoffMs = 0;
  /** When a poll last found nothing (performance.now()). */
  private lastIdleAt = 0;
  /** A reconcile was asked for and has not started yet. */
  private reconcileDue = false;
  /** The manager takes no more work: a reconcile runs as soon as it is asked for, and hands back. */
  private handingBack = false;
  /** Reconciles run one after the other on this chain (a request during one runs another). */
  private reconciling: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly settings: FetcherSettings,
    private readonly deps: FetcherDeps,
  ) {}

  /** With --resume: lists the jobs this worker name still holds, from a previous life of its slot. */
  async start(): Promise<void> {
    if (this.settings.resume) await this.loadResumeList();
  }

  /** Takes nothing more: a pop on its way asks no further queue, a held job is not resumed, nothing waits for work. */
  quiet(): void {
    this.quieted = true;
  }

  /** A reconcile waits for the next fetch, which runs it even with no lane free (what it finds then goes back). */
  get wantsReconcile(): boolean {
    return this.reconcileDue;
  }

  /**
   * What this worker runs may differ from what Redis says its name holds (after a reconnect,
   * replies in flight at the break were lost): the next fetch reconciles first; once the manager
   * takes no more work, a reconcile runs at once.
   */
  requestReconcile(): void {
    this.reconcileDue = true;
    if (this.handingBack) void this.reconcile(0);
    else this.deps.wake.wake();
  }

  /**
   * The manager takes no more work (its loop has ended, no pop is on its way): from now on a
   * reconcile runs as soon as it is asked for and hands back what it finds, starting with the
   * jobs --resume had not come to. Resolves once no reconcile is due or under way.
   */
  async handBack(): Promise<void> {
    this.handingBack = true;
    if (this.resumeJids.length > 0) {
      this.resumeJids = [];
      this.reconcileDue = true;
    }
    do await this.reconcile(0);
    while (this.reconcileDue);
  }

  /**
   * Up to `count` jobs to run now. None after a wait: every queue was empty (it waited for new
   * work or --interval), or the pop failed (it backed off); or a held job was no longer ours.
   * A reconcile due comes first, even with `count` 0.
   */
  async fetch(count: number): Promise<readonly JobJson[]> {
    if (this.reconcileDue) return this.reconcile(count);
    if (count <= 0) return NO_JOBS;
    if (this.resumeJids.length > 0) return this.resumeOne();
    const { batcher, reserver, wake, logger, workWatch } = this.deps;
    // A wake-up that comes while the pops are on their way cuts the wait after them short.
    const since = wake.generation;
    let jobs: JobJson[] | undefined;
    try {
      for (const queue of reserver.next()) {
        const wanted = count - (jobs === undefined ? 0 : jobs.length);
        if (wanted <= 0 || this.quieted) break;
        const popped = parsePopReply(await batcher.call(popCall(queue, this.settings.name, wanted)));
        if (jobs === undefined) jobs = popped;
        else jobs.push(...popped);
      }
      this.errorBackoffMs = 0;
    } catch (error) {
      this.errorBackoffMs = Math.min(MAX_ERROR_BACKOFF_MS, Math.max(100, this.errorBackoffMs * 2));
      logger.error({ err: error, retryInMs: this.errorBackoffMs }, 'pop failed');
      // It may have run all the same (its reply lost with the connection, or unreadable): its
      // jobs would be held under the name unknown here. Reconciled after the backoff.
      this.reconcileDue = true;
      await wake.sleep(this.errorBackoffMs);
      return NO_JOBS;
    }
    if (jobs !== undefined && jobs.length > 0) {
      this.busy();
      return jobs;
    }
    if (this.quieted) return NO_JOBS;
    this.lastIdleAt = performance.now();
    // Watching starts before the wait, and the queues are polled once more once it is active.
    if (!workWatch.watchingForWork && (await this.watchForWork())) return NO_JOBS;
    await wake.sleep(this.settings.interval * 1000, since);
    return NO_JOBS;
  }

  /** True once new work wakes the worker; false if that could not be set up (it polls meanwhile). */
  private async watchForWork(): Promise<boolean> {
    const { workWatch, logger } = this.deps;
    try {
      await workWatch.watchForWork();
      return true;
    } catch (error) {
      workWatch.unwatchForWork();
      logger.warn({ err: error }, 'could not watch for new work; polling every --interval');
      return false;
    }
  }

  /** Jobs keep coming: after a while without an empty poll, new-work events are only overhead. */
  private busy(): void {
    const { workWatch } = this.deps;
    if (workWatch.watchingForWork && performance.now() - this.lastIdleAt >= UNWATCH_AFTER_MS)
      workWatch.unwatchForWork();
  }

  /**
   * Runs a reconcile after the ones under way, if one is still due then; resolves with the jobs
   * it adopted (at most `lanes`, none once quiet) for the manager to run.
   */
  private reconcile(lanes: number): Promise<readonly JobJson[]> {
    const { reconciler, logger } = this.deps;
    const run = this.reconciling.then(async (): Promise<readonly JobJson[]> => {
      if (!this.reconcileDue) return NO_JOBS;
      this.reconcileDue = false;
      try {
        const room = { lanes, taking: () => !this.quieted, resuming: this.resumeJids };
        return (await reconciler.reconcile(room)).adopted;
      } catch (error) {
        // Not asked for again here: a broken connection asks again once it is back.
        logger.error({ err: error }, 'could not compare the jobs this worker name holds with the ones it runs');
        return NO_JOBS;
      }
    });
    this.reconciling = run;
    return run;
  }

  private async loadResumeList(): Promise<void> {
    const { reconciler, logger } = this.deps;
    try {
      this.resumeJids = await reconciler.heldInRedis();
      logger.info(
        { jids: this.resumeJids },
        this.resumeJids.length > 0 ? 'resuming the jobs this worker still holds' : 'no jobs to resume',
      );
    } catch (error) {
      logger.error({ err: error }, 'could not list the jobs to resume');
    }
  }

  /** Heartbeats the next held job (so it is surely still ours) and reads it, in one round trip. */
  private async resumeOne(): Promise<readonly JobJson[]> {
    const jid = this.resumeJids.shift();
    if (jid === undefined) return NO_JOBS;
    const json = await this.deps.reconciler.adopt(jid);
    if (!json) return NO_JOBS;
    if (!this.quieted) return [json];
    // Quiet meanwhile: it stays held under the name, and the hand-back's reconcile returns it.
    this.reconcileDue = true;
    return NO_JOBS;
  }
}
