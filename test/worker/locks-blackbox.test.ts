// Black-box (bin/qless-worker + private redis-server): automatic heartbeats keep a job alive
// past the heartbeat setting; a lost lock (timeout, another worker taking it, a heartbeat
// refused without any event) and a cancel abort job.signal at once, and the worker then leaves
// the job alone (what Redis holds afterwards shows it).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '../../src/client/client.ts';
import { eventually, type WorkerRun } from '../helpers/worker.ts';
import { endedJob, isReady, JOBS, startedJob, stopPool, usePools, whats } from './blackbox.ts';

let run: WorkerRun;
let reports = 0;
const fx = usePools('blackbox-locks', {
  async setup() {
    await fx.client.config.set('heartbeat', 1);
    await fx.client.config.set('grace-period', 0);
    run = fx.poolOn('locks', 'locks', JOBS, ['-w', '1']);
    await run.waitForLine(isReady);
  },
});

function reportFile(): string {
  return join(fx.scratch, `report-${++reports}.jsonl`);
}

function entries(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function pausePool(): Promise<void> {
  const after = run.lines.length;
  run.signal('SIGUSR2');
  await run.waitForLine((line) => line.event === 'paused' && line.worker === 'locks-0', { after });
}

function resumePool(): void {
  run.signal('SIGCONT');
}

describe('heartbeats', () => {
  test('a job that runs 3 s under a 1 s heartbeat completes, popped once and never timed out', async () => {
    const jid = await fx.client.queue('locks').put('wait.ForAWhile', { ms: 3_000 });
    const done = await eventually(
      async () => ((await fx.getJob(jid))?.state === 'complete' ? fx.getJob(jid) : undefined),
      {
        timeout: 15_000,
        what: 'completion',
      },
    );
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
    const jid = await fx.client.queue('locks').put('wait.UntilAborted', { report });
    await eventually(() => entries(report).some((entry) => entry.started), { what: 'the handler to start' });
    // Paused, the pool does not pop the timed-out job straight back.
    await pausePool();
    await (await fx.mustGet(jid)).timeout();
    const aborted = await eventually(() => entries(report).find((entry) => entry.aborted), { what: 'the abort' });
    assert.equal(aborted.why, 'lock-lost');
    await run.waitForLine(endedJob(jid));
    const after = await fx.getJob(jid);
    assert.equal(after?.state, 'stalled');
    assert.deepEqual(
      after?.history.map((entry) => entry.what),
      ['put', 'popped', 'timed-out'],
    );
    await fx.client.jobs.cancel(jid);
    resumePool();
  });

  test('another worker takes it over: signal aborted; the job stays the other worker’s', async () => {
    const report = reportFile();
    const jid = await fx.client.queue('locks').put('wait.UntilAborted', { report });
    await eventually(() => entries(report).some((entry) => entry.started), { what: 'the handler to start' });
    await pausePool();
    await (await fx.mustGet(jid)).timeout();
    const rival = new Client({ url: fx.redis.url, workerName: 'rival' });
    try {
      const [taken] = await rival.queue('locks').pop(1);
      assert.equal(taken?.jid, jid);
      const aborted = await eventually(() => entries(report).find((entry) => entry.aborted), { what: 'the abort' });
      assert.equal(aborted.why, 'lock-lost');
      await run.waitForLine(endedJob(jid));
      assert.equal((await fx.getJob(jid))?.worker, 'rival');
      assert.equal(await taken.complete(), 'complete');
    } finally {
      await rival.close();
      resumePool();
    }
  });

  test('cancel: signal aborted with canceled; the job is gone; the next job runs', async () => {
    const report = reportFile();
    const jid = await fx.client.queue('locks').put('wait.UntilAborted', { report });
    await eventually(() => entries(report).some((entry) => entry.started), { what: 'the handler to start' });
    await fx.client.jobs.cancel(jid);
    const aborted = await eventually(() => entries(report).find((entry) => entry.aborted), { what: 'the abort' });
    assert.equal(aborted.why, 'canceled');
    assert.equal(await fx.getJob(jid), undefined);
    const next = await fx.client.queue('locks').put('noop', {});
    await eventually(async () => (await fx.getJob(next))?.state === 'complete', { what: 'the next job' });
  });
});

describe('lock loss noticed by a refused heartbeat (no event)', () => {
  test('the signal aborts with lock-lost and the worker neither completes nor fails the job', async () => {
    // A 1 s lock in this queue only: the worker renews it about every half second.
    await fx.client.config.set('refused-heartbeat', 1);
    const report = join(fx.scratch, 'refused-heartbeat.jsonl');
    const refused = fx.poolOn('refused', 'refused', JOBS, ['-w', '1']);
    await refused.waitForLine(isReady);
    const jid = await fx.client.queue('refused').put('wait.UntilAborted', { report });
    await refused.waitForLine(startedJob(jid));
    // Taken over behind the worker's back: a put by the same worker name publishes no lock_lost,
    // so only the worker's next heartbeat can find out.
    const sameName = new Client({ url: fx.redis.url, workerName: 'refused-0' });
    try {
      await sameName.queue('refused-elsewhere').put('noop', { moved: true }, { jid });
    } finally {
      await sameName.close();
    }
    const ended = await refused.waitForLine(endedJob(jid), { timeout: 10_000 });
    assert.equal(ended.outcome, 'lock-lost');
    const lines = readFileSync(report, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(lines.find((line) => line.aborted)?.why, 'lock-lost');
    const found = await fx.mustGet(jid);
    assert.equal(found.state, 'waiting');
    assert.equal(found.queue, 'refused-elsewhere');
    assert.deepEqual(found.data, { moved: true }, 'the worker wrote nothing back');
    assert.equal(whats(found, 'done'), 0);
    assert.equal(found.failure, null);
    const next = await fx.client.queue('refused').put('noop', {});
    assert.equal((await fx.settled(next, refused)).state, 'complete', 'the worker goes on');
    await stopPool(refused);
  });
});
