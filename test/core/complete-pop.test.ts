// The `complete.pop` extension: `complete.pop <now> <pop-queue> <count> <complete's arguments>`
// must leave Redis (keys, values, scores, hash field order, history, stats, events and their order)
// exactly as `complete` followed by `pop` at the same now, reply with both replies, and do nothing
// of the pop when the complete fails.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { scriptMessage, type Reply } from '../helpers/qless.ts';
import { useCore } from '../helpers/client-suite.ts';

const T = 1700000000;
const fx = useCore();

type Args = (string | number)[];
/**
 * A script call, a Redis command (setting up what only old clients write), or a completion with
 * the pop that follows it.
 */
type Step =
  | { now: number; call: Args }
  | { raw: Args }
  | { now: number; popQueue: string; count: number | string; complete: Args };

/** Every key with its contents, hashes as field/value lists in Redis's own order. */
async function snapshot(): Promise<Record<string, unknown>> {
  const keys = await fx.core.snapshot();
  for (const key of Object.keys(keys)) {
    if ((await fx.core.redis.type(key)) === 'hash') {
      keys[key] = await fx.core.redis.eval("return redis.call('hgetall', KEYS[1])", 1, key);
    }
  }
  return keys;
}

type Outcome = Reply | { error: string } | Outcome[];

async function attempt(now: number, args: Args): Promise<Outcome> {
  try {
    return await fx.core.call(now, String(args[0]), ...args.slice(1));
  } catch (error) {
    return { error: scriptMessage(error) };
  }
}

const failed = (outcome: Outcome): outcome is { error: string } =>
  typeof outcome === 'object' && outcome !== null && 'error' in outcome;

/** Runs the steps on a fresh database: completions as two commands, or as one `complete.pop`. */
async function run(
  steps: Step[],
  combined: boolean,
): Promise<{ replies: Outcome[]; messages: [string, string][]; keys: Record<string, unknown> }> {
  await fx.core.flush();
  const messages = await fx.core.listen('ql:*');
  const replies: Outcome[] = [];
  for (const step of steps) {
    if ('raw' in step) {
      await fx.core.redis.call(String(step.raw[0]), ...step.raw.slice(1).map(String));
    } else if ('call' in step) {
      replies.push(await attempt(step.now, step.call));
    } else if (combined) {
      replies.push(await attempt(step.now, ['complete.pop', step.popQueue, step.count, ...step.complete]));
    } else {
      const completed = await attempt(step.now, ['complete', ...step.complete]);
      replies.push(
        failed(completed)
          ? completed
          : [completed, await attempt(step.now, ['pop', step.popQueue, String(step.complete[1]), step.count])],
      );
    }
  }
  const received = await messages.take();
  await messages.close();
  return { replies, messages: received, keys: await snapshot() };
}

async function assertSameBothWays(
  steps: Step[],
): Promise<{ replies: Outcome[]; messages: [string, string][]; keys: Record<string, unknown> }> {
  const separate = await run(steps, false);
  const combined = await run(steps, true);
  assert.deepEqual(combined.replies, separate.replies);
  assert.deepEqual(combined.messages, separate.messages);
  assert.deepEqual(combined.keys, separate.keys);
  return combined;
}

const put = (now: number, jid: string, queue = 'q', ...options: Args): Step => ({
  now,
  call: ['put', 'w', queue, jid, 'K', '{}', 0, ...options],
});
const putLater = (now: number, jid: string, queue: string, delay: number, ...options: Args): Step => ({
  now,
  call: ['put', 'w', queue, jid, 'K', '{}', delay, ...options],
});
const pop = (now: number, worker: string, count: number, queue = 'q'): Step => ({
  now,
  call: ['pop', queue, worker, count],
});
const completePop = (now: number, popQueue: string, count: number | string, ...complete: Args): Step => ({
  now,
  popQueue,
  count,
  complete,
});

