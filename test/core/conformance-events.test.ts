// Conformance: events of the protocol document §5 (channels and payloads), §5.1 (exact payload
// strings) and §5.2 (order within one command). Every test listens on all channels, so an extra
// or missing message anywhere fails it.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startCore, type Core, type Messages } from '../helpers/qless.ts';

const T = 1700000000;

let core: Core;
let events: Messages;
before(async () => {
  core = await startCore();
  events = await core.listen('*');
});
after(async () => {
  await events.close();
  await core.close();
});
beforeEach(async () => {
  await core.flush();
  await events.take();
});

const putLog = (jid: string, queue: string): [string, string] => [
  'ql:log',
  `{"jid":"${jid}","event":"put","queue":"${queue}"}`,
];
const lockLost = (jid: string, worker: string): string => `{"jid":"${jid}","event":"lock_lost","worker":"${worker}"}`;

/** put j into q with a fresh lock held by `worker`, tracked; events so far discarded. */
async function runningTrackedJob(
  jid: string,
  queue: string,
  worker: string,
  ...options: (string | number)[]
): Promise<void> {
  await core.call(T, 'put', 'w0', queue, jid, 'K', '{}', 0, ...options);
  await core.call(T, 'track', 'track', jid);
  await core.call(T, 'pop', queue, worker, 1);
  await events.take();
}

test('§5.1 put publishes on ql:log only for an untracked job', async () => {
  await core.call(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0);
  assert.deepEqual(await events.take(), [putLog('j', 'q')]);
});

test('§5.1 `/` is escaped in payloads', async () => {
  await core.call(T, 'put', 'w0', 'q/x', 'a/b', 'K', '{}', 0);
  assert.deepEqual(await events.take(), [['ql:log', String.raw`{"jid":"a\/b","event":"put","queue":"q\/x"}`]]);
});

test('§5.2 put of a tracked job: ql:log put, then ql:put with the bare jid', async () => {
  await core.call(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0);
  await core.call(T, 'track', 'track', 'j');
  await events.take();
  await core.call(T, 'requeue', 'w0', 'q2', 'j', 'K', '{}', 0);
  assert.deepEqual(await events.take(), [putLog('j', 'q2'), ['ql:put', 'j']]);
});

test('§5.2 put of a job held by another worker: put → ql:w:<old> lock_lost → ql:log lock_lost → ql:put', async () => {
  await runningTrackedJob('j', 'q', 'w1');
  await core.call(T + 1, 'put', 'w2', 'q2', 'j', 'K', '{}', 0);
  assert.deepEqual(await events.take(), [
    putLog('j', 'q2'),
    ['ql:w:w1', lockLost('j', 'w1')],
    ['ql:log', lockLost('j', 'w1')],
    ['ql:put', 'j'],
  ]);
});

test('§5 put by the owning worker itself sends no lock_lost', async () => {
  await core.call(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0);
  await core.call(T, 'pop', 'q', 'w1', 1);
  await events.take();
  await core.call(T + 1, 'put', 'w1', 'q2', 'j', 'K', '{}', 0);
  assert.deepEqual(await events.take(), [putLog('j', 'q2')]);
});

test('§4 put: lock_lost also fires for a waiting job whose worker was kept by retry', async () => {
  await core.call(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0);
  await core.call(T, 'pop', 'q', 'w1', 1);
  await core.call(T, 'retry', 'j', 'q', 'w1');
  await events.take();
  await core.call(T + 1, 'put', 'w2', 'q', 'j', 'K', '{}', 0);
  assert.deepEqual(await events.take(), [
    putLog('j', 'q'),
    ['ql:w:w1', lockLost('j', 'w1')],
    ['ql:log', lockLost('j', 'w1')],
  ]);
});

test('§5.2 pop: courtesy step of a tracked job, then exhaustion at the next expiry', async () => {
  await runningTrackedJob('j', 'q', 'w1', 'retries', 0); // lock expires at T+60
  // Courtesy: the job is not returned, and the losing worker w1 is addressed (not the caller w2).
  assert.equal(await core.call(T + 61, 'pop', 'q', 'w2', 1), '{}');
  assert.deepEqual(await events.take(), [
    ['ql:stalled', 'j'],
    ['ql:w:w1', lockLost('j', 'w1')],
    ['ql:log', lockLost('j', 'w1')],
  ]);
  // Grace period 10: the courtesy lock ends at T+71; remaining 0 − 1 < 0 fails the job.
  assert.equal(await core.call(T + 72, 'pop', 'q', 'w2', 1), '{}');
  assert.deepEqual(await events.take(), [
    ['ql:failed', 'j'],
    [
      'ql:log',
      '{"message":"Job exhausted retries in queue \\"q\\"","jid":"j","group":"failed-retries-q",' +
        '"event":"failed","worker":"w1"}',
    ],
  ]);
});

