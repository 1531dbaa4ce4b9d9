// The pool status record (qless-worker:pool:<prefix>), black-box against the real bin/qless-worker
// on a redis-server that wants a password: while the pool runs the record names each slot's
// process and the jobs it runs (checked against what a slow handler holds); it never holds the
// password; a TERM deletes it; after a kill -9 of the supervisor it expires on its own. `qless
// workers` / `qless worker` show those processes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, POOL_KEY_PREFIX, POOLS_INDEX_KEY, type PoolStatus } from '../../src/client/index.ts';
import { TTL_MS } from '../../src/supervisor/pool-status.ts';
import { qless, qlessJson } from '../helpers/cli.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { eventually, isAlive, startWorker, type WorkerRun } from '../helpers/worker.ts';

const HANDLERS = fileURLToPath(new URL('../fixtures/handlers/metrics', import.meta.url));
const PACKAGE = fileURLToPath(new URL('../../package.json', import.meta.url));
const PASSWORD = 'pool-status-s3cret';

let redis: RedisServer;
let url: string;
let client: Client;
let scratch: string;
const runs: WorkerRun[] = [];

before(async () => {
  redis = await startRedis({ args: ['--requirepass', PASSWORD] });
  url = `redis://:${PASSWORD}@127.0.0.1:${redis.port}`;
  client = new Client({ url, workerName: 'producer' });
  scratch = realpathSync(mkdtempSync(join(tmpdir(), 'qless-pool-status-')));
});

