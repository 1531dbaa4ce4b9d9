// Black-box: the real bin/qless-worker against a private redis-server runs handler fixtures and
// we read the outcome back from Redis. klass → module resolution in every form (top-level await
// included), the export forms, every failure group (the worker keeps going after each), the
// endings a handler chooses itself (fail, retry, move, cancel), auto-complete and a pipeline that
// advances with complete(next).
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from '../../src/client/job.ts';
import { eventually, isAlive, type WorkerRun } from '../helpers/worker.ts';
import { dataOf, endedJob, isReady, JOBS, RESOLVE, readyLines, usePools, whats } from './blackbox.ts';

let project: string;
let outside: string;
const runs: WorkerRun[] = [];
const fx = usePools('blackbox-handlers', { setup, teardown });

async function setup(): Promise<void> {
  // The resolve fixture plus the hostile shapes: links out of the tree and a node_modules folder.
  project = mkdtempSync(join(tmpdir(), 'qless-blackbox-handlers-'));
  outside = mkdtempSync(join(tmpdir(), 'qless-blackbox-outside-'));
  cpSync(RESOLVE, project, { recursive: true });
  writeFileSync(join(outside, 'escape.mjs'), 'export default (job) => { job.data.ran = "escaped"; };\n');
  symlinkSync(join(outside, 'escape.mjs'), join(project, 'escape.mjs'));
  mkdirSync(join(project, 'node_modules', 'hidden'), { recursive: true });
  writeFileSync(
    join(project, 'node_modules', 'hidden', 'index.mjs'),
    'export const Hidden = (job) => { job.data.ran = "hidden"; };\n',
  );
  runs.push(fx.poolOn('resolve', 'q,images', project, ['-w', '1']));
  runs.push(fx.poolOn('pipeline', 'pipe-1,pipe-2,pipe-3', JOBS, ['-w', '1']));
  for (const run of runs) await run.waitForLine(isReady);
}

