// Keeps one job's lock alive while its handler runs: heartbeats at half of the time left on the
// lock (from the expiry pop or the last heartbeat returned), so a handler never has to.
// A refused heartbeat means the lock is gone: the renewer reports it and stops.
import { LostLockError } from '../../client/errors.ts';
import type { DueTask, SharedTimer } from './shared-timer.ts';

export interface RenewableJob {
  readonly jid: string;
  /** Lock expiry, seconds since the epoch. */
  readonly expires: number;
  /** Renews the lock, returning the new expiry. */
  renewLock(): Promise<number>;
}

export interface LockRenewerHooks {
  /** The lock was renewed (or the handler renewed it itself); `expires` is the new expiry. */
  onRenewed(expires: number): void;
  /** The heartbeat was refused: another worker has the job, or it is no longer running. */
  onLost(error: Error): void;
  /** A heartbeat failed for another reason (connection); it is retried. */
  onError(error: unknown): void;
}

/** Never wait less than this between heartbeats, however short the lock. */
const MIN_DELAY_MS = 50;
/** After a failed (not refused) heartbeat, try again this soon at most. */
const RETRY_DELAY_MS = 1_000;

export class LockRenewer implements DueTask {
  private stopped = false;
  private inFlight = false;

  constructor(
    private readonly job: RenewableJob,
    private readonly hooks: LockRenewerHooks,
    /** The timer every renewer of the process shares. */
    private readonly timer: SharedTimer,
    private readonly now: () => number = () => Date.now() / 1000,
  ) {}

  start(): void {
    this.schedule(this.delayFor(this.job.expires));
  }

  /** The expiry changed outside the renewer (the handler called heartbeat itself). */
  renewed(expires: number): void {
    if (this.stopped) return;
    this.hooks.onRenewed(expires);
    if (!this.inFlight) this.schedule(this.delayFor(expires));
  }

  stop(): void {
    this.stopped = true;
    this.timer.cancel(this);
  }

  /** The shared timer says the next heartbeat is due. */
  due(): void {
    void this.beat();
  }

  private delayFor(expires: number): number {
    return Math.max(MIN_DELAY_MS, ((expires - this.now()) * 1000) / 2);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    // The shared timer is unref'd: the renewer alone must not keep a draining process alive.
    this.timer.schedule(this, delayMs);
  }

  private async beat(): Promise<void> {
    if (this.stopped) return;
    this.inFlight = true;
    try {
      const expires = await this.job.renewLock();
      if (this.stopped) return;
      this.hooks.onRenewed(expires);
      this.schedule(this.delayFor(expires));
    } catch (error) {
      if (this.stopped) return;
      if (error instanceof LostLockError) {
        this.stop();
        this.hooks.onLost(error);
        return;
      }
      this.hooks.onError(error);
      this.schedule(Math.min(RETRY_DELAY_MS, this.delayFor(this.job.expires)));
    } finally {
      this.inFlight = false;
    }
  }
}
