// The jobs this worker holds, with their lock expiries, as the supervisor's watchdog must know
// them: if this process dies, the supervisor hands exactly these back at once. A new job is
// reported before its handler runs (a handler may block or kill the process right away);
// removals and renewed expiries are coalesced, since a stale extra entry only costs the
// supervisor one refused `retry`.
import type { HeldJob } from './ipc.ts';

const COALESCE_MS = 25;

export class HeldJobs {
  private readonly jobs = new Map<string, HeldJob>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly report: (jobs: HeldJob[]) => void) {}

  /** Reported at once. */
  add(job: HeldJob): void {
    this.jobs.set(job.jid, { ...job });
    this.sendNow();
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
    this.report(this.list());
  }

  private sendSoon(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.sendNow(), COALESCE_MS);
    this.timer.unref();
  }
}
