// The same script as a Redis 7 function library: FCALL qless 0 <command> <now> … must leave
// exactly the keys, replies and messages that EVALSHA leaves.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCore, scriptMessage, type Core, type Reply } from '../helpers/qless.ts';
import { functionLibrarySource, scriptSha } from '../../src/client/script.ts';

const T = 1700000000;
let core: Core;

before(async () => {
  core = await startCore();
  await core.redis.function('LOAD', 'REPLACE', functionLibrarySource());
});
after(async () => {
  await core.close();
});

type Step = [number | string, string, ...(string | number)[]];

const SEQUENCE: Step[] = [
  [T, 'config.set', 'grace-period', 5],
  [T, 'put', 'w0', 'q', 'a', 'K', '{"n":1}', 0, 'tags', '["t"]', 'priority', 2],
  [T, 'put', 'w0', 'q', 'b', 'K', '{"n":2}', 0, 'retries', 1],
  [T, 'put', 'w0', 'q', 'c', 'K', '{}', 0, 'depends', '["a"]'],
  [T, 'put', 'w0', 'q', 'd', 'K', '{}', 10],
  [T, 'recur', 'q', 'r', 'K', '{}', 'interval', 60, 0, 'backlog', 1],
  [T, 'track', 'track', 'b'],
  [T + 1.25, 'pop', 'q', 'w1', 3],
  [T + 2, 'heartbeat', 'a', 'w1', '{"b":2,"a":1}'],
  [T + 3, 'complete', 'a', 'w1', 'q', '{"done":true}'],
  [T + 4, 'fail', 'r-1', 'w1', 'grp', 'boom', '{}'],
  [T + 70, 'pop', 'q', 'w2', 5],
  [T + 80, 'pop', 'q', 'w2', 5],
  [T + 81, 'retry', 'c', 'q', 'w2', 0, 'g2', 'again'],
  [T + 82, 'timeout', 'd'],
  [T + 83, 'cancel', 'b', 'c', 'ghost'],
  [T + 84, 'unfail', 'q', 'grp', 5],
  [T + 85, 'get', 'r-1'],
  [T + 85, 'queues'],
  [T + 85, 'workers'],
  [T + 85, 'stats', 'q', T],
  [T + 85, 'track'],
  [T + 86, 'put', 'w0', 'q9', 'e1', 'K', '{}', 0],
  [T + 86.5, 'put', 'w0', 'q9', 'e2', 'K', '{}', 0],
  [T + 87, 'pop', 'q9', 'w3', 1],
  [T + 88, 'complete.pop', 'q9', 2, 'e1', 'w3', 'q9', '{"x":1}'],
  [T + 88, 'complete.pop', 'q9', 1, 'e1', 'w3', 'q9', '{}'],
  [T + 85, 'complete', 'd', 'nobody', 'q', '{}'],
  [T + 85, 'frobnicate'],
];

async function run(
  call: (step: Step) => Promise<Reply>,
): Promise<{ replies: (Reply | { error: string })[]; messages: [string, string][]; keys: Record<string, unknown> }> {
  await core.flush();
  const messages = await core.listen('ql:*');
  const replies: (Reply | { error: string })[] = [];
  for (const step of SEQUENCE) {
    replies.push(await call(step).catch((error: unknown) => ({ error: errorText(error) })));
  }
  const received = await messages.take();
  await messages.close();
  return { replies, messages: received, keys: await core.snapshot() };
}

/** The message without either wrapper (user_script / user_function). */
function errorText(error: unknown): string {
  const text = scriptMessage(error);
  const fromFunction = /^(?:ERR )?user_function:\d+: (.*?)(?: script: \S+, on @user_function:\d+\.)?$/s.exec(text);
  return fromFunction ? fromFunction[1] : text;
}

test('the library source registers `qless` in a library named qless', () => {
  const source = functionLibrarySource();
  assert.match(source, /^#!lua name=qless\n/);
  assert.match(source, /redis\.register_function\('qless', dispatch\)\n$/);
  assert.doesNotMatch(source, /return dispatch\(KEYS, ARGV\)/);
});

test('FCALL and EVALSHA leave the same keys, replies and messages', async () => {
  const viaEval = await run(
    ([now, command, ...args]) =>
      core.redis.evalsha(scriptSha(), 0, command, String(now), ...args.map(String)) as Promise<Reply>,
  );
  const viaFunction = await run(
    ([now, command, ...args]) =>
      core.redis.fcall('qless', 0, command, String(now), ...args.map(String)) as Promise<Reply>,
  );
  assert.deepEqual(viaFunction.replies, viaEval.replies);
  assert.deepEqual(viaFunction.messages, viaEval.messages);
  assert.deepEqual(viaFunction.keys, viaEval.keys);

  // The sequence did real work, so the comparison means something.
  assert.deepEqual(viaEval.replies.at(-1), { error: 'Unknown command frobnicate' });
  assert.deepEqual(viaEval.replies.at(-2), { error: 'Complete(): Job d is not currently running: stalled' });
  assert.ok(viaEval.messages.length > 10);
  assert.ok(Object.keys(viaEval.keys).length > 20);
  assert.equal((viaEval.keys['ql:j:a'] as Record<string, string>).state, 'complete');
  assert.equal((viaEval.replies.at(-4) as string[])[0], 'complete');
  assert.deepEqual(viaEval.replies.at(-3), { error: 'Complete(): Job e1 is not currently running: complete' });
});

test('state persists nowhere in the library between calls (config defaults stay defaults)', async () => {
  await core.flush();
  await core.redis.fcall('qless', 0, 'config.set', String(T), 'custom', 'x');
  assert.equal(
    await core.redis.fcall('qless', 0, 'config.get', String(T)),
    await core.redis.evalsha(scriptSha(), 0, 'config.get', String(T)),
  );
  await core.redis.fcall('qless', 0, 'config.unset', String(T), 'custom');
  assert.equal(
    await core.redis.fcall('qless', 0, 'config.get', String(T)),
    '{"application":"qless","grace-period":10,"stats-history":30,"jobs-history":604800,' +
      '"heartbeat":60,"jobs-history-count":50000,"histogram-history":7}',
  );
});
