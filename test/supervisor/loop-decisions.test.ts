// The reconcile loop's decisions on their own (src/supervisor/reconcile.ts), without processes,
// Redis or a clock: given the slots, the children, the events and the time, which children are
// stopped or killed, which slots are reaped, spawned into and retired. A small stand-in for the
// supervisor applies the actions to plain child objects the way supervisor.ts does to processes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { afterKill, afterStop, type Departure, type StopReason, UNASKED } from '../../src/supervisor/departure.ts';
import type { SupervisorEvent } from '../../src/supervisor/events.ts';
import {
  type Child,
  forkFailed,
  initialState,
  type LoopState,
  placeChild,
  withSlot,
} from '../../src/supervisor/loop-state.ts';
import { type Action, handleEvents, nextWakeAt, reconcile } from '../../src/supervisor/reconcile.ts';
import type { PoolSignal } from '../../src/supervisor/signals.ts';
import type { HeldJob } from '../../src/protocol/ipc.ts';

const SETTINGS = { shutdownTimeout: 2, backoff: { youngerThanMs: 1_000, firstDelayMs: 250, maxDelayMs: 2_000 } };
const T0 = 1_000_000;

/** A child process as the decisions see it; the test moves it along (ready, exit). */
class FakeChild implements Child {
  alive = true;
  departure: Departure = UNASKED;
  toldToStop = false;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readyForMs: number | undefined = 5_000;
  held: HeldJob[] = [];
  handBackAt: number | undefined;

  constructor(readonly slot: number) {}

  stop(reason: StopReason, handBackAt: number): void {
    if (this.toldToStop) return;
    this.toldToStop = true;
    this.handBackAt = handBackAt;
    this.departure = afterStop(this.departure, reason);
  }

  kill(why: string): void {
    this.departure = afterKill(this.departure, why);
  }

  exits(code: number | null, signal: NodeJS.Signals | null = null): void {
    this.alive = false;
    this.exit = { code, signal };
  }
}

type State = LoopState<FakeChild>;
type Step = Action<FakeChild>;

/** What supervisor.ts does with the actions that change children or slots. */
function perform(state: State, actions: Step[]): State {
  let next = state;
  for (const action of actions) {
    switch (action.do) {
      case 'spawn':
        next = placeChild(next, action.slot, new FakeChild(action.slot));
        break;
      case 'stop':
        action.child.stop(action.reason, action.handBackAt);
        break;
      case 'rolling-restart':
        for (const child of action.stop) child.stop('reload', action.handBackAt);
        break;
      case 'shutdown':
        for (const child of action.stop) child.stop('shutdown', action.handBackAt);
        break;
      case 'kill-all':
        for (const child of action.kill) child.kill(action.why);
        break;
      default:
        break;
    }
  }
  return next;
}

/** One turn as the supervisor runs it (the watchdog aside): events, then reap and manage. */
function turn(state: State, events: SupervisorEvent[], now: number): { state: State; actions: Step[] } {
  const handled = handleEvents(state, events, now, SETTINGS);
  const afterEvents = perform(handled.state, handled.actions);
  const reconciled = reconcile(afterEvents, now, SETTINGS);
  return { state: perform(reconciled.state, reconciled.actions), actions: [...handled.actions, ...reconciled.actions] };
}

const signal = (name: PoolSignal): SupervisorEvent => ({ type: 'signal', signal: name });
const REDIS_READY: SupervisorEvent = { type: 'redis-ready' };

function kinds(actions: Step[]): string[] {
  return actions.map((action) => action.do);
}

function spawned(actions: Step[]): { slot: number; restart: boolean }[] {
  return actions.flatMap((action) => (action.do === 'spawn' ? [{ slot: action.slot, restart: action.restart }] : []));
}

function reaps(actions: Step[]): Extract<Step, { do: 'reap' }>[] {
  return actions.flatMap((action) => (action.do === 'reap' ? [action] : []));
}

function handbackOf(reap: Extract<Step, { do: 'reap' }>): number {
  assert.ok(reap.handback !== undefined, `slot ${reap.slot} waits for a hand-back`);
  return reap.handback;
}

function childOf(state: State, slot: number): FakeChild {
  const child = state.slots.get(slot)?.child;
  assert.ok(child, `slot ${slot} has a child`);
  return child;
}

