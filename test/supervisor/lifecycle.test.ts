// Black-box tests of the supervisor with real worker processes: the real bin/qless-worker against
// a private redis-server, asserting what ended up in Redis. Dead workers (kill -9, watchdog, a
// job that kills its worker), a dead supervisor, graceful shutdown under load, HUP, TTIN/TTOU,
// USR2/CONT, an unreachable Redis, pretty logs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Client, type Job } from '../../src/client/index.ts';
import { freePort, startRedis, type RedisServer } from '../helpers/redis.ts';
import { eventually, isAlive, startWorker, type LogLine, type WorkerRun } from '../helpers/worker.ts';
import { died, handedBack, logged } from './log-events.ts';

const HANDLERS = fileURLToPath(new URL('../fixtures/supervisor/handlers', import.meta.url));
const THROWING_IMPORT = fileURLToPath(new URL('../fixtures/supervisor/throwing-import.ts', import.meta.url));

let redis: RedisServer;
let client: Client;
const runs: WorkerRun[] = [];

before(async () => {
  redis = await startRedis();
  client = new Client({ url: redis.url, workerName: 'producer' });
});

after(async () => {
  for (const run of runs) await run.kill();
  await client.close();
  await redis.stop();
});

function pool(name: string, queue: string, args: string[] = [], url = redis.url): WorkerRun {
  const run = startWorker(['-q', queue, '-r', url, '-p', HANDLERS, '-n', name, '--no-watch', '-i', '1', ...args]);
  runs.push(run);
  return run;
}

async function job(jid: string): Promise<Job> {
  const [found] = await client.jobs.multiget(jid);
  assert.ok(found, `job ${jid} exists`);
  return found;
}

/** The job's data object (the sleepy handler records startedBy / ranBy pids into it). */
function data(found: Job): Record<string, unknown> {
  assert.ok(found.data !== null && typeof found.data === 'object' && !Array.isArray(found.data), 'data is an object');
  return found.data as Record<string, unknown>;
}

async function states(jids: string[]): Promise<string[]> {
  return (await client.jobs.multiget(...jids)).map((found) => found.state);
}

async function workerNames(): Promise<string[]> {
  return (await client.workers.list()).map((worker) => worker.name);
}

function readyWorkers(run: WorkerRun): LogLine[] {
  return run.find((line) => line.msg === 'worker ready');
}

const startedJob = (jid: string) => (line: LogLine) => line.msg === 'job started' && line.jid === jid;

