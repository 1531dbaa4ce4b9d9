// What a job leaves in its directory is emptied after it without a check of its own when the next
// job follows at once (that job's start empties it anyway), and within RELEASE_MS otherwise; a
// directory handed to a new job is never emptied under it. The real runner, client and call
// batcher on a private redis-server, handlers from the fixtures.
import { after, before, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Client } from '../../src/client/client.ts';
import type { JobJson } from '../../src/client/types.ts';
import { CallBatcher } from '../../src/worker/call-batcher.ts';
import { HeldJobs } from '../../src/worker/held-jobs.ts';
import { JobRunner, RELEASE_MS } from '../../src/worker/job/runner.ts';
import { eventually } from '../helpers/worker.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { JOBS } from './blackbox.ts';

const WORKER = 'release-0';
let server: RedisServer;
let client: Client;
let scratch: string;
let home: string;

before(async () => {
  server = await startRedis();
  client = new Client({ url: server.url, workerName: WORKER });
  scratch = realpathSync(mkdtempSync(join(tmpdir(), 'qless-release-')));
  // The runner moves the process into the slot's sandbox (as in a worker process); back after.
  home = process.cwd();
});

after(async () => {
  process.chdir(home);
  await client?.close();
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function runner(slot: string, concurrency: number): JobRunner {
  const batcher = new CallBatcher((calls) => {
    const batch = client.batch();
    for (const call of calls) batch.call(call.command, ...call.args);
    return batch.exec();
  });
  return new JobRunner(
    { name: WORKER, path: JOBS, sandbox: join(scratch, slot), concurrency },
    { client, batcher, held: new HeldJobs(() => undefined), logger: pino({ level: 'silent' }) },
  );
}

/** Puts `count` jobs of `klass` on `queue` and pops them all as the worker. */
async function putAndPop(queue: string, klass: string, count: number, data = {}): Promise<JobJson[]> {
  for (let index = 0; index < count; index++) await client.queue(queue).put(klass, { outside: scratch, ...data });
  const jobs = JSON.parse(String(await client.call('pop', queue, WORKER, count))) as JobJson[];
  assert.equal(jobs.length, count);
  return jobs;
}

/** How many times fs.lstatSync ran on `path` during `action` (the named import in sandbox.ts included). */
async function lstatsOf(path: string, action: () => Promise<void>): Promise<number> {
  const spy = mock.method(fs, 'lstatSync');
  syncBuiltinESMExports();
  try {
    await action();
    return spy.mock.calls.filter((call) => call.arguments[0] === path).length;
  } finally {
    spy.mock.restore();
    syncBuiltinESMExports();
  }
}

test('what a job left is emptied within RELEASE_MS when no job follows', async () => {
  const jobs = runner('alone', 1);
  const [json] = await putAndPop('release-alone', 'sandboxed', 1);
  assert.equal(await jobs.run(json, 0), 'completed');
  const slot = join(scratch, 'alone');
  await eventually(() => readdirSync(slot).length === 0, {
    what: `the sandbox emptied within ${RELEASE_MS} ms of the job`,
    timeout: 1_000,
    interval: 2,
  });
  await jobs.writesSettled();
});

test('jobs one right after the other: one check of the sandbox per job, each starting in an empty one', async () => {
  const jobs = runner('busy', 1);
  const popped = await putAndPop('release-busy', 'sandboxed', 10);
  const slot = join(scratch, 'busy');
  const checks = await lstatsOf(slot, async () => {
    for (const json of popped) assert.equal(await jobs.run(json, 0), 'completed');
  });
  // Twice per job before (at its start and at its end); now at its start, and once more at most
  // for the last one (or when the machine is slow enough for RELEASE_MS to pass between two).
  assert.ok(checks >= popped.length && checks <= popped.length + 3, `${checks} checks of the sandbox for 10 jobs`);
  await jobs.writesSettled();
  for (const json of popped) {
    const job = await client.jobs.get(json.jid);
    assert.deepEqual(
      (job?.data as { before?: unknown } | null)?.before,
      [],
      `job ${json.jid} started in an empty sandbox`,
    );
  }
  await eventually(() => readdirSync(slot).length === 0, {
    what: 'the last job emptied after it',
    timeout: 1_000,
    interval: 2,
  });
});

test('a lane handed to the next job right away is not emptied under it by the previous job', async () => {
  const jobs = runner('lanes', 2);
  const [first] = await putAndPop('release-lanes', 'noop', 1);
  const [second] = await putAndPop('release-lanes', 'sandboxed', 1, { sleepMs: 20 * RELEASE_MS });
  assert.equal(await jobs.run(first, 0), 'completed');
  const running = jobs.run(second, 0);
  const left = join(scratch, 'lanes', 'job-0', `${second.jid}.txt`);
  // Well past the first job's RELEASE_MS, while the second runs in the same lane.
  await new Promise((resolve) => setTimeout(resolve, 10 * RELEASE_MS));
  assert.ok(existsSync(left), 'the running job keeps what it wrote in its lane');
  assert.equal(await running, 'completed');
  await eventually(() => !existsSync(left), { what: 'the lane emptied after its job', timeout: 1_000, interval: 2 });
  await jobs.writesSettled();
});

test('a manager leaving empties every directory released meanwhile at once', async () => {
  const jobs = runner('leaving', 1);
  const [json] = await putAndPop('release-leaving', 'sandboxed', 1);
  assert.equal(await jobs.run(json, 0), 'completed');
  jobs.emptyReleasedSandboxes();
  assert.deepEqual(readdirSync(join(scratch, 'leaving')), []);
  await jobs.writesSettled();
});
