// How a worker takes work: with --resume, first the jobs its name still holds (each heartbeated
// first, so it is surely still ours); then pops from its queues in reserver order, through the
// call batcher so that a pop shares a round trip (and a script call) with the complete before it.
// When every queue was empty it waits: for new work, which wakes it only while it watches ql:log
// (work-events.ts), or for --interval. It starts watching at the first empty poll (and polls once
// more once the watch is active, so a put in between is seen) and stops after it found work at
// every poll for UNWATCH_AFTER_MS. Every wait ends early at a wake-up (new work, a freed lane,
// pause, quiet).
import type { Client } from '../client/client.ts';
import { getCall, heartbeatCall, parseGetReply, parsePopReply, popCall, sendCall } from '../client/commands.ts';
import { LostLockError } from '../client/errors.ts';
import type { JobJson } from '../client/types.ts';
import type { Logger } from '../log.ts';
import type { CallBatcher } from './call-batcher.ts';
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
  client: Client;
  /** Pops go through it, so they share a round trip with the completes sent just before. */
  batcher: CallBatcher;
  reserver: Reserver;
  logger: Logger;
  workWatch: WorkWatch;
  /** Cuts the waits short. */
  wake: WakeSignal;
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

  /**
   * Up to `count` jobs to run now. None after a wait: every queue was empty (it waited for new
   * work or --interval), or the pop failed (it backed off); or a held job was no longer ours.
   */
  async fetch(count: number): Promise<readonly JobJson[]> {
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

  private async loadResumeList(): Promise<void> {
    const { client, logger } = this.deps;
    try {
      const held = await client.workers.get(this.settings.name);
      this.resumeJids = [...held.jobs, ...held.stalled];
      logger.info(
        { jids: this.resumeJids },
        this.resumeJids.length > 0 ? 'resuming the jobs this worker still holds' : 'no jobs to resume',
      );
    } catch (error) {
      logger.error({ err: error }, 'could not list the jobs to resume');
    }
  }

  /** Heartbeats the next held job (so it is surely still ours) and reads it. */
  private async resumeOne(): Promise<readonly JobJson[]> {
    const { client, logger } = this.deps;
    const { name } = this.settings;
    const jid = this.resumeJids.shift();
    if (jid === undefined) return NO_JOBS;
    try {
      await sendCall(client, heartbeatCall({ jid }, name));
      const json = parseGetReply(await sendCall(client, getCall(jid)));
      if (json?.state !== 'running' || json.worker !== name) {
        logger.warn({ jid, state: json?.state }, 'not resuming a job that is no longer ours');
        return NO_JOBS;
      }
      return this.quieted ? NO_JOBS : [json];
    } catch (error) {
      if (error instanceof LostLockError) logger.warn({ jid, err: error }, 'not resuming a job that is no longer ours');
      else logger.error({ jid, err: error }, 'could not resume a job');
      return NO_JOBS;
    }
  }
}
