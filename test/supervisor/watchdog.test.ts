// The watchdog's view of a silent worker: besides its (throttled) IPC reports, what Redis says its
// name holds. A job popped after the last report still gets the worker killed once its lock has
// expired, and keeps a silent worker alive (not "idle") while its lock is live.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../src/client/client.ts';
import type { ForkedWorker } from '../../src/supervisor/forked-worker.ts';
import { Watchdog, type HeldInRedis, type WatchdogPolicy } from '../../src/supervisor/watchdog.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';

let server: RedisServer;
let producer: Client;
let supervisor: Client;

const POLICY: WatchdogPolicy = { pingEveryMs: 0, silentAfterMs: 1_000, idleSilenceLimitMs: 5_000 };

before(async () => {
  server = await startRedis();
  producer = new Client({ url: server.url, workerName: 'producer' });
  supervisor = new Client({ redis: producer.redis, workerName: 'supervisor' });
});

after(async () => {
  await producer?.close();
  await server?.stop();
});

/** A worker process as the watchdog sees it: silent since `lastHeardAt`, with nothing reported over IPC. */
function silentWorker(name: string, lastHeardAt: number): ForkedWorker {
  const stand = { name, alive: true, killedFor: undefined, held: [], lastHeardAt, ping: () => undefined };
  return stand as unknown as ForkedWorker;
}

/** A watchdog whose lookups go to the real Redis; `answered()` resolves after the next lookup. */
function watchdogOnRedis(): { watchdog: Watchdog; answered: () => Promise<void> } {
  let notify: (() => void) | undefined;
  const watchdog = new Watchdog(
    POLICY,
    async (name): Promise<HeldInRedis> => {
      const held = await supervisor.workers.get(name);
      return { held: held.jobs, expired: held.stalled };
    },
    () => notify?.(),
  );
  return { watchdog, answered: () => new Promise<void>((resolve) => (notify = resolve)) };
}

/** Pops one job under `worker` with the given clock, so its lock expiry can lie in the past. */
async function popAs(worker: string, queue: string, now: number): Promise<string> {
  const jid = await producer.queue(queue).put('Blocker', {});
  const popper = new Client({ redis: producer.redis, workerName: worker, now: () => now });
  const [job] = await popper.queue(queue).pop(1);
  assert.equal(job?.jid, jid);
  return jid;
}

describe('watchdog', () => {
  test('kills a silent worker whose unreported job is past its lock expiry (from Redis)', async () => {
    const now = Date.now();
    const jid = await popAs('silent-expired', 'wd-a', now / 1000 - 3_600);
    const { watchdog, answered } = watchdogOnRedis();
    const worker = silentWorker('silent-expired', now - 2_000);
    const asked = answered();
    assert.deepEqual(watchdog.inspect([worker], now), [], 'nothing known before Redis answered');
    await asked;
    const doomed = watchdog.inspect([worker], now + 10);
    assert.equal(doomed.length, 1);
    assert.deepEqual(doomed[0].held, [jid]);
    assert.match(doomed[0].why, new RegExp(`past the lock expiry of ${jid}`));
  });

  test('a silent worker whose job still has a live lock is not killed as idle', async () => {
    const now = Date.now();
    const jid = await popAs('silent-live', 'wd-b', now / 1000);
    const { watchdog, answered } = watchdogOnRedis();
    // Silent past the idle limit: with nothing held it would be killed.
    const worker = silentWorker('silent-live', now - POLICY.idleSilenceLimitMs - 1_000);
    const asked = answered();
    watchdog.inspect([worker], now);
    await asked;
    assert.deepEqual(watchdog.inspect([worker], now + 10), []);
    assert.deepEqual((await supervisor.workers.get('silent-live')).jobs, [jid]);
  });

  test('a silent worker that holds nothing anywhere is killed after the idle limit', async () => {
    const now = Date.now();
    const { watchdog, answered } = watchdogOnRedis();
    const worker = silentWorker('silent-idle', now - POLICY.idleSilenceLimitMs - 1_000);
    const asked = answered();
    watchdog.inspect([worker], now);
    await asked;
    const doomed = watchdog.inspect([worker], now + 10);
    assert.equal(doomed.length, 1);
    assert.deepEqual(doomed[0].held, []);
  });

  test('an answer from before the worker was last heard of is not used', async () => {
    const now = Date.now();
    await popAs('heard-again', 'wd-c', now / 1000 - 3_600);
    const { watchdog, answered } = watchdogOnRedis();
    const worker = silentWorker('heard-again', now - 2_000);
    const asked = answered();
    watchdog.inspect([worker], now);
    await asked;
    // It spoke after the lookup was asked (and went silent again): that answer may be stale.
    (worker as { lastHeardAt: number }).lastHeardAt = now + 5;
    assert.deepEqual(watchdog.inspect([worker], now + 5 + POLICY.silentAfterMs), []);
  });
});
