// The restart delay policy of a slot on its own.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Restart, restartAfterExit } from '../../src/supervisor/backoff.ts';

const policy = { youngerThanMs: 1_000, firstDelayMs: 250, maxDelayMs: 2_000 };

/** Feeds exits one after the other into one slot's streak; returns each step's result. */
function slotExits(exits: [readyForMs: number | undefined, unexpected: boolean][], streak = 0): Restart[] {
  return exits.map(([readyForMs, unexpected]) => {
    const restart = restartAfterExit(streak, readyForMs, unexpected, policy);
    streak = restart.streak;
    return restart;
  });
}

describe('restart backoff', () => {
  test('the first young death is replaced at once, then delays double up to the cap', () => {
    const steps = slotExits(Array.from({ length: 7 }, () => [undefined, true]));
    assert.deepEqual(
      steps.map((step) => step.delayMs),
      [0, 250, 500, 1_000, 2_000, 2_000, 2_000],
    );
    assert.equal(steps.at(-1)?.streak, 7);
  });

  test('a worker that had been ready long enough resets the streak', () => {
    const steps = slotExits([
      [undefined, true],
      [200, true],
      [5_000, true],
      [undefined, true],
    ]);
    assert.equal(steps[1].delayMs, 250, 'ready for less than youngerThanMs still counts as young');
    assert.deepEqual(steps[2], { streak: 0, delayMs: 0 });
    assert.equal(steps[3].delayMs, 0);
  });

  test('an exit that was asked for never delays and resets the streak', () => {
    const steps = slotExits([
      [undefined, true],
      [undefined, true],
      [undefined, false],
    ]);
    assert.deepEqual(steps[2], { streak: 0, delayMs: 0 });
  });
});