/** A pool of `target` slots, each with a running child. */
function runningPool(target: number): State {
  return turn(initialState<FakeChild>(target), [REDIS_READY], T0).state;
}

describe('filling the slots', () => {
  test('spawns into each missing slot once Redis is ready, and only once', () => {
    const start = initialState<FakeChild>(3);
    const before = turn(start, [], T0);
    assert.deepEqual(spawned(before.actions), [], 'nothing before Redis answered');
    const ready = turn(before.state, [REDIS_READY], T0);
    assert.deepEqual(spawned(ready.actions), [
      { slot: 0, restart: false },
      { slot: 1, restart: false },
      { slot: 2, restart: false },
    ]);
    assert.deepEqual(turn(ready.state, [], T0 + 10).actions, [], 'every slot has its child');
  });

  test("a child that dies is reaped; the slot waits for its jobs' hand-back, then is refilled as a restart", () => {
    const pool = runningPool(2);
    const dead = childOf(pool, 1);
    dead.held = [{ jid: 'j1', queue: 'q', klass: 'K', expires: 0 }];
    dead.exits(null, 'SIGKILL');
    const reaped = turn(pool, [{ type: 'child-exited', slot: 1, pid: 1 }], T0 + 100);
    const [reap] = reaps(reaped.actions);
    assert.equal(reap.slot, 1);
    assert.equal(reap.reason, 'died');
    assert.equal(reap.clean, false);
    assert.notEqual(reap.handback, undefined, 'its jobs are handed back');
    assert.deepEqual(spawned(reaped.actions), [], 'not refilled before the hand-back');
    assert.deepEqual(spawned(turn(reaped.state, [], T0 + 200).actions), []);

    const settled = turn(reaped.state, [{ type: 'handback-settled', slot: 1, handback: handbackOf(reap) }], T0 + 300);
    assert.deepEqual(spawned(settled.actions), [{ slot: 1, restart: true }]);
  });

  test('a clean exit still hands back the jobs it last reported', () => {
    const pool = runningPool(1);
    const child = childOf(pool, 0);
    const hup = turn(pool, [signal('SIGHUP')], T0);
    child.held = [{ jid: 'j1', queue: 'q', klass: 'K', expires: 0 }];
    child.exits(0);
    const [reap] = reaps(turn(hup.state, [], T0 + 10).actions);
    assert.equal(reap.clean, true);
    assert.notEqual(reap.handback, undefined);
  });

  test('an older hand-back settling does not release a slot waiting for a newer one', () => {
    const pool = withSlot(runningPool(1), 0, { child: undefined, handback: 2 });
    const stale = turn(pool, [{ type: 'handback-settled', slot: 0, handback: 1 }], T0);
    assert.deepEqual(spawned(stale.actions), []);
  });

  test('a clean exit that was asked for needs no hand-back when it held nothing', () => {
    const pool = runningPool(1);
    const hup = turn(pool, [signal('SIGHUP')], T0);
    childOf(hup.state, 0).exits(0);
    const refilled = turn(hup.state, [], T0 + 10);
    const [reap] = reaps(refilled.actions);
    assert.deepEqual([reap.reason, reap.clean, reap.handback], ['stopped (reload)', true, undefined]);
    assert.deepEqual(spawned(refilled.actions), [{ slot: 0, restart: true }]);
  });
});

