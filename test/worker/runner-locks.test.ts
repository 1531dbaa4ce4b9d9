// Locks through one real worker process: automatic heartbeats keep a job alive well past the
// heartbeat setting; losing the lock (timeout, another worker taking it, a refused heartbeat)
// or a cancel aborts job.signal at once, and the worker then neither completes nor fails it.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../src/client/client.ts';
import type { Job } from '../../src/client/job.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { eventually } from '../helpers/worker.ts';
import { makeWorkdir, startWorkerProcess, workerConfig, type WorkerHarness, type Workdir } from './process-harness.ts';

let server: RedisServer;
let client: Client;
let workdir: Workdir;
let scratch: string;
let worker: WorkerHarness;
let reportCount = 0;

before(async () => {
  server = await startRedis();
  client = new Client({ url: server.url, workerName: 'producer' });
  // Locks of one second: a job running for three must be renewed several times.
  await client.config.set('heartbeat', 1);
  await client.config.set('grace-period', 0);
  workdir = makeWorkdir();
  scratch = mkdtempSync(join(tmpdir(), 'qless-locks-'));
  worker = startWorkerProcess(workerConfig(server.url, workdir, { queues: ['locks'], interval: 0.2 }));
  await worker.waitForMessage('ready');
});

after(async () => {
  await worker?.kill();
  await client?.close();
  await server?.stop();
  workdir?.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

function reportPath(): string {
  return join(scratch, `report-${++reportCount}.json`);
}

/** The JSON lines a handler appended to its report file, oldest first. */
function readReport(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function started(path: string): boolean {
  return readReport(path).some((entry) => entry.started);
}

function aborted(path: string): Record<string, unknown> | undefined {
  return readReport(path).find((entry) => entry.aborted);
}

async function getJob(jid: string): Promise<Job | null> {
  return (await client.jobs.get(jid)) as Job | null;
}

async function existingJob(jid: string): Promise<Job> {
  const job = await getJob(jid);
  assert.ok(job, `job ${jid} exists`);
  return job;
}

describe('heartbeats', () => {
  test('a job running three times its 1 s lock is renewed and completes by this worker alone', async () => {
    const jid = await client.queue('locks').put('wait.ForAWhile', { ms: 3_000 });
    await worker.waitForJobEnd(jid, 10_000);
    const job = await eventually(async () => {
      const current = await getJob(jid);
      return current?.state === 'complete' ? current : undefined;
    });
    const data = job.data as { expiresAtStart: number; expiresAtEnd: number };
    assert.ok(data.expiresAtEnd - data.expiresAtStart >= 2, 'the lock was moved forward while the handler ran');
    assert.deepEqual(
      job.history.map((entry) => entry.what),
      ['put', 'popped', 'done'],
      'popped once: never timed out or handed to anyone else',
    );
    assert.equal(worker.jobEnded(jid)?.outcome, 'completed');
  });
});

describe('lock loss', () => {
  test('timeout by an operator: the signal aborts with lock-lost; the worker neither completes nor fails', async () => {
    const report = reportPath();
    const jid = await client.queue('locks').put('wait.UntilAborted', { report });
    await eventually(() => started(report), { what: 'the handler to start' });
    // Paused, the worker cannot pop the timed-out job straight back (it would be first in line).
    worker.send({ type: 'pause' });
    await (await existingJob(jid)).timeout();
    const seen = await eventually(() => aborted(report), { what: 'the signal to abort' });
    assert.equal(seen.why, 'lock-lost');
    assert.equal((await worker.waitForJobEnd(jid)).outcome, 'lock-lost');
    await worker.until(() => worker.jobEnded(jid), 'job end');
    const job = await getJob(jid);
    assert.equal(job?.state, 'stalled', 'not completed or failed by the worker that lost it');
    assert.deepEqual(
      job?.history.map((entry) => entry.what),
      ['put', 'popped', 'timed-out'],
    );
    await client.jobs.cancel(jid);
    worker.send({ type: 'resume' });
  });

  test('another worker takes the job over: the signal aborts and the new owner keeps it', async () => {
    const report = reportPath();
    const jid = await client.queue('locks').put('wait.UntilAborted', { report });
    await eventually(() => started(report), { what: 'the handler to start' });
    worker.send({ type: 'pause' });
    await (await existingJob(jid)).timeout();
    const rival = new Client({ url: server.url, workerName: 'rival' });
    try {
      const [taken] = await rival.queue('locks').pop(1);
      assert.equal(taken?.jid, jid);
      await eventually(() => aborted(report), { what: 'the signal to abort' });
      await worker.waitForJobEnd(jid);
      const job = await getJob(jid);
      assert.equal(job?.state, 'running');
      assert.equal(job?.worker, 'rival', 'still the rival’s: the old worker did not complete or fail it');
      assert.equal(await taken.complete(), 'complete');
    } finally {
      await rival.close();
      worker.send({ type: 'resume' });
    }
  });

  test('a refused heartbeat aborts the signal even without an event', async () => {
    const report = reportPath();
    const jid = await client.queue('locks').put('wait.UntilAborted', { report });
    await eventually(() => started(report), { what: 'the handler to start' });
    // Take the job over behind the worker's back: a put by the same worker name publishes no
    // lock_lost, so only the next heartbeat can notice ("not currently running").
    const sameName = new Client({ url: server.url, workerName: worker.config.name });
    try {
      await sameName.queue('other-queue').put('noop', {}, { jid });
    } finally {
      await sameName.close();
    }
    const seen = await eventually(() => aborted(report), { what: 'the signal to abort', timeout: 5_000 });
    assert.equal(seen?.why, 'lock-lost');
    const ended = await worker.waitForJobEnd(jid);
    assert.equal(ended.outcome, 'lock-lost');
    const job = await getJob(jid);
    assert.equal(job?.state, 'waiting');
    assert.equal(job?.queue, 'other-queue');
  });
});

describe('cancellation', () => {
  test('cancel aborts the signal with canceled; the job is gone and the worker takes the next one', async () => {
    const report = reportPath();
    const jid = await client.queue('locks').put('wait.UntilAborted', { report });
    await eventually(() => started(report), { what: 'the handler to start' });
    await client.jobs.cancel(jid);
    const seen = await eventually(() => aborted(report), { what: 'the signal to abort' });
    assert.equal(seen?.why, 'canceled');
    assert.equal((await worker.waitForJobEnd(jid)).outcome, 'canceled');
    assert.equal(await getJob(jid), null);
    const next = await client.queue('locks').put('noop', {});
    await eventually(async () => (await getJob(next))?.state === 'complete', { what: 'the next job to complete' });
  });
});
