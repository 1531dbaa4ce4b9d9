// A worker process can be started three ways: src/worker/worker-entry.cjs from the launcher's
// bundle (tsx's in-thread CommonJS hooks registered for the handlers only), the same entry with
// QLESS_WORKER_NO_BUNDLE=1 (tsx's hooks compile everything), or src/worker/process.ts under
// `--import tsx` (ESM loader). Every module and export form must load the same way in all three,
// top-level await included.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Client } from '../../src/client/client.ts';
import type { Job } from '../../src/client/job.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { eventually } from '../helpers/worker.ts';
import {
  makeWorkdir,
  startWorkerProcess,
  workerConfig,
  type EntryMode,
  type WorkerHarness,
  type Workdir,
} from './process-harness.ts';

const RESOLVE = fileURLToPath(new URL('../fixtures/handlers/resolve', import.meta.url));

let server: RedisServer;
let client: Client;
let workdir: Workdir;

before(async () => {
  server = await startRedis();
  client = new Client({ url: server.url, workerName: 'producer' });
  workdir = makeWorkdir();
});

after(async () => {
  await client?.close();
  await server?.stop();
  workdir?.cleanup();
});

const CASES: [klass: string, queue: 'main' | 'images', ran: unknown][] = [
  ['countdown', 'main', { module: 'countdown.ts', n: 3 }],
  ['nested.deep.Named', 'main', { module: 'nested/deep.ts', export: 'Named' }],
  ['pkg.Thing', 'main', { module: 'pkg/index.mts' }],
  ['jsdir', 'main', { module: 'jsdir/index.cjs' }],
  ['plain.Plain', 'main', { module: 'plain.js' }],
  ['esm', 'main', { module: 'esm.mjs' }],
  ['common.Common', 'main', { module: 'common.cjs' }],
  ['forms.ByQueue', 'images', { form: 'object', method: 'images' }],
  ['forms.StaticClass', 'main', { form: 'class', method: 'static process' }],
  ['forms.InstanceClass', 'main', { form: 'class', method: 'instance perform' }],
  ['toplevel', 'main', { module: 'toplevel.mjs', ready: 'loaded with top-level await' }],
  ['toplevel-ts', 'main', { module: 'toplevel-ts.ts', ready: 'ts loaded with top-level await' }],
];

for (const [slot, mode] of (['cjs', 'cjs-sources', 'esm'] as EntryMode[]).entries()) {
  describe(`entry ${mode}`, () => {
    let worker: WorkerHarness;
    // The modes run one after the other (each kills its worker at the end), so they share queues.
    const main = 'main';
    const images = 'images';

    before(async () => {
      worker = startWorkerProcess(
        workerConfig(server.url, workdir, {
          slot,
          queues: [main, images],
          path: RESOLVE,
          interval: 0.2,
        }),
        mode,
      );
      await worker.waitForMessage('ready');
    });
    after(async () => {
      await worker?.kill();
    });

    for (const [klass, queue, ran] of CASES) {
      test(`${klass} in ${queue}`, async () => {
        const jid = await client.queue(queue === 'main' ? main : images).put(klass, { n: 3 });
        const job = await eventually(async () => {
          const [found] = await client.jobs.multiget(jid);
          return found && (found.state === 'complete' || found.state === 'failed') ? found : undefined;
        });
        assert.equal(job.state, 'complete', JSON.stringify((job as Job).failure));
        assert.deepEqual((job.data as { ran: unknown }).ran, ran);
      });
    }

    test('a module with a syntax error fails with SyntaxError; a missing one with ModuleNotFound', async () => {
      for (const [klass, suffix] of [
        ['broken', 'SyntaxError'],
        ['needs-missing', 'ModuleNotFound'],
        ['absent', 'ModuleNotFound'],
      ]) {
        const jid = await client.queue(main).put(klass, {});
        const job = await eventually(async () => {
          const [found] = await client.jobs.multiget(jid);
          return found?.state === 'failed' ? found : undefined;
        });
        assert.equal(job.failure?.group, `${main}-${suffix}`, klass);
      }
    });
  });
}