describe('restart backoff', () => {
  /** Lets slot 0's child die before it was ever ready, at `now`. */
  function dieYoung(state: State, now: number): { state: State; actions: Step[] } {
    const child = childOf(state, 0);
    child.readyForMs = undefined;
    child.exits(1);
    const reaped = turn(state, [], now);
    // Nothing was held: let the hand-back settle at once.
    const [reap] = reaps(reaped.actions);
    return turn(reaped.state, [{ type: 'handback-settled', slot: 0, handback: handbackOf(reap) }], now);
  }

  test('the first young death is replaced at once; the next slot start waits for notBefore', () => {
    const first = dieYoung(runningPool(1), T0);
    assert.deepEqual(spawned(first.actions), [{ slot: 0, restart: true }], 'the first young death: at once');

    const second = turn(dieYoung(first.state, T0 + 50).state, [], T0 + 50);
    assert.equal(second.state.slots.get(0)?.notBefore, T0 + 50 + 250);
    assert.equal(second.state.slots.get(0)?.streak, 2);
    assert.deepEqual(spawned(second.actions), []);
    assert.equal(nextWakeAt(second.state, Infinity, T0 + 60), T0 + 300, 'the loop wakes when the slot may start');
    assert.deepEqual(spawned(turn(second.state, [], T0 + 299).actions), [], 'not before notBefore');
    assert.deepEqual(spawned(turn(second.state, [], T0 + 300).actions), [{ slot: 0, restart: true }]);
  });

  test('a delayed restart is logged with its step and delay', () => {
    const once = dieYoung(runningPool(1), T0).state;
    const child = childOf(once, 0);
    child.readyForMs = undefined;
    child.exits(1);
    const [reap] = reaps(turn(once, [], T0 + 10).actions);
    assert.deepEqual(reap.backoff, { step: 2, delayMs: 250 });
  });

  test('a young death in the turn of a shutdown or of a TTOU still counts, but is not warned about', () => {
    for (const name of ['SIGTERM', 'SIGTTOU'] as const) {
      const pool = withSlot(runningPool(2), 1, { streak: 1 });
      const child = childOf(pool, 1);
      child.readyForMs = undefined;
      child.exits(1);
      const reaped = turn(pool, [signal(name)], T0);
      const [reap] = reaps(reaped.actions);
      assert.equal(reap.reason, 'died');
      assert.equal(reap.backoff, undefined, name);
      assert.equal(reaped.state.slots.get(1)?.streak, 2);
    }
  });

  test('a watchdog kill counts as a death; a kill after a stop does not', () => {
    const pool = runningPool(2);
    for (const slot of [0, 1]) {
      const child = childOf(pool, slot);
      child.readyForMs = 10;
      if (slot === 1) child.stop('retire', 0);
      child.kill('watchdog: unresponsive');
      child.exits(null, 'SIGKILL');
    }
    const reaped = turn(withSlot(withSlot(pool, 0, { streak: 1 }), 1, { streak: 1 }), [], T0);
    const bySlot = new Map(reaps(reaped.actions).map((reap) => [reap.slot, reap]));
    assert.equal(bySlot.get(0)?.reason, 'watchdog: unresponsive');
    assert.deepEqual(bySlot.get(0)?.backoff, { step: 2, delayMs: 250 });
    assert.equal(bySlot.get(1)?.backoff, undefined);
    assert.equal(reaped.state.slots.get(1)?.streak, 0);
  });

  test('a failed fork backs the slot off by at least a second', () => {
    const failed = forkFailed(initialState<FakeChild>(1), 0, T0, SETTINGS);
    assert.equal(failed.delayMs, 1_000);
    assert.equal(failed.state.slots.get(0)?.notBefore, T0 + 1_000);
    assert.equal(failed.state.slots.get(0)?.streak, 1);
  });
});

describe('code changes', () => {
  test('a burst stops every child at its first event; no slot is filled until the code settles', () => {
    const pool = runningPool(2);
    const changing = turn(pool, [{ type: 'code-changing', file: 'handler.ts' }], T0);
    const [restart] = changing.actions.filter((action) => action.do === 'rolling-restart');
    assert.ok(restart?.do === 'rolling-restart');
    assert.equal(restart.why, 'change under --path: handler.ts');
    assert.equal(restart.stop.length, 2);
    for (const slot of [0, 1]) assert.deepEqual(childOf(pool, slot).departure, { kind: 'stopped', reason: 'reload' });

    for (const slot of [0, 1]) childOf(pool, slot).exits(0);
    const exited = turn(changing.state, [], T0 + 50);
    assert.equal(reaps(exited.actions).length, 2);
    assert.deepEqual(spawned(exited.actions), [], 'the code is still in flux');

    const settled = turn(exited.state, [{ type: 'code-settled', files: ['handler.ts'] }], T0 + 150);
    assert.deepEqual(kinds(settled.actions), ['note-code-settled', 'spawn', 'spawn']);
    assert.deepEqual(spawned(settled.actions), [
      { slot: 0, restart: true },
      { slot: 1, restart: true },
    ]);
  });

  test('changes in one turn make one rolling restart (the last file names it)', () => {
    const changes = turn(
      runningPool(1),
      [
        { type: 'code-changing', file: 'a.ts' },
        { type: 'code-changing', file: 'b.ts' },
      ],
      T0,
    );
    const restarts = changes.actions.filter((action) => action.do === 'rolling-restart');
    assert.equal(restarts.length, 1);
    assert.ok(restarts[0].do === 'rolling-restart' && restarts[0].why === 'change under --path: b.ts');
  });

  test('a shutdown in the same turn wins over a code change', () => {
    const both = turn(runningPool(1), [{ type: 'code-changing', file: 'a.ts' }, signal('SIGTERM')], T0);
    assert.deepEqual(kinds(both.actions), ['shutdown']);
  });
});