describe('dead workers', () => {
  test('kill -9 of a worker mid-job: it is replaced, its job handed back at once and completed', async () => {
    const run = pool('k9', 'k9', ['-w', '1']);
    await run.waitForLine('worker ready');
    const jid = await client.queue('k9').put('sleepy', { ms: 1500 }, { retries: 3 });
    const others = await Promise.all([1, 2, 3].map(() => client.queue('k9').put('sleepy', {})));
    const started = await run.waitForLine(startedJob(jid));
    process.kill(started.pid, 'SIGKILL');

    await run.waitForLine(died({ workerPid: started.pid }));
    const handback = await run.waitForLine(handedBack(jid));
    assert.equal(handback.remaining, 2);
    await eventually(async () => (await states([jid, ...others])).every((state) => state === 'complete'), {
      what: `every job completed\n${run.describe()}`,
    });

    const done = await job(jid);
    assert.equal(done.state, 'complete');
    assert.notEqual(data(done).ranBy, started.pid, 'completed by the replacement');
    assert.equal(isAlive(started.pid), false);
    const pops = done.history.filter((entry) => entry.what === 'popped');
    assert.deepEqual(
      pops.map((entry) => entry.worker),
      ['k9-0', 'k9-0'],
      'popped twice under the slot name',
    );
    assert.ok((await workerNames()).includes('k9-0'), 'the replacement registered the same name');
    run.signal('SIGTERM');
    assert.equal((await run.waitForExit()).code, 0);
  });

  test('a job that kills its worker every time ends in failed-retries-<queue>; the pool keeps working', async () => {
    const run = pool('poison', 'poison', ['-w', '1']);
    await run.waitForLine('worker ready');
    const jid = await client.queue('poison').put('poison', {}, { retries: 2 });
    await eventually(async () => (await job(jid)).state === 'failed', {
      what: `the poison job failed\n${run.describe()}`,
    });
    const failed = await job(jid);
    assert.equal(failed.failure?.group, 'failed-retries-poison');
    assert.equal(failed.remaining, -1);
    assert.deepEqual(await client.jobs.failed(), { 'failed-retries-poison': 1 });
    assert.equal(failed.history.filter((entry) => entry.what === 'popped').length, 3, 'one run per allowed try');
    assert.equal(run.find(died()).length, 3);

    const healthy = await client.queue('poison').put('sleepy', {});
    await eventually(async () => (await job(healthy)).state === 'complete', {
      what: `a normal job completes afterwards\n${run.describe()}`,
    });
    run.signal('SIGTERM');
    assert.equal((await run.waitForExit()).code, 0);
  });

  test('the watchdog kills a worker whose event loop is blocked past the lock expiry; its job goes back', async () => {
    await client.config.set('blocked-heartbeat', 1);
    const run = pool('wd', 'blocked', ['-w', '1']);
    const first = await run.waitForLine('worker ready');
    const jid = await client.queue('blocked').put('blocker', {}, { retries: 0 });
    // Its start line may never be written (a blocked event loop keeps the batched log output
    // pending): Redis says it runs, and the watchdog's line names it.
    await eventually(async () => (await job(jid)).state === 'running', { what: `job ${jid} running` });
    const kill = await run.waitForLine(logged('watchdog-kill'), { timeout: 30_000 });
    assert.equal(kill.workerPid, first.pid);
    assert.deepEqual(kill.held, [jid]);
    await eventually(async () => (await job(jid)).state === 'failed', {
      what: `the blocked job was handed back (and, with no retries left, failed)\n${run.describe()}`,
    });
    assert.equal((await job(jid)).failure?.group, 'failed-retries-blocked');
    await eventually(() => readyWorkers(run).length === 2, { what: 'a replacement is ready' });
    assert.equal(isAlive(first.pid), false);
    run.signal('SIGTERM');
    assert.equal((await run.waitForExit()).code, 0);
  });
});

describe('workers that die while starting', () => {
  test('an --import module that throws: restarts with growing delays, the supervisor stays up', async () => {
    const run = pool('broken', 'broken', ['-w', '1', '-m', THROWING_IMPORT]);
    const jid = await client.queue('broken').put('sleepy', {});
    const steps = await eventually(
      () => {
        const lines = run.find(logged('backoff'));
        return lines.length >= 3 ? lines : undefined;
      },
      { what: `three backoff steps\n${run.describe()}` },
    );
    const delays = steps.map((line) => line.delayMs as number);
    assert.ok(delays[0] < delays[1] && delays[1] < delays[2], `growing delays: ${delays.join(', ')}`);
    assert.match(run.stderr, /setup failed: this environment is broken/);
    assert.equal(run.exit, undefined, 'the supervisor keeps running');
    assert.equal(readyWorkers(run).length, 0);
    assert.equal((await job(jid)).state, 'waiting', 'no broken worker took the job');
    run.signal('SIGTERM');
    assert.deepEqual(await run.waitForExit(), { code: 0, signal: null });
  });
});

