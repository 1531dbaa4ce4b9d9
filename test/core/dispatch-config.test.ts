// The script's calling convention (§1) and the config commands (§3).
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startCore, scriptMessage, type Core } from '../helpers/qless.ts';
import { scriptSha } from '../../src/client/script.ts';

const T = 1700000000;
let core: Core;

before(async () => {
  core = await startCore();
});
after(async () => {
  await core.close();
});
beforeEach(async () => {
  await core.flush();
  await core.call(T, 'put', 'w', 'q', 'j', 'K', '{}', 0);
});

async function rawError(...argv: string[]): Promise<string> {
  try {
    await core.redis.evalsha(scriptSha(), 0, ...argv);
  } catch (error) {
    return scriptMessage(error);
  }
  throw new Error('expected an error');
}

test('bad calls are refused before anything is written', async () => {
  const before = await core.snapshot();
  assert.equal(await rawError(), 'Must provide a command');
  assert.equal(await core.error(T, 'frobnicate', 'j'), 'Unknown command frobnicate');
  assert.equal(await rawError('get'), "bad argument #1 to 'tonumber' (value expected)");
  assert.equal(await core.error('soon', 'get', 'j'), 'Arg "now" missing or not a number: nil');
  assert.equal(await core.error('', 'put', 'w', 'q', 'x', 'K', '{}', 0), 'Arg "now" missing or not a number: nil');
  const withKeys = await core.redis.evalsha(scriptSha(), 1, 'ql:j:j', 'get', String(T), 'j').catch(scriptMessage);
  assert.equal(withKeys, 'No Keys should be provided');
  assert.deepEqual(await core.snapshot(), before);
});

test('errors carry the user_script wrapper of Redis 7', async () => {
  const error = await core.call(T, 'frobnicate').catch((e: unknown) => e);
  assert.ok(error instanceof Error);
  assert.match(
    error.message,
    /^ERR user_script:\d+: Unknown command frobnicate script: [0-9a-f]{40}, on @user_script:\d+\.$/,
  );
});

test('now accepts anything Lua tonumber accepts', async () => {
  await core.call('0x10', 'put', 'w', 'q', 'hex', 'K', '{}', 0);
  assert.equal(await core.redis.hget('ql:j:hex', 'time'), '16.00000000000000000000');
  await core.call(' 1e9 ', 'put', 'w', 'q', 'exp', 'K', '{}', 0);
  assert.equal(await core.redis.hget('ql:j:exp', 'time'), '1000000000.00000000000000000000');
});

test('config.get without a key: the defaults, then stored keys assigned in HGETALL order', async () => {
  assert.equal(
    await core.call(T, 'config.get'),
    '{"application":"qless","grace-period":10,"stats-history":30,"jobs-history":604800,' +
      '"heartbeat":60,"jobs-history-count":50000,"histogram-history":7}',
  );
  await core.call(T, 'config.set', 'max-job-history', 50);
  await core.call(T, 'config.set', 'q-heartbeat', 5);
  await core.call(T, 'config.set', 'grace-period', 0);
  assert.equal(
    await core.call(T, 'config.get'),
    '{"histogram-history":7,"stats-history":30,"q-heartbeat":"5","max-job-history":"50",' +
      '"jobs-history-count":50000,"application":"qless","grace-period":"0","heartbeat":60,' +
      '"jobs-history":604800}',
  );
});

test('config.get <key>: stored string, else default integer, else nil', async () => {
  assert.equal(await core.call(T, 'config.get', 'heartbeat'), 60);
  assert.equal(await core.call(T, 'config.get', 'application'), 'qless');
  assert.equal(await core.call(T, 'config.get', 'max-job-history'), null);
  assert.equal(await core.call(T, 'config.get', 'max-worker-age'), null);
  assert.equal(await core.call(T, 'config.get', 'nonsense'), null);
  await core.call(T, 'config.set', 'heartbeat', '30');
  assert.equal(await core.call(T, 'config.get', 'heartbeat'), '30');
});

test('config.set / config.unset write ql:config and publish on ql:log', async () => {
  const messages = await core.listen('ql:*');
  assert.equal(await core.call(T, 'config.set', 'heartbeat', 30), null);
  assert.deepEqual(await core.redis.hgetall('ql:config'), { heartbeat: '30' });
  assert.equal(await core.call(T, 'config.unset', 'heartbeat'), null);
  assert.equal(await core.redis.exists('ql:config'), 0);
  assert.deepEqual(await messages.take(), [
    ['ql:log', '{"option":"heartbeat","event":"config_set","value":"30"}'],
    ['ql:log', '{"event":"config_unset","option":"heartbeat"}'],
  ]);
  await messages.close();
});

test('config.set / config.unset argument errors change nothing', async () => {
  const before = await core.snapshot();
  assert.equal(await core.error(T, 'config.set'), 'config.set(): Arg "option" missing');
  assert.equal(await core.error(T, 'config.set', 'heartbeat'), 'config.set(): Arg "value" missing');
  assert.equal(await core.error(T, 'config.unset'), 'config.unset(): Arg "option" missing');
  assert.deepEqual(await core.snapshot(), before);
});

test('the per-queue heartbeat overrides the global one', async () => {
  await core.call(T, 'config.set', 'heartbeat', 30);
  await core.call(T, 'config.set', 'q-heartbeat', 5);
  await core.call(T, 'put', 'w', 'other', 'o', 'K', '{}', 0);
  await core.call(T, 'pop', 'q', 'w1', 1);
  await core.call(T, 'pop', 'other', 'w1', 1);
  assert.equal(await core.redis.zscore('ql:q:q-locks', 'j'), String(T + 5));
  assert.equal(await core.redis.zscore('ql:q:other-locks', 'o'), String(T + 30));
  assert.equal(await core.call(T + 1, 'heartbeat', 'j', 'w1'), T + 6);
  assert.equal(await core.call(T + 1, 'heartbeat', 'o', 'w1'), T + 31);
});
