// Exact JSON of jobs in each state (§4b, key orders of §3b) and the commands that publish nothing (§5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useCore } from '../helpers/client-suite.ts';

const T = 1700000000;
const fx = useCore();

const EMPTY = '"spawned_from_jid":false,"dependencies":{},"klass":"K","tracked":false,"tags":{}';

test('running, failed, complete: history items and failure in §3b key order', async () => {
  for (const jid of ['run', 'fl', 'cp']) await fx.core.call(T, 'put', 'w0', 'q', jid, 'K', '{}', 0, 'priority', 10);
  await fx.core.call('1700000001.5', 'pop', 'q', 'w1', 1);
  assert.equal(
    await fx.core.call(T + 2, 'get', 'run'),
    `{"jid":"run","retries":5,"data":"{}","failure":{},"expires":1700000061.5,"remaining":5,${EMPTY},` +
      '"queue":"q","state":"running",' +
      '"history":[{"when":1700000000,"q":"q","what":"put"},{"when":1700000001,"what":"popped",' +
      '"worker":"w1"}],"dependents":{},"priority":10,"worker":"w1"}',
  );
  await fx.core.call(T + 3, 'pop', 'q', 'w1', 2);
  await fx.core.call('1700000004.5', 'fail', 'fl', 'w1', 'grp', 'msg');
  assert.equal(
    await fx.core.call(T + 5, 'get', 'fl'),
    '{"jid":"fl","retries":5,"data":"{}","failure":{"message":"msg","group":"grp","when":1700000004,' +
      `"worker":"w1"},"expires":0,"remaining":5,${EMPTY},"queue":"q","state":"failed",` +
      '"history":[{"when":1700000000,"q":"q","what":"put"},{"when":1700000003,"what":"popped",' +
      '"worker":"w1"},{"group":"grp","what":"failed","when":1700000004,"worker":"w1"}],"dependents":{},' +
      '"priority":10,"worker":""}',
  );
  await fx.core.call(T + 4, 'complete', 'cp', 'w1', 'q', '{}');
  assert.equal(
    await fx.core.call(T + 5, 'get', 'cp'),
    `{"jid":"cp","retries":5,"data":"{}","failure":{},"expires":0,"remaining":5,${EMPTY},"queue":"",` +
      '"state":"complete",' +
      '"history":[{"when":1700000000,"q":"q","what":"put"},{"when":1700000003,"what":"popped",' +
      '"worker":"w1"},{"when":1700000004,"what":"done"}],"dependents":{},"priority":10,"worker":""}',
  );
});

test('exhausted by retry, timed out, waiting after retry', async () => {
  await fx.core.call(T, 'put', 'w0', 'q4', 'ex', 'K', '{}', 0, 'retries', 0);
  await fx.core.call(T, 'pop', 'q4', 'w1', 1);
  await fx.core.call('1700000001.5', 'retry', 'ex', 'q4', 'w1');
  assert.equal(
    await fx.core.call(T + 2, 'get', 'ex'),
    '{"jid":"ex","retries":0,"data":"{}","failure":{"message":"Job exhausted retries in queue \\"q4\\"",' +
      `"group":"failed-retries-q4","when":1700000001.5,"worker":""},"expires":0,"remaining":-1,${EMPTY},` +
      '"queue":"q4","state":"failed",' +
      '"history":[{"when":1700000000,"q":"q4","what":"put"},{"when":1700000000,"what":"popped",' +
      '"worker":"w1"},{"when":1700000001,"group":"failed-retries-q4","what":"failed"}],"dependents":{},' +
      '"priority":0,"worker":""}',
  );

  await fx.core.call(T, 'put', 'w0', 'q2', 'to', 'K', '{}', 0);
  await fx.core.call(T, 'pop', 'q2', 'w2', 1);
  await fx.core.call(T + 1, 'timeout', 'to');
  assert.equal(
    await fx.core.call(T + 2, 'get', 'to'),
    `{"jid":"to","retries":5,"data":"{}","failure":{},"expires":0,"remaining":5,${EMPTY},"queue":"q2",` +
      '"state":"stalled",' +
      '"history":[{"when":1700000000,"q":"q2","what":"put"},{"when":1700000000,"what":"popped",' +
      '"worker":"w2"},{"when":1700000001,"what":"timed-out"}],"dependents":{},"priority":0,' +
      '"worker":"w2"}',
  );

  await fx.core.call(T, 'put', 'w0', 'q3', 'rt', 'K', '{}', 0);
  await fx.core.call(T, 'pop', 'q3', 'w3', 1);
  await fx.core.call(T + 1, 'retry', 'rt', 'q3', 'w3');
  assert.equal(
    await fx.core.call(T + 2, 'get', 'rt'),
    `{"jid":"rt","retries":5,"data":"{}","failure":{},"expires":1700000060,"remaining":4,${EMPTY},` +
      '"queue":"q3","state":"waiting",' +
      '"history":[{"when":1700000000,"q":"q3","what":"put"},{"when":1700000000,"what":"popped",' +
      '"worker":"w3"}],"dependents":{},"priority":0,"worker":"w3"}',
  );
});

test('no events from heartbeat, retry, unfail, priority, depends, tag, log, pause, recurring', async () => {
  // Nor from forget and deregister.
  await fx.core.call(T, 'put', 'w0', 'q', 'a', 'K', '{}', 0);
  await fx.core.call(T, 'put', 'w0', 'q', 'b', 'K', '{}', 0, 'depends', '["a"]');
  await fx.core.call(T, 'put', 'w0', 'q', 'f', 'K', '{}', 0, 'priority', 9);
  await fx.core.call(T, 'put', 'w0', 'q', 'r', 'K', '{}', 0, 'priority', 8);
  for (const jid of ['a', 'b', 'f', 'r']) await fx.core.call(T, 'track', 'track', jid);
  await fx.core.call(T, 'pop', 'q', 'w1', 2);
  await fx.core.call(T, 'fail', 'f', 'w1', 'g', 'm');
  await fx.core.call(T, 'recur', 'q', 'rec', 'K', '{}', 'interval', 60, 0);
  const messages = await fx.core.listen('*');
  const quiet: (string | number)[][] = [
    ['heartbeat', 'r', 'w1'],
    ['retry', 'r', 'q', 'w1'],
    ['unfail', 'q', 'g'],
    ['priority', 'a', 3],
    ['depends', 'b', 'on', 'r'],
    ['depends', 'b', 'off', 'r'],
    ['tag', 'add', 'a', 't'],
    ['tag', 'remove', 'a', 't'],
    ['tag', 'get', 't'],
    ['log', 'a', 'note'],
    ['pause', 'q'],
    ['unpause', 'q'],
    ['recur.update', 'rec', 'priority', 2],
    ['recur.tag', 'rec', 'x'],
    ['recur.untag', 'rec', 'x'],
    ['peek', 'q', 5],
    ['unrecur', 'rec'],
    ['queues'],
    ['workers'],
    ['jobs', 'scheduled', 'q'],
    ['stats', 'q', T],
    ['worker.deregister', 'w1'],
    ['queue.forget', 'q'],
  ];
  for (const [command, ...args] of quiet) await fx.core.call(T + 1, String(command), ...args);
  assert.deepEqual(await messages.take(), []);
  await messages.close();
  // The calls did their work.
  assert.equal(await fx.core.redis.hget('ql:j:f', 'state'), 'waiting');
  assert.equal(await fx.core.redis.hget('ql:j:rec-1', 'state'), 'waiting');
  assert.equal(await fx.core.redis.exists('ql:r:rec', 'ql:workers', 'ql:queues'), 0);
});
