// Completed and failed jobs per minute of each queue over the last hour, derived from qless's own
// daily statistics: the dashboard samples every queue's counters (completions = run samples,
// failures, pops = wait samples) and keeps the differences. History starts when the dashboard does.
import type { Client } from '../../client/index.ts';

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

interface Counters {
  completed: number;
  failed: number;
  popped: number;
}

interface Sample extends Counters {
  at: number;
  day: number;
}

export interface QueueThroughput {
  /** Completions per minute, oldest minute first; the last entry is the current minute so far. */
  completed: number[];
  failed: number[];
  /** Today's totals (UTC day) from qless's statistics. */
  completedToday: number;
  failedToday: number;
  /** When a pop of this queue was last seen (ms), or null if none since the dashboard started. */
  lastPopAt: number | null;
}

export class ThroughputSampler {
  readonly #client: Client;
  readonly #intervalMs: number;
  readonly #samples = new Map<string, Sample[]>();
  readonly #lastPop = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  /** When the first sample was taken (ms). */
  since: number | null = null;

  constructor(client: Client, intervalMs: number) {
    this.#client = client;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    if (this.#timer) return;
    void this.sample();
    this.#timer = setInterval(() => void this.sample(), this.#intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** Takes one sample of every known queue now (also called by the timer). */
  sample(): Promise<void> {
    this.#running ??= this.#take().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #take(): Promise<void> {
    try {
      const now = Date.now();
      const queues = (await this.#client.queues()).map((counts) => counts.name);
      const stats = await Promise.all(queues.map((queue) => this.#client.queue(queue).stats(now / 1000)));
      const day = Math.floor(now / 86_400_000);
      this.since ??= now;
      queues.forEach((queue, index) => {
        const { run, wait, failures } = stats[index];
        const sample: Sample = { at: now, day, completed: run.count, failed: failures, popped: wait.count };
        const list = this.#samples.get(queue) ?? [];
        const previous = list.at(-1);
        if (previous && (sample.popped !== previous.popped || previous.day !== day)) this.#lastPop.set(queue, now);
        list.push(sample);
        while (list.length > 2 && list[1].at < now - HOUR_MS - MINUTE_MS) list.shift();
        this.#samples.set(queue, list);
      });
    } catch {
      // Redis away for a moment: the next tick tries again; the page shows the gap.
    }
  }

  /** The last hour of one queue, minute by minute. */
  of(queue: string, now = Date.now()): QueueThroughput {
    const completed = new Array<number>(60).fill(0);
    const failed = new Array<number>(60).fill(0);
    const list = this.#samples.get(queue) ?? [];
    const currentMinute = Math.floor(now / MINUTE_MS);
    for (let index = 1; index < list.length; index++) {
      const before = list[index - 1];
      const after = list[index];
      const slot = 59 - (currentMinute - Math.floor(after.at / MINUTE_MS));
      if (slot < 0 || slot > 59) continue;
      // A new UTC day starts every counter at 0: what the new day counted so far is the difference.
      const delta = (key: keyof Counters): number =>
        after.day === before.day ? Math.max(0, after[key] - before[key]) : after[key];
      completed[slot] += delta('completed');
      failed[slot] += delta('failed');
    }
    const last = list.at(-1);
    return {
      completed,
      failed,
      completedToday: last?.completed ?? 0,
      failedToday: last?.failed ?? 0,
      lastPopAt: this.#lastPop.get(queue) ?? null,
    };
  }
}