test('§5.2 pop with grace-period 0: courtesy and exhaustion in one call', async () => {
  await core.call(T, 'config.set', 'grace-period', 0);
  await runningTrackedJob('j', 'q', 'w1', 'retries', 0);
  assert.equal(await core.call(T + 61, 'pop', 'q', 'w2', 1), '{}');
  assert.deepEqual(await events.take(), [
    ['ql:stalled', 'j'],
    ['ql:w:w1', lockLost('j', 'w1')],
    ['ql:log', lockLost('j', 'w1')],
    ['ql:failed', 'j'],
    [
      'ql:log',
      '{"message":"Job exhausted retries in queue \\"q\\"","jid":"j","group":"failed-retries-q",' +
        '"event":"failed","worker":"w1"}',
    ],
  ]);
});

test('§5.2 pop with grace-period 0 and retries left: courtesy, then the job is handed out (ql:popped)', async () => {
  await core.call(T, 'config.set', 'grace-period', 0);
  await runningTrackedJob('j', 'q', 'w1', 'retries', 1);
  const popped = JSON.parse(String(await core.call(T + 61, 'pop', 'q', 'w2', 1))) as { jid: string; worker: string }[];
  assert.deepEqual(
    popped.map((job) => [job.jid, job.worker]),
    [['j', 'w2']],
  );
  assert.deepEqual(await events.take(), [
    ['ql:stalled', 'j'],
    ['ql:w:w1', lockLost('j', 'w1')],
    ['ql:log', lockLost('j', 'w1')],
    ['ql:popped', 'j'],
  ]);
});

test('§5.2 pop: several expired locks are processed in lock-score order', async () => {
  await core.call(T, 'put', 'w0', 'q', 'a', 'K', '{}', 0, 'priority', 2);
  await core.call(T, 'put', 'w0', 'q', 'b', 'K', '{}', 0, 'priority', 1);
  await core.call(T, 'track', 'track', 'a');
  await core.call(T, 'track', 'track', 'b');
  await core.call(T, 'pop', 'q', 'w1', 1); // a, lock T+60
  await core.call(T - 10, 'pop', 'q', 'w2', 1); // b, lock T+50: expires first
  await events.take();
  assert.equal(await core.call(T + 100, 'pop', 'q', 'w3', 5), '{}');
  assert.deepEqual(await events.take(), [
    ['ql:stalled', 'b'],
    ['ql:w:w2', lockLost('b', 'w2')],
    ['ql:log', lockLost('b', 'w2')],
    ['ql:stalled', 'a'],
    ['ql:w:w1', lockLost('a', 'w1')],
    ['ql:log', lockLost('a', 'w1')],
  ]);
});

test('§5.2 pop: ql:popped for each tracked job handed out, in the order taken; none for untracked', async () => {
  await core.call(T, 'put', 'w0', 'q', 'a', 'K', '{}', 0, 'priority', 2);
  await core.call(T, 'put', 'w0', 'q', 'b', 'K', '{}', 0, 'priority', 1);
  await core.call(T, 'put', 'w0', 'q', 'c', 'K', '{}', 0, 'priority', 3);
  await core.call(T, 'track', 'track', 'a');
  await core.call(T, 'track', 'track', 'b');
  await events.take();
  await core.call(T + 1, 'pop', 'q', 'w1', 3);
  assert.deepEqual(await events.take(), [
    ['ql:popped', 'a'],
    ['ql:popped', 'b'],
  ]);
});

test('§5.2 complete of a tracked job: ql:completed before ql:log completed', async () => {
  await runningTrackedJob('j', 'q3', 'w1');
  assert.equal(await core.call(T + 1, 'complete', 'j', 'w1', 'q3', '{}'), 'complete');
  assert.deepEqual(await events.take(), [
    ['ql:completed', 'j'],
    ['ql:log', '{"jid":"j","event":"completed","queue":"q3"}'],
  ]);
});

