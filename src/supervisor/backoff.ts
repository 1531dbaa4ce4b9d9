// Per-slot restart delay: a worker that keeps dying young is restarted with growing delays
// (never a busy loop); one that lived a while, or left when asked, is replaced at once.

export interface BackoffPolicy {
  /**
   * A worker that exits unexpectedly before it was ready, or less than this many ms after, counts
   * as dying young (measured from ready, so slow start-ups do not hide a crash loop and a healthy
   * worker killed from outside is replaced at once).
   */
  youngerThanMs: number;
  /** Delay after the second young death in a row (the first is replaced at once). */
  firstDelayMs: number;
  maxDelayMs: number;
}

const DEFAULT_BACKOFF: BackoffPolicy = { youngerThanMs: 1_000, firstDelayMs: 250, maxDelayMs: 30_000 };

export interface Restart {
  /** Consecutive young deaths of the slot so far (0 = healthy): the backoff step. */
  streak: number;
  /** How long the slot waits before it is filled again. */
  delayMs: number;
}

/**
 * How a slot goes on after one of its workers ended.
 * @param streak the slot's consecutive young deaths before this exit
 * @param readyForMs how long the worker had been ready when it exited; undefined if it never was
 * @param unexpected nobody asked it to go (a crash, a watchdog kill)
 */
export function restartAfterExit(
  streak: number,
  readyForMs: number | undefined,
  unexpected: boolean,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
): Restart {
  if (!unexpected || (readyForMs !== undefined && readyForMs >= policy.youngerThanMs)) return { streak: 0, delayMs: 0 };
  const next = streak + 1;
  if (next === 1) return { streak: next, delayMs: 0 };
  return { streak: next, delayMs: Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** (next - 2)) };
}