describe('signals', () => {
  test('HUP stops every child (reload, handing back a margin before the timeout) and refills each slot', () => {
    const pool = runningPool(2);
    const old = [childOf(pool, 0), childOf(pool, 1)];
    const hup = turn(pool, [signal('SIGHUP')], T0);
    const [restart] = hup.actions;
    assert.ok(restart.do === 'rolling-restart');
    assert.equal(restart.why, 'SIGHUP');
    assert.deepEqual(restart.stop, old);
    assert.ok(old.every((child) => child.handBackAt === T0 + 2_000 - 500));
    assert.deepEqual(spawned(hup.actions), [], 'the old children still run');

    const again = turn(hup.state, [signal('SIGHUP')], T0 + 10);
    assert.ok(again.actions[0].do === 'rolling-restart' && again.actions[0].stop.length === 0, 'each is told once');

    for (const child of old) child.exits(0);
    const refilled = turn(again.state, [], T0 + 20);
    assert.deepEqual(spawned(refilled.actions), [
      { slot: 0, restart: true },
      { slot: 1, restart: true },
    ]);
  });

  test('a rolling restart forgets every slot’s backoff: its next young death is replaced at once', () => {
    const crashing = withSlot(runningPool(1), 0, { streak: 3 });
    const hup = turn(crashing, [signal('SIGHUP')], T0);
    assert.deepEqual([hup.state.slots.get(0)?.streak, hup.state.slots.get(0)?.notBefore], [0, 0]);
    const waiting = withSlot(hup.state, 0, { child: undefined, notBefore: T0 + 10_000, streak: 4 });
    const cleared = turn(waiting, [signal('SIGHUP')], T0 + 1);
    assert.deepEqual(spawned(cleared.actions), [{ slot: 0, restart: true }], 'a slot in backoff is filled at once');
  });

  test('TTIN and TTOU change only the target; the loop spawns and retires to match, never below one', () => {
    const pool = runningPool(1);
    const ttin = handleEvents(pool, [signal('SIGTTIN')], T0, SETTINGS);
    assert.deepEqual(ttin.actions, [{ do: 'set-target', signal: 'SIGTTIN', target: 2 }]);
    assert.equal(ttin.state.slots.size, 1, 'the signal itself spawns nothing');
    const grown = turn(pool, [signal('SIGTTIN')], T0);
    assert.deepEqual(spawned(grown.actions), [{ slot: 1, restart: false }]);

    const ttou = turn(grown.state, [signal('SIGTTOU')], T0 + 10);
    const added = childOf(grown.state, 1);
    assert.deepEqual(kinds(ttou.actions), ['set-target', 'stop']);
    assert.deepEqual(added.departure, { kind: 'stopped', reason: 'retire' });
    assert.equal(childOf(grown.state, 0).toldToStop, false);
    assert.deepEqual(kinds(turn(ttou.state, [], T0 + 20).actions), [], 'told once');

    added.exits(0);
    const retired = turn(ttou.state, [], T0 + 30);
    assert.deepEqual(kinds(retired.actions), ['reap', 'retire']);
    assert.deepEqual([...retired.state.slots.keys()], [0]);

    const floor = turn(retired.state, [signal('SIGTTOU')], T0 + 40);
    assert.deepEqual(floor.actions, [{ do: 'set-target', signal: 'SIGTTOU', target: 1 }]);
  });

  test('a slot above the target waits for its hand-back before it is retired', () => {
    const pool = runningPool(2);
    const child = childOf(pool, 1);
    const shrunk = turn(pool, [signal('SIGTTOU')], T0);
    child.exits(1);
    const reaped = turn(shrunk.state, [], T0 + 10);
    const [reap] = reaps(reaped.actions);
    assert.deepEqual(kinds(reaped.actions), ['reap'], 'not retired while its jobs are handed back');
    const settled = turn(reaped.state, [{ type: 'handback-settled', slot: 1, handback: handbackOf(reap) }], T0 + 20);
    assert.deepEqual(kinds(settled.actions), ['retire']);
  });

  test('USR2 pauses every live child, CONT resumes them; the pool remembers it for new children', () => {
    const pool = runningPool(2);
    const paused = turn(pool, [signal('SIGUSR2')], T0);
    assert.deepEqual(paused.actions, [{ do: 'pause', children: [childOf(pool, 0), childOf(pool, 1)] }]);
    assert.equal(paused.state.paused, true);
    const resumed = turn(paused.state, [signal('SIGCONT')], T0 + 1);
    assert.equal(resumed.actions[0].do, 'resume');
    assert.equal(resumed.state.paused, false);
  });

  test('nothing is spawned before Redis is ready, whatever the target', () => {
    const grown = turn(initialState<FakeChild>(1), [signal('SIGTTIN'), signal('SIGTTIN')], T0);
    assert.deepEqual(spawned(grown.actions), []);
    assert.equal(grown.state.target, 3);
  });
});

