// Per-slot restart delay: a worker that keeps dying young is restarted with growing delays
// (never a busy loop); one that lived a while, or left when asked, is replaced at once.

export interface BackoffPolicy {
  /**
   * A worker that exits unexpectedly before it was ready, or less than this many ms after, counts
   * as dying young (measured from ready, so slow start-ups do not hide a crash loop and a healthy
   * worker killed from outside is replaced at once).
   */
  youngerThanMs: number;
  /** Delay after the second young death in a row (the first is replaced at once). */
  firstDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { youngerThanMs: 1_000, firstDelayMs: 250, maxDelayMs: 30_000 };

export class RestartBackoff {
  private youngDeaths = 0;

  constructor(private readonly policy: BackoffPolicy = DEFAULT_BACKOFF) {}

  /** Consecutive young deaths so far (0 = healthy). */
  get step(): number {
    return this.youngDeaths;
  }

  /**
   * Records how a worker of the slot ended; returns the delay in ms before the slot is filled again.
   * @param readyForMs how long it had been ready when it exited; undefined if it never was
   */
  afterExit(readyForMs: number | undefined, unexpected: boolean): number {
    if (!unexpected || (readyForMs !== undefined && readyForMs >= this.policy.youngerThanMs)) {
      this.youngDeaths = 0;
      return 0;
    }
    this.youngDeaths++;
    if (this.youngDeaths === 1) return 0;
    return Math.min(this.policy.maxDelayMs, this.policy.firstDelayMs * 2 ** (this.youngDeaths - 2));
  }

  /** Forget the streak (a code change may have fixed whatever killed the slot). */
  reset(): void {
    this.youngDeaths = 0;
  }
}