test('§5.2 complete with next: ql:completed, then ql:log advanced', async () => {
  await runningTrackedJob('j', 'q', 'w1');
  assert.equal(await core.call(T + 1, 'complete', 'j', 'w1', 'q', '{}', 'next', 'q3'), 'waiting');
  assert.deepEqual(await events.take(), [
    ['ql:completed', 'j'],
    ['ql:log', '{"jid":"j","to":"q3","event":"advanced","queue":"q"}'],
  ]);
});

test('§5.2 fail of a tracked job: ql:log failed, then ql:failed', async () => {
  await runningTrackedJob('j', 'q', 'w1');
  await core.call(T + 1, 'fail', 'j', 'w1', 'grp', 'mess');
  assert.deepEqual(await events.take(), [
    ['ql:log', '{"message":"mess","jid":"j","group":"grp","event":"failed","worker":"w1"}'],
    ['ql:failed', 'j'],
  ]);
});

test('§5.2 retry that exhausts a tracked job: ql:failed only (no ql:log)', async () => {
  await runningTrackedJob('j', 'q', 'w1', 'retries', 0);
  assert.equal(await core.call(T + 1, 'retry', 'j', 'q', 'w1'), -1);
  assert.deepEqual(await events.take(), [['ql:failed', 'j']]);
});

test('§5 retry that exhausts an untracked job publishes nothing', async () => {
  await core.call(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0, 'retries', 0);
  await core.call(T, 'pop', 'q', 'w1', 1);
  await events.take();
  assert.equal(await core.call(T + 1, 'retry', 'j', 'q', 'w1'), -1);
  assert.deepEqual(await events.take(), []);
});

test('§5.2 cancel: per jid, ql:log canceled → ql:w:<worker> canceled → ql:canceled', async () => {
  await runningTrackedJob('j', 'q', 'w1');
  await core.call(T, 'put', 'w0', 'q', 'k', 'K', '{}', 0);
  await events.take();
  assert.deepEqual(await core.call(T + 1, 'cancel', 'j', 'k', 'ghost'), ['j', 'k', 'ghost']);
  const running = '{"jid":"j","queue":"q","event":"canceled","worker":"w1"}';
  assert.deepEqual(await events.take(), [
    ['ql:log', running],
    ['ql:w:w1', running],
    ['ql:canceled', 'j'],
    // §5.1 a waiting job has worker '': nothing on ql:w:
    ['ql:log', '{"jid":"k","queue":"q","event":"canceled","worker":""}'],
    // §5.1 a jid that does not exist
    ['ql:log', '{"jid":"ghost","queue":false,"event":"canceled","worker":false}'],
  ]);
});

test('§4 cancel: a waiting job that kept its worker from retry is announced to that worker', async () => {
  await core.call(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0);
  await core.call(T, 'pop', 'q', 'w3', 1);
  await core.call(T, 'retry', 'j', 'q', 'w3');
  await events.take();
  await core.call(T + 1, 'cancel', 'j');
  const payload = '{"jid":"j","queue":"q","event":"canceled","worker":"w3"}';
  assert.deepEqual(await events.take(), [
    ['ql:log', payload],
    ['ql:w:w3', payload],
  ]);
});

test('§4 cancel of a complete job is skipped silently', async () => {
  await runningTrackedJob('j', 'q', 'w1');
  await core.call(T + 1, 'complete', 'j', 'w1', 'q', '{}');
  await events.take();
  assert.deepEqual(await core.call(T + 2, 'cancel', 'j'), ['j']);
  assert.deepEqual(await events.take(), []);
});

test('§5.2 timeout: ql:w:<worker> lock_lost → ql:log lock_lost; nothing on tracking channels', async () => {
  await runningTrackedJob('j', 'q', 'w1');
  assert.equal(await core.call(T + 1, 'timeout', 'j'), null);
  assert.deepEqual(await events.take(), [
    ['ql:w:w1', lockLost('j', 'w1')],
    ['ql:log', lockLost('j', 'w1')],
  ]);
});

