// How a child ended, as one value: what the exit line says (`reason`), whether it left cleanly,
// and whether the exit counts towards the slot's restart backoff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  afterKill,
  afterRecycle,
  afterStop,
  type Departure,
  departureReason,
  endedUnasked,
  leftCleanly,
  UNASKED,
} from '../../src/supervisor/departure.ts';

function describeExit(departure: Departure, code: number | null): [string, boolean, boolean] {
  return [departureReason(departure), leftCleanly(departure, code), endedUnasked(departure)];
}

test('an exit nobody asked for is a death, even with code 0', () => {
  assert.deepEqual(describeExit(UNASKED, 0), ['died', false, true]);
  assert.deepEqual(describeExit(UNASKED, 1), ['died', false, true]);
});

test('a stop or a recycle that ends with code 0 is clean; another code is not, but is no death', () => {
  const stopped = afterStop(UNASKED, 'reload');
  assert.deepEqual(describeExit(stopped, 0), ['stopped (reload)', true, false]);
  assert.deepEqual(describeExit(stopped, 1), ['stopped (reload)', false, false]);
  const recycled = afterRecycle(UNASKED, 'max-jobs: ran 10 jobs');
  assert.deepEqual(describeExit(recycled, 0), ['recycled: max-jobs: ran 10 jobs', true, false]);
});

test('the first stop reason counts; a recycle announcement wins over a stop, not the other way round', () => {
  assert.deepEqual(afterStop(afterStop(UNASKED, 'retire'), 'shutdown'), { kind: 'stopped', reason: 'retire' });
  assert.equal(departureReason(afterRecycle(afterStop(UNASKED, 'shutdown'), 'max-memory')), 'recycled: max-memory');
  assert.equal(departureReason(afterStop(afterRecycle(UNASKED, 'max-memory'), 'shutdown')), 'recycled: max-memory');
});

test('a kill wins over everything; it is a death only if the child was never asked to go', () => {
  const watchdog = afterKill(UNASKED, 'watchdog: unresponsive for 4 s');
  assert.deepEqual(describeExit(watchdog, null), ['watchdog: unresponsive for 4 s', false, true]);
  const atDeadline = afterKill(afterStop(UNASKED, 'shutdown'), 'shutdown timeout of 1 s reached');
  assert.deepEqual(describeExit(atDeadline, null), ['shutdown timeout of 1 s reached', false, false]);
  // Told to stop (or recycling) after the kill, before the exit was seen: not a death either.
  assert.equal(endedUnasked(afterStop(watchdog, 'retire')), false);
  assert.equal(endedUnasked(afterRecycle(watchdog, 'max-jobs')), false);
  assert.equal(departureReason(afterKill(watchdog, 'second SIGINT')), 'watchdog: unresponsive for 4 s');
});
