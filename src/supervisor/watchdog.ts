// Finds workers that stopped answering (a blocked event loop): each is pinged regularly, and one
// that has been silent past the lock expiry of a job it holds is to be killed, since its jobs can
// no longer be heartbeated. A silent worker that holds nothing is given a longer limit.
// What a worker holds comes from its IPC reports and, once it is silent, from Redis (holdings.ts).
import type { HeldJob } from '../protocol/ipc.ts';
import type { Departure } from './departure.ts';
import { type HeldInRedis, holdingsOf } from './holdings.ts';

export interface WatchdogPolicy {
  pingEveryMs: number;
  /** Silence shorter than this is never a problem (GC pauses, a busy moment). */
  silentAfterMs: number;
  /** A worker holding no job is killed after this much silence. */
  idleSilenceLimitMs: number;
}

const DEFAULT_WATCHDOG: WatchdogPolicy = {
  pingEveryMs: 1_000,
  silentAfterMs: 3_000,
  idleSilenceLimitMs: 120_000,
};

/** What the watchdog knows of one worker when it judges it. */
export interface Watched {
  /** Last time any IPC message came from it. */
  lastHeardAt: number;
  /** Its last held-jobs report (with lock expiries). */
  reported: readonly HeldJob[];
  /** What Redis said its name holds, asked after it was last heard; undefined while unknown. */
  inRedis: HeldInRedis | undefined;
}

export interface Verdict {
  why: string;
  /** Every job it was known to hold (IPC report and Redis together). */
  held: string[];
}

function silenceOf(lastHeardAt: number, now: number, policy: WatchdogPolicy): number | undefined {
  const silentMs = now - lastHeardAt;
  return silentMs < policy.silentAfterMs ? undefined : silentMs;
}

/** The watchdog's decision about one worker: kill it (why, and what it held) or leave it (undefined). */
export function judge(worker: Watched, now: number, policy: WatchdogPolicy = DEFAULT_WATCHDOG): Verdict | undefined {
  const silentMs = silenceOf(worker.lastHeardAt, now, policy);
  if (silentMs === undefined) return undefined;
  const { held, expired } = holdingsOf(worker.reported, worker.inRedis, now);
  const silence = `unresponsive for ${Math.round(silentMs / 1000)} s`;
  if (expired.length > 0) return { held, why: `${silence}, past the lock expiry of ${expired.join(', ')}` };
  if (held.length === 0 && silentMs >= policy.idleSilenceLimitMs) return { held: [], why: silence };
  return undefined;
}

/** A live child as the watchdog sees it. */
export interface WatchedChild {
  readonly name: string;
  readonly alive: boolean;
  readonly departure: Departure;
  readonly lastHeardAt: number;
  readonly held: readonly HeldJob[];
  ping(): void;
}

/** Asks Redis what a worker name holds (rejects when Redis does not answer in time). */
type HeldLookup = (workerName: string) => Promise<HeldInRedis>;

interface Doomed<W> extends Verdict {
  worker: W;
}

interface RedisView {
  /** When the last lookup was asked (ms since the epoch). */
  askedAt: number;
  pending: boolean;
  result: HeldInRedis | undefined;
  /** When the lookup that gave `result` was asked. */
  resultAskedAt: number;
}

/** Pings the children and asks Redis about the silent ones; `judge` decides. */
export class Watchdog {
  private lastPingAt = 0;
  private readonly views = new WeakMap<WatchedChild, RedisView>();

  constructor(
    private readonly policy: WatchdogPolicy = DEFAULT_WATCHDOG,
    private readonly lookup?: HeldLookup,
    /** Called when a lookup answered, so the loop inspects again. */
    private readonly onLookup: () => void = () => undefined,
  ) {}

  /** Pings the workers when due; returns those to kill, with why. */
  inspect<W extends WatchedChild>(workers: readonly W[], now: number): Doomed<W>[] {
    if (now - this.lastPingAt >= this.policy.pingEveryMs) {
      this.lastPingAt = now;
      for (const worker of workers) worker.ping();
    }
    const doomed: Doomed<W>[] = [];
    for (const worker of workers) {
      if (!worker.alive || worker.departure.kind === 'killed') continue;
      if (silenceOf(worker.lastHeardAt, now, this.policy) === undefined) continue;
      const watched = { lastHeardAt: worker.lastHeardAt, reported: worker.held, inRedis: this.redisView(worker, now) };
      const verdict = judge(watched, now, this.policy);
      if (verdict) doomed.push({ worker, ...verdict });
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
  private redisView(worker: WatchedChild, now: number): HeldInRedis | undefined {
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
