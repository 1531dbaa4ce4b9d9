// Finds workers that stopped answering (a blocked event loop): each is pinged regularly, and one
// that has been silent past the lock expiry of a job it holds is to be killed, since its jobs can
// no longer be heartbeated. A silent worker that holds nothing is given a longer limit.
import type { ForkedWorker } from './forked-worker.ts';

export interface WatchdogPolicy {
  pingEveryMs: number;
  /** Silence shorter than this is never a problem (GC pauses, a busy moment). */
  silentAfterMs: number;
  /** A worker holding no job is killed after this much silence. */
  idleSilenceLimitMs: number;
}

export const DEFAULT_WATCHDOG: WatchdogPolicy = { pingEveryMs: 1_000, silentAfterMs: 3_000, idleSilenceLimitMs: 120_000 };

export class Watchdog {
  private lastPingAt = 0;

  constructor(readonly policy: WatchdogPolicy = DEFAULT_WATCHDOG) {}

  /** Pings the workers when due; returns those to kill, with why. */
  inspect(workers: readonly ForkedWorker[], now: number): { worker: ForkedWorker; why: string }[] {
    if (now - this.lastPingAt >= this.policy.pingEveryMs) {
      this.lastPingAt = now;
      for (const worker of workers) worker.ping();
    }
    const doomed: { worker: ForkedWorker; why: string }[] = [];
    for (const worker of workers) {
      if (!worker.alive || worker.killedFor !== undefined) continue;
      const silentMs = now - worker.lastHeardAt;
      if (silentMs < this.policy.silentAfterMs) continue;
      const expired = worker.held.filter((job) => job.expires * 1000 <= now);
      if (expired.length > 0) {
        doomed.push({ worker, why: `unresponsive for ${Math.round(silentMs / 1000)} s, past the lock expiry of ${expired.map((job) => job.jid).join(', ')}` });
      } else if (worker.held.length === 0 && silentMs >= this.policy.idleSilenceLimitMs) {
        doomed.push({ worker, why: `unresponsive for ${Math.round(silentMs / 1000)} s` });
      }
    }
    return doomed;
  }

  /** When the next ping is due (the loop should wake by then). */
  nextPingAt(): number {
    return this.lastPingAt + this.policy.pingEveryMs;
  }
}