describe('a dead supervisor', () => {
  test('kill -9 of the supervisor: the workers finish their job, deregister and exit', async () => {
    const run = pool('orphan', 'orphan', ['-w', '2']);
    await eventually(() => readyWorkers(run).length === 2, { what: 'two workers ready' });
    const pids = readyWorkers(run).map((line) => line.pid);
    const jid = await client.queue('orphan').put('sleepy', { ms: 800 });
    await run.waitForLine(startedJob(jid));
    run.signal('SIGKILL');
    await eventually(() => pids.every((pid) => !isAlive(pid)), { what: 'every worker exited' });
    assert.equal((await job(jid)).state, 'complete');
    const names = await workerNames();
    assert.ok(!names.includes('orphan-0') && !names.includes('orphan-1'), `names deregistered: ${names.join(', ')}`);
  });
});

describe('graceful shutdown', () => {
  test('TERM under load: every job is completed or back in its queue, names deregistered, exit 0', async () => {
    const run = pool('load', 'load', ['-w', '2', '-c', '2']);
    const jids = await Promise.all(
      Array.from({ length: 40 }, (_, index) => client.queue('load').put('sleepy', { ms: 50 + (index % 5) * 20 })),
    );
    await eventually(async () => (await states(jids)).filter((state) => state === 'complete').length >= 4, {
      what: `some jobs completed\n${run.describe()}`,
    });
    run.signal('SIGTERM');
    assert.deepEqual(await run.waitForExit(), { code: 0, signal: null });
    const final = await states(jids);
    assert.equal(final.length, 40, 'no job disappeared');
    assert.deepEqual(
      final.filter((state) => state !== 'complete' && state !== 'waiting'),
      [],
      'nothing left running',
    );
    assert.equal(
      await client
        .queue('load')
        .jobs('running')
        .then((running) => running.length),
      0,
    );
    const names = await workerNames();
    assert.ok(!names.some((name) => name.startsWith('load-')), `names deregistered: ${names.join(', ')}`);
  });

  test('TERM with jobs longer than --shutdown-timeout: they are handed back, not left running', async () => {
    const run = pool('slow', 'slow', ['-w', '1', '-c', '2', '--shutdown-timeout', '1']);
    await run.waitForLine('worker ready');
    const jids = await Promise.all([1, 2].map(() => client.queue('slow').put('sleepy', { ms: 20_000 })));
    for (const jid of jids) await run.waitForLine(startedJob(jid));
    run.signal('SIGTERM');
    assert.deepEqual(await run.waitForExit(), { code: 0, signal: null });
    for (const jid of jids) {
      const found = await job(jid);
      assert.equal(found.state, 'waiting', `job ${jid} is back in its queue`);
      assert.equal(found.queue, 'slow');
    }
    assert.ok(!(await workerNames()).includes('slow-0'));
  });
});

