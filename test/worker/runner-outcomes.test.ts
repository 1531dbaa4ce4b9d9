// What becomes of a job, through one real worker process (forked as the supervisor does) against
// a private redis-server: complete with the data the handler left, every failure group, handlers
// that end the job themselves, pipelines, and handlers that break out (process.exit, timers).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../src/client/client.ts';
import type { Job } from '../../src/client/job.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { eventually } from '../helpers/worker.ts';
import { makeWorkdir, startWorkerProcess, workerConfig, type WorkerHarness, type Workdir } from './process-harness.ts';

let server: RedisServer;
let client: Client;
let workdir: Workdir;
let worker: WorkerHarness;

const QUEUES = ['q', 'pipe-1', 'pipe-2', 'pipe-3'];

before(async () => {
  server = await startRedis();
  client = new Client({ url: server.url, workerName: 'producer' });
  workdir = makeWorkdir();
  worker = startWorkerProcess(workerConfig(server.url, workdir, { queues: QUEUES, interval: 0.2 }));
  await worker.waitForMessage('ready');
});

after(async () => {
  await worker?.kill();
  await client?.close();
  await server?.stop();
  workdir?.cleanup();
});

async function finalJob(jid: string, states: string[] = ['complete', 'failed']): Promise<Job> {
  await worker.waitForJobEnd(jid);
  return eventually(
    async () => {
      const job = (await client.jobs.get(jid)) as Job | null;
      return job && states.includes(job.state) ? job : undefined;
    },
    { what: `job ${jid} to reach ${states.join('/')}` },
  );
}

async function runJob(klass: string, data: Record<string, unknown> = {}, queue = 'q'): Promise<Job> {
  const jid = await client.queue(queue).put(klass, data);
  return finalJob(jid);
}

describe('returning completes the job', () => {
  test('a no-op handler: complete, no worker left on it, done in history', async () => {
    const job = await runJob('noop');
    assert.equal(job.state, 'complete');
    assert.equal(job.worker, '');
    assert.deepEqual(
      job.history.map((entry) => entry.what),
      ['put', 'popped', 'done'],
    );
    assert.equal(job.history[1].worker, worker.config.name);
  });

  test('data changed by the handler is stored by the complete', async () => {
    const job = await runJob('record', { keep: 'me' });
    const data = job.data as {
      keep: string;
      seen: { sandbox: string; cwd: string; signalAborted: boolean; hasLogger: boolean; sandboxEntries: string[] };
    };
    assert.equal(data.keep, 'me');
    assert.equal(data.seen.sandbox, worker.config.sandbox);
    assert.equal(data.seen.cwd, worker.config.sandbox, 'concurrency 1: the cwd is the sandbox');
    assert.deepEqual(data.seen.sandboxEntries, []);
    assert.equal(data.seen.signalAborted, false);
    assert.equal(data.seen.hasLogger, true);
    const logged = worker.lines.find((line) => line.marker === 'record');
    assert.ok(logged, 'the job logger wrote a line');
    assert.equal(logged.jid, job.jid);
    assert.equal(logged.queue, 'q');
    assert.equal(logged.klass, 'record');
    assert.equal(logged.worker, worker.config.name);
  });

  test('a pipeline advances through its queues with complete(next); the worker completes the last step', async () => {
    const jid = await client.queue('pipe-1').put('pipeline.Steps', { steps: [] });
    const job = await eventually(
      async () => {
        const current = (await client.jobs.get(jid)) as Job | null;
        return current?.state === 'complete' ? current : undefined;
      },
      { what: 'the pipeline to finish' },
    );
    const pid = worker.pid;
    assert.deepEqual((job.data as { steps: string[] }).steps, [
      `pipe-1 by ${pid}`,
      `pipe-2 by ${pid}`,
      `pipe-3 by ${pid}`,
    ]);
    assert.deepEqual(
      job.history.map((entry) => [entry.what, entry.q ?? '']),
      [
        ['put', 'pipe-1'],
        ['popped', ''],
        ['done', ''],
        ['put', 'pipe-2'],
        ['popped', ''],
        ['done', ''],
        ['put', 'pipe-3'],
        ['popped', ''],
        ['done', ''],
      ],
    );
  });
});

describe('failure groups', () => {
  const cases: [klass: string, group: string, message: RegExp][] = [
    ['failing.Throws', 'q-TypeError', /^TypeError: bad type in the handler\n\s+at /],
    ['failing.ThrowsNamed', 'q-QuotaExceeded', /^QuotaExceeded: over quota/],
    ['failing.RejectsUnnamed', 'q-Unnamed', /a subclass without a name of its own/],
    ['failing.ThrowsString', 'q-NonError', /not an Error: "just a string"/],
    ['missing.module.Klass', 'q-ModuleNotFound', /no module for klass/],
    ['failing.NoSuchExport', 'q-method-missing', /NoSuchExport/],
    ['../escape.Klass', 'q-InvalidKlass', /klass/],
    ['node_modules.x.Y', 'q-InvalidKlass', /node_modules/],
    ['failing.ExitsNow', 'q-ProcessExitError', /process\.exit\(3\)/],
    ['failing.ExitsLater', 'q-ProcessExitError', /process\.exit\(4\)/],
    ['failing.ThrowsLater', 'q-SyntaxError', /thrown from a timer/],
    ['failing.UnencodableData', 'q-InvalidInputError', /data/],
  ];
  for (const [klass, group, message] of cases) {
    test(`${klass} → ${group}`, async () => {
      const job = await runJob(klass);
      assert.equal(job.state, 'failed');
      assert.equal(job.failure?.group, group);
      assert.equal(job.failure?.worker, worker.config.name);
      assert.match(job.failure?.message ?? '', message);
      const failed = await client.jobs.failedGroup(group);
      assert.ok(failed.jobs.some((failedJob) => failedJob.jid === job.jid));
    });
  }

  test('the message is the stack, cut at 10,000 characters', async () => {
    const job = await runJob('failing.ThrowsLong');
    assert.equal(job.failure?.group, 'q-RangeError');
    assert.equal(job.failure?.message.length, 10_000);
    assert.match(job.failure?.message ?? '', /^RangeError: xxx/);
  });

  test('the worker is still alive and working after all of that', async () => {
    assert.equal(worker.exit, undefined);
    const job = await runJob('noop');
    assert.equal(job.state, 'complete');
  });
});

describe('a handler that ends the job itself', () => {
  test('fail(): its own group stays, the worker does not complete it', async () => {
    const job = await runJob('pipeline.FailsItself');
    assert.equal(job.state, 'failed');
    assert.equal(job.failure?.group, 'custom-group');
    assert.equal(worker.jobEnded(job.jid)?.outcome, 'settled-by-handler');
  });

  test('retry(): the job waits again (scheduled), not completed', async () => {
    const jid = await client.queue('q').put('pipeline.RetriesItself', {});
    await worker.waitForJobEnd(jid);
    const job = (await client.jobs.get(jid)) as Job;
    assert.equal(job.state, 'scheduled');
    assert.equal(job.remaining, 4);
  });

  test('move(): the job waits in the other queue', async () => {
    const jid = await client.queue('q').put('pipeline.MovesItself', {});
    await worker.waitForJobEnd(jid);
    const job = (await client.jobs.get(jid)) as Job;
    assert.equal(job.state, 'waiting');
    assert.equal(job.queue, 'elsewhere');
  });

  test('cancel(): the job is gone', async () => {
    const jid = await client.queue('q').put('pipeline.CancelsItself', {});
    await worker.waitForJobEnd(jid);
    assert.equal(await client.jobs.get(jid), null);
  });
});
