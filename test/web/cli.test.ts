// `qless web` as a user runs it (the real bin/qless): refusals with exit 2, an unreachable Redis
// with exit 3, the URL printed, the live stream, and a clean stop on SIGINT and SIGTERM.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createServer } from 'node:net';
import { Client } from '../../src/client/index.ts';
import { qless, startQless } from '../helpers/cli.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';

let redis: RedisServer;
let client: Client;

before(async () => {
  redis = await startRedis();
  client = new Client({ url: redis.url });
});
after(async () => {
  await client.close();
  await redis.stop();
});

test('binding another address without --auth or --token is refused with one line and exit 2', async () => {
  const result = await qless(['web', '--host', '0.0.0.0'], { redis: redis.url });
  assert.equal(result.code, 2);
  assert.equal(result.stderr.trim().split('\n').length, 1);
  assert.match(result.stderr, /refusing to listen on 0\.0\.0\.0 without --auth or --token/);
  const fromEnv = await qless(['web'], { redis: redis.url, env: { QLESS_WEB_HOST: '::' } });
  assert.equal(fromEnv.code, 2);
  for (const [args, message] of [
    [['web', '--port', 'x'], /--port must be a whole number/],
    [['web', '--auth', 'nopassword'], /--auth must be user:password/],
    [['web', '--auth', 'a:b', '--token', 'long-enough-token'], /either --auth or --token/],
  ] as const) {
    const refused = await qless(args, { redis: redis.url });
    assert.equal(refused.code, 2, args.join(' '));
    assert.match(refused.stderr, message);
  }
});

test('an unreachable Redis → exit 3', async () => {
  const result = await qless(['web', '--port', '0', '--redis', 'redis://127.0.0.1:1']);
  assert.equal(result.code, 3);
  assert.match(result.stderr, /cannot connect to Redis/);
});

test('a port in use → exit 2 naming --port', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  try {
    const result = await qless(['web', '--port', String(port)], { redis: redis.url });
    assert.equal(result.code, 2);
    assert.match(result.stderr, new RegExp(`--port ${port}: the port is in use`));
  } finally {
    server.close();
  }
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`prints the URL, serves the page, the API and the live stream, and stops on ${signal} with exit 0`, async () => {
    const run = startQless(['web', '--port', '0', '--read-only'], { redis: redis.url });
    try {
      await run.waitFor('qless web: dashboard on');
      const url = /dashboard on (http:\/\/\S+)/.exec(run.stdout)?.[1] ?? '';
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      assert.match(run.stdout, /\(read-only\)/);
      assert.equal((await fetch(url)).status, 200);
      const session = (await (await fetch(`${url}api/session`)).json()) as { readOnly: boolean };
      assert.equal(session.readOnly, true);

      const stream = new AbortController();
      const events = await fetch(`${url}api/events`, { signal: stream.signal });
      assert.match(String(events.headers.get('content-type')), /^text\/event-stream/);
      const reader = (events.body as ReadableStream<Uint8Array>).getReader();
      let text = '';
      await client.queue('live-q').put('K', {});
      while (!/event: changes\ndata: .*"live-q"/.test(text)) {
        const chunk = await reader.read();
        if (chunk.done) break;
        text += new TextDecoder().decode(chunk.value);
      }
      assert.match(text, /event: changes\ndata: .*"queues":\["live-q"\]/);
      stream.abort();
    } finally {
      run.signal(signal);
    }
    const result = await run.done;
    assert.deepEqual([result.code, result.signal], [0, null], result.stderr);
  });
}
