// The reconcile loop's decisions, as pure functions of its state, the events and the time: no
// process, no Redis, no clock. Each turn the supervisor (supervisor.ts) hands the queued events to
// `handleEvents`, lets the watchdog kill what stopped answering, then asks `reconcile` to reap the
// children that exited and to bring the slots to the target (or to move the shutdown on); it does
// what the returned actions say and keeps the returned state.
import { restartAfterExit } from './backoff.ts';
import { departureReason, endedUnasked, leftCleanly, type StopReason } from './departure.ts';
import type { SupervisorEvent } from './events.ts';
import {
  type Child,
  type LoopState,
  liveChildren,
  type PoolSettings,
  slotAt,
  withoutSlot,
  withSlot,
} from './loop-state.ts';
import type { PoolSignal } from './signals.ts';

/** A stopping worker hands back its unfinished jobs this long before it would be killed. */
const HANDBACK_MARGIN_MS = 500;
/** The longest the loop sleeps without a reason to wake. */
const MAX_SLEEP_MS = 1_000;

/** What the supervisor is to do; each action carries what its log line needs. */
export type Action<C extends Child> =
  | { do: 'set-target'; signal: 'SIGTTIN' | 'SIGTTOU'; target: number }
  | { do: 'pause' | 'resume'; children: C[] }
  /** Tell these children to stop (reload); every slot has already forgotten its backoff. */
  | { do: 'rolling-restart'; why: string; file: string | undefined; stop: C[]; handBackAt: number }
  /** Tell every live child to stop (shutdown) and stop watching the code. */
  | { do: 'shutdown'; signal: PoolSignal; stop: C[]; handBackAt: number }
  | { do: 'kill-all'; why: string; kill: C[] }
  | { do: 'note-code-settled'; files: string[] }
  /** The slot's child exited: log it; with `handback`, hand its jobs back (the slot waits for that id). */
  | {
      do: 'reap';
      slot: number;
      child: C;
      reason: string;
      clean: boolean;
      handback: number | undefined;
      /** Set when the slot's restart is delayed and worth a warning. */
      backoff: { step: number; delayMs: number } | undefined;
    }
  | { do: 'spawn'; slot: number; restart: boolean }
  /** The slot is above the target: its child stops. */
  | { do: 'stop'; slot: number; child: C; reason: StopReason; handBackAt: number }
  /** The slot above the target is empty and gone: deregister its name. */
  | { do: 'retire'; slot: number };

export interface Turn<C extends Child> {
  state: LoopState<C>;
  actions: Action<C>[];
}

/** When a worker told to stop at `now` hands back what it still runs: --shutdown-timeout later, less a margin. */
function handBackAt(now: number, settings: PoolSettings): number {
  return now + Math.max(0, settings.shutdownTimeout * 1000 - HANDBACK_MARGIN_MS);
}

/** `file`: the changed file under --path that caused it (absent for HUP). */
function rollingRestart<C extends Child>(
  state: LoopState<C>,
  file: string | undefined,
  now: number,
  settings: PoolSettings,
): Turn<C> {
  const why = file === undefined ? 'SIGHUP' : `change under --path: ${file}`;
  const stop = liveChildren(state).filter((child) => !child.toldToStop);
  // A code change may have fixed whatever made a slot crash: try again at once.
  let next = state;
  for (const index of state.slots.keys()) next = withSlot(next, index, { streak: 0, notBefore: 0 });
  return { state: next, actions: [{ do: 'rolling-restart', why, file, stop, handBackAt: handBackAt(now, settings) }] };
}

function onSignal<C extends Child>(
  state: LoopState<C>,
  signal: PoolSignal,
  now: number,
  settings: PoolSettings,
): Turn<C> {
  switch (signal) {
    case 'SIGTERM':
    case 'SIGQUIT':
    case 'SIGINT':
      if (state.phase === 'running') {
        const deadline = now + settings.shutdownTimeout * 1000;
        return {
          state: { ...state, phase: 'stopping', shutdownDeadline: deadline },
          actions: [{ do: 'shutdown', signal, stop: liveChildren(state), handBackAt: deadline - HANDBACK_MARGIN_MS }],
        };
      }
      if (signal === 'SIGINT' && state.phase === 'stopping') {
        const why = `second ${signal}: immediate shutdown`;
        return { state: { ...state, phase: 'killing' }, actions: [{ do: 'kill-all', why, kill: liveChildren(state) }] };
      }
      return { state, actions: [] };
    case 'SIGHUP':
      return state.phase === 'running' ? rollingRestart(state, undefined, now, settings) : { state, actions: [] };
    case 'SIGTTIN':
    case 'SIGTTOU': {
      const target = signal === 'SIGTTIN' ? state.target + 1 : Math.max(1, state.target - 1);
      return { state: { ...state, target }, actions: [{ do: 'set-target', signal, target }] };
    }
    case 'SIGUSR2':
      return { state: { ...state, paused: true }, actions: [{ do: 'pause', children: liveChildren(state) }] };
    case 'SIGCONT':
      return { state: { ...state, paused: false }, actions: [{ do: 'resume', children: liveChildren(state) }] };
  }
}

