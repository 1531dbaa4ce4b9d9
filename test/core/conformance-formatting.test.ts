// Conformance: number and string formatting of the protocol document §1.1 (%.17g in hash fields
// and scores, %.14g in JSON and key names, %.20f for `time`, cjson string escaping) and the
// Lua→Redis integer rule of §1 (truncation toward zero, overflow, `true` → 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { useCore } from '../helpers/client-suite.ts';
import { scriptSha } from '../../src/client/script.ts';

const T = 1700000000;

const fx = useCore();

test('§1.1 hash fields use %.17g: priority 0.1, retries/remaining 2.7', async () => {
  // JSON uses %.14g and floors remaining.
  await fx.core.call(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0, 'priority', 0.1, 'retries', 2.7);
  const job = await fx.core.redis.hgetall('ql:j:j');
  assert.equal(job.priority, '0.10000000000000001');
  assert.equal(job.retries, '2.7000000000000002');
  assert.equal(job.remaining, '2.7000000000000002');
  const reply = String(await fx.core.call(T, 'get', 'j'));
  // §2 job object: remaining is floored; retries and priority are plain JSON numbers (%.14g).
  assert.match(reply, /"retries":2\.7,/);
  assert.match(reply, /"remaining":2,/);
  assert.match(reply, /"priority":0\.1,/);
});

test('§1.1 expires: %.17g in the hash and the lock score, %.14g in JSON', async () => {
  await fx.core.call(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0);
  await fx.core.call('1700000002.0234561', 'pop', 'q', 'w1', 1);
  assert.equal(await fx.core.redis.hget('ql:j:j', 'expires'), '1700000062.0234561');
  assert.equal(Number(await fx.core.redis.zscore('ql:q:q-locks', 'j')), 1700000062.0234561);
  assert.match(String(await fx.core.call(T + 3, 'get', 'j')), /"expires":1700000062\.0235,/);
});

test('§1.1 JSON examples: expires 1700000060.123456 → 1700000060.1235; priority 1e15 → 1e+15', async () => {
  await fx.core.call(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0, 'priority', 1e15);
  assert.equal(await fx.core.redis.hget('ql:j:j', 'priority'), '1000000000000000');
  const popped = String(await fx.core.call('1700000000.123456', 'pop', 'q', 'w1', 1));
  assert.match(popped, /"expires":1700000060\.1235,/);
  assert.match(popped, /"priority":1e\+15,/);
  assert.match(String(await fx.core.call(T + 1, 'get', 'j')), /"priority":1e\+15,/);
});

test('§1.1 `time` uses %.20f', async () => {
  await fx.core.call('1700000000.123456', 'put', 'w0', 'q', 'a', 'K', '{}', 0);
  await fx.core.call(T, 'put', 'w0', 'q', 'b', 'K', '{}', 0);
  assert.equal(await fx.core.redis.hget('ql:j:a', 'time'), '1700000000.12345600128173828125');
  assert.equal(await fx.core.redis.hget('ql:j:b', 'time'), '1700000000.00000000000000000000');
});

test('§1.1 stats: mean written with %.17g; day in the key name with %.14g from a fractional now', async () => {
  await fx.core.call(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0);
  await fx.core.call('1700000000.1', 'pop', 'q', 'w1', 1);
  // The sample is 1700000000.1 − 1700000000 in doubles, 0.099999904632568359.
  assert.deepEqual(await fx.core.redis.hgetall('ql:s:wait:1699920000:q'), {
    total: '1',
    mean: '0.099999904632568359',
    vk: '0',
    s0: '1',
  });
  const stats = JSON.parse(String(await fx.core.call(T, 'stats', 'q', T))) as { wait: { mean: number } };
  assert.equal(stats.wait.mean, 0.099999904632568);
});

test('§1.1 Inf: put … priority inf succeeds, every later get fails', async () => {
  assert.equal(await fx.core.call(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0, 'priority', 'inf'), 'j');
  assert.equal(await fx.core.error(T, 'get', 'j'), 'Cannot serialise number: must not be NaN or Inf');
});

