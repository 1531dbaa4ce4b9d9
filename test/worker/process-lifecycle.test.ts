// One worker process and its supervisor link (IPC): ready, ping, the held-jobs reports, pause /
// resume, stop (drain, deregister, exit 0), supervisor gone (exit, no orphan), a handler that
// never settles (drain is bounded: the job is handed back), and a failing --import.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../src/client/client.ts';
import type { Job } from '../../src/client/job.ts';
import type { WorkerConfig } from '../../src/protocol/ipc.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { eventually, isAlive } from '../helpers/worker.ts';
import { makeWorkdir, startWorkerProcess, workerConfig, type WorkerHarness, type Workdir } from './process-harness.ts';

let server: RedisServer;
let client: Client;
let workdir: Workdir;
let scratch: string;
const workers: WorkerHarness[] = [];

before(async () => {
  server = await startRedis();
  client = new Client({ url: server.url, workerName: 'producer' });
  workdir = makeWorkdir();
  scratch = mkdtempSync(join(tmpdir(), 'qless-lifecycle-'));
});

after(async () => {
  for (const worker of workers) await worker.kill();
  await client?.close();
  await server?.stop();
  workdir?.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

function start(overrides: Partial<WorkerConfig> = {}): WorkerHarness {
  const worker = startWorkerProcess(
    workerConfig(server.url, workdir, { queues: [`q-${workers.length}`], ...overrides }),
  );
  workers.push(worker);
  return worker;
}

async function registered(name: string): Promise<boolean> {
  return (await client.workers.list()).some((worker) => worker.name === name);
}

describe('IPC with the supervisor', () => {
  test('ready, then pong with the same id', async () => {
    const worker = start();
    await worker.waitForMessage('ready');
    worker.send({ type: 'ping', id: 41 });
    const pong = await worker.waitForMessage('pong');
    assert.equal(pong.id, 41);
    assert.ok(
      await eventually(() => registered(worker.config.name), { what: 'the worker registered by its first pop' }),
    );
  });

  test('the held set is reported with the lock expiry before the handler runs, and emptied after', async () => {
    const worker = start();
    await worker.waitForMessage('ready');
    const queue = worker.config.queues[0];
    const report = join(scratch, 'held.json');
    const jid = await client.queue(queue).put('wait.UntilAborted', { report });
    const held = await worker.until(
      () => worker.messages.find((message) => message.type === 'jobs' && message.jobs.some((job) => job.jid === jid)),
      'a jobs report with the job',
    );
    assert.equal(held.type, 'jobs');
    const entry = held.type === 'jobs' ? held.jobs.find((job) => job.jid === jid) : undefined;
    const job = (await client.jobs.get(jid)) as Job;
    assert.equal(job.state, 'running');
    assert.deepEqual(entry, {
      jid,
      queue,
      klass: 'wait.UntilAborted',
      expires: entry?.expires,
      startedAt: entry?.startedAt,
    });
    const popped = job.history.find((step) => step.what === 'popped');
    const startedAt = entry?.startedAt ?? 0;
    assert.ok(
      popped && startedAt / 1000 >= popped.when && startedAt <= Date.now(),
      'started after its pop (ms since the epoch)',
    );
    assert.ok(Math.abs((entry?.expires ?? 0) - job.expires) < 1, 'the expiry pop returned');
    await client.jobs.cancel(jid);
    await worker.until(() => {
      const last = worker.messages.filter((message) => message.type === 'jobs').at(-1);
      return last?.type === 'jobs' && last.jobs.length === 0;
    }, 'an empty jobs report');
  });

  test('pause stops taking jobs; resume takes them again', async () => {
    const worker = start({ interval: 0.2 });
    await worker.waitForMessage('ready');
    const queue = worker.config.queues[0];
    worker.send({ type: 'pause' });
    await worker.waitForLine((line) => line.event === 'paused', 'paused');
    const jid = await client.queue(queue).put('noop', {});
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(((await client.jobs.get(jid)) as Job).state, 'waiting', 'a paused worker leaves it waiting');
    worker.send({ type: 'resume' });
    await eventually(async () => ((await client.jobs.get(jid)) as Job).state === 'complete', {
      what: 'the job completed after resume',
    });
  });

  test('a worker started paused takes nothing until resumed', async () => {
    const worker = start({ paused: true, interval: 0.2 });
    await worker.waitForMessage('ready');
    const jid = await client.queue(worker.config.queues[0]).put('noop', {});
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(((await client.jobs.get(jid)) as Job).state, 'waiting');
    worker.send({ type: 'resume' });
    await eventually(async () => ((await client.jobs.get(jid)) as Job).state === 'complete', {
      what: 'completed after resume',
    });
  });
});

describe('leaving', () => {
  test('stop: the job in flight finishes (completed), the name is deregistered, exit 0', async () => {
    const worker = start();
    await worker.waitForMessage('ready');
    const jid = await client.queue(worker.config.queues[0]).put('wait.ForAWhile', { ms: 700 });
    await worker.waitForLine((line) => line.jid === jid && line.msg === 'job started', 'job start');
    worker.send({ type: 'stop', handBackAt: Date.now() + 30_000 });
    const exit = await worker.waitForExit();
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.equal(((await client.jobs.get(jid)) as Job).state, 'complete');
    assert.equal(await registered(worker.config.name), false, 'deregistered');
  });

  test('stop: a handler that throws because its signal fired is handed back, not failed', async () => {
    const worker = start();
    await worker.waitForMessage('ready');
    const report = join(scratch, 'throws-on-abort.json');
    const jid = await client.queue(worker.config.queues[0]).put('wait.ThrowsOnAbort', { report });
    await worker.waitForLine((line) => line.jid === jid && line.msg === 'job started', 'job start');
    worker.send({ type: 'stop', handBackAt: Date.now() + 30_000 });
    assert.deepEqual(await worker.waitForExit(), { code: 0, signal: null });
    const job = (await client.jobs.get(jid)) as Job;
    assert.equal(job.state, 'waiting', 'back in its queue for another worker');
    assert.equal(job.remaining, 4);
    assert.equal(worker.jobEnded(jid)?.outcome, 'handed-back');
  });

  test('a handler that never settles does not hold the drain forever: handed back at the deadline', async () => {
    const worker = start({ shutdownTimeout: 1.5 });
    await worker.waitForMessage('ready');
    const jid = await client.queue(worker.config.queues[0]).put('failing.NeverSettles', {});
    await worker.waitForLine((line) => line.jid === jid && line.msg === 'job started', 'job start');
    // The supervisor would kill it at 1.5 s; it hands back a little before.
    worker.send({ type: 'stop', handBackAt: Date.now() + 1_000 });
    assert.deepEqual(await worker.waitForExit(), { code: 0, signal: null });
    const job = (await client.jobs.get(jid)) as Job;
    assert.equal(job.state, 'waiting');
    assert.equal(job.remaining, 4);
  });

  test('supervisor gone (IPC closed): the worker finishes its job and exits by itself', async () => {
    const worker = start();
    await worker.waitForMessage('ready');
    const jid = await client.queue(worker.config.queues[0]).put('wait.ForAWhile', { ms: 500 });
    await worker.waitForLine((line) => line.jid === jid && line.msg === 'job started', 'job start');
    worker.disconnect();
    const exit = await worker.waitForExit();
    assert.equal(exit.code, 0);
    assert.equal(isAlive(worker.pid), false);
    assert.equal(((await client.jobs.get(jid)) as Job).state, 'complete');
  });

  test('max-memory: after the job during which RSS passed the limit, the worker recycles', async () => {
    // No deregister, exit 0.
    // 1 MB is below any Node process: the first job ends over the limit.
    const worker = start({ maxMemory: 1 });
    await worker.waitForMessage('ready');
    const jids = [
      await client.queue(worker.config.queues[0]).put('noop', {}),
      await client.queue(worker.config.queues[0]).put('noop', {}),
    ];
    const recycle = await worker.waitForMessage('recycle');
    assert.match(recycle.reason, /max-memory/);
    assert.deepEqual(await worker.waitForExit(), { code: 0, signal: null });
    const states = (await client.jobs.multiget(...jids)).map((job) => job.state).sort();
    assert.deepEqual(states, ['complete', 'waiting'], 'one job ran, the other waits for the next process');
    assert.equal(
      await registered(worker.config.name),
      true,
      'the name stays registered for the process that replaces it',
    );
  });

  test('max-jobs: recycles after n jobs', async () => {
    const worker = start({ maxJobs: 2 });
    await worker.waitForMessage('ready');
    const queue = worker.config.queues[0];
    const jids = [];
    for (let i = 0; i < 3; i++) jids.push(await client.queue(queue).put('noop', {}));
    const recycle = await worker.waitForMessage('recycle');
    assert.match(recycle.reason, /max-jobs/);
    assert.equal((await worker.waitForExit()).code, 0);
    const states = (await client.jobs.multiget(...jids)).map((job) => job.state).sort();
    assert.deepEqual(states, ['complete', 'complete', 'waiting']);
  });

  test('an --import module that throws: the worker exits non-zero before ready', async () => {
    const broken = join(scratch, 'broken-import.mjs');
    writeFileSync(broken, 'throw new Error("import failed on purpose");\n');
    const worker = start({ imports: [broken] });
    const exit = await worker.waitForExit();
    assert.notEqual(exit.code, 0);
    assert.ok(!worker.messages.some((message) => message.type === 'ready'));
    assert.match(worker.stderr, /import failed on purpose/);
  });

  test('--import modules are loaded before the first job', async () => {
    const marker = join(scratch, 'imported.txt');
    const module = join(scratch, 'setup.mjs');
    writeFileSync(
      module,
      `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, String(process.pid));\n`,
    );
    const worker = start({ imports: [module] });
    await worker.waitForMessage('ready');
    assert.equal(readFileSync(marker, 'utf8'), String(worker.pid));
  });
});
