// What the reconcile loop reacts to. Everything that happens to the supervisor arrives as one of
// these on its one queue (event-queue.ts), in the order it happened.
import type { PoolSignal } from './signals.ts';

export type SupervisorEvent =
  | { type: 'signal'; signal: PoolSignal }
  /** The first change of a burst under --path: no worker may start on the old code from now on. */
  | { type: 'code-changing'; file: string }
  /** The burst has settled (files relative to --path): workers may start again, on the new code. */
  | { type: 'code-settled'; files: string[] }
  /** The supervisor's Redis connection answered for the first time. */
  | { type: 'redis-ready' }
  /** A child said it is ready, announced it is recycling, or exited (its handle keeps the facts). */
  | { type: 'child-ready' | 'child-recycling' | 'child-exited'; slot: number; pid: number }
  /** The hand-back a slot waits for is done, or took too long. */
  | { type: 'handback-settled'; slot: number; handback: number }
  /** Redis answered the watchdog's question about a silent worker: judge it again. */
  | { type: 'holdings-answered' };
