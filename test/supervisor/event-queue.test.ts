// The reconcile loop's one inbox: events come out in the order they went in, and the loop's sleep
// ends at the first event or at its timeout, whichever is first (node:test's mocked timers).
import { afterEach, beforeEach, test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { EventQueue } from '../../src/supervisor/event-queue.ts';

beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
afterEach(() => mock.timers.reset());

/** Whether the promise has settled once pending callbacks ran. */
async function settled(promise: Promise<void>): Promise<boolean> {
  let done = false;
  void promise.then(() => {
    done = true;
  });
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
}

test('take returns every event pushed since the last take, oldest first', () => {
  const queue = new EventQueue<string>();
  queue.push('a');
  queue.push('b');
  assert.deepEqual(queue.take(), ['a', 'b']);
  assert.deepEqual(queue.take(), []);
  queue.push('c');
  assert.deepEqual(queue.take(), ['c']);
});

test('wait ends at its timeout when nothing is pushed', async () => {
  const queue = new EventQueue<string>();
  const wait = queue.wait(1_000);
  mock.timers.tick(999);
  assert.equal(await settled(wait), false);
  mock.timers.tick(1);
  assert.equal(await settled(wait), true);
  assert.deepEqual(queue.take(), []);
});

test('wait ends at the first event pushed, long before its timeout', async () => {
  const queue = new EventQueue<string>();
  const wait = queue.wait(60_000);
  mock.timers.tick(10);
  queue.push('signal');
  assert.equal(await settled(wait), true);
  assert.deepEqual(queue.take(), ['signal']);
});

test('an event pushed while the loop was busy (between waits) is not lost: the next wait returns at once', async () => {
  const queue = new EventQueue<string>();
  queue.push('exit');
  assert.equal(await settled(queue.wait(60_000)), true);
  assert.deepEqual(queue.take(), ['exit']);
  assert.equal(await settled(queue.wait(60_000)), false, 'taken events do not wake the next wait');
  mock.timers.tick(60_000);
});

test('a wait with a time in the past ends at once', async () => {
  const queue = new EventQueue<string>();
  const wait = queue.wait(-5);
  mock.timers.tick(0);
  assert.equal(await settled(wait), true);
});
