// The one timer behind every lock renewal: each task runs once its deadline is reached (earlier
// deadlines first, whatever the order they were scheduled in), a cancelled or re-scheduled
// deadline does not run early, and a task scheduled inside a job's async context does not drag
// that context into the others' turn.
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

test('tasks run in deadline order, each once, none before its deadline', async () => {
  const timer = new SharedTimer(fail);
  const log: string[] = [];
  const start = performance.now();
  const late = recorder(log, 'late', () => performance.now() - start);
  const early = recorder(log, 'early', () => performance.now() - start);
  const middle = recorder(log, 'middle', () => performance.now() - start);
  timer.schedule(late, 150);
  timer.schedule(early, 30);
  timer.schedule(middle, 80);
  await sleep(300);
  assert.deepEqual(log, ['early', 'middle', 'late']);
  assert.ok(
    early.ranAt! >= 29 && middle.ranAt! >= 79 && late.ranAt! >= 149,
    JSON.stringify([early.ranAt, middle.ranAt, late.ranAt]),
  );
  assert.equal(timer.size, 0);
});

test('a cancelled task never runs; a re-scheduled one runs at its new deadline only', async () => {
  const timer = new SharedTimer(fail);
  const log: string[] = [];
  const start = performance.now();
  const cancelled = recorder(log, 'cancelled', () => 0);
  const moved = recorder(log, 'moved', () => performance.now() - start);
  timer.schedule(cancelled, 20);
  timer.schedule(moved, 20);
  timer.cancel(cancelled);
  timer.schedule(moved, 120);
  await sleep(60);
  assert.deepEqual(log, [], 'the timer fired for the old deadlines and found nothing due');
  await sleep(150);
  assert.deepEqual(log, ['moved']);
  assert.ok(moved.ranAt! >= 119);
});

test('a task that throws does not keep the others from running', async () => {
  const errors: unknown[] = [];
  const timer = new SharedTimer((error) => errors.push(error));
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
  await sleep(80);
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