describe('shutdown', () => {
  test('TERM: stopping (every child told, nothing refilled) → kill at the deadline → stopped once none is left', () => {
    const pool = runningPool(2);
    const children = [childOf(pool, 0), childOf(pool, 1)];
    const term = turn(pool, [signal('SIGTERM')], T0);
    assert.equal(term.state.phase, 'stopping');
    assert.deepEqual(kinds(term.actions), ['shutdown']);
    assert.ok(children.every((child) => child.departure.kind === 'stopped' && child.handBackAt === T0 + 1_500));

    children[0].exits(0);
    const one = turn(term.state, [], T0 + 100);
    assert.deepEqual(kinds(one.actions), ['reap'], 'a slot emptied during shutdown is not refilled');
    assert.equal(nextWakeAt(one.state, Infinity, T0 + 100), T0 + 1_000 + 100, 'at most a second of sleep');
    assert.equal(nextWakeAt(one.state, Infinity, T0 + 1_500), T0 + 2_000, 'woken at the deadline');

    assert.deepEqual(turn(one.state, [], T0 + 1_999).actions, []);
    const deadline = turn(one.state, [], T0 + 2_000);
    assert.equal(deadline.state.phase, 'killing');
    const [kill] = deadline.actions;
    assert.ok(kill.do === 'kill-all');
    assert.equal(kill.why, 'shutdown timeout of 2 s reached');
    assert.deepEqual(kill.kill, [children[1]]);

    children[1].exits(null, 'SIGKILL');
    const stopped = turn(deadline.state, [], T0 + 2_010);
    assert.equal(stopped.state.phase, 'stopped');
    const [reap] = reaps(stopped.actions);
    assert.equal(reap.reason, 'shutdown timeout of 2 s reached');
    assert.notEqual(reap.handback, undefined, 'the killed child’s jobs are handed back');
  });

  test('a second INT kills at once; further signals change nothing', () => {
    const pool = runningPool(1);
    const first = turn(pool, [signal('SIGINT')], T0);
    assert.equal(first.state.phase, 'stopping');
    const second = turn(first.state, [signal('SIGINT')], T0 + 10);
    assert.equal(second.state.phase, 'killing');
    assert.deepEqual(second.actions, [
      { do: 'kill-all', why: 'second SIGINT: immediate shutdown', kill: [childOf(pool, 0)] },
    ]);
    assert.deepEqual(turn(second.state, [signal('SIGINT'), signal('SIGTERM')], T0 + 20).actions, []);
  });

  test('a second TERM or QUIT does not kill; HUP and code changes are ignored while stopping', () => {
    const term = turn(runningPool(1), [signal('SIGTERM')], T0);
    const later = turn(
      term.state,
      [signal('SIGTERM'), signal('SIGQUIT'), signal('SIGHUP'), { type: 'code-changing', file: 'a.ts' }],
      T0 + 10,
    );
    assert.deepEqual(later.actions, []);
    assert.equal(later.state.phase, 'stopping');
  });

  test('a pool with no child stops at once', () => {
    const term = turn(initialState<FakeChild>(2), [signal('SIGQUIT')], T0);
    assert.equal(term.state.phase, 'stopped');
  });
});
