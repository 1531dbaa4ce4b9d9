// Black-box (bin/qless-worker + private redis-server): automatic heartbeats keep a job alive
// past the heartbeat setting; a lost lock and a cancel abort job.signal at once, and the worker
// then leaves the job alone (what Redis holds afterwards shows it).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
let run: WorkerRun;
let reports = 0;

before(async () => {
  server = await startRedis();
  client = new Client({ url: server.url, workerName: 'producer' });
  await client.config.set('heartbeat', 1);
  await client.config.set('grace-period', 0);
  scratch = mkdtempSync(join(tmpdir(), 'qless-blackbox-locks-'));
  run = startWorker(['-q', 'locks', '-r', server.url, '-p', JOBS, '-n', 'locks', '-w', '1', '--no-watch', '-i', '0.2']);
  await run.waitForLine('worker ready');
});

after(async () => {
  await run?.kill();
  await client?.close();
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function reportFile(): string {
  return join(scratch, `report-${++reports}.jsonl`);
}

function entries(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function job(jid: string): Promise<Job | undefined> {
  const [found] = await client.jobs.multiget(jid);
  return found;
}

async function pausePool(): Promise<void> {
  const after = run.lines.length;
  run.signal('SIGUSR2');
  await run.waitForLine((line) => line.msg.startsWith('paused') && line.worker === 'locks-0', { after });
}

function resumePool(): void {
  run.signal('SIGCONT');
}

describe('heartbeats', () => {
  test('a job that runs 3 s under a 1 s heartbeat completes, popped once and never timed out', async () => {
    const jid = await client.queue('locks').put('wait.ForAWhile', { ms: 3_000 });
    const done = await eventually(async () => ((await job(jid))?.state === 'complete' ? job(jid) : undefined), {
      timeout: 15_000,
      what: 'completion',
    });
    assert.deepEqual(
      done?.history.map((entry) => entry.what),
      ['put', 'popped', 'done'],
    );
    const data = done?.data as { expiresAtStart: number; expiresAtEnd: number };
    assert.ok(data.expiresAtEnd - data.expiresAtStart >= 2, `the lock moved on: ${JSON.stringify(data)}`);
  });
});

describe('lock loss and cancellation abort job.signal', () => {
  test('timeout: signal aborted with lock-lost; the job is left stalled (not completed, not failed)', async () => {
    const report = reportFile();
    const jid = await client.queue('locks').put('wait.UntilAborted', { report });
    await eventually(() => entries(report).some((entry) => entry.started), { what: 'the handler to start' });
    // Paused, the pool does not pop the timed-out job straight back.
    await pausePool();
    await (await job(jid))!.timeout();
    const aborted = await eventually(() => entries(report).find((entry) => entry.aborted), { what: 'the abort' });
    assert.equal(aborted.why, 'lock-lost');
    await run.waitForLine((line) => line.jid === jid && line.msg === 'job ended');
    const after = await job(jid);
    assert.equal(after?.state, 'stalled');
    assert.deepEqual(
      after?.history.map((entry) => entry.what),
      ['put', 'popped', 'timed-out'],
    );
    await client.jobs.cancel(jid);
    resumePool();
  });

  test('another worker takes it over: signal aborted; the job stays the other worker’s', async () => {
    const report = reportFile();
    const jid = await client.queue('locks').put('wait.UntilAborted', { report });
    await eventually(() => entries(report).some((entry) => entry.started), { what: 'the handler to start' });
    await pausePool();
    await (await job(jid))!.timeout();
    const rival = new Client({ url: server.url, workerName: 'rival' });
    try {
      const [taken] = await rival.queue('locks').pop(1);
      assert.equal(taken?.jid, jid);
      const aborted = await eventually(() => entries(report).find((entry) => entry.aborted), { what: 'the abort' });
      assert.equal(aborted.why, 'lock-lost');
      await run.waitForLine((line) => line.jid === jid && line.msg === 'job ended');
      assert.equal((await job(jid))?.worker, 'rival');
      assert.equal(await taken.complete(), 'complete');
    } finally {
      await rival.close();
      resumePool();
    }
  });

  test('cancel: signal aborted with canceled; the job is gone; the next job runs', async () => {
    const report = reportFile();
    const jid = await client.queue('locks').put('wait.UntilAborted', { report });
    await eventually(() => entries(report).some((entry) => entry.started), { what: 'the handler to start' });
    await client.jobs.cancel(jid);
    const aborted = await eventually(() => entries(report).find((entry) => entry.aborted), { what: 'the abort' });
    assert.equal(aborted.why, 'canceled');
    assert.equal(await job(jid), undefined);
    const next = await client.queue('locks').put('noop', {});
    await eventually(async () => (await job(next))?.state === 'complete', { what: 'the next job' });
  });
});
