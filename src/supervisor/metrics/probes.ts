// The verdicts of /healthz and /readyz, as pure functions of what the supervisor knows.
import type { SlotView } from '../pool-view.ts';
import type { Verdict } from './http-server.ts';

/** The loop wakes at least once a second; this much silence means it is stuck. */
export const HEALTHY_WITHIN_MS = 5_000;

/** Alive: the reconcile loop turned lately. */
export function healthVerdict(lastTurnAt: number, now: number): Verdict {
  const silentMs = now - lastTurnAt;
  if (silentMs <= HEALTHY_WITHIN_MS) return { ok: true, reason: 'the supervisor loop is turning' };
  return { ok: false, reason: `the supervisor loop has not turned for ${Math.round(silentMs / 1000)} s` };
}

/** Ready for work: not shutting down, Redis answers, and at least one worker polls. */
export function readyVerdict(stopping: boolean, redisUp: boolean, slots: readonly SlotView[]): Verdict {
  if (stopping) return { ok: false, reason: 'the pool is shutting down' };
  if (!redisUp) return { ok: false, reason: 'Redis is not reachable' };
  const polling = slots.filter((slot) => slot.polling).length;
  if (polling > 0) return { ok: true, reason: `${polling} worker(s) polling` };
  const running = slots.filter((slot) => slot.state === 'running').length;
  return { ok: false, reason: running > 0 ? 'the pool is paused' : 'no worker is polling' };
}
