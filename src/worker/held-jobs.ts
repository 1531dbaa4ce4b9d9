// The jobs this worker holds, with their lock expiries, as the supervisor's watchdog and hand-back
// like to know them. Reports are throttled (report-throttle.ts): the first change after a quiet
// spell goes out in a microtask, so the jobs of one pop share it before any of their handlers can
// run; later ones are folded into one trailing report, about one a second from a busy worker.
// What a report can miss is covered elsewhere: the watchdog asks Redis which jobs a silent
// worker holds, and a dead worker's jobs are read from Redis before the hand-back; a stale extra
// entry only costs the supervisor one refused `retry`.
import type { HeldJob } from '../protocol/ipc.ts';
import { ReportThrottle } from './report-throttle.ts';
import { SmallMap } from './small-map.ts';

export class HeldJobs {
  /** By jid (a SmallMap: set and deleted per job, see small-map.ts). */
  private readonly jobs = new SmallMap<string, HeldJob>();
  private readonly throttle: ReportThrottle;

  constructor(report: (jobs: HeldJob[]) => void, clock?: () => number) {
    this.throttle = new ReportThrottle(() => report(this.list()), clock);
  }

  add(job: HeldJob): void {
    const { jid, queue, klass, expires, startedAt } = job;
    this.jobs.set(
      jid,
      startedAt === undefined ? { jid, queue, klass, expires } : { jid, queue, klass, expires, startedAt },
    );
    this.throttle.changed();
  }

  updateExpiry(jid: string, expires: number): void {
    const job = this.jobs.get(jid);
    if (!job || job.expires === expires) return;
    job.expires = expires;
    this.throttle.changed();
  }

  remove(jid: string): void {
    if (this.jobs.delete(jid)) this.throttle.changed();
  }

  has(jid: string): boolean {
    return this.jobs.has(jid);
  }

  list(): HeldJob[] {
    return this.jobs.values().map((job) => ({ ...job }));
  }

  get size(): number {
    return this.jobs.size;
  }

  /** Sends what is pending now (before exiting). */
  flush(): void {
    this.throttle.flush();
  }
}
