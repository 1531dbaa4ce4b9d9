// A reply lost with the connection, black-box: the real bin/qless-worker reaches Redis through a
// TCP proxy that cuts every connection right after forwarding the worker's first `complete.pop`
// (so Redis runs it: the job completes and the next one is popped, locked under the worker's
// name) and before its reply comes back. After the reconnect ioredis sends the call again, whose
// complete is refused and whose pop takes another job, if any. The job of the lost pop must not
// wait out its lock (heartbeat 60 s here): the worker's reconcile after the reconnect runs it at
// once if a lane is free, and hands it back at once if none is or the worker is stopping.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Client } from '../../src/client/index.ts';
import type { Job } from '../../src/client/job.ts';
import { freePort, startRedis, type RedisServer } from '../helpers/redis.ts';
import { eventually, startWorker, type WorkerRun } from '../helpers/worker.ts';
import { CuttableProxy } from './cuttable-proxy.ts';

const JOBS = fileURLToPath(new URL('../fixtures/handlers/jobs', import.meta.url));
const HEARTBEAT_S = 60;
/** How long the proxy stays cut: the worker tries to reconnect meanwhile. */
const OUTAGE_MS = 1_000;

let redis: RedisServer;
let proxy: CuttableProxy;
let client: Client;
let run: WorkerRun | undefined;

before(async () => {
  redis = await startRedis();
  proxy = new CuttableProxy(await freePort(), redis.port);
  client = new Client({ url: redis.url, workerName: 'producer' });
  await client.config.set('heartbeat', HEARTBEAT_S);
});

afterEach(async () => {
  await run?.kill();
  run = undefined;
  await proxy.cut();
});

after(async () => {
  await client.close();
  await redis.stop();
});

/** One worker process at concurrency 1 on `queue`, named `<queue>-0`, reaching Redis through the proxy. */
function pool(queue: string): WorkerRun {
  return startWorker([
    '-q',
    queue,
    '-r',
    proxy.url,
    '-w',
    '1',
    '-c',
    '1',
    '-i',
    '1',
    '-n',
    queue,
    '-p',
    JOBS,
    '--no-watch',
  ]);
}

/**
 * Starts the pool with the proxy armed, waits until its first complete.pop reached Redis and the
 * connections were cut, checks that Redis ran it (the job it popped is locked under the worker's
 * name), calls `duringOutage`, and restores the proxy after OUTAGE_MS. Returns that job as Redis
 * had it then.
 */
async function loseTheReplyOfAPop(
  queue: string,
  first: string,
  stray: string,
  duringOutage: () => void = () => undefined,
): Promise<Job> {
  await proxy.restore();
  const cut = proxy.cutAfter('complete.pop');
  run = pool(queue);
  await cut;
  const worker = `${queue}-0`;
  const lost = await eventually(
    async () => {
      const job = await client.jobs.get(stray);
      return job?.state === 'running' && job.worker === worker ? job : undefined;
    },
    { what: `job ${stray} popped by the complete.pop whose reply was lost\n${run.describe()}` },
  );
  assert.equal((await client.jobs.get(first))?.state, 'complete', 'the complete.pop ran whole');
  duringOutage();
  await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
  await proxy.restore();
  return lost;
}

/** The times the worker started a job's handler. */
function starts(jid: string): number {
  return run?.find((line) => line.msg === 'job started' && line.jid === jid).length ?? 0;
}

