// The pool as the outside sees it, from the loop's state: each slot's state, process and jobs in
// flight. Pure: the published pool status (pool-status.ts), the metrics' gauges and the
// readiness probe all read it.
import type { PoolJob, PoolSlot, PoolSlotState } from '../client/pools.ts';
import type { HeldJob } from '../protocol/ipc.ts';
import { type Child, type LoopState, type Slot, slotAt } from './loop-state.ts';

/** What the view reads of a child beyond what the loop reads (ForkedWorker has it). */
export interface ViewedChild extends Child {
  readonly name: string;
  readonly pid: number;
  /** ms since the epoch. */
  readonly startedAt: number;
  readonly readyAt: number | undefined;
  readonly rssBytes: number | undefined;
}

/** A slot as shown, and whether its worker polls for work now (ready, not leaving, pool not paused). */
export interface SlotView extends PoolSlot {
  polling: boolean;
}

export const SLOT_STATES: readonly PoolSlotState[] = ['running', 'starting', 'backing-off', 'stopping'];

export function slotState<C extends ViewedChild>(slot: Slot<C>, now: number): PoolSlotState {
  const child = slot.child;
  if (child?.alive) {
    if (child.toldToStop || child.departure.kind !== 'unasked') return 'stopping';
    return child.readyAt === undefined ? 'starting' : 'running';
  }
  // Empty (or its child just exited): waiting out a backoff, or to be filled (after a hand-back,
  // once Redis answers or the code settles).
  return slot.notBefore > now ? 'backing-off' : 'starting';
}

function poolJob(job: HeldJob, since: number): PoolJob {
  return { jid: job.jid, queue: job.queue, klass: job.klass, startedAt: job.startedAt ?? since };
}

/**
 * Every slot of the pool: those wanted (0 … target-1, even before their first fork) and those above
 * the target whose worker is still leaving. Once the pool is stopping only slots with a live
 * worker are shown.
 */
export function viewSlots<C extends ViewedChild>(
  state: LoopState<C>,
  prefix: string,
  restarts: ReadonlyMap<number, number>,
  now: number,
): SlotView[] {
  const indices = new Set(state.slots.keys());
  if (state.phase === 'running') for (let index = 0; index < state.target; index++) indices.add(index);
  const views: SlotView[] = [];
  for (const index of [...indices].sort((a, b) => a - b)) {
    const slot = slotAt(state, index);
    const child = slot.child?.alive ? slot.child : undefined;
    if (!child && (state.phase !== 'running' || index >= state.target)) continue;
    const slotStateNow = slotState(slot, now);
    views.push({
      slot: index,
      worker: `${prefix}-${index}`,
      pid: child?.pid ?? null,
      state: slotStateNow,
      startedAt: child?.startedAt ?? null,
      restarts: restarts.get(index) ?? 0,
      rssBytes: child?.rssBytes ?? null,
      jobs: child ? child.held.map((job) => poolJob(job, child.startedAt)) : [],
      polling: slotStateNow === 'running' && !state.paused,
    });
  }
  return views;
}