describe('complete.pop leaves what complete then pop leave', () => {
  test('tracked jobs, dependents released, expiry sweep, legacy history, spread wait times', async () => {
    const steps: Step[] = [
      { now: T, call: ['config.set', 'jobs-history-count', 2] },
      put(T - 50, 'a', 'q', 'tags', '["t1"]'),
      put(T - 40, 'b'),
      put(T - 30, 'c', 'q', 'priority', 1),
      put(T - 20, 'after-a', 'q2', 'depends', '["a"]'),
      // Delayed and waiting on a: released into q2's scheduled set, due by the time q2 is popped.
      putLater(T - 10, 'sched-dep', 'q2', 5, 'depends', '["a"]'),
      { now: T, call: ['track', 'track', 'a'] },
      { now: T, call: ['track', 'track', 'b'] },
      pop(T, 'w1', 1),
      // An old client's history on b, which a complete.pop hands out below.
      { raw: ['del', 'ql:j:b-history'] },
      {
        raw: [
          'hset',
          'ql:j:b',
          'history',
          JSON.stringify([{ q: 'q', put: T - 40, popped: T - 35, worker: 'old', failed: T - 34 }]),
        ],
      },
      completePop(T + 1.25, 'q', 1, 'c', 'w1', 'q', '{"r":1}'),
      completePop(T + 2.5, 'q', 2, 'a', 'w1', 'q', '{"r":2}'),
      completePop(T + 4, 'q2', 2, 'b', 'w1', 'q', '{}'),
      completePop(T + 3600, 'q2', 1, 'after-a', 'w1', 'q2', '{}'),
    ];
    const result = await assertSameBothWays(steps);
    // It did what the test says.
    assert.deepEqual(
      result.replies
        .slice(-4)
        .map((reply) =>
          Array.isArray(reply)
            ? reply[1] === '{}'
              ? [reply[0], []]
              : [reply[0], (JSON.parse(String(reply[1])) as { jid: string }[]).map((job) => job.jid)]
            : reply,
        ),
      [
        ['complete', ['a']],
        ['complete', ['b']],
        ['complete', ['after-a', 'sched-dep']],
        ['complete', []],
      ],
    );
    assert.ok(result.messages.some(([channel, jid]) => channel === 'ql:completed' && jid === 'a'));
    assert.ok(result.messages.some(([channel, jid]) => channel === 'ql:popped' && jid === 'b'));
    assert.equal(result.keys['ql:j:c'], undefined, 'c was swept by jobs-history-count 2');
    assert.deepEqual(result.keys['ql:completed'], ['b', String(T + 4), 'after-a', String(T + 3600)]);
    assert.equal(
      (result.keys['ql:j:b-history'] as string[]).length,
      5,
      'three legacy entries migrated, then popped and done',
    );
    assert.ok(
      result.messages.some(([channel, message]) => channel === 'ql:log' && message.includes('"lock_lost"')),
      'sched-dep lost its lock at T + 3600',
    );
  });

  test('advancing with next, a recurring spawn and expired locks in the pop', async () => {
    // next: into the queue popped from, with a delay, with depends.
    const steps: Step[] = [
      { now: T, call: ['config.set', 'grace-period', 0] },
      { now: T, call: ['config.set', 'q-heartbeat', 30] },
      put(T - 5, 'x'),
      put(T - 4, 'y'),
      put(T - 3, 'z'),
      put(T - 2, 'dep'),
      { now: T - 1, call: ['recur', 'q', 'r', 'K', '{"rec":1}', 'interval', 60, 0] },
      pop(T, 'w1', 3),
      pop(T, 'w2', 1),
      // x moves on to the queue it pops from, and the same call hands it out again (after r-1).
      completePop(T + 1, 'q', 2, 'x', 'w1', 'q', '{"step":2}', 'next', 'q'),
      completePop(T + 2, 'q3', 1, 'y', 'w1', 'q', '{}', 'next', 'q3', 'delay', 10),
      completePop(T + 3, 'q3', 1, 'z', 'w1', 'q', '{}', 'next', 'q3', 'depends', '["dep"]'),
      // dep's completion releases z; w1's locks on r-1 and x have expired (grace-period 0: handed
      // on at once, but r-1 has no retries left, so it fails), and r's next child is due.
      completePop(T + 100, 'q', 3, 'dep', 'w2', 'q', '{}'),
    ];
    const result = await assertSameBothWays(steps);
    const summary = result.replies
      .slice(-4)
      .map((reply) =>
        Array.isArray(reply)
          ? [
              reply[0],
              reply[1] === '{}' ? [] : (JSON.parse(String(reply[1])) as { jid: string }[]).map((job) => job.jid),
            ]
          : reply,
      );
    assert.deepEqual(summary, [
      ['waiting', ['r-1', 'x']],
      ['scheduled', []],
      ['depends', []],
      ['complete', ['x', 'r-2']],
    ]);
    assert.deepEqual(result.keys['ql:f:failed-retries-q'], ['r-1']);
    assert.ok(result.messages.some(([channel, message]) => channel === 'ql:log' && message.includes('"advanced"')));
    assert.ok(result.messages.some(([channel, message]) => channel === 'ql:w:w1' && message.includes('"lock_lost"')));
    assert.equal(
      (result.keys['ql:j:z'] as string[])[(result.keys['ql:j:z'] as string[]).indexOf('state') + 1],
      'waiting',
    );
  });

  test('a paused pop queue and count 0: the complete happens, the pop hands out nothing', async () => {
    const steps: Step[] = [
      put(T - 2, 'a'),
      put(T - 1, 'b'),
      pop(T, 'w1', 2),
      { now: T, call: ['pause', 'q'] },
      completePop(T + 1, 'q', 1, 'a', 'w1', 'q', '{}'),
      { now: T, call: ['unpause', 'q'] },
      put(T + 1, 'c'),
      completePop(T + 2, 'q', 0, 'b', 'w1', 'q', '{}'),
    ];
    const result = await assertSameBothWays(steps);
    assert.deepEqual(result.replies[4], ['complete', '{}']);
    assert.deepEqual(result.replies[7], ['complete', '{}']);
  });
});