describe('signals', () => {
  test('HUP: the job in flight finishes on the old process, the next job runs in a new one', async () => {
    const run = pool('hup', 'hup', ['-w', '1']);
    const old = await run.waitForLine('worker ready');
    const inFlight = await client.queue('hup').put('sleepy', { ms: 1000 });
    await run.waitForLine(startedJob(inFlight));
    const mark = run.lines.length;
    run.signal('SIGHUP');
    await run.waitForLine(logged('rolling-restart', { why: 'SIGHUP' }), { after: mark });
    const next = await client.queue('hup').put('sleepy', {});
    await eventually(async () => (await states([inFlight, next])).every((state) => state === 'complete'), {
      what: `both completed\n${run.describe()}`,
    });
    const first = await job(inFlight);
    assert.equal(data(first).startedBy, old.pid);
    assert.equal(data(first).ranBy, old.pid, 'not killed mid-job');
    const second = await job(next);
    assert.notEqual(data(second).ranBy, old.pid, 'popped after the HUP by a fresh process');
    assert.equal(isAlive(old.pid), false);
    assert.equal(run.find(logged('worker-exited', { reason: 'stopped (reload)' })).length, 1);
    run.signal('SIGTERM');
    assert.equal((await run.waitForExit()).code, 0);
  });

  test('TTIN adds a worker, TTOU removes it again (its name leaves ql:workers)', async () => {
    const run = pool('ttin', 'ttin', ['-w', '1']);
    await run.waitForLine('worker ready');
    await eventually(async () => (await workerNames()).includes('ttin-0'), { what: 'ttin-0 registered' });
    run.signal('SIGTTIN');
    await eventually(async () => (await workerNames()).includes('ttin-1'), {
      what: `ttin-1 registered\n${run.describe()}`,
    });
    const added = await run.waitForLine((line) => line.msg === 'worker ready' && line.slot === 1);
    run.signal('SIGTTOU');
    await eventually(async () => !(await workerNames()).includes('ttin-1'), {
      what: `ttin-1 deregistered\n${run.describe()}`,
    });
    await eventually(() => !isAlive(added.pid), { what: 'the retired worker exited' });
    assert.ok((await workerNames()).includes('ttin-0'));
    // Never below one worker.
    run.signal('SIGTTOU');
    await run.waitForLine(logged('set-target', { signal: 'SIGTTOU', target: 1 }));
    const jid = await client.queue('ttin').put('sleepy', {});
    await eventually(async () => (await job(jid)).state === 'complete', { what: 'the remaining worker still works' });
    run.signal('SIGTERM');
    assert.equal((await run.waitForExit()).code, 0);
  });

  test('USR2 pauses polling in every worker, CONT resumes it', async () => {
    const run = pool('pause', 'pause', ['-w', '2']);
    await eventually(() => readyWorkers(run).length === 2, { what: 'two workers ready' });
    run.signal('SIGUSR2');
    await eventually(() => run.find((line) => line.msg.startsWith('paused')).length === 2, {
      what: `both workers paused\n${run.describe()}`,
    });
    const jid = await client.queue('pause').put('sleepy', {});
    // Idle workers poll every second (-i 1) and wake on new work: give them several chances.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    assert.equal((await job(jid)).state, 'waiting', 'not popped while paused');
    run.signal('SIGCONT');
    await eventually(async () => (await job(jid)).state === 'complete', {
      what: `completed after CONT\n${run.describe()}`,
    });
    run.signal('SIGTERM');
    assert.equal((await run.waitForExit()).code, 0);
  });
});

describe('Redis trouble and display', () => {
  test('an unreachable Redis is reported and retried; the pool starts when Redis appears', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const run = pool('late', 'late', ['-w', '1'], url);
    await run.waitForLine(logged('redis-unreachable', { attempt: 2 }));
    assert.equal(run.exit, undefined, 'still running');
    assert.equal(run.find(logged('worker-forked')).length, 0, 'no worker forked without Redis');
    const server = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    try {
      await run.waitForLine(logged('redis-reachable'), { timeout: 30_000 });
      await run.waitForLine('worker ready');
      const late = new Client({ url, workerName: 'producer' });
      try {
        const jid = await late.queue('late').put('sleepy', {});
        await eventually(async () => (await late.jobs.multiget(jid))[0]?.state === 'complete', {
          what: 'job completed',
        });
      } finally {
        await late.close();
      }
      run.signal('SIGTERM');
      assert.equal((await run.waitForExit()).code, 0);
    } finally {
      server.kill('SIGKILL');
    }
  });

  test("--log-format pretty: the supervisor shows its own and the workers' lines prettified", async () => {
    const run = pool('pretty', 'pretty', ['-w', '1', '--log-format', 'pretty']);
    await eventually(() => run.otherStdout.some((line) => line.includes('worker ready')), {
      what: `a pretty "worker ready" line\n${run.describe()}`,
    });
    const jid = await client.queue('pretty').put('sleepy', {});
    await eventually(async () => (await job(jid)).state === 'complete', { what: 'job completed' });
    run.signal('SIGTERM');
    assert.equal((await run.waitForExit()).code, 0);
    assert.equal(run.lines.length, 0, 'no JSON lines');
    assert.ok(run.otherStdout.some((line) => line.includes('forked worker pretty-0')));
    assert.ok(run.otherStdout.some((line) => line.includes('job ended')));
  });
});
