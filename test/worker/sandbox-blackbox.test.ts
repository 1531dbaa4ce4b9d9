// Black-box (bin/qless-worker + private redis-server): each job starts in an empty sandbox (the
// process cwd at concurrency 1, a sub-directory per in-flight job above that), the sandbox is
// emptied after every job whatever the job left there, and nothing outside it is ever deleted,
// even through symlinks the job left pointing outside, or a sandbox the job swapped for a link.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Job } from '../../src/client/job.ts';
import { eventually } from '../helpers/worker.ts';
import { AUDIT, dataOf, isReady, JOBS, readyLines, stopPool, usePools } from './blackbox.ts';

let base: string;
let outside: string;
const fx = usePools('blackbox-sandbox', {
  setup() {
    base = fx.scratch;
    outside = join(base, 'outside');
    mkdirSync(join(outside, 'dir'), { recursive: true });
    writeFileSync(join(outside, 'keep.txt'), 'keep');
    writeFileSync(join(outside, 'dir', 'keep-too.txt'), 'keep');
  },
});

function assertOutsideIntact(): void {
  assert.equal(readFileSync(join(outside, 'keep.txt'), 'utf8'), 'keep');
  assert.equal(readFileSync(join(outside, 'dir', 'keep-too.txt'), 'utf8'), 'keep');
}

async function completed(jid: string): Promise<Job> {
  return eventually(
    async () => {
      const [job] = await fx.client.jobs.multiget(jid);
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
    const run = fx.poolOn('one', 'sandbox-1', JOBS, ['-w', '1', '-d', workdir()]);
    await run.waitForLine(isReady);
  });

  test('every job starts in the emptied sandbox, which is emptied again after it, links and all', async () => {
    for (let round = 0; round < 3; round++) {
      const job = await completed(await fx.client.queue('sandbox-1').put('sandboxed', { outside }));
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
    const run = fx.poolOn('three', 'sandbox-3', JOBS, ['-w', '1', '-c', '3', '-d', workdir()]);
    await run.waitForLine(isReady);
  });

  test('jobs in flight together get distinct, empty directories inside the slot sandbox, emptied after', async () => {
    const jids = await Promise.all(
      [0, 1, 2].map(() => fx.client.queue('sandbox-3').put('sandboxed', { outside, sleepMs: 600 })),
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

describe('sandbox confinement', () => {
  let outside: string;

  before(() => {
    outside = join(fx.scratch, 'confinement-outside');
    mkdirSync(join(outside, 'dir'), { recursive: true });
    writeFileSync(join(outside, 'keep.txt'), 'keep');
    writeFileSync(join(outside, 'dir', 'keep-too.txt'), 'keep');
  });

  function assertOutsideIntact(): void {
    assert.deepEqual(readdirSync(outside).sort(), ['dir', 'keep.txt']);
    assert.equal(readFileSync(join(outside, 'keep.txt'), 'utf8'), 'keep');
    assert.equal(readFileSync(join(outside, 'dir', 'keep-too.txt'), 'utf8'), 'keep');
  }

  test('concurrency 1: a job that swaps its sandbox (the cwd) for a symlink deletes nothing there', async () => {
    // The symlink leads elsewhere; the next job gets a real, empty directory.
    const workdir = join(fx.scratch, 'confine-1');
    mkdirSync(workdir);
    const sandbox = join(workdir, 'sandbox', 'worker-0');
    const run = fx.poolOn('confine-1', 'confine-1', AUDIT, ['-w', '1', '-d', workdir]);
    await run.waitForLine(isReady);

    const swapped = await fx.settled(
      await fx.client.queue('confine-1').put('confine.ReplaceSandbox', { outside }),
      run,
    );
    assert.equal(swapped.state, 'complete', JSON.stringify(swapped.failure));
    assert.equal(dataOf(swapped).sandbox, sandbox);
    const inspected = await fx.settled(await fx.client.queue('confine-1').put('confine.Inspect', {}), run);
    assert.equal(inspected.state, 'complete', JSON.stringify(inspected.failure));
    assert.deepEqual(dataOf(inspected).before, []);
    assert.equal(dataOf(inspected).isLink, false);
    assert.equal(dataOf(inspected).isDirectory, true);
    assert.equal(dataOf(inspected).cwd, sandbox, 'the process is back inside the real sandbox');
    assert.equal(lstatSync(sandbox).isDirectory(), true);
    assertOutsideIntact();

    const messy = await fx.settled(await fx.client.queue('confine-1').put('confine.MessThenThrow', { outside }), run);
    assert.equal(messy.state, 'failed');
    assert.equal(messy.failure?.group, 'confine-1-Error');
    await eventually(() => readdirSync(sandbox).length === 0, { what: 'the sandbox emptied after a failed job' });
    assertOutsideIntact();
    const afterwards = await fx.settled(await fx.client.queue('confine-1').put('confine.Inspect', {}), run);
    assert.deepEqual(dataOf(afterwards).before, []);
    assert.equal(readyLines(run).length, 1, 'the same worker process all along');
    await stopPool(run);
  });

  test('concurrency 2: a job that swaps its own sub-directory for a symlink deletes nothing there', async () => {
    // Later jobs get real, empty directories.
    const workdir = join(fx.scratch, 'confine-2');
    mkdirSync(workdir);
    const slot = join(workdir, 'sandbox', 'worker-0');
    const run = fx.poolOn('confine-2', 'confine-2', AUDIT, ['-w', '1', '-c', '2', '-d', workdir]);
    await run.waitForLine(isReady);

    const swapped = await Promise.all(
      [1, 2].map(() => fx.client.queue('confine-2').put('confine.ReplaceSandbox', { outside })),
    );
    for (const done of await fx.allComplete(swapped, run))
      assert.ok(String(dataOf(done).sandbox).startsWith(`${slot}/`));
    const inspected = [];
    for (let i = 0; i < 4; i++) inspected.push(await fx.client.queue('confine-2').put('confine.Inspect', {}));
    for (const done of await fx.allComplete(inspected, run)) {
      const seen = dataOf(done);
      assert.ok(String(seen.sandbox).startsWith(`${slot}/`), `${String(seen.sandbox)} inside ${slot}`);
      assert.deepEqual(seen.before, []);
      assert.equal(seen.isLink, false);
      assert.equal(seen.isDirectory, true);
    }
    assertOutsideIntact();
    await stopPool(run);
  });
});