test('§1.1 strings in JSON: `/` → `\\/`, control characters escaped, UTF-8 unchanged', async () => {
  // doc-ambiguity: §1.1 says control characters are escaped without giving the spelling; the
  // expectation uses cjson's: \t for a tab, \u0001 for SOH.
  await fx.core.call(T, 'put', 'w0', 'q/x', 'a/b', 'K\u0001\t/', '{"u":"ü/é"}', 0, 'tags', '["é/t"]');
  assert.equal(
    await fx.core.call(T, 'get', 'a/b'),
    // `data` is stored raw, then emitted as a JSON string, so its `/` is escaped there too.
    '{"jid":"a\\/b","retries":5,"data":"{\\"u\\":\\"ü\\/é\\"}","failure":{},"expires":0,' +
      '"remaining":5,"spawned_from_jid":false,"dependencies":{},"klass":"K\\u0001\\t\\/",' +
      '"tracked":false,"tags":["é\\/t"],"queue":"q\\/x","state":"waiting",' +
      '"history":[{"when":1700000000,"q":"q\\/x","what":"put"}],"dependents":{},"priority":0,' +
      '"worker":""}',
  );
  // §2 tags are stored JSON-encoded by cjson, so the stored field escapes `/` as well.
  assert.equal(await fx.core.redis.hget('ql:j:a/b', 'tags'), String.raw`["é\/t"]`);
});

test('§1 Lua→Redis numbers: heartbeat expiry truncated toward zero', async () => {
  await fx.core.call(T, 'config.set', 'heartbeat', 30);
  await fx.core.call(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0);
  await fx.core.call(T, 'pop', 'q', 'w1', 1);
  assert.equal(await fx.core.call('1700000002.9', 'heartbeat', 'j', 'w1'), 1700000032);
  assert.equal(await fx.core.redis.hget('ql:j:j', 'expires'), '1700000032.9000001');
});

test('§1 Lua→Redis numbers: priority 7.8 → 7, −7.8 → −7, 1e20 overflows to −2^63', async () => {
  await fx.core.call(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0);
  assert.equal(await fx.core.call(T, 'priority', 'j', 7.8), 7);
  assert.equal(await fx.core.redis.hget('ql:j:j', 'priority'), '7.7999999999999998');
  assert.equal(await fx.core.call(T, 'priority', 'j', -7.8), -7);
  // ioredis parses big integer replies lossily by default; read this one as the exact text.
  const exact = new Redis(fx.core.server.url, { stringNumbers: true });
  try {
    assert.equal(await exact.evalsha(scriptSha(), 0, 'priority', String(T), 'j', '1e20'), '-9223372036854775808');
  } finally {
    exact.disconnect();
  }
});

test('§1 Lua→Redis numbers: retry returns the truncated remaining count', async () => {
  await fx.core.call(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0, 'retries', 2.7);
  await fx.core.call(T, 'pop', 'q', 'w1', 1);
  // remaining 2.7 − 1 = 1.7 → integer 1
  assert.equal(await fx.core.call(T, 'retry', 'j', 'q', 'w1'), 1);
});

test('§1 number parsing: numeric arguments go through tonumber (1e1, 0x10, spaces)', async () => {
  await fx.core.call(T, 'put', 'w0', 'q', 'a', 'K', '{}', '1e1', 'priority', '0x10');
  await fx.core.call(T, 'put', 'w0', 'q', 'b', 'K', '{}', ' 5 ', 'retries', '0x3');
  assert.equal(Number(await fx.core.redis.zscore('ql:q:q-scheduled', 'a')), T + 10);
  assert.equal(await fx.core.redis.hget('ql:j:a', 'priority'), '16');
  assert.equal(Number(await fx.core.redis.zscore('ql:q:q-scheduled', 'b')), T + 5);
  assert.equal(await fx.core.redis.hget('ql:j:b', 'retries'), '3');
});
