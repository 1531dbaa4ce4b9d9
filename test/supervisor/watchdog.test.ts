// The watchdog's decision as a pure function (silence, held jobs, lock expiries, time → kill or
// not, and why), then its view of a silent worker: besides its (throttled) IPC reports, what Redis
// says its name holds. A job popped after the last report still gets the worker killed once its
// lock has expired, and keeps a silent worker alive (not "idle") while its lock is live.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../src/client/client.ts';
import { UNASKED } from '../../src/supervisor/departure.ts';
import { askRedis } from '../../src/supervisor/holdings.ts';
import { SupervisorCalls } from '../../src/supervisor/redis-calls.ts';
import { judge, Watchdog, type WatchdogPolicy, type WatchedChild } from '../../src/supervisor/watchdog.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';

let server: RedisServer;
let producer: Client;
let supervisor: SupervisorCalls;

const POLICY: WatchdogPolicy = { pingEveryMs: 0, silentAfterMs: 1_000, idleSilenceLimitMs: 5_000 };

before(async () => {
  server = await startRedis();
  producer = new Client({ url: server.url, workerName: 'producer' });
  supervisor = new SupervisorCalls(new Client({ redis: producer.redis, workerName: 'supervisor' }));
});

after(async () => {
  await producer?.close();
  await server?.stop();
});

/** A worker process as the watchdog sees it: silent since `lastHeardAt`, with nothing reported over IPC. */
function silentWorker(name: string, lastHeardAt: number): WatchedChild & { lastHeardAt: number } {
  return { name, alive: true, departure: UNASKED, held: [], lastHeardAt, ping: () => undefined };
}

/** A watchdog whose lookups go to the real Redis; `answered()` resolves after the next lookup. */
function watchdogOnRedis(): { watchdog: Watchdog; answered: () => Promise<void> } {
  let notify: (() => void) | undefined;
  const watchdog = new Watchdog(
    POLICY,
    (name) => askRedis(supervisor, name),
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

describe('the watchdog decision', () => {
  const now = 1_700_000_000_000;
  const job = (jid: string, expiresInMs: number) => ({
    jid,
    queue: 'q',
    klass: 'K',
    expires: (now + expiresInMs) / 1000,
  });

  test('a worker heard from within silentAfterMs is never killed, even past a lock expiry', () => {
    const verdict = judge({ lastHeardAt: now - 999, reported: [job('a', -60_000)], inRedis: undefined }, now, POLICY);
    assert.equal(verdict, undefined);
  });

  test('a silent worker past the lock expiry of a reported job is killed, naming the job', () => {
    const reported = [job('live', 30_000), job('late', -1)];
    const verdict = judge({ lastHeardAt: now - 2_400, reported, inRedis: undefined }, now, POLICY);
    assert.deepEqual(verdict, {
      why: 'unresponsive for 2 s, past the lock expiry of late',
      held: ['live', 'late'],
    });
  });

  test('a lock expiry Redis reports counts like a reported one; the held jobs of both are named', () => {
    const inRedis = { held: ['popped-later'], expired: ['stalled'] };
    const verdict = judge({ lastHeardAt: now - 1_000, reported: [job('live', 30_000)], inRedis }, now, POLICY);
    assert.deepEqual(verdict, {
      why: 'unresponsive for 1 s, past the lock expiry of stalled',
      held: ['live', 'popped-later', 'stalled'],
    });
  });

  test('a silent worker with live locks only is left alone however long it is silent', () => {
    const silentFor = POLICY.idleSilenceLimitMs * 10;
    const inRedis = { held: ['x'], expired: [] };
    assert.equal(judge({ lastHeardAt: now - silentFor, reported: [], inRedis }, now, POLICY), undefined);
    assert.equal(
      judge({ lastHeardAt: now - silentFor, reported: [job('y', 1_000)], inRedis: undefined }, now, POLICY),
      undefined,
    );
  });

  test('a silent worker holding nothing is killed at the idle limit, not before', () => {
    const idle = { reported: [], inRedis: { held: [], expired: [] } };
    const limit = POLICY.idleSilenceLimitMs;
    assert.equal(judge({ ...idle, lastHeardAt: now - limit + 1 }, now, POLICY), undefined);
    assert.deepEqual(judge({ ...idle, lastHeardAt: now - limit }, now, POLICY), {
      why: 'unresponsive for 5 s',
      held: [],
    });
  });
});

describe('the watchdog in the loop (IPC reports only)', () => {
  const now = 1_700_000_000_000;

  type Stand = WatchedChild & { pings: number; departure: WatchedChild['departure'] };

  function child(name: string, lastHeardAt: number, expires: number): Stand {
    const stand: Stand = {
      name,
      alive: true,
      departure: UNASKED,
      held: [{ jid: `${name}-job`, queue: 'q', klass: 'K', expires: expires / 1000 }],
      lastHeardAt,
      pings: 0,
      ping: () => {
        stand.pings++;
      },
    };
    return stand;
  }

  test('pings every child once per period; kills the silent one past its lock expiry, once', () => {
    const watchdog = new Watchdog({ ...POLICY, pingEveryMs: 1_000 });
    const answering = child('answering', now, now - 1);
    const blocked = child('blocked', now - 5_000, now - 1);
    const doomed = watchdog.inspect([answering, blocked], now);
    assert.deepEqual(
      doomed.map((each) => [each.worker.name, each.why, each.held]),
      [['blocked', 'unresponsive for 5 s, past the lock expiry of blocked-job', ['blocked-job']]],
    );
    assert.deepEqual([answering.pings, blocked.pings], [1, 1]);
    assert.equal(watchdog.nextPingAt(), now + 1_000);

    blocked.departure = { kind: 'killed', why: 'watchdog', asked: false };
    assert.deepEqual(watchdog.inspect([answering, blocked], now + 500), [], 'a killed child is not judged again');
    assert.deepEqual([answering.pings, blocked.pings], [1, 1], 'not pinged before the period is over');
    watchdog.inspect([answering, blocked], now + 1_000);
    assert.deepEqual([answering.pings, blocked.pings], [2, 2]);
  });
});

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
    assert.deepEqual((await supervisor.workerJobs('silent-live')).jobs, [jid]);
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
    worker.lastHeardAt = now + 5;
    assert.deepEqual(watchdog.inspect([worker], now + 5 + POLICY.silentAfterMs), []);
  });
});
