// The timing of a burst of file events on its own, with node:test's mocked timers and clock: told
// at its first event, settled after DEBOUNCE_MS of quiet or a second after it began, whichever is
// first.
import { afterEach, beforeEach, test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Burst, DEBOUNCE_MS } from '../../src/supervisor/burst.ts';

interface Told {
  at: number;
  kind: 'start' | 'settled';
  files: string[];
}

beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }));
afterEach(() => mock.timers.reset());

function burst(): { burst: Burst; told: Told[] } {
  const told: Told[] = [];
  const tracker = new Burst(
    (file) => told.push({ at: Date.now(), kind: 'start', files: [file] }),
    (files) => told.push({ at: Date.now(), kind: 'settled', files }),
    () => Date.now(),
  );
  return { burst: tracker, told };
}

test('a save of two files: told at the first event, then once with both after DEBOUNCE_MS of quiet', () => {
  const { burst: tracker, told } = burst();
  tracker.add('b.ts');
  mock.timers.tick(30);
  tracker.add('a.ts');
  mock.timers.tick(DEBOUNCE_MS - 1);
  assert.deepEqual(told, [{ at: 0, kind: 'start', files: ['b.ts'] }], 'not settled while events keep coming');
  mock.timers.tick(1);
  assert.deepEqual(told[1], { at: 30 + DEBOUNCE_MS, kind: 'settled', files: ['a.ts', 'b.ts'] });
  assert.equal(told.length, 2);
});

test('a file written every 25 ms without pause still settles a second after its burst began, and again after', () => {
  const { burst: tracker, told } = burst();
  for (let at = 0; at < 2_500; at += 25) {
    tracker.add('busy.ts');
    mock.timers.tick(25);
  }
  // Then quiet, in the same steps (a tick reports its end as the time to the callbacks it runs).
  for (let quiet = 0; quiet < DEBOUNCE_MS * 2; quiet += 25) mock.timers.tick(25);
  assert.deepEqual(
    told.map((each) => [each.kind, each.at]),
    [
      ['start', 0],
      ['settled', 1_000],
      ['start', 1_000],
      ['settled', 2_000],
      ['start', 2_000],
      ['settled', 2_500 - 25 + DEBOUNCE_MS],
    ],
  );
});

test('a new burst after a settled one is told again', () => {
  const { burst: tracker, told } = burst();
  tracker.add('a.ts');
  mock.timers.tick(DEBOUNCE_MS);
  tracker.add('a.ts');
  mock.timers.tick(DEBOUNCE_MS);
  assert.deepEqual(
    told.map((each) => each.kind),
    ['start', 'settled', 'start', 'settled'],
  );
});

test('a cancelled burst is never told as settled', () => {
  const { burst: tracker, told } = burst();
  tracker.add('a.ts');
  tracker.cancel();
  mock.timers.tick(10_000);
  assert.deepEqual(
    told.map((each) => each.kind),
    ['start'],
  );
});