test('a free lane: the job of a lost pop reply runs right after the reconnect, not once its lock expired', async () => {
  const queue = client.queue('lost-free');
  // Priorities fix the order of the pops (jobs put in the same millisecond tie otherwise).
  const first = await queue.put('record', {}, { priority: 2 });
  const stray = await queue.put('record', {}, { priority: 1 });
  const lost = await loseTheReplyOfAPop('lost-free', first, stray);

  const done = await eventually(
    async () => {
      const job = await client.jobs.get(stray);
      return job?.state === 'complete' ? job : undefined;
    },
    { what: `job ${stray} completed long before its lock (${HEARTBEAT_S} s) expires\n${run?.describe()}` },
  );
  const history = done.history.map((entry) => [entry.what, entry.worker ?? '']);
  assert.deepEqual(history.slice(0, 2), [
    ['put', ''],
    ['popped', 'lost-free-0'],
  ]);
  assert.deepEqual(
    history.map(([what]) => what),
    ['put', 'popped', 'done'],
    'popped once: run by the worker that held it, not popped again after its lock expired',
  );
  assert.ok(done.history[2].when < lost.expires, 'completed before its first lock would have expired');

  run?.signal('SIGTERM');
  assert.equal((await run?.waitForExit())?.code, 0);
  // Every log line is in once the pool has exited.
  assert.equal(starts(stray), 1, 'its handler ran once');
  assert.equal(starts(first), 1, 'the first job ran once (the complete sent again was refused)');
  assert.equal(
    run?.find((line) => line.msg.startsWith('running a job this worker held') && line.jid === stray).length,
    1,
  );
});

test('no free lane: the job of a pop whose reply was lost is handed back at once', async () => {
  const queue = client.queue('lost-busy');
  const first = await queue.put('record', {}, { priority: 3 });
  const stray = await queue.put('record', {}, { priority: 2 });
  // Popped by the pop sent again after the reconnect: it keeps the only lane busy for a while.
  const busy = await queue.put('wait.ForAWhile', { ms: 8_000 }, { priority: 1 });
  const lost = await loseTheReplyOfAPop('lost-busy', first, stray);

  await eventually(
    async () => {
      const [strayNow, busyNow] = await client.jobs.multiget(stray, busy);
      return strayNow.state === 'waiting' && busyNow.state === 'running' && busyNow.worker === 'lost-busy-0';
    },
    { what: `job ${stray} handed back while ${busy} runs\n${run?.describe()}` },
  );
  const [handedBack] = await client.jobs.multiget(stray);
  assert.equal(handedBack.remaining, lost.remaining - 1, 'handed back with retry: one retry spent');

  // Once the lane is free again, it is popped and run like any waiting job.
  await eventually(async () => (await client.jobs.get(stray))?.state === 'complete', {
    what: `job ${stray} completed after ${busy}\n${run?.describe()}`,
  });
  assert.equal((await client.jobs.get(busy))?.state, 'complete');

  run?.signal('SIGTERM');
  assert.equal((await run?.waitForExit())?.code, 0);
  // Every log line is in once the pool has exited.
  assert.equal(
    run?.find((line) => line.msg.startsWith('handed back a job this worker held') && line.jid === stray).length,
    1,
  );
  assert.equal(starts(stray), 1, 'run once, after it was handed back');
  assert.equal(starts(busy), 1, 'the job popped by the call sent again ran once');
  assert.equal(starts(first), 1);
});

test('stopping: the job of a pop whose reply was lost is handed back before the worker exits', async () => {
  const queue = client.queue('lost-stop');
  const first = await queue.put('record', {}, { priority: 2 });
  const stray = await queue.put('record', {}, { priority: 1 });
  // The stop comes while Redis is away: the reconcile after the reconnect finds the worker leaving.
  const lost = await loseTheReplyOfAPop('lost-stop', first, stray, () => run?.signal('SIGTERM'));
  assert.equal((await run?.waitForExit())?.code, 0);

  const job = await client.jobs.get(stray);
  assert.equal(job?.state, 'waiting', 'handed back, not left locked under the name of a worker that is gone');
  assert.equal(job?.remaining, lost.remaining - 1);
  assert.deepEqual(await client.workers.get('lost-stop-0'), { jobs: [], stalled: [] });
  assert.equal(
    run?.find((line) => line.msg.startsWith('handed back a job this worker held') && line.jid === stray).length,
    1,
  );
  assert.equal(starts(stray), 0);
  assert.equal(starts(first), 1);
});
