// The worker's loop: take jobs from its queues in reserver order while it has free lanes
// (up to --concurrency jobs in flight), sleep --interval when every queue was empty (unless new
// work, a freed lane, pause/resume or stop wakes it first), and otherwise poll again at once.
// New work wakes it only while it watches for it (see work-events.ts): it starts watching when a
// poll finds nothing (and polls once more once the watch is active, so a put in between is
// seen), and stops after it has been busy without a break for UNWATCH_AFTER_MS.
// Leaving is two phases: stop taking work, then drain what is in flight (bounded).
import type { Logger } from '../log.ts';
import type { QlessCaller } from '../client/script-caller.ts';
import type { JobJson } from '../client/types.ts';
import { LostLockError } from '../client/errors.ts';
import { asList, parseReply } from '../client/reply.ts';
import type { Reserver } from './reserver.ts';
import type { CallBatcher } from './call-batcher.ts';
import type { JobRunner } from './job/runner.ts';
import { WakeSignal } from './wake-signal.ts';

export interface PollerSettings {
  name: string;
  /** Seconds to sleep when every queue was empty. */
  interval: number;
  concurrency: number;
  /** Leave after this many jobs (0 = never). */
  maxJobs: number;
  /** Leave after the job during which RSS passed this many MB (0 = never). */
  maxMemory: number;
  paused: boolean;
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

export interface PollerDeps {
  client: QlessCaller;
  /** Pops go through it, so they share a round trip with the completes sent just before. */
  batcher: CallBatcher;
  reserver: Reserver;
  runner: JobRunner;
  logger: Logger;
  workWatch: WorkWatch;
}

/** Why the poller stopped taking work. */
export type LeaveReason = { kind: 'stop' } | { kind: 'recycle'; reason: string };

const MAX_ERROR_BACKOFF_MS = 5_000;
/** A worker that found work at every poll for this long stops watching for new work. */
const UNWATCH_AFTER_MS = 1_000;

export class Poller {
  readonly wake = new WakeSignal();
  private readonly freeLanes: number[];
  /** Jobs started and not yet ended. */
  private inFlight = 0;
  /** Told when the last job in flight ends (drain). */
  private allEnded: (() => void)[] = [];
  private leaving: LeaveReason | undefined;
  private paused: boolean;
  private started = 0;
  private errorBackoffMs = 0;
  private resumeJids: string[] = [];
  /** When a poll last found nothing (performance.now()). */
  private lastIdleAt = 0;

  constructor(
    private readonly settings: PollerSettings,
    private readonly deps: PollerDeps,
  ) {
    this.paused = settings.paused;
    // Highest lane last, so pop() hands out lane 0 first.
    this.freeLanes = Array.from({ length: settings.concurrency }, (_, lane) => settings.concurrency - 1 - lane);
  }

  get isPaused(): boolean {
    return this.paused;
  }

  pause(): void {
    this.paused = true;
    this.wake.wake();
  }

  resume(): void {
    this.paused = false;
    this.wake.wake();
  }

  /** Stop taking work; running jobs' signals fire (they may still finish). */
  stop(): void {
    this.leave({ kind: 'stop' });
    this.deps.runner.stop();
  }

  /** Takes and runs jobs until told to leave (stop, or a recycle condition); resolves with why. */
  async run(): Promise<LeaveReason> {
    if (this.settings.resume) await this.loadResumeList();
    while (!this.leaving) {
      if (this.paused) {
        await this.wake.next();
        continue;
      }
      const free = this.freeCount();
      if (free === 0) {
        await this.wake.next();
        continue;
      }
      if (this.resumeJids.length > 0) {
        await this.resumeOne();
        continue;
      }
      const since = this.wake.generation;
      let popped: JobJson[];
      try {
        popped = await this.pop(free);
        this.errorBackoffMs = 0;
      } catch (error) {
        this.errorBackoffMs = Math.min(MAX_ERROR_BACKOFF_MS, Math.max(100, this.errorBackoffMs * 2));
        this.deps.logger.error({ err: error, retryInMs: this.errorBackoffMs }, 'pop failed');
        await this.wake.sleep(this.errorBackoffMs);
        continue;
      }
      for (const job of popped) this.start(job);
      if (popped.length > 0) {
        this.busy();
        continue;
      }
      if (this.leaving) break;
      this.lastIdleAt = performance.now();
      // Watching starts before the sleep, and the queues are polled once more once it is active.
      if (!this.deps.workWatch.watchingForWork && (await this.watchForWork())) continue;
      await this.wake.sleep(this.settings.interval * 1000, since);
    }
    return this.leaving;
  }

