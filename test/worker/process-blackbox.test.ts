// Black-box (bin/qless-worker + private redis-server): --concurrency keeps exactly n jobs in
// flight per worker, the three reservers order the queues as documented, --resume runs the jobs
// a worker name still holds (without popping them again), --max-jobs and --max-memory recycle a
// worker process under the same name without losing a job, and --import modules are loaded in
// every worker before it takes a job.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '../../src/client/client.ts';
import { eventually, type WorkerRun } from '../helpers/worker.ts';
import { AUDIT, dataOf, isReady, isRecycling, JOBS, stopPool, usePools, whats } from './blackbox.ts';

const fx = usePools('blackbox-process');

function pool(name: string, queues: string, extra: string[] = []): WorkerRun {
  return fx.poolOn(name, queues, JOBS, ['-w', '1', ...extra]);
}

describe('--concurrency', () => {
  test('-c 3: exactly three jobs of one worker are running at once; the rest wait', async () => {
    const gateFile = join(fx.scratch, 'gate-open');
    const jids: string[] = [];
    for (let i = 0; i < 6; i++) jids.push(await fx.client.queue('conc').put('gate', { gate: gateFile }));
    const run = pool('conc', 'conc', ['-c', '3']);
    await run.waitForLine(isReady);
    const held = await eventually(
      async () => {
        const mine = await fx.client.workers.get('conc-0');
        return mine.jobs.length === 3 ? mine.jobs : undefined;
      },
      { what: 'three jobs held by conc-0' },
    );
    const states = (await fx.client.jobs.multiget(...jids)).map((job) => job.state).sort();
    assert.deepEqual(states, ['running', 'running', 'running', 'waiting', 'waiting', 'waiting']);
    assert.equal(held.length, 3);
    writeFileSync(gateFile, 'open');
    const jobs = await fx.allComplete(jids, run);
    assert.equal(new Set(jobs.map((job) => dataOf(job).pid)).size, 1, 'all in the one worker process');
  });
});

describe('reservers', () => {
  async function runOrder(reserver: string, perQueue: number): Promise<string[]> {
    const [first, second] = [`${reserver}-a`, `${reserver}-b`];
    const jids: string[] = [];
    // Put before the worker starts, so every poll sees both queues full.
    for (let i = 0; i < perQueue; i++) jids.push(await fx.client.queue(first).put('sequence', {}));
    for (let i = 0; i < perQueue; i++) jids.push(await fx.client.queue(second).put('sequence', {}));
    const run = pool(reserver, `${first},${second}`, ['--reserver', reserver]);
    const jobs = await fx.allComplete(jids, run);
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
    const previous = new Client({ url: fx.redis.url, workerName: 'resume-0' });
    const jids = [
      await fx.client.queue('resumed').put('sequence', {}),
      await fx.client.queue('resumed').put('sequence', {}),
    ];
    try {
      const popped = await previous.queue('resumed').pop(2);
      assert.equal(popped.length, 2);
    } finally {
      await previous.close();
    }
    // The pool does not even listen on that queue: only --resume can bring these jobs back.
    const run = pool('resume', 'some-other-queue', ['--resume']);
    const jobs = await fx.allComplete(jids, run);
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
    for (let i = 0; i < 7; i++) jids.push(await fx.client.queue('recycled').put('sequence', {}));
    const run = pool('recycled', 'recycled', ['--max-jobs', '2']);
    const jobs = await fx.allComplete(jids, run);
    const perPid = new Map<unknown, number>();
    for (const job of jobs) perPid.set(dataOf(job).pid, (perPid.get(dataOf(job).pid) ?? 0) + 1);
    assert.ok(perPid.size >= 4, `7 jobs need at least 4 processes, saw ${perPid.size}`);
    for (const [pid, count] of perPid) assert.ok(count <= 2, `pid ${String(pid)} ran ${count} jobs`);
    for (const job of jobs) assert.equal(job.history.find((entry) => entry.what === 'popped')?.worker, 'recycled-0');
    assert.ok(run.find(isRecycling).length >= 3);
  });
});

describe('--max-memory', () => {
  test('--max-memory 1: the worker recycles after every job, nothing is lost', async () => {
    // The slot is refilled under the same name.
    const jids: string[] = [];
    for (let i = 0; i < 3; i++) jids.push(await fx.client.queue('memory').put('sequence', {}));
    const run = fx.poolOn('memory', 'memory', JOBS, ['-w', '1', '--max-memory', '1']);
    const jobs = await fx.allComplete(jids, run);
    const pids = new Set(jobs.map((one) => dataOf(one).pid));
    assert.equal(pids.size, 3, 'each job in a fresh process (1 MB is below any Node process)');
    for (const one of jobs) {
      assert.equal(whats(one, 'popped'), 1);
      assert.equal(one.history.find((entry) => entry.what === 'popped')?.worker, 'memory-0');
    }
    const recycled = run.find(isRecycling);
    assert.ok(recycled.length >= 2, `recycled at least twice (${recycled.length})`);
    assert.ok(
      recycled.every((line) => /max-memory/.test(String(line.reason))),
      'for max-memory',
    );
    assert.equal(run.find('exited unexpectedly').length, 0);
    await stopPool(run);
  });
});

describe('--import', () => {
  test('a relative TypeScript path and a package of the handler project are loaded, in order', async () => {
    // … in every worker, before it polls.
    const project = join(fx.scratch, 'imports-project');
    cpSync(AUDIT, project, { recursive: true });
    mkdirSync(join(project, 'node_modules', 'audit-setup'), { recursive: true });
    writeFileSync(
      join(project, 'node_modules', 'audit-setup', 'package.json'),
      JSON.stringify({ name: 'audit-setup', version: '1.0.0', main: 'index.js' }),
    );
    writeFileSync(
      join(project, 'node_modules', 'audit-setup', 'index.js'),
      '(globalThis.auditImports ??= []).push({ module: "audit-setup", pid: process.pid });\n',
    );
    // Put before the pool starts: the very first pop must already find the imports loaded.
    const jids: string[] = [];
    for (let i = 0; i < 6; i++) jids.push(await fx.client.queue('imports').put('imports', {}));
    const run = fx.poolOn('imports', 'imports', project, ['-w', '2', '-m', './setup-first.ts', '-m', 'audit-setup'], {
      cwd: project,
    });
    const jobs = await fx.allComplete(jids, run);
    for (const one of jobs) {
      const seen = dataOf(one);
      assert.deepEqual(seen.imports, [
        { module: 'setup-first.ts', pid: seen.pid },
        { module: 'audit-setup', pid: seen.pid },
      ]);
    }
    await stopPool(run);
  });
});
