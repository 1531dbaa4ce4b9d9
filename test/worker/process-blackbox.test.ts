// Black-box (bin/qless-worker + private redis-server): --concurrency keeps exactly n jobs in
// flight per worker, the three reservers order the queues as documented, --resume runs the jobs
// a worker name still holds (without popping them again), and --max-jobs recycles a worker
// process under the same name without losing a job.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '../../src/client/client.ts';
import type { Job } from '../../src/client/job.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { eventually, startWorker, type WorkerRun } from '../helpers/worker.ts';

const JOBS = fileURLToPath(new URL('../fixtures/handlers/jobs', import.meta.url));

let server: RedisServer;
let client: Client;
let scratch: string;
const runs: WorkerRun[] = [];

before(async () => {
  server = await startRedis();
  client = new Client({ url: server.url, workerName: 'producer' });
  scratch = mkdtempSync(join(tmpdir(), 'qless-blackbox-process-'));
});

after(async () => {
  for (const run of runs) await run.kill();
  await client?.close();
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function pool(name: string, queues: string, extra: string[] = []): WorkerRun {
  const run = startWorker([
    '-q',
    queues,
    '-r',
    server.url,
    '-p',
    JOBS,
    '-n',
    name,
    '-w',
    '1',
    '--no-watch',
    '-i',
    '0.2',
    ...extra,
  ]);
  runs.push(run);
  return run;
}

async function allComplete(jids: string[]): Promise<Job[]> {
  return eventually(
    async () => {
      const jobs = await client.jobs.multiget(...jids);
      const failed = jobs.find((job) => job.state === 'failed');
      if (failed) throw new Error(`job failed: ${failed.failure?.message}`);
      return jobs.length === jids.length && jobs.every((job) => job.state === 'complete') ? jobs : undefined;
    },
    { what: `${jids.length} jobs to complete`, timeout: 30_000 },
  );
}

function dataOf(job: Job): Record<string, unknown> {
  return job.data as Record<string, unknown>;
}

describe('--concurrency', () => {
  test('-c 3: exactly three jobs of one worker are running at once; the rest wait', async () => {
    const gateFile = join(scratch, 'gate-open');
    const jids: string[] = [];
    for (let i = 0; i < 6; i++) jids.push(await client.queue('conc').put('gate', { gate: gateFile }));
    const run = pool('conc', 'conc', ['-c', '3']);
    await run.waitForLine('worker ready');
    const held = await eventually(
      async () => {
        const mine = await client.workers.get('conc-0');
        return mine.jobs.length === 3 ? mine.jobs : undefined;
      },
      { what: 'three jobs held by conc-0' },
    );
    const states = (await client.jobs.multiget(...jids)).map((job) => job.state).sort();
    assert.deepEqual(states, ['running', 'running', 'running', 'waiting', 'waiting', 'waiting']);
    assert.equal(held.length, 3);
    writeFileSync(gateFile, 'open');
    const jobs = await allComplete(jids);
    assert.equal(new Set(jobs.map((job) => dataOf(job).pid)).size, 1, 'all in the one worker process');
  });
});

describe('reservers', () => {
  async function runOrder(reserver: string, perQueue: number): Promise<string[]> {
    const [first, second] = [`${reserver}-a`, `${reserver}-b`];
    const jids: string[] = [];
    // Put before the worker starts, so every poll sees both queues full.
    for (let i = 0; i < perQueue; i++) jids.push(await client.queue(first).put('sequence', {}));
    for (let i = 0; i < perQueue; i++) jids.push(await client.queue(second).put('sequence', {}));
    pool(reserver, `${first},${second}`, ['--reserver', reserver]);
    const jobs = await allComplete(jids);
    return jobs
      .map((job) => dataOf(job))
      .sort((x, y) => Number(x.seq) - Number(y.seq))
      .map((data) => String(data.queue).slice(-1));
  }

  test('ordered: the first queue is emptied before the second is touched', async () => {
    assert.deepEqual(await runOrder('ordered', 3), ['a', 'a', 'a', 'b', 'b', 'b']);
  });

  test('round-robin: each poll starts one queue further along', async () => {
    assert.deepEqual(await runOrder('round-robin', 3), ['a', 'b', 'a', 'b', 'a', 'b']);
  });

  test('shuffled: a fresh order per poll, so the second queue does not wait for the first to empty', async () => {
    const order = await runOrder('shuffled', 20);
    assert.equal(order.length, 40);
    // Ordered would put all 20 a's first; a random first pick 20 times in a row is 1 in 2^20.
    assert.ok(order.indexOf('b') < order.lastIndexOf('a'), `interleaved: ${order.join('')}`);
  });
});

describe('--resume', () => {
  test('a worker name that still holds jobs runs them first, heartbeating instead of popping again', async () => {
    const previous = new Client({ url: server.url, workerName: 'resume-0' });
    const jids = [await client.queue('resumed').put('sequence', {}), await client.queue('resumed').put('sequence', {})];
    try {
      const popped = await previous.queue('resumed').pop(2);
      assert.equal(popped.length, 2);
    } finally {
      await previous.close();
    }
    // The pool does not even listen on that queue: only --resume can bring these jobs back.
    pool('resume', 'some-other-queue', ['--resume']);
    const jobs = await allComplete(jids);
    for (const job of jobs) {
      assert.deepEqual(
        job.history.map((entry) => entry.what),
        ['put', 'popped', 'done'],
        'completed under the lock it already had',
      );
      assert.equal(job.history[1].worker, 'resume-0');
    }
  });
});

describe('--max-jobs', () => {
  test('--max-jobs 2: each process runs at most two jobs, the slot refilled under its name, nothing lost', async () => {
    const jids: string[] = [];
    for (let i = 0; i < 7; i++) jids.push(await client.queue('recycled').put('sequence', {}));
    const run = pool('recycled', 'recycled', ['--max-jobs', '2']);
    const jobs = await allComplete(jids);
    const perPid = new Map<unknown, number>();
    for (const job of jobs) perPid.set(dataOf(job).pid, (perPid.get(dataOf(job).pid) ?? 0) + 1);
    assert.ok(perPid.size >= 4, `7 jobs need at least 4 processes, saw ${perPid.size}`);
    for (const [pid, count] of perPid) assert.ok(count <= 2, `pid ${String(pid)} ran ${count} jobs`);
    for (const job of jobs) assert.equal(job.history.find((entry) => entry.what === 'popped')?.worker, 'recycled-0');
    assert.ok(run.find((line) => line.msg.startsWith('recycling')).length >= 3);
  });
});
