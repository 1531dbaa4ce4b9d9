// While Redis is away, the dashboard answers 503 with a message instead of hanging.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startDashboard } from '../../src/web/index.ts';
import { startRedis } from '../helpers/redis.ts';

test('a request while Redis is away gets a 503 JSON error', async () => {
  const redis = await startRedis();
  const dashboard = await startDashboard({ host: '127.0.0.1', port: 0, redis: redis.url });
  try {
    assert.equal((await fetch(`${dashboard.url}api/overview`)).status, 200);
    await redis.stop();
    const reply = await fetch(`${dashboard.url}api/overview`);
    assert.equal(reply.status, 503);
    const body = (await reply.json()) as { error: string };
    assert.match(body.error, /^Redis is not answering/);
    // The page itself is served without Redis.
    assert.equal((await fetch(dashboard.url)).status, 200);
  } finally {
    await dashboard.close();
  }
});
