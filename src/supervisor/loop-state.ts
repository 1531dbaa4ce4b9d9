// What the reconcile loop knows: the pool's desired state (phase, target, pause, whether code is
// in flux) and its slots, each with its child handle (if any), restart backoff and pending
// hand-back. Plain immutable data; the changes the supervisor makes after acting (a fork done or
// failed) are the pure functions here, so tests can make them too.
import type { HeldJob } from '../protocol/ipc.ts';
import { type BackoffPolicy, restartAfterExit } from './backoff.ts';
import type { Departure } from './departure.ts';

/** running → (TERM/INT/QUIT) stopping → (deadline or second INT) killing → (no child left) stopped. */
export type Phase = 'running' | 'stopping' | 'killing' | 'stopped';

/** What the decisions read of a child process (ForkedWorker is one; tests use plain objects). */
export interface Child {
  readonly alive: boolean;
  readonly departure: Departure;
  /** It was sent `stop` (it is only sent once). */
  readonly toldToStop: boolean;
  readonly exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** How long it had been ready when it exited; undefined if it never was. */
  readonly readyForMs: number | undefined;
  /** The jobs it held, as last reported. */
  readonly held: readonly HeldJob[];
}

export interface Slot<C extends Child> {
  readonly index: number;
  readonly child: C | undefined;
  /** Consecutive young deaths (the backoff step). */
  readonly streak: number;
  /** Not filled before this time (ms since the epoch). */
  readonly notBefore: number;
  /** The hand-back of the previous child's jobs that the slot waits for before it is filled (its id). */
  readonly handback: number | undefined;
  /** It has had a child before: the next fork is a restart, and its name is deregistered at the end. */
  readonly used: boolean;
}

export interface LoopState<C extends Child> {
  readonly phase: Phase;
  /** How many slots are wanted; TTIN/TTOU change only this, the loop spawns and retires to match. */
  readonly target: number;
  readonly paused: boolean;
  /** When a stopping pool kills what is left (ms since the epoch); Infinity before shutdown. */
  readonly shutdownDeadline: number;
  /** Files under --path are being written: no worker starts until they settle. */
  readonly codeInFlux: boolean;
  /** A changed file under --path that wants a rolling restart (done once per turn, after the turn's signals). */
  readonly reloadWanted: string | undefined;
  readonly redisReady: boolean;
  readonly slots: ReadonlyMap<number, Slot<C>>;
  /** Hand-backs started so far (the next one's id is this plus one). */
  readonly handbacks: number;
}

/** What does not change while the supervisor runs. */
export interface PoolSettings {
  /** --shutdown-timeout, in seconds. */
  shutdownTimeout: number;
  backoff?: BackoffPolicy;
}

export function initialState<C extends Child>(target: number): LoopState<C> {
  return {
    phase: 'running',
    target,
    paused: false,
    shutdownDeadline: Infinity,
    codeInFlux: false,
    reloadWanted: undefined,
    redisReady: false,
    slots: new Map(),
    handbacks: 0,
  };
}

function emptySlot<C extends Child>(index: number): Slot<C> {
  return { index, child: undefined, streak: 0, notBefore: 0, handback: undefined, used: false };
}

export function slotAt<C extends Child>(state: LoopState<C>, index: number): Slot<C> {
  return state.slots.get(index) ?? emptySlot(index);
}

/** The state with one slot changed (created if missing). */
export function withSlot<C extends Child>(
  state: LoopState<C>,
  index: number,
  change: Partial<Omit<Slot<C>, 'index'>>,
): LoopState<C> {
  const slots = new Map(state.slots);
  slots.set(index, { ...slotAt(state, index), ...change });
  return { ...state, slots };
}

export function withoutSlot<C extends Child>(state: LoopState<C>, index: number): LoopState<C> {
  const slots = new Map(state.slots);
  slots.delete(index);
  return { ...state, slots };
}

export function liveChildren<C extends Child>(state: LoopState<C>): C[] {
  const children: C[] = [];
  for (const slot of state.slots.values()) if (slot.child?.alive) children.push(slot.child);
  return children;
}

/** A fork into the slot succeeded. */
export function placeChild<C extends Child>(state: LoopState<C>, index: number, child: C): LoopState<C> {
  return withSlot(state, index, { child, used: true });
}

/** The slot could not be filled now (its sandbox could not be made): try again at `notBefore`. */
export function delaySlot<C extends Child>(state: LoopState<C>, index: number, notBefore: number): LoopState<C> {
  return withSlot(state, index, { notBefore });
}

/** The fork itself failed (e.g. no more processes allowed): the slot backs off like a worker dying young. */
export function forkFailed<C extends Child>(
  state: LoopState<C>,
  index: number,
  now: number,
  settings: PoolSettings,
): { state: LoopState<C>; delayMs: number } {
  const restart = restartAfterExit(slotAt(state, index).streak, undefined, true, settings.backoff);
  const delayMs = Math.max(1_000, restart.delayMs);
  return { state: withSlot(state, index, { streak: restart.streak, notBefore: now + delayMs }), delayMs };
}