function onEvent<C extends Child>(
  state: LoopState<C>,
  event: SupervisorEvent,
  now: number,
  settings: PoolSettings,
): Turn<C> {
  switch (event.type) {
    case 'signal':
      return onSignal(state, event.signal, now, settings);
    case 'code-changing':
      // At the first event of a burst, so no worker pops another job with the old code meanwhile.
      return { state: { ...state, codeInFlux: true, reloadWanted: event.file }, actions: [] };
    case 'code-settled':
      // Every worker was stopped at the burst's first event; the new ones start now, on the settled code.
      return { state: { ...state, codeInFlux: false }, actions: [{ do: 'note-code-settled', files: event.files }] };
    case 'redis-ready':
      return { state: { ...state, redisReady: true }, actions: [] };
    case 'handback-settled':
      if (state.slots.get(event.slot)?.handback !== event.handback) return { state, actions: [] };
      return { state: withSlot(state, event.slot, { handback: undefined }), actions: [] };
    case 'child-ready':
    case 'child-recycling':
    case 'child-exited':
    case 'holdings-answered':
      // The facts are on the child's handle (or with the watchdog); the turn itself looks at them.
      return { state, actions: [] };
  }
}

/**
 * The turn's events, in the order they happened. A burst of code changes asks for one rolling
 * restart, done after every signal of the turn (a shutdown in the same turn wins).
 */
export function handleEvents<C extends Child>(
  state: LoopState<C>,
  events: readonly SupervisorEvent[],
  now: number,
  settings: PoolSettings,
): Turn<C> {
  let next = state;
  const actions: Action<C>[] = [];
  for (const event of events) {
    const turn = onEvent(next, event, now, settings);
    next = turn.state;
    actions.push(...turn.actions);
  }
  const file = next.reloadWanted;
  if (file === undefined) return { state: next, actions };
  next = { ...next, reloadWanted: undefined };
  if (next.phase !== 'running') return { state: next, actions };
  const restart = rollingRestart(next, file, now, settings);
  return { state: restart.state, actions: [...actions, ...restart.actions] };
}

/** Empties the slots whose child exited: restart backoff, and whether its jobs must be handed back. */
function reap<C extends Child>(state: LoopState<C>, now: number, settings: PoolSettings): Turn<C> {
  let next = state;
  const actions: Action<C>[] = [];
  for (const slot of state.slots.values()) {
    const child = slot.child;
    if (!child || child.alive) continue;
    const clean = leftCleanly(child.departure, child.exit?.code ?? null);
    const restart = restartAfterExit(slot.streak, child.readyForMs, endedUnasked(child.departure), settings.backoff);
    let handback: number | undefined;
    if (!clean || child.held.length > 0) {
      handback = next.handbacks + 1;
      next = { ...next, handbacks: handback };
    }
    next = withSlot(next, slot.index, {
      child: undefined,
      streak: restart.streak,
      notBefore: now + restart.delayMs,
      handback,
    });
    const wanted = state.phase === 'running' && slot.index < state.target;
    actions.push({
      do: 'reap',
      slot: slot.index,
      child,
      reason: departureReason(child.departure),
      clean,
      handback,
      backoff: restart.delayMs > 0 && wanted ? { step: restart.streak, delayMs: restart.delayMs } : undefined,
    });
  }
  return { state: next, actions };
}

/** Spawns into each missing slot below the target, stops and retires the slots above it. */
function manage<C extends Child>(state: LoopState<C>, now: number, settings: PoolSettings): Turn<C> {
  if (!state.redisReady) return { state, actions: [] };
  let next = state;
  const actions: Action<C>[] = [];
  for (let index = 0; index < state.target; index++) {
    const slot = slotAt(state, index);
    if (slot.child || slot.handback !== undefined || now < slot.notBefore || state.codeInFlux) continue;
    actions.push({ do: 'spawn', slot: index, restart: slot.used });
  }
  for (const slot of state.slots.values()) {
    if (slot.index < state.target) continue;
    if (slot.child) {
      if (!slot.child.toldToStop)
        actions.push({
          do: 'stop',
          slot: slot.index,
          child: slot.child,
          reason: 'retire',
          handBackAt: handBackAt(now, settings),
        });
    } else if (slot.handback === undefined) {
      next = withoutSlot(next, slot.index);
      actions.push({ do: 'retire', slot: slot.index });
    }
  }
  return { state: next, actions };
}

/** Stopped once no child is left; a stopping pool kills what is left at the deadline. */
function advanceShutdown<C extends Child>(state: LoopState<C>, now: number, settings: PoolSettings): Turn<C> {
  const live = liveChildren(state);
  if (live.length === 0) return { state: { ...state, phase: 'stopped' }, actions: [] };
  if (state.phase !== 'stopping' || now < state.shutdownDeadline) return { state, actions: [] };
  const why = `shutdown timeout of ${settings.shutdownTimeout} s reached`;
  return { state: { ...state, phase: 'killing' }, actions: [{ do: 'kill-all', why, kill: live }] };
}

/** Reaps the children that exited, then manages the slots (running) or moves the shutdown on. */
export function reconcile<C extends Child>(state: LoopState<C>, now: number, settings: PoolSettings): Turn<C> {
  const reaped = reap(state, now, settings);
  const next =
    reaped.state.phase === 'running'
      ? manage(reaped.state, now, settings)
      : advanceShutdown(reaped.state, now, settings);
  return { state: next.state, actions: [...reaped.actions, ...next.actions] };
}

/** When the loop must look again without an event: the next ping, the shutdown deadline, a slot's backoff end. */
export function nextWakeAt<C extends Child>(state: LoopState<C>, nextPingAt: number, now: number): number {
  let next = Math.min(now + MAX_SLEEP_MS, nextPingAt);
  if (state.phase === 'stopping') next = Math.min(next, state.shutdownDeadline);
  for (const slot of state.slots.values())
    if (!slot.child && slot.notBefore > now) next = Math.min(next, slot.notBefore);
  return next;
}
