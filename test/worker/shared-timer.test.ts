// The one timer behind every lock renewal: each task runs once its deadline is reached (earlier
// deadlines first, whatever the order they were scheduled in), a cancelled or re-scheduled
// deadline does not run early, and a task scheduled inside a job's async context does not drag
// that context into the others' turn. The timer takes a clock: the deadlines are checked under
// node:test's mock timers (the async-context one needs Node's real timers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { SharedTimer, type DueTask } from '../../src/worker/job/shared-timer.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const fail = (error: unknown): never => assert.fail(`a task threw: ${String(error)}`);

function recorder(log: string[], name: string, at: () => number): DueTask & { ranAt?: number } {
  const task: DueTask & { ranAt?: number } = {
    due() {
      task.ranAt = at();
      log.push(name);
    },
  };
  return task;
}

test('tasks run in deadline order, each once, none before its deadline', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const timer = new SharedTimer(fail, () => Date.now());
  const log: string[] = [];
  const at = (): number => Date.now();
  const late = recorder(log, 'late', at);
  const early = recorder(log, 'early', at);
  const middle = recorder(log, 'middle', at);
  timer.schedule(late, 150);
  timer.schedule(early, 30);
  timer.schedule(middle, 80);
  t.mock.timers.tick(29);
  assert.deepEqual(log, []);
  t.mock.timers.tick(1);
  assert.deepEqual(log, ['early']);
  t.mock.timers.tick(49);
  assert.deepEqual(log, ['early']);
  t.mock.timers.tick(1);
  assert.deepEqual(log, ['early', 'middle']);
  t.mock.timers.tick(70);
  assert.deepEqual(log, ['early', 'middle', 'late']);
  assert.deepEqual([early.ranAt, middle.ranAt, late.ranAt], [30, 80, 150]);
  assert.equal(timer.size, 0);
  t.mock.timers.tick(1_000);
  assert.equal(log.length, 3, 'each ran once');
});

test('a cancelled task never runs; a re-scheduled one runs at its new deadline only', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const timer = new SharedTimer(fail, () => Date.now());
  const log: string[] = [];
  const cancelled = recorder(log, 'cancelled', () => 0);
  const moved = recorder(log, 'moved', () => Date.now());
  timer.schedule(cancelled, 20);
  timer.schedule(moved, 20);
  timer.cancel(cancelled);
  timer.schedule(moved, 120);
  t.mock.timers.tick(60);
  assert.deepEqual(log, [], 'the timer fired for the old deadlines and found nothing due');
  t.mock.timers.tick(59);
  assert.deepEqual(log, []);
  t.mock.timers.tick(1);
  assert.deepEqual(log, ['moved']);
  assert.equal(moved.ranAt, 120);
});

test('a task that throws does not keep the others from running', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const errors: unknown[] = [];
  const timer = new SharedTimer(
    (error) => errors.push(error),
    () => Date.now(),
  );
  const log: string[] = [];
  timer.schedule(
    {
      due: () => {
        throw new Error('boom');
      },
    },
    10,
  );
  timer.schedule(
    recorder(log, 'after', () => 0),
    10,
  );
  t.mock.timers.tick(10);
  assert.deepEqual(log, ['after']);
  assert.equal((errors[0] as Error | undefined)?.message, 'boom');
});

test('tasks run outside the async context of whoever scheduled them', async () => {
  const scope = new AsyncLocalStorage<string>();
  const timer = new SharedTimer(fail);
  const seen: (string | undefined)[] = [];
  timer.schedule({ due: () => void seen.push(scope.getStore()) }, 60);
  // A job's code schedules an earlier deadline: the timer is re-armed from inside its scope.
  scope.run('job-a', () => timer.schedule({ due: () => void seen.push(scope.getStore()) }, 20));
  await sleep(150);
  assert.deepEqual(seen, [undefined, undefined]);
});
