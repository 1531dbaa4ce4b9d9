// Black-box: the real bin/qless-worker against a private redis-server runs handler fixtures and
// we read the outcome back from Redis. klass → module resolution in every form, the export forms,
// every failure group (the worker keeps going after each), auto-complete and a pipeline that
// advances with complete(next).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '../../src/client/client.ts';
import type { Job } from '../../src/client/job.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { eventually, startWorker, type WorkerRun } from '../helpers/worker.ts';

const RESOLVE = fileURLToPath(new URL('../fixtures/handlers/resolve', import.meta.url));
const JOBS = fileURLToPath(new URL('../fixtures/handlers/jobs', import.meta.url));

let server: RedisServer;
let client: Client;
let project: string;
let outside: string;
const runs: WorkerRun[] = [];

before(async () => {
  server = await startRedis();
  client = new Client({ url: server.url, workerName: 'producer' });
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
  runs.push(
    startWorker([
      '-q',
      'q,images',
      '-r',
      server.url,
      '-p',
      project,
      '-n',
      'resolve',
      '-w',
      '1',
      '--no-watch',
      '-i',
      '0.2',
    ]),
  );
  runs.push(
    startWorker([
      '-q',
      'pipe-1,pipe-2,pipe-3',
      '-r',
      server.url,
      '-p',
      JOBS,
      '-n',
      'pipeline',
      '-w',
      '1',
      '--no-watch',
      '-i',
      '0.2',
    ]),
  );
  for (const run of runs) await run.waitForLine('worker ready');
});

after(async () => {
  for (const run of runs) await run.kill();
  await client?.close();
  await server?.stop();
  rmSync(project, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

async function settled(jid: string, states = ['complete', 'failed']): Promise<Job> {
  return eventually(
    async () => {
      const [job] = await client.jobs.multiget(jid);
      return job && states.includes(job.state) ? job : undefined;
    },
    { what: `job ${jid} to be ${states.join(' or ')}` },
  );
}

async function run(klass: string, queue = 'q'): Promise<Job> {
  return settled(await client.queue(queue).put(klass, { n: 7 }));
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
      assert.ok((await client.jobs.failed())[group] >= 1, `the group ${group} is listed`);
    });
  }

  test('escaping klasses ran nothing outside the tree', async () => {
    const escaped = await run('escape');
    assert.equal((escaped.data as { ran?: unknown }).ran, undefined);
  });

  test('after all of that the same worker process still completes jobs', async () => {
    const readyLines = runs[0].find((line) => line.msg === 'worker ready');
    assert.equal(readyLines.length, 1, 'the worker was never restarted');
    const job = await run('countdown');
    assert.equal(job.state, 'complete');
  });
});

describe('pipelines', () => {
  test('complete(next) advances the job through three queues; the last step auto-completes', async () => {
    const jid = await client.queue('pipe-1').put('pipeline.Steps', { steps: [] });
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