test('§5 track/untrack publish the bare jid every time, even as a no-op; action is case-insensitive', async () => {
  await core.call(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0);
  await events.take();
  assert.equal(await core.call(T, 'track', 'track', 'j'), '1');
  assert.equal(await core.call(T, 'track', 'TRACK', 'j'), '0');
  assert.equal(await core.call(T, 'track', 'untrack', 'j'), '1');
  assert.equal(await core.call(T, 'track', 'Untrack', 'j'), '0');
  assert.deepEqual(await events.take(), [
    ['ql:track', 'j'],
    ['ql:track', 'j'],
    ['ql:untrack', 'j'],
    ['ql:untrack', 'j'],
  ]);
});

test('§5.1 config.set / config.unset payloads (value always a string)', async () => {
  await core.call(T, 'config.set', 'heartbeat', 30);
  await core.call(T, 'config.unset', 'heartbeat');
  assert.deepEqual(await events.take(), [
    ['ql:log', '{"option":"heartbeat","event":"config_set","value":"30"}'],
    ['ql:log', '{"event":"config_unset","option":"heartbeat"}'],
  ]);
});

test('§5 no events from heartbeat, non-exhausting retry, unfail, priority, depends, tag, log', async () => {
  // All on a tracked job.
  await runningTrackedJob('j', 'q', 'w1');
  await core.call(T + 1, 'heartbeat', 'j', 'w1');
  await core.call(T + 1, 'heartbeat', 'j', 'w1', '{"x":1}');
  await core.call(T + 1, 'retry', 'j', 'q', 'w1');
  await core.call(T + 1, 'priority', 'j', 3);
  await core.call(T + 1, 'tag', 'add', 'j', 'a', 'b');
  await core.call(T + 1, 'tag', 'remove', 'j', 'a');
  await core.call(T + 1, 'tag', 'get', 'b');
  await core.call(T + 1, 'tag', 'top');
  await core.call(T + 1, 'log', 'j', 'note', '{"k":1}');
  assert.deepEqual(await events.take(), []);

  // unfail of a failed tracked job
  await core.call(T + 2, 'pop', 'q', 'w1', 1);
  await core.call(T + 2, 'fail', 'j', 'w1', 'grp', 'msg');
  await events.take();
  assert.equal(await core.call(T + 3, 'unfail', 'q', 'grp'), 1);
  assert.deepEqual(await events.take(), []);

  // depends on / off of a tracked job in the depends state
  await core.call(T + 4, 'put', 'w0', 'q', 'd', 'K', '{}', 0, 'depends', '["j"]');
  await core.call(T + 4, 'put', 'w0', 'q', 'e', 'K', '{}', 0);
  await core.call(T + 4, 'track', 'track', 'd');
  await events.take();
  assert.equal(await core.call(T + 5, 'depends', 'd', 'on', 'e'), 1);
  assert.equal(await core.call(T + 5, 'depends', 'd', 'off', 'e'), 1);
  assert.equal(await core.call(T + 5, 'depends', 'd', 'off', 'all'), 1);
  assert.deepEqual(await events.take(), []);
});

test('§5 no events from pause/unpause, recur commands, spawning, worker.deregister, queue.forget', async () => {
  await core.call(T, 'pause', 'q');
  await core.call(T, 'unpause', 'q');
  await core.call(T, 'recur', 'q', 'r', 'K', '{}', 'interval', 60, 0);
  await core.call(T, 'recur.update', 'r', 'priority', 2);
  await core.call(T, 'recur.tag', 'r', 'x');
  await core.call(T, 'recur.untag', 'r', 'x');
  // Spawning recurring children, by peek and by pop (children are untracked).
  const peeked = JSON.parse(String(await core.call(T, 'peek', 'q', 1))) as { jid: string }[];
  assert.deepEqual(
    peeked.map((job) => job.jid),
    ['r-1'],
  );
  const popped = JSON.parse(String(await core.call(T + 60, 'pop', 'q', 'w1', 2))) as { jid: string }[];
  assert.equal(popped.length, 2);
  await core.call(T + 61, 'unrecur', 'r');
  await core.call(T + 61, 'worker.deregister', 'w1');
  await core.call(T + 61, 'queue.forget', 'q');
  assert.deepEqual(await events.take(), []);
  // The commands did run: the template is gone, both children exist.
  assert.equal(await core.call(T + 61, 'recur.get', 'r'), null);
  assert.notEqual(await core.call(T + 61, 'get', 'r-2'), null);
});
