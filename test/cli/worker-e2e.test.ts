// End to end with the real worker: a job put with `qless put` is run by `qless-worker` and
// `qless get` shows its whole history; `qless retry` brings a failure group back after a fix.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { qless, qlessJson } from '../helpers/cli.ts';
import { startCore, type Core } from '../helpers/qless.ts';
import { eventually, startWorker, type WorkerRun } from '../helpers/worker.ts';

interface JobDocument {
  jid: string;
  state: string;
  worker: string;
  history: { what: string; worker?: string; q?: string; group?: string }[];
}

describe('qless with qless-worker', () => {
  let core: Core;
  let redis: string;
  let handlers: string;
  let marker: string;
  let worker: WorkerRun;

  before(async () => {
    core = await startCore();
    redis = core.server.url;
    handlers = mkdtempSync(join(tmpdir(), 'qless-cli-handlers-'));
    // Outside --path, so creating or deleting it is not a code change.
    marker = join(mkdtempSync(join(tmpdir(), 'qless-cli-marker-')), 'broken');
    writeFileSync(join(handlers, 'noop.ts'), 'export default function noop(): void {}\n');
    writeFileSync(
      join(handlers, 'flaky.ts'),
      `import { existsSync } from 'node:fs';\n` +
        `// Fails while the marker file exists: the "bug" an operator fixes before retrying.\n` +
        `export default function flaky(): void {\n` +
        `  if (existsSync(${JSON.stringify(marker)})) throw new Error('still broken');\n` +
        `}\n`,
    );
    worker = startWorker(
      ['-q', 'e2e', '-w', '1', '-i', '0.2', '-p', handlers, '-n', 'e2e-worker', '--no-watch', '--log-format', 'json'],
      {
        env: { QLESS_REDIS_URL: redis },
      },
    );
  });

  after(async () => {
    await worker.kill();
    await core.close();
    rmSync(handlers, { recursive: true, force: true });
    rmSync(join(marker, '..'), { recursive: true, force: true });
  });

  test('qless put → qless-worker completes it → qless get shows its whole history', async () => {
    const put = await qless(['put', 'e2e', 'noop', '--data', '{"n":1}', '--tag', 'e2e'], { redis });
    assert.equal(put.code, 0, put.stderr);
    const jid = put.stdout.trim();
    await eventually(async () => (await core.redis.hget(`ql:j:${jid}`, 'state')) === 'complete', {
      what: `job ${jid} complete\n${worker.describe()}`,
    });

    const document = await qlessJson<JobDocument>(['get', jid], { redis });
    assert.equal(document.state, 'complete');
    assert.deepEqual(
      document.history.map((entry) => entry.what),
      ['put', 'popped', 'done'],
    );
    assert.equal(document.history[0].q, 'e2e');
    assert.match(document.history[1].worker ?? '', /^e2e-worker-0$/);

    const human = await qless(['get', jid], { redis });
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^state +complete$/m);
    assert.match(human.stdout, /put into e2e\n.*popped by e2e-worker-0\n.*completed$/m);
    const stored = (await core.redis.lrange(`ql:j:${jid}-history`, 0, -1)).map(
      (entry) => JSON.parse(entry) as [number, string],
    );
    assert.deepEqual(
      stored.map(([, what]) => what),
      ['put', 'popped', 'done'],
    );
  });

  test('a failure group retried with qless retry after the fix is completed by the worker', async () => {
    writeFileSync(marker, '');
    const jids: string[] = [];
    for (let n = 0; n < 3; n++) {
      const put = await qless(['put', 'e2e', 'flaky', '--data', JSON.stringify({ n })], { redis });
      assert.equal(put.code, 0, put.stderr);
      jids.push(put.stdout.trim());
    }
    await eventually(async () => (await core.redis.llen('ql:f:e2e-Error')) === 3, {
      what: `3 failures in e2e-Error\n${worker.describe()}`,
    });
    const failedGroups = await qless(['failed'], { redis });
    assert.match(failedGroups.stdout, /^e2e-Error +3$/m);
    const failedJobs = await qlessJson<{ jobs: { jid: string; failure: { message: string } }[] }>(
      ['failed', 'e2e-Error'],
      { redis },
    );
    assert.deepEqual(failedJobs.jobs.map((job) => job.jid).sort(), [...jids].sort());
    assert.match(failedJobs.jobs[0].failure.message, /still broken/);

    rmSync(marker);
    const retried = await qless(['retry', 'e2e-Error'], { redis });
    assert.equal(retried.code, 0, retried.stderr);
    assert.equal(retried.stdout, 'retried 3 jobs of e2e-Error: 3 into e2e\n');
    for (const jid of jids) {
      await eventually(async () => (await core.redis.hget(`ql:j:${jid}`, 'state')) === 'complete', {
        what: `job ${jid} complete after retry\n${worker.describe()}`,
      });
    }
    assert.equal(await core.redis.exists('ql:f:e2e-Error'), 0);
    const history = await qlessJson<JobDocument>(['get', jids[0]], { redis });
    assert.deepEqual(
      history.history.map((entry) => entry.what),
      ['put', 'popped', 'failed', 'put', 'popped', 'done'],
    );
    assert.equal((await qless(['failed'], { redis })).stdout, 'no failed jobs\n');
  });
});
