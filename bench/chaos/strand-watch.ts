// Finds jobs stranded in `running`: locked under a worker name while no process runs them.
// Every SAMPLE_MS it asks Redis which jobs are running and under which name (the queue's
// `-locks` set, then each job's `worker` and `state`), then reads the handler run records: a
// held job is attended when a live process is inside its handler, unattended otherwise (a dead
// worker's job, a job popped but never started, a job whose handler returned but whose end has
// not reached Redis yet). A (jid, worker) pair seen unattended in consecutive samples is one
// stretch; its length is last sample − first sample, minus the time Redis was down or frozen
// within it (nothing can be run or ended then; the fault is Redis's, and those stretches are
// reported by the Redis faults' own figures). A stretch longer than STRANDED_AFTER_S is a
// stranding.
import type { Redis } from 'ioredis';
import type { RunLog } from './run-log.ts';

const SAMPLE_MS = 250;
/** The bound the suite holds the pool to. */
export const STRANDED_AFTER_S = 10;

export interface Stretch {
  jid: string;
  worker: string;
  /** Epoch ms of the first sample that saw it unattended. */
  since: number;
  /** Epoch ms of the last sample that saw it unattended. */
  last: number;
}

export interface Stranding {
  jid: string;
  worker: string;
  since: number;
  seconds: number;
  /** What the job was (filled in by the fault, which knows what it put). */
  job?: string;
}

interface Outage {
  from: number;
  to: number | undefined;
}

export class StrandWatch {
  private readonly stretches = new Map<string, Stretch>();
  private readonly finished: Stranding[] = [];
  private readonly outages: Outage[] = [];
  private longestStretch: Stranding | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private samples = 0;

  constructor(
    private readonly redis: Redis,
    private readonly queue: string,
    private readonly runs: RunLog,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  /** Redis is going down (stop or freeze) from now. */
  outageBegins(): void {
    this.outages.push({ from: Date.now(), to: undefined });
  }

  /** Redis answers again. */
  outageEnds(): void {
    const outage = this.outages.at(-1);
    if (outage && outage.to === undefined) outage.to = Date.now();
  }

  /** Stops sampling; the stretches still open are closed at their last sample. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    for (const key of [...this.stretches.keys()]) this.close(key);
  }

  /** Stretches longer than STRANDED_AFTER_S, longest first. */
  strandings(): Stranding[] {
    return this.finished.filter((s) => s.seconds > STRANDED_AFTER_S).sort((a, b) => b.seconds - a.seconds);
  }

  /** The longest unattended stretch seen (outages excluded), stranding or not. */
  get longest(): Stranding | undefined {
    return this.longestStretch;
  }

  get sampleCount(): number {
    return this.samples;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const started = Date.now();
      try {
        await this.sample();
      } catch {
        // Redis went away mid-sample: the next one tries again.
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, SAMPLE_MS - (Date.now() - started))));
    }
  }

  private async sample(): Promise<void> {
    const jids = await this.redis.zrange(`ql:q:${this.queue}-locks`, 0, -1);
    const pipeline = this.redis.pipeline();
    for (const jid of jids) pipeline.hmget(`ql:j:${jid}`, 'worker', 'state');
    const replies = (await pipeline.exec()) ?? [];
    // The run records are read after Redis answered: a handler that started before the reply is in them.
    this.runs.refresh();
    const now = Date.now();
    this.samples++;
    const seen = new Set<string>();
    jids.forEach((jid, index) => {
      const [error, fields] = replies[index] ?? [];
      if (error || !Array.isArray(fields)) return;
      const [worker, state] = fields as (string | null)[];
      if (state !== 'running' || !worker) return;
      if (this.runs.isRunning(jid)) return;
      const key = `${jid} ${worker}`;
      seen.add(key);
      const stretch = this.stretches.get(key);
      if (stretch) stretch.last = now;
      else this.stretches.set(key, { jid, worker, since: now, last: now });
    });
    for (const key of [...this.stretches.keys()]) if (!seen.has(key)) this.close(key);
  }

  private close(key: string): void {
    const stretch = this.stretches.get(key);
    if (!stretch) return;
    this.stretches.delete(key);
    const seconds = (stretch.last - stretch.since - this.outageWithin(stretch.since, stretch.last)) / 1000;
    const stranding = { jid: stretch.jid, worker: stretch.worker, since: stretch.since, seconds };
    if (seconds > (this.longestStretch?.seconds ?? -1)) this.longestStretch = stranding;
    this.finished.push(stranding);
  }

  /** Milliseconds of Redis outages within [from, to]. */
  private outageWithin(from: number, to: number): number {
    let total = 0;
    for (const outage of this.outages) {
      const end = Math.min(to, outage.to ?? to);
      const begin = Math.max(from, outage.from);
      if (end > begin) total += end - begin;
    }
    return total;
  }
}
