// client.pools: the records qless-worker pools publish under qless-worker:* (outside ql:), read
// back from a real redis-server: live ones listed, expired and foreign-shaped ones skipped.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import {
  POOL_KEY_PREFIX,
  POOLS_INDEX_KEY,
  type PoolStatus,
  publishPool,
  unpublishPool,
} from '../../src/client/index.ts';
import { useCore } from '../helpers/client-suite.ts';

function status(prefix: string, slots = 1): PoolStatus {
  return {
    schema: 1,
    prefix,
    host: 'host-a',
    pid: 4242,
    version: '0.1.0',
    startedAt: Date.now() - 5_000,
    updatedAt: Date.now(),
    options: { queues: ['q'], workers: slots, concurrency: 1, interval: 5, path: '/srv/jobs', reserver: 'ordered' },
    slots: Array.from({ length: slots }, (_, slot) => ({
      slot,
      worker: `${prefix}-${slot}`,
      pid: 5000 + slot,
      state: 'running' as const,
      startedAt: Date.now() - 4_000,
      restarts: 0,
      rssBytes: 60_000_000,
      jobs: slot === 0 ? [{ jid: 'j1', queue: 'q', klass: 'k', startedAt: Date.now() - 100 }] : [],
    })),
  };
}

describe('client.pools', () => {
  const fx = useCore({ workers: ['reader'] });

  test('a published pool is listed and found by prefix and by worker name; unpublish removes it', async () => {
    const { reader } = fx.clients;
    const b = status('b-pool', 2);
    await publishPool(reader.redis, b, 10_000);
    await publishPool(reader.redis, status('a-pool'), 10_000);
    assert.deepEqual(
      (await reader.pools.list()).map((pool) => pool.prefix),
      ['a-pool', 'b-pool'],
    );
    assert.deepEqual(await reader.pools.get('b-pool'), b);
    const found = await reader.pools.findWorker('b-pool-1');
    assert.equal(found?.pool.prefix, 'b-pool');
    assert.equal(found?.slot.pid, 5001);
    assert.equal(await reader.pools.findWorker('nobody-0'), undefined);
    const ttl = await reader.redis.pttl(`${POOL_KEY_PREFIX}b-pool`);
    assert.ok(ttl > 0 && ttl <= 10_000, `record expires on its own (pttl ${ttl})`);

    await unpublishPool(reader.redis, 'b-pool');
    assert.equal(await reader.redis.exists(`${POOL_KEY_PREFIX}b-pool`), 0);
    assert.equal(await reader.redis.zscore(POOLS_INDEX_KEY, 'b-pool'), null);
    assert.deepEqual(
      (await reader.pools.list()).map((pool) => pool.prefix),
      ['a-pool'],
    );
  });

  test('a record past its TTL is gone from the list, and pruned from the index by the next publish', async () => {
    const { reader } = fx.clients;
    await publishPool(reader.redis, status('short'), 150);
    assert.equal((await reader.pools.list()).length, 1);
    await sleep(300);
    assert.deepEqual(await reader.pools.list(), []);
    assert.equal(await reader.pools.get('short'), undefined);
    await publishPool(reader.redis, status('other'), 10_000);
    assert.equal(await reader.redis.zscore(POOLS_INDEX_KEY, 'short'), null, 'pruned');
  });

  test('a record of another shape (unknown schema, not JSON) is skipped', async () => {
    const { reader } = fx.clients;
    await publishPool(reader.redis, status('good'), 10_000);
    await reader.redis.set(`${POOL_KEY_PREFIX}future`, JSON.stringify({ ...status('future'), schema: 2 }));
    await reader.redis.zadd(POOLS_INDEX_KEY, Date.now() + 10_000, 'future');
    await reader.redis.set(`${POOL_KEY_PREFIX}garbage`, '{not json');
    await reader.redis.zadd(POOLS_INDEX_KEY, Date.now() + 10_000, 'garbage');
    assert.deepEqual(
      (await reader.pools.list()).map((pool) => pool.prefix),
      ['good'],
    );
    assert.equal(await reader.pools.get('future'), undefined);
  });
});
