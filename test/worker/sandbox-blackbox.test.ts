// Black-box (bin/qless-worker + private redis-server): each job starts in an empty sandbox (the
// process cwd at concurrency 1, a sub-directory per in-flight job above that), the sandbox is
// emptied after every job whatever the job left there, and nothing outside it is ever deleted,
// even through symlinks the job left pointing outside.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
let base: string;
let outside: string;
const runs: WorkerRun[] = [];

before(async () => {
  server = await startRedis();
  client = new Client({ url: server.url, workerName: 'producer' });
  base = mkdtempSync(join(tmpdir(), 'qless-blackbox-sandbox-'));
  outside = join(base, 'outside');
  mkdirSync(join(outside, 'dir'), { recursive: true });
  writeFileSync(join(outside, 'keep.txt'), 'keep');
  writeFileSync(join(outside, 'dir', 'keep-too.txt'), 'keep');
});

after(async () => {
  for (const run of runs) await run.kill();
  await client?.close();
  await server?.stop();
  rmSync(base, { recursive: true, force: true });
});

function assertOutsideIntact(): void {
  assert.equal(readFileSync(join(outside, 'keep.txt'), 'utf8'), 'keep');
  assert.equal(readFileSync(join(outside, 'dir', 'keep-too.txt'), 'utf8'), 'keep');
}

async function completed(jid: string): Promise<Job> {
  return eventually(
    async () => {
      const [job] = await client.jobs.multiget(jid);
      if (job?.state === 'failed') throw new Error(`job failed: ${job.failure?.message}`);
      return job?.state === 'complete' ? job : undefined;
    },
    { what: `job ${jid} to complete` },
  );
}

interface Seen {
  before: string[];
  cwd: string;
  sandbox: string;
}

describe('concurrency 1: the process cwd is the sandbox', () => {
  const workdir = (): string => join(base, 'one');
  const sandbox = (): string => join(workdir(), 'sandbox', 'worker-0');

  before(async () => {
    // Leftovers of an earlier run must be gone before the first job.
    mkdirSync(join(sandbox(), 'stale-dir'), { recursive: true });
    writeFileSync(join(sandbox(), 'stale.txt'), 'old');
    const run = startWorker([
      '-q',
      'sandbox-1',
      '-r',
      server.url,
      '-p',
      JOBS,
      '-d',
      workdir(),
      '-n',
      'one',
      '-w',
      '1',
      '--no-watch',
      '-i',
      '0.2',
    ]);
    runs.push(run);
    await run.waitForLine('worker ready');
  });

  test('every job starts in the emptied sandbox, which is emptied again after it, links and all', async () => {
    for (let round = 0; round < 3; round++) {
      const job = await completed(await client.queue('sandbox-1').put('sandboxed', { outside }));
      const seen = job.data as unknown as Seen;
      assert.deepEqual(seen.before, [], `round ${round}: nothing left from before`);
      assert.equal(seen.sandbox, sandbox());
      assert.equal(seen.cwd, sandbox());
      await eventually(() => readdirSync(sandbox()).length === 0, { what: 'the sandbox to be emptied after the job' });
      assertOutsideIntact();
    }
  });
});

describe('concurrency 3: one sub-directory per job in flight', () => {
  const workdir = (): string => join(base, 'three');
  const slotDir = (): string => join(workdir(), 'sandbox', 'worker-0');

  before(async () => {
    mkdirSync(workdir(), { recursive: true });
    const run = startWorker([
      '-q',
      'sandbox-3',
      '-r',
      server.url,
      '-p',
      JOBS,
      '-d',
      workdir(),
      '-n',
      'three',
      '-w',
      '1',
      '-c',
      '3',
      '--no-watch',
      '-i',
      '0.2',
    ]);
    runs.push(run);
    await run.waitForLine('worker ready');
  });

  test('jobs in flight together get distinct, empty directories inside the slot sandbox, emptied after', async () => {
    const jids = await Promise.all(
      [0, 1, 2].map(() => client.queue('sandbox-3').put('sandboxed', { outside, sleepMs: 600 })),
    );
    const jobs = await Promise.all(jids.map((jid) => completed(jid)));
    const seen = jobs.map((job) => job.data as unknown as Seen);
    const sandboxes = new Set(seen.map((one) => one.sandbox));
    assert.equal(sandboxes.size, 3, `three different sandboxes: ${[...sandboxes].join(', ')}`);
    for (const one of seen) {
      assert.ok(one.sandbox.startsWith(`${slotDir()}/`), `${one.sandbox} is inside ${slotDir()}`);
      assert.deepEqual(one.before, []);
      assert.equal(one.cwd, slotDir(), 'the process cwd stays the slot sandbox');
    }
    for (const dir of sandboxes) {
      await eventually(() => !existsSync(dir) || readdirSync(dir).length === 0, { what: `${dir} to be emptied` });
    }
    assertOutsideIntact();
  });
});
