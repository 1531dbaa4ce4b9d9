// The settings every fault runs with, in one place, so the report can state them.
import { fileURLToPath } from 'node:url';

export const QUEUE = 'chaos';
/** Worker names are `chaos-<slot>`, the same in every pool of a fault. */
export const POOL_NAME = 'chaos';
export const HANDLERS = fileURLToPath(new URL('./handlers', import.meta.url));

/**
 * qless `heartbeat` (seconds a pop or heartbeat locks a job for). Shorter than qless's 60 s so a
 * lock that has to run out (the blocking poison job) costs less of the suite's time, but:
 * - a stranded job stays locked about this long (plus the grace period), so a stranding is far
 *   past the 10 s bound and cannot hide under it;
 * - the worker renews a lock at half of its time left, so every lock has at least 15 s left at
 *   any moment and the 12 s freeze of Redis expires none of them.
 */
export const HEARTBEAT_S = 30;
/** qless `grace-period` (its default): after a lock expires, the courtesy time before hand-on. */
export const GRACE_PERIOD_S = 15;
/** The pool's idle poll interval (--interval); jobs are put before the pool starts, so rarely used. */
export const INTERVAL_S = 1;
export const LOG_LEVEL = 'info';
/** Longest a fault may take to drain before what is left counts as unfinished. */
export const DRAIN_LIMIT_MS = 180_000;
