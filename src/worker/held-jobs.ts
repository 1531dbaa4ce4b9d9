// The jobs this worker holds, with their lock expiries, as the supervisor's watchdog must know
// them: if this process dies, the supervisor hands these back at once. Reports are throttled
// (at most one per COALESCE_MS) so a worker running thousands of jobs a second does not send
// thousands of messages: a stale extra entry costs the supervisor one refused `retry`, and a job
// popped just before a crash and not yet reported is still found by the supervisor in Redis
// (`ql:w:<worker>:jobs`).
import type { HeldJob } from './ipc.ts';

const COALESCE_MS = 50;

export class HeldJobs {
  private readonly jobs = new Map<string, HeldJob>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly report: (jobs: HeldJob[]) => void) {}

  add(job: HeldJob): void {
    this.jobs.set(job.jid, { ...job });
    this.sendSoon();
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
