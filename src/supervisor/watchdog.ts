// Finds workers that stopped answering (a blocked event loop): each is pinged regularly, and one
// that has been silent past the lock expiry of a job it holds is to be killed, since its jobs can
// no longer be heartbeated. A silent worker that holds nothing is given a longer limit.
// What a worker holds comes from its IPC reports (throttled, so they may lag a little) and, once
// it is silent, from Redis: the jobs its name holds there, and which of their locks expired.
import type { ForkedWorker } from './forked-worker.ts';

export interface WatchdogPolicy {
  pingEveryMs: number;
  /** Silence shorter than this is never a problem (GC pauses, a busy moment). */
  silentAfterMs: number;
  /** A worker holding no job is killed after this much silence. */
  idleSilenceLimitMs: number;
}

export const DEFAULT_WATCHDOG: WatchdogPolicy = {
  pingEveryMs: 1_000,
  silentAfterMs: 3_000,
  idleSilenceLimitMs: 120_000,
};

/** The jobs Redis says a worker name holds: `held` with a live lock, `expired` past its lock expiry. */
export interface HeldInRedis {
  held: string[];
  expired: string[];
}

/** Asks Redis what a worker name holds (rejects when Redis does not answer in time). */
export type HeldLookup = (workerName: string) => Promise<HeldInRedis>;

export interface Doomed {
  worker: ForkedWorker;
  why: string;
  /** Every job it was known to hold (IPC report and Redis together). */
  held: string[];
}

interface RedisView {
  /** When the last lookup was asked (ms since the epoch). */
  askedAt: number;
  pending: boolean;
  result: HeldInRedis | undefined;
  /** When the lookup that gave `result` was asked. */
  resultAskedAt: number;
}

export class Watchdog {
  private lastPingAt = 0;
  private readonly views = new WeakMap<ForkedWorker, RedisView>();

  constructor(
    readonly policy: WatchdogPolicy = DEFAULT_WATCHDOG,
    private readonly lookup?: HeldLookup,
    /** Called when a lookup answered, so the loop inspects again. */
    private readonly onLookup: () => void = () => undefined,
  ) {}

  /** Pings the workers when due; returns those to kill, with why. */
  inspect(workers: readonly ForkedWorker[], now: number): Doomed[] {
    if (now - this.lastPingAt >= this.policy.pingEveryMs) {
      this.lastPingAt = now;
      for (const worker of workers) worker.ping();
    }
    const doomed: Doomed[] = [];
    for (const worker of workers) {
      if (!worker.alive || worker.killedFor !== undefined) continue;
      const silentMs = now - worker.lastHeardAt;
      if (silentMs < this.policy.silentAfterMs) continue;
      const redis = this.redisView(worker, now);
      const expired = new Set(worker.held.filter((job) => job.expires * 1000 <= now).map((job) => job.jid));
      for (const jid of redis?.expired ?? []) expired.add(jid);
      const held = new Set([...worker.held.map((job) => job.jid), ...(redis?.held ?? []), ...expired]);
      if (expired.size > 0) {
        doomed.push({
          worker,
          held: [...held],
          why: `unresponsive for ${Math.round(silentMs / 1000)} s, past the lock expiry of ${[...expired].join(', ')}`,
        });
      } else if (held.size === 0 && silentMs >= this.policy.idleSilenceLimitMs) {
        doomed.push({ worker, held: [], why: `unresponsive for ${Math.round(silentMs / 1000)} s` });
      }
    }
    return doomed;
  }

  /** When the next ping is due (the loop should wake by then). */
  nextPingAt(): number {
    return this.lastPingAt + this.policy.pingEveryMs;
  }

  /**
   * What Redis said the silent worker holds, from a lookup asked during this silence (older
   * answers may predate jobs it popped since); asks again every ping period.
   */
  private redisView(worker: ForkedWorker, now: number): HeldInRedis | undefined {
    if (!this.lookup) return undefined;
    let view = this.views.get(worker);
    if (!view) {
      view = { askedAt: 0, pending: false, result: undefined, resultAskedAt: 0 };
      this.views.set(worker, view);
    }
    if (!view.pending && now - view.askedAt >= this.policy.pingEveryMs) {
      const asked = view;
      asked.pending = true;
      asked.askedAt = now;
      this.lookup(worker.name).then(
        (result) => {
          asked.pending = false;
          asked.result = result;
          asked.resultAskedAt = now;
          this.onLookup();
        },
        () => {
          // Redis is down or slow: the IPC report alone decides meanwhile.
          asked.pending = false;
        },
      );
    }
    return view.result && view.resultAskedAt > worker.lastHeardAt ? view.result : undefined;
  }
}
