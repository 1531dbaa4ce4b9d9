// The jobs this worker holds, with their lock expiries, as the supervisor's watchdog and hand-back
// like to know them. Reports are throttled to one per REPORT_EVERY_MS: the first change after a
// quiet spell goes out at once (in a microtask, so the jobs of one pop share it, before any of
// their handlers can run), later ones are folded into one trailing report. A busy worker thus
// sends about one message a second instead of one per job (each message wakes the supervisor).
// What a report can miss is covered elsewhere: the watchdog asks Redis which jobs a silent
// worker holds, and a dead worker's jobs are read from Redis before the hand-back; a stale extra
// entry only costs the supervisor one refused `retry`.
import type { HeldJob } from '../protocol/ipc.ts';

export const REPORT_EVERY_MS = 1_000;

export class HeldJobs {
  private readonly jobs = new Map<string, HeldJob>();
  private timer: NodeJS.Timeout | undefined;
  private microtaskQueued = false;
  private lastSentAt = -Infinity;
  private dirty = false;

  constructor(
    private readonly report: (jobs: HeldJob[]) => void,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  add(job: HeldJob): void {
    const { jid, queue, klass, expires, startedAt } = job;
    this.jobs.set(
      jid,
      startedAt === undefined ? { jid, queue, klass, expires } : { jid, queue, klass, expires, startedAt },
    );
    this.changed();
  }

  updateExpiry(jid: string, expires: number): void {
    const job = this.jobs.get(jid);
    if (!job || job.expires === expires) return;
    job.expires = expires;
    this.changed();
  }

  remove(jid: string): void {
    if (this.jobs.delete(jid)) this.changed();
  }

  has(jid: string): boolean {
    return this.jobs.has(jid);
  }

  list(): HeldJob[] {
    return [...this.jobs.values()].map((job) => ({ ...job }));
  }

  get size(): number {
    return this.jobs.size;
  }

  /** Sends what is pending now (before exiting). */
  flush(): void {
    if (this.dirty) this.sendNow();
  }

  private changed(): void {
    this.dirty = true;
    if (this.timer || this.microtaskQueued) return;
    const wait = this.lastSentAt + REPORT_EVERY_MS - this.clock();
    if (wait <= 0) {
      this.microtaskQueued = true;
      queueMicrotask(() => {
        this.microtaskQueued = false;
        if (this.dirty) this.sendNow();
      });
      return;
    }
    this.timer = setTimeout(() => this.sendNow(), wait);
    // A pending report alone must not keep a draining process alive (it flushes before exiting).
    this.timer.unref();
  }

  private sendNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.dirty = false;
    this.lastSentAt = this.clock();
    this.report(this.list());
  }
}
