// When a worker's reports to the supervisor go out (the held jobs, the metrics): the first change
// after a quiet spell at once (in a microtask, so the changes of one turn, e.g. the jobs of one
// pop, share it), later ones folded into one trailing report once REPORT_EVERY_MS has passed
// since the last. A busy worker thus sends about one message a second instead of one per job
// (each message wakes the supervisor).

export const REPORT_EVERY_MS = 1_000;

export class ReportThrottle {
  private timer: NodeJS.Timeout | undefined;
  private microtaskQueued = false;
  private lastSentAt = -Infinity;
  private pending = false;

  constructor(
    /** Sends the report (what is new, or the whole state, as the owner keeps it). */
    private readonly send: () => void,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Something the next report carries changed. */
  changed(): void {
    this.pending = true;
    if (this.timer || this.microtaskQueued) return;
    const wait = this.lastSentAt + REPORT_EVERY_MS - this.clock();
    if (wait <= 0) {
      this.microtaskQueued = true;
      queueMicrotask(() => {
        this.microtaskQueued = false;
        this.flush();
      });
      return;
    }
    this.timer = setTimeout(() => this.flush(), wait);
    // A pending report alone must not keep a draining process alive (its owner flushes before exiting).
    this.timer.unref();
  }

  /** Sends at once if a change has not been sent yet (before exiting). */
  flush(): void {
    if (!this.pending) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = false;
    this.lastSentAt = this.clock();
    this.send();
  }
}
