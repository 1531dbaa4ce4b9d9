// The restart delay policy of a slot on its own.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RestartBackoff } from '../../src/supervisor/backoff.ts';

const policy = { youngerThanMs: 1_000, firstDelayMs: 250, maxDelayMs: 2_000 };

describe('RestartBackoff', () => {
  test('the first young death is replaced at once, then delays double up to the cap', () => {
    const backoff = new RestartBackoff(policy);
    const delays = Array.from({ length: 7 }, () => backoff.afterExit(undefined, true));
    assert.deepEqual(delays, [0, 250, 500, 1_000, 2_000, 2_000, 2_000]);
    assert.equal(backoff.step, 7);
  });

  test('a worker that had been ready long enough resets the streak', () => {
    const backoff = new RestartBackoff(policy);
    backoff.afterExit(undefined, true);
    assert.equal(backoff.afterExit(200, true), 250, 'ready for less than youngerThanMs still counts as young');
    assert.equal(backoff.afterExit(5_000, true), 0);
    assert.equal(backoff.step, 0);
    assert.equal(backoff.afterExit(undefined, true), 0);
  });

  test('an exit that was asked for never delays and resets the streak', () => {
    const backoff = new RestartBackoff(policy);
    backoff.afterExit(undefined, true);
    backoff.afterExit(undefined, true);
    assert.equal(backoff.afterExit(undefined, false), 0);
    assert.equal(backoff.step, 0);
  });

  test('reset forgets the streak', () => {
    const backoff = new RestartBackoff(policy);
    for (let i = 0; i < 4; i++) backoff.afterExit(undefined, true);
    backoff.reset();
    assert.equal(backoff.afterExit(undefined, true), 0);
    assert.equal(backoff.afterExit(undefined, true), 250);
  });
});