after(async () => {
  for (const run of runs) await run.kill();
  await client.close();
  await redis.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function pool(name: string, extra: string[] = []): WorkerRun {
  const run = startWorker(['-q', name, '-r', url, '-p', HANDLERS, '-n', name, '--no-watch', '-i', '0.2', ...extra]);
  runs.push(run);
  return run;
}

/** Every value stored under our own prefix, as Redis holds it. */
async function ownKeys(): Promise<string> {
  const keys = await client.redis.keys('qless-worker:*');
  const texts: string[] = [];
  for (const key of keys) {
    const type = await client.redis.type(key);
    texts.push(
      key,
      type === 'zset' ? (await client.redis.zrange(key, 0, -1)).join(' ') : String(await client.redis.get(key)),
    );
  }
  return texts.join('\n');
}

describe('the pool status record', () => {
  test("names each slot's process and its jobs; no password; deleted on TERM; shown by qless workers", async () => {
    const run = pool('status', ['-w', '2', '-c', '2']);
    const ready = await eventually(
      () => {
        const lines = run.find((line) => line.event === 'ready');
        return lines.length === 2 ? lines : undefined;
      },
      { what: `two workers ready\n${run.describe()}` },
    );
    const gate = join(scratch, 'gate');
    const jids: string[] = [];
    for (let i = 0; i < 3; i++) jids.push(await client.queue('status').put('observed.Gate', { gate }));

    // The record agrees with Redis about who runs what, once every job runs.
    const record = await eventually(
      async () => {
        const status = await client.pools.get('status');
        const inRecord = status?.slots.flatMap((slot) => slot.jobs.map((job) => job.jid)) ?? [];
        return inRecord.length === 3 ? status : undefined;
      },
      { what: `three jobs in flight in the record\n${run.describe()}` },
    );
    assert.equal(record.prefix, 'status');
    assert.equal(record.pid, run.pid);
    assert.equal(record.host, hostname());
    assert.equal(record.version, (JSON.parse(readFileSync(PACKAGE, 'utf8')) as { version: string }).version);
    assert.deepEqual(record.options, {
      queues: ['status'],
      workers: 2,
      concurrency: 2,
      interval: 0.2,
      path: HANDLERS,
      reserver: 'ordered',
    });
    assert.deepEqual(
      record.slots.map((slot) => [slot.slot, slot.worker, slot.state, slot.restarts]),
      [
        [0, 'status-0', 'running', 0],
        [1, 'status-1', 'running', 0],
      ],
    );
    for (const slot of record.slots) {
      const readyLine = ready.find((line) => line.worker === slot.worker);
      assert.equal(slot.pid, readyLine?.pid, `${slot.worker}: the pid of its process`);
      assert.ok(isAlive(slot.pid ?? -1));
      assert.ok(slot.rssBytes === null || slot.rssBytes > 0);
      const held = await client.workers.get(slot.worker);
      assert.deepEqual(slot.jobs.map((job) => job.jid).sort(), [...held.jobs].sort(), `${slot.worker}: its jobs`);
      for (const job of slot.jobs) {
        assert.equal(job.queue, 'status');
        assert.equal(job.klass, 'observed.Gate');
        assert.ok(job.startedAt >= (slot.startedAt ?? Infinity) && job.startedAt <= record.updatedAt, 'start time');
      }
    }
    assert.deepEqual(record.slots.flatMap((slot) => slot.jobs.map((job) => job.jid)).sort(), [...jids].sort());
    const stored = await ownKeys();
    assert.ok(stored.includes(`${POOL_KEY_PREFIX}status`), stored);
    assert.ok(!stored.includes(PASSWORD), 'the password is nowhere in the records');
    assert.ok(!stored.includes(`127.0.0.1:${redis.port}`), 'nor the Redis address');

    // qless workers / worker: the process beside the jobs.
    const listed = await qlessJson<{
      workers: { name: string; process?: { host: string; pid: number; rssBytes: number | null; pool: string } }[];
    }>(['workers'], { redis: url });
    for (const slot of record.slots) {
      const row = listed.workers.find((entry) => entry.name === slot.worker);
      assert.equal(row?.process?.pid, slot.pid);
      assert.equal(row?.process?.host, hostname());
      assert.equal(row?.process?.pool, 'status');
    }
    const table = await qless(['workers'], { redis: url });
    assert.match(table.stdout, /^WORKER\s+JOBS\s+STALLED\s+HOST\s+PID\s+RSS\s+UPTIME$/m);
    assert.match(table.stdout, new RegExp(`^status-0\\s+\\d+\\s+0\\s+\\S+\\s+${record.slots[0].pid}\\s`, 'm'));
    const one = await qless(['worker', 'status-1'], { redis: url });
    assert.match(one.stdout, new RegExp(`^pool status slot 1 on \\S+: pid ${record.slots[1].pid} \\(running\\)`, 'm'));

    writeFileSync(gate, 'open');
    run.signal('SIGTERM');
    assert.deepEqual(await run.waitForExit(30_000), { code: 0, signal: null }, run.describe());
    assert.equal(await client.redis.exists(`${POOL_KEY_PREFIX}status`), 0, 'deleted on a clean shutdown');
    assert.equal(await client.redis.zscore(POOLS_INDEX_KEY, 'status'), null);
    assert.deepEqual(await client.pools.list(), []);
  });

  test('a supervisor killed with -9 leaves a record that expires within its TTL', async () => {
    const run = pool('killed', ['-w', '1']);
    const record: PoolStatus = await eventually(
      async () => {
        const status = await client.pools.get('killed');
        return status?.slots[0]?.state === 'running' ? status : undefined;
      },
      { what: `the record of a running pool\n${run.describe()}` },
    );
    assert.equal(record.pid, run.pid);
    process.kill(run.pid, 'SIGKILL');
    const ttl = await client.redis.pttl(`${POOL_KEY_PREFIX}killed`);
    assert.ok(ttl > 0 && ttl <= TTL_MS, `expires on its own (pttl ${ttl} ms)`);
    await eventually(async () => (await client.redis.exists(`${POOL_KEY_PREFIX}killed`)) === 0, {
      what: 'the record to expire',
      timeout: TTL_MS + 10_000,
      interval: 200,
    });
    assert.equal(await client.pools.get('killed'), undefined);
    assert.ok(!(await client.pools.list()).some((listed) => listed.prefix === 'killed'));
  });
});
