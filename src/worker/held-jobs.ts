// The jobs this worker holds, with their lock expiries, as the supervisor's watchdog must know
// them: if this process dies or blocks, the supervisor hands these back. A new job is reported
// before its handler runs (a handler may block the event loop or kill the process right away,
// and the watchdog needs that job's expiry); removals and renewed expiries are throttled (at most
// one report per COALESCE_MS), since a stale extra entry only costs the supervisor one refused
// `retry`.
import type { HeldJob } from './ipc.ts';

const COALESCE_MS = 50;

export class HeldJobs {
  private readonly jobs = new Map<string, HeldJob>();
  private timer: NodeJS.Timeout | undefined;
  private addPending = false;

  constructor(private readonly report: (jobs: HeldJob[]) => void) {}

  /**
   * Reported before any handler can run: in a microtask, so the jobs of one pop (started in one
   * go) share a report, which still goes out before the first handler's call (that comes after
   * an await in the runner, queued later).
   */
  add(job: HeldJob): void {
    this.jobs.set(job.jid, { ...job });
    if (this.addPending) return;
    this.addPending = true;
    queueMicrotask(() => this.sendNow());
  }

  updateExpiry(jid: string, expires: number): void {
    const job = this.jobs.get(jid);
    if (!job || job.expires === expires) return;
    job.expires = expires;
    this.sendSoon();
  }

  remove(jid: string): void {
    if (this.jobs.delete(jid)) this.sendSoon();
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
    if (this.timer) this.sendNow();
  }

  private sendNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.addPending = false;
    this.report(this.list());
  }

  private sendSoon(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.sendNow(), COALESCE_MS);
    this.timer.unref();
  }
}