describe('complete.pop refusals', () => {
  test("a complete that fails raises the complete's own error, and nothing of the pop happens", async () => {
    await fx.core.call(T - 1, 'put', 'w', 'q', 'a', 'K', '{}', 0);
    await fx.core.call(T, 'put', 'w', 'q', 'b', 'K', '{}', 0);
    await fx.core.call(T, 'pop', 'q', 'w1', 1);
    const before = await snapshot();
    assert.equal(
      await fx.core.error(T + 1, 'complete.pop', 'q', 1, 'a', 'w9', 'q', '{}'),
      'Complete(): Job a has been handed out to another worker: w1',
    );
    assert.equal(
      await fx.core.error(T + 1, 'complete.pop', 'q', 1, 'a', 'w1', 'q', 'not json'),
      'Expected value but found invalid token at character 1',
    );
    assert.equal(
      await fx.core.error(T + 1, 'complete.pop', 'q', 1, 'gone', 'w1', 'q', '{}'),
      'Complete(): Job gone does not exist',
    );
    assert.equal(await fx.core.error(T + 1, 'complete.pop', 'q', 1), 'Job(): no jid provided');
    assert.deepEqual(await snapshot(), before);
    assert.equal(await fx.core.redis.zscore('ql:workers', 'w9'), null, 'the pop would have registered w9');
  });

  test("the pop's queue and count are checked before anything is done", async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'a', 'K', '{}', 0);
    await fx.core.call(T, 'pop', 'q', 'w1', 1);
    const before = await snapshot();
    assert.equal(
      await fx.core.error(T + 1, 'complete.pop', 'q', 'x', 'a', 'w1', 'q', '{}'),
      'Pop(): Arg "count" missing or not a number: x',
    );
    assert.equal(await fx.core.error(T + 1, 'complete.pop', 'q'), 'Pop(): Arg "count" missing or not a number: nil');
    assert.equal(await fx.core.error(T + 1, 'complete.pop'), 'Queue(): no queue name provided');
    assert.deepEqual(await snapshot(), before);
    assert.equal(await fx.core.redis.hget('ql:j:a', 'state'), 'running');
  });

  test('the reply is an array: the state complete returns, then the JSON pop returns', async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'a', 'K', '{}', 0);
    await fx.core.call(T, 'put', 'w', 'q', 'b', 'K', '{"n":2}', 0);
    await fx.core.call(T, 'pop', 'q', 'w1', 1);
    const reply = await fx.core.call(T + 1, 'complete.pop', 'q', 1, 'b', 'w1', 'q', '{}');
    assert.ok(Array.isArray(reply));
    assert.equal(reply[0], 'complete');
    const [job] = JSON.parse(String(reply[1])) as { jid: string; state: string; worker: string; data: string }[];
    assert.deepEqual([job.jid, job.state, job.worker, job.data], ['a', 'running', 'w1', '{}']);
  });
});
