// Redis going away under a running pool, black-box: the real bin/qless-worker reaches Redis through
// a TCP proxy that the test cuts (every connection dropped, new ones refused) and later restores.
// Jobs that end during the outage are completed or failed once Redis is back (not left to their
// locks' expiry and run again), and the pool goes on taking work without a restart.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Client } from '../../src/client/index.ts';
import { freePort, startRedis, type RedisServer } from '../helpers/redis.ts';
import { eventually, startWorker, type WorkerRun } from '../helpers/worker.ts';
import { isReady, startedJob } from './blackbox.ts';
import { CuttableProxy } from './cuttable-proxy.ts';

const JOBS = fileURLToPath(new URL('../fixtures/handlers/jobs', import.meta.url));
/** Longer than ioredis's default retries of a pending command (20 reconnect attempts, about 10.5 s). */
const OUTAGE_MS = 13_000;

let redis: RedisServer;
let proxy: CuttableProxy;
let client: Client;
let run: WorkerRun | undefined;

before(async () => {
  redis = await startRedis();
  proxy = new CuttableProxy(await freePort(), redis.port);
  await proxy.restore();
  client = new Client({ url: redis.url, workerName: 'producer' });
});

after(async () => {
  await run?.kill();
  await proxy.cut();
  await client.close();
  await redis.stop();
});

test('jobs that end while Redis is unreachable are completed or failed once Redis is back', async () => {
  // The pool carries on.
  run = startWorker([
    '-q',
    'outage',
    '-r',
    proxy.url,
    '-w',
    '1',
    '-c',
    '2',
    '-i',
    '1',
    '-n',
    'outage',
    '-p',
    JOBS,
    '--no-watch',
  ]);
  await run.waitForLine(isReady);
  const queue = client.queue('outage');
  const completes = await queue.put('wait.ForAWhile', { ms: 1_000 });
  const fails = await queue.put('wait.ThenThrows', { ms: 1_000 });
  for (const jid of [completes, fails]) await run.waitForLine(startedJob(jid));

  await proxy.cut();
  // Both handlers end about a second into the outage; their complete and fail cannot reach Redis.
  await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
  assert.deepEqual(
    (await client.jobs.multiget(completes, fails)).map((job) => job.state),
    ['running', 'running'],
    'nothing reached Redis during the outage',
  );
  await proxy.restore();

  const ended = async (): Promise<boolean> =>
    (await client.jobs.multiget(completes, fails)).every((job) => job.state !== 'running');
  await eventually(ended, { what: `both jobs ended after the outage\n${run.describe()}` });
  const [completed, failed] = await client.jobs.multiget(completes, fails);
  assert.equal(completed.state, 'complete');
  assert.deepEqual(
    completed.history.map((entry) => entry.what),
    ['put', 'popped', 'done'],
    'popped once, completed once: not run again after a lock expiry',
  );
  assert.equal(failed.state, 'failed');
  assert.equal(failed.failure?.group, 'outage-RangeError');
  assert.deepEqual(
    failed.history.map((entry) => entry.what),
    ['put', 'popped', 'failed'],
  );

  const after = await queue.put('noop', {});
  await eventually(async () => (await client.jobs.get(after))?.state === 'complete', {
    what: `job ${after} completed by the same pool\n${run.describe()}`,
  });
  assert.equal(run.find(isReady).length, 1, 'the worker process was never replaced');
  assert.equal(run.find('exited').length, 0, 'no worker exited');

  run.signal('SIGTERM');
  assert.equal((await run.waitForExit()).code, 0);
});