function teardown(): void {
  rmSync(project, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
}

async function settled(jid: string, states = ['complete', 'failed']): Promise<Job> {
  return eventually(
    async () => {
      const [job] = await fx.client.jobs.multiget(jid);
      return job && states.includes(job.state) ? job : undefined;
    },
    { what: `job ${jid} to be ${states.join(' or ')}` },
  );
}

async function run(klass: string, queue = 'q'): Promise<Job> {
  return settled(await fx.client.queue(queue).put(klass, { n: 7 }));
}

describe('klass → module, completed on return', () => {
  const cases: [klass: string, queue: string, ran: unknown][] = [
    ['countdown', 'q', { module: 'countdown.ts', n: 7 }],
    ['nested.deep.Named', 'q', { module: 'nested/deep.ts', export: 'Named' }],
    ['pkg.Thing', 'q', { module: 'pkg/index.mts' }],
    ['jsdir', 'q', { module: 'jsdir/index.cjs' }],
    ['plain.Plain', 'q', { module: 'plain.js' }],
    ['esm', 'q', { module: 'esm.mjs' }],
    ['common.Common', 'q', { module: 'common.cjs' }],
    ['forms.ByQueue', 'images', { form: 'object', method: 'images' }],
    ['forms.ByQueue', 'q', { form: 'object', method: 'process' }],
    ['forms.ByProcess', 'q', { form: 'object', method: 'process' }],
    ['forms.ByPerform', 'q', { form: 'object', method: 'perform' }],
    ['forms.StaticClass', 'q', { form: 'class', method: 'static process' }],
    ['forms.InstanceClass', 'q', { form: 'class', method: 'instance perform' }],
  ];
  for (const [klass, queue, ran] of cases) {
    test(`${klass} in ${queue}`, async () => {
      const job = await run(klass, queue);
      assert.equal(job.state, 'complete', JSON.stringify(job.failure));
      assert.deepEqual((job.data as { ran: unknown }).ran, ran);
      assert.equal(job.history.find((entry) => entry.what === 'popped')?.worker, 'resolve-0');
    });
  }
});

describe('failure groups; the worker keeps going', () => {
  const cases: [klass: string, group: string, message: RegExp][] = [
    ['missing', 'q-ModuleNotFound', /no module for klass "missing"/],
    ['nested.absent.Name', 'q-ModuleNotFound', /no module/],
    ['needs-missing', 'q-ModuleNotFound', /qless-worker-fixture-package-that-does-not-exist/],
    ['forms.NoMethod', 'q-method-missing', /no method "q", "process", "perform"/],
    ['forms.NotAFunction', 'q-method-missing', /not a function/],
    ['forms.Absent', 'q-method-missing', /is missing/],
    ['/etc/passwd', 'q-InvalidKlass', /absolute/],
    ['...etc.passwd', 'q-InvalidKlass', /empty segment/],
    ['escape', 'q-InvalidKlass', /outside the handler path/],
    ['node_modules.hidden.Hidden', 'q-InvalidKlass', /node_modules/],
    ['broken', 'q-SyntaxError', /SyntaxError/],
  ];
  for (const [klass, group, message] of cases) {
    test(`${klass} → ${group}`, async () => {
      const job = await run(klass);
      assert.equal(job.state, 'failed');
      assert.equal(job.failure?.group, group);
      assert.match(job.failure?.message ?? '', message);
      assert.equal(job.failure?.worker, 'resolve-0');
      assert.ok((await fx.client.jobs.failed())[group] >= 1, `the group ${group} is listed`);
    });
  }

  test('escaping klasses ran nothing outside the tree', async () => {
    const escaped = await run('escape');
    assert.equal((escaped.data as { ran?: unknown }).ran, undefined);
  });

  test('after all of that the same worker process still completes jobs', async () => {
    assert.equal(readyLines(runs[0]).length, 1, 'the worker was never restarted');
    const job = await run('countdown');
    assert.equal(job.state, 'complete');
  });
});

describe('pipelines', () => {
  test('complete(next) advances the job through three queues; the last step auto-completes', async () => {
    const jid = await fx.client.queue('pipe-1').put('pipeline.Steps', { steps: [] });
    const job = await settled(jid, ['complete']);
    const steps = (job.data as { steps: string[] }).steps.map((step) => step.split(' by ')[0]);
    assert.deepEqual(steps, ['pipe-1', 'pipe-2', 'pipe-3']);
    assert.deepEqual(
      job.history.filter((entry) => entry.what === 'put').map((entry) => entry.q),
      ['pipe-1', 'pipe-2', 'pipe-3'],
    );
    assert.equal(job.history.filter((entry) => entry.what === 'done').length, 3);
  });
});

describe('klass resolution through the real binary: top-level await handlers', () => {
  let run: WorkerRun;
  before(async () => {
    run = fx.poolOn('tla', 'tla', RESOLVE, ['-w', '1']);
    await run.waitForLine(isReady);
  });

  for (const [klass, ran] of [
    ['toplevel', { module: 'toplevel.mjs', ready: 'loaded with top-level await' }],
    ['toplevel-ts', { module: 'toplevel-ts.ts', ready: 'ts loaded with top-level await' }],
  ] as const) {
    test(`${klass}: a module with top-level await loads and its job completes`, async () => {
      const done = await fx.settled(await fx.client.queue('tla').put(klass, {}), run);
      assert.equal(done.state, 'complete', JSON.stringify(done.failure));
      assert.deepEqual(dataOf(done).ran, ran);
    });
  }
});

describe('failure groups and handler endings through the real binary; the worker keeps going', () => {
  let run: WorkerRun;
  before(async () => {
    run = fx.poolOn('fails', 'fq', JOBS, ['-w', '1']);
    await run.waitForLine(isReady);
  });

  const cases: [klass: string, group: string, message: RegExp][] = [
    ['failing.Throws', 'fq-TypeError', /^TypeError: bad type in the handler\n\s+at /],
    ['failing.ThrowsNamed', 'fq-QuotaExceeded', /^QuotaExceeded: over quota\n\s+at /],
    ['failing.RejectsUnnamed', 'fq-Unnamed', /a subclass without a name of its own/],
    ['failing.ThrowsString', 'fq-NonError', /just a string/],
    ['failing.ExitsNow', 'fq-ProcessExitError', /process\.exit\(3\)/],
    ['failing.ExitsLater', 'fq-ProcessExitError', /process\.exit\(4\)/],
    ['failing.ThrowsLater', 'fq-SyntaxError', /thrown from a timer/],
  ];
  for (const [klass, group, message] of cases) {
    test(`${klass} → ${group}`, async () => {
      const done = await fx.settled(await fx.client.queue('fq').put(klass, {}), run);
      assert.equal(done.state, 'failed');
      assert.equal(done.failure?.group, group);
      assert.equal(done.failure?.worker, 'fails-0');
      assert.match(done.failure?.message ?? '', message);
      const listed = await fx.client.jobs.failedGroup(group);
      assert.ok(
        listed.jobs.some((one) => one.jid === done.jid),
        `${done.jid} is listed in ${group}`,
      );
    });
  }

  test('the stored message is the stack, cut at 10,000 characters', async () => {
    const done = await fx.settled(await fx.client.queue('fq').put('failing.ThrowsLong', {}), run);
    assert.equal(done.failure?.group, 'fq-RangeError');
    assert.equal(done.failure?.message.length, 10_000);
    assert.match(done.failure?.message ?? '', /^RangeError: xxx/);
  });

  test('a handler that fails its job itself keeps its own group (the worker does not complete it)', async () => {
    const done = await fx.settled(await fx.client.queue('fq').put('pipeline.FailsItself', {}), run);
    assert.equal(done.state, 'failed');
    assert.equal(done.failure?.group, 'custom-group');
    assert.equal(done.failure?.message, 'failed by the handler');
    assert.equal(whats(done, 'done'), 0);
  });

  test('a handler that retries its job itself leaves it scheduled, one retry used', async () => {
    const jid = await fx.client.queue('fq').put('pipeline.RetriesItself', {});
    const found = await fx.settled(jid, run, ['scheduled']);
    assert.equal(found.remaining, found.retries - 1);
    await run.waitForLine(endedJob(jid));
    assert.equal((await fx.mustGet(jid)).state, 'scheduled', 'still scheduled after the handler returned');
  });

  test('a handler that moves its job leaves it waiting in the other queue', async () => {
    const jid = await fx.client.queue('fq').put('pipeline.MovesItself', {});
    await run.waitForLine(endedJob(jid));
    const found = await fx.mustGet(jid);
    assert.equal(found.state, 'waiting');
    assert.equal(found.queue, 'elsewhere');
    assert.equal(whats(found, 'done'), 0);
  });

  test('a handler that cancels its job: the job is gone', async () => {
    const jid = await fx.client.queue('fq').put('pipeline.CancelsItself', {});
    await run.waitForLine(endedJob(jid));
    assert.equal(await fx.getJob(jid), undefined);
  });

  test('after all of that the first worker process is still the one completing jobs', async () => {
    const ready = readyLines(run);
    assert.equal(ready.length, 1, 'never restarted');
    assert.equal(run.find('exited').length, 0, 'no worker exited');
    const done = await fx.settled(await fx.client.queue('fq').put('sequence', {}), run);
    assert.equal(done.state, 'complete');
    assert.equal(dataOf(done).pid, ready[0].pid);
    assert.equal(isAlive(ready[0].pid), true);
  });
});
