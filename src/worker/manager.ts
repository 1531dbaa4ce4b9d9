// The jobs of one worker process: up to --concurrency lanes, each running one job at a time, fed
// by the fetcher while a lane is free and the worker is not paused (USR2 / CONT reach it as
// pause / resume). --max-jobs and --max-memory make it leave so that a fresh process takes over
// (recycle). Leaving is two named phases:
//   quiet()         take no new job: the fetcher stops; the jobs in flight carry on;
//   stop(deadline)  quiet, tell the jobs in flight that the worker is stopping (job.signal fires),
//                   wait for them until the deadline, hand back to their queues the ones still
//                   running, then wait until every complete/fail/retry sent has its answer.
//                   Jobs the name holds that no lane runs (a lost pop reply, --resume's rest) are
//                   handed back by the fetcher meanwhile, not left to their locks' expiry.
// A recycle quiets the manager by itself; its stop lets the jobs in flight finish undisturbed.
import type { JobJson } from '../client/types.ts';
import type { Logger } from '../log.ts';
import type { Fetcher } from './fetcher.ts';
import type { JobRunner } from './job/runner.ts';
import type { WakeSignal } from './wake-signal.ts';

export interface ManagerSettings {
  /** Worker name, for the log lines of jobs whose runner failed. */
  name: string;
  concurrency: number;
  /** Leave after this many jobs (0 = never). */
  maxJobs: number;
  /** Leave after the job during which RSS passed this many MB (0 = never). */
  maxMemory: number;
  /** Start paused (the pool was paused when this process was forked). */
  paused: boolean;
}

export interface ManagerDeps {
  fetcher: Fetcher;
  runner: JobRunner;
  logger: Logger;
  /** Woken when a lane frees up, on pause / resume and when quiet; shared with the fetcher's waits. */
  wake: WakeSignal;
}

/** Why the manager took no more jobs. */
export type LeaveReason = { kind: 'stop' } | { kind: 'recycle'; reason: string };

export class Manager {
  /** Lanes without a job; the highest last, so lane 0 is handed out first. */
  private readonly freeLanes: number[];
  /** Jobs started and not yet ended. */
  private inFlight = 0;
  private started = 0;
  /** Told when the last job in flight ends. */
  private allEnded: (() => void)[] = [];
  private paused: boolean;
  /** Set by quiet(): why no new job is taken. */
  private leaving: LeaveReason | undefined;
  /** Set by a stop that told the jobs: jobs started afterwards (a pop was on its way) are told too. */
  private jobsTold = false;
  private loop: Promise<LeaveReason> | undefined;
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly settings: ManagerSettings,
    private readonly deps: ManagerDeps,
  ) {
    this.paused = settings.paused;
    this.freeLanes = Array.from({ length: settings.concurrency }, (_, lane) => settings.concurrency - 1 - lane);
  }

  get isPaused(): boolean {
    return this.paused;
  }

  pause(): void {
    this.paused = true;
    this.deps.wake.wake();
  }

  resume(): void {
    this.paused = false;
    this.deps.wake.wake();
  }

  /** Takes and runs jobs until quiet (a stop, or a recycle condition); resolves with why. */
  run(): Promise<LeaveReason> {
    this.loop ??= this.takeWork();
    return this.loop;
  }

  /** Phase one: take no new job. Jobs already popped still start; jobs in flight carry on. */
  quiet(): void {
    this.leave({ kind: 'stop' });
  }

  /**
   * Phase two: quiet, then (for a stop, not a recycle) tell the jobs in flight that the worker is
   * stopping; wait for them until `deadline` (ms since the epoch), hand back the ones still
   * running, and wait until every write is answered. A second call returns the first one's
   * promise (its deadline holds), only telling the jobs if that was not done yet.
   */
  stop(deadline: number, why: LeaveReason['kind'] = 'stop'): Promise<void> {
    this.quiet();
    if (why === 'stop' && !this.jobsTold) {
      this.jobsTold = true;
      this.deps.runner.signalStopping();
    }
    this.stopped ??= this.finish(deadline);
    return this.stopped;
  }

  private async takeWork(): Promise<LeaveReason> {
    const { fetcher, wake } = this.deps;
    if (this.leaving) return this.leaving;
    await fetcher.start();
    while (!this.leaving) {
      const free = this.paused ? 0 : this.freeCount();
      // A reconcile is fetched even with no lane free: what it finds then goes back to its queue.
      if (free === 0 && !fetcher.wantsReconcile) {
        await wake.next();
        continue;
      }
      const jobs = await fetcher.fetch(free);
      for (const job of jobs) this.start(job);
    }
    return this.leaving;
  }

  private async finish(deadline: number): Promise<void> {
    const { fetcher, runner, logger } = this.deps;
    // A pop on its way when the manager went quiet still starts its jobs: wait for it.
    if (this.loop !== undefined) await this.loop;
    // No pop from here on: what the name holds that no lane runs goes back now, not after the drain.
    void fetcher.handBack();
    if (this.inFlight > 0) {
      const deadlineMs = Math.max(0, deadline - Date.now());
      logger.info({ jobs: runner.size, deadlineMs }, 'draining: waiting for jobs in flight');
      if (!(await this.jobsEndBefore(deadlineMs))) {
        logger.warn({ jobs: runner.size }, 'drain deadline passed: handing back the jobs still running');
        runner.abandonAll();
        await this.jobsEnded();
      }
    }
    // Including reconciles asked for during the drain (a reconnect).
    await fetcher.handBack();
    await runner.writesSettled();
  }

  private leave(reason: LeaveReason): void {
    if (!this.leaving) {
      this.leaving = reason;
      this.deps.fetcher.quiet();
    }
    this.deps.wake.wake();
  }

  private freeCount(): number {
    let free = this.freeLanes.length;
    if (this.settings.maxJobs > 0) free = Math.min(free, this.settings.maxJobs - this.started);
    return free;
  }

  private start(json: JobJson): void {
    const { runner, logger, wake } = this.deps;
    const lane = this.freeLanes.pop();
    if (lane === undefined) throw new Error('internal: a job was started without a free lane');
    this.started++;
    this.inFlight++;
    const ended = (): void => {
      this.freeLanes.push(lane);
      this.inFlight--;
      this.afterJob();
      wake.wake();
      if (this.inFlight === 0) for (const resolve of this.allEnded.splice(0)) resolve();
    };
    runner.run(json, lane).then(ended, (error: unknown) => {
      logger.error(
        { err: error, jid: json.jid, queue: json.queue, klass: json.klass, worker: this.settings.name },
        'job runner failed',
      );
      ended();
    });
    // Its handler has not run yet: it starts with its signal fired, like the others.
    if (this.jobsTold) runner.signalStopping();
  }

  /** Resolves once no job is in flight. */
  private jobsEnded(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.allEnded.push(resolve));
  }

  /** True once no job is in flight, false if some still are after `ms`. */
  private jobsEndBefore(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      void this.jobsEnded().then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
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
}