  /** True once new work wakes the worker; false if that could not be set up (it polls meanwhile). */
  private async watchForWork(): Promise<boolean> {
    try {
      await this.deps.workWatch.watchForWork();
      return true;
    } catch (error) {
      this.deps.workWatch.unwatchForWork();
      this.deps.logger.warn({ err: error }, 'could not watch for new work; polling every --interval');
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
   * Waits for the jobs in flight; after `deadlineMs` the ones still running are handed back.
   * Then waits for every complete/fail/retry to be answered.
   */
  async drain(deadlineMs: number): Promise<void> {
    const { runner, logger } = this.deps;
    if (this.inFlight > 0) {
      logger.info({ jobs: runner.size, deadlineMs }, 'draining: waiting for jobs in flight');
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'deadline'>((resolve) => {
        timer = setTimeout(() => resolve('deadline'), deadlineMs);
      });
      const result = await Promise.race([this.jobsEnded().then(() => 'done' as const), deadline]);
      clearTimeout(timer);
      if (result === 'deadline') {
        logger.warn({ jobs: runner.size }, 'drain deadline passed: handing back the jobs still running');
        runner.abandonAll();
        await this.jobsEnded();
      }
    }
    await runner.writesSettled();
  }

  private leave(reason: LeaveReason): void {
    this.leaving ??= reason;
    this.wake.wake();
  }

  private freeCount(): number {
    let free = this.freeLanes.length;
    if (this.settings.maxJobs > 0) free = Math.min(free, this.settings.maxJobs - this.started);
    return free;
  }

  /** Pops up to `count` jobs, going through the queues in reserver order until enough were found. */
  private async pop(count: number): Promise<JobJson[]> {
    const { batcher, reserver } = this.deps;
    const jobs: JobJson[] = [];
    for (const queue of reserver.next()) {
      const wanted = count - jobs.length;
      if (wanted <= 0 || this.leaving) break;
      const reply = await batcher.call({ command: 'pop', args: [queue, this.settings.name, wanted] });
      jobs.push(...asList(parseReply<JobJson[]>(reply, 'pop')));
    }
    return jobs;
  }

  private start(json: JobJson): void {
    const lane = this.freeLanes.pop();
    if (lane === undefined) throw new Error('internal: a job was started without a free lane');
    this.started++;
    this.inFlight++;
    const ended = (): void => {
      this.freeLanes.push(lane);
      this.inFlight--;
      this.afterJob();
      this.wake.wake();
      if (this.inFlight === 0) for (const resolve of this.allEnded.splice(0)) resolve();
    };
    this.deps.runner.run(json, lane).then(ended, (error: unknown) => {
      this.deps.logger.error(
        { err: error, jid: json.jid, queue: json.queue, klass: json.klass, worker: this.settings.name },
        'job runner failed',
      );
      ended();
    });
  }

  /** Resolves once no job is in flight. */
  private jobsEnded(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.allEnded.push(resolve));
  }

  private afterJob(): void {
    const { maxJobs, maxMemory } = this.settings;
    if (maxJobs > 0 && this.started >= maxJobs) {
      this.leave({ kind: 'recycle', reason: `max-jobs: ran ${this.started} jobs` });
      return;
    }
    if (maxMemory > 0) {
      const rssMb = process.memoryUsage.rss() / (1024 * 1024);
      if (rssMb > maxMemory)
        this.leave({ kind: 'recycle', reason: `max-memory: RSS ${Math.round(rssMb)} MB is above ${maxMemory} MB` });
    }
  }

  /** --resume: the jobs this worker name still holds, from a previous life of this slot. */
  private async loadResumeList(): Promise<void> {
    const { client, logger } = this.deps;
    try {
      const reply = await client.call('workers', this.settings.name);
      const held = parseReply<{ jobs: string[] | Record<string, never>; stalled: string[] | Record<string, never> }>(
        reply,
        'workers',
      );
      this.resumeJids = [...asList(held?.jobs), ...asList(held?.stalled)];
      logger.info(
        { jids: this.resumeJids },
        this.resumeJids.length > 0 ? 'resuming the jobs this worker still holds' : 'no jobs to resume',
      );
    } catch (error) {
      logger.error({ err: error }, 'could not list the jobs to resume');
    }
  }

  /** Heartbeats the next held job (so it is surely still ours), reads it and runs it. */
  private async resumeOne(): Promise<void> {
    const { client, logger } = this.deps;
    const jid = this.resumeJids.shift();
    if (jid === undefined) return;
    try {
      await client.call('heartbeat', jid, this.settings.name);
      const json = parseReply<JobJson>(await client.call('get', jid), 'get');
      if (json?.state !== 'running' || json.worker !== this.settings.name) {
        logger.warn({ jid, state: json?.state }, 'not resuming a job that is no longer ours');
        return;
      }
      if (!this.leaving) this.start(json);
    } catch (error) {
      if (error instanceof LostLockError) logger.warn({ jid, err: error }, 'not resuming a job that is no longer ours');
      else logger.error({ jid, err: error }, 'could not resume a job');
    }
  }
}
