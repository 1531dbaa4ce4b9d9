// Hot reload, black-box: a handler project in a temporary directory is edited while the real
// bin/qless-worker runs it; what the jobs record in Redis shows which code ran them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type Job } from '../../src/client/index.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { eventually, startWorker, type LogLine, type WorkerRun } from '../helpers/worker.ts';
import { died, logged } from './log-events.ts';

let redis: RedisServer;
let client: Client;
const runs: WorkerRun[] = [];
const dirs: string[] = [];

before(async () => {
  redis = await startRedis();
  client = new Client({ url: redis.url, workerName: 'producer' });
});

after(async () => {
  for (const run of runs) await run.kill();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  await client.close();
  await redis.stop();
});

/** A handler project: `versioned` reports the version exported by lib/version.ts, which it imports. */
function project(version: number): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'qless-reload-')));
  dirs.push(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  mkdirSync(join(dir, 'lib'));
  writeVersion(dir, version);
  writeFileSync(
    join(dir, 'versioned.ts'),
    [
      "import { VERSION } from './lib/version.ts';",
      '',
      'export default async function versioned(job: { data: Record<string, unknown> }): Promise<void> {',
      '  const ms = typeof job.data.ms === "number" ? job.data.ms : 0;',
      '  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));',
      '  job.data.version = VERSION;',
      '  job.data.pid = process.pid;',
      '}',
      '',
    ].join('\n'),
  );
  return dir;
}

function writeVersion(dir: string, version: number): void {
  writeFileSync(join(dir, 'lib', 'version.ts'), `export const VERSION: number = ${version};\n`);
}

function pool(name: string, queue: string, path: string, extra: string[] = []): WorkerRun {
  // The workdir (and so the sandboxes) sits inside --path, as with the defaults: it must not trigger reloads.
  const run = startWorker(
    ['-q', queue, '-r', redis.url, '-p', path, '-d', path, '-n', name, '-w', '1', '-i', '1', ...extra],
    { cwd: path },
  );
  runs.push(run);
  return run;
}

async function job(jid: string): Promise<Job> {
  const [found] = await client.jobs.multiget(jid);
  assert.ok(found, `job ${jid} exists`);
  return found;
}

async function finished(jid: string, run: WorkerRun): Promise<Job> {
  await eventually(async () => ['complete', 'failed'].includes((await job(jid)).state), {
    what: `job ${jid} finished\n${run.describe()}`,
  });
  return job(jid);
}

function data(found: Job): Record<string, unknown> {
  return found.data as Record<string, unknown>;
}

const reloadLine = (line: LogLine): boolean => logged('rolling-restart')(line) && line.file !== undefined;
const reloadExit = logged('worker-exited', { code: 0, reason: 'stopped (reload)' });

/**
 * The change after `mark` restarted the pool: the old worker was told to stop and has exited, so
 * no pop it had in flight when it was told can take the next job put.
 */
async function reloaded(run: WorkerRun, mark: number): Promise<void> {
  await run.waitForLine(reloadLine, { after: mark });
  await run.waitForLine(reloadExit, { after: mark });
}

describe('hot reload', () => {
  test('a change to a module a handler imports takes effect on the next job', async () => {
    // The job in flight finishes on the old code.
    const dir = project(1);
    const run = pool('reload', 'reload', dir);
    await run.waitForLine(logged('watching'));
    await run.waitForLine('worker ready');

    const before = await finished(await client.queue('reload').put('versioned', {}), run);
    assert.equal(before.state, 'complete');
    assert.equal(data(before).version, 1);

    const long = await client.queue('reload').put('versioned', { ms: 1500 });
    await run.waitForLine((line) => line.msg === 'job started' && line.jid === long);
    const mark = run.lines.length;
    writeVersion(dir, 2);
    const reload = await run.waitForLine(reloadLine, { after: mark });
    assert.equal(reload.file, 'lib/version.ts');
    const next = await client.queue('reload').put('versioned', {});

    const inFlight = await finished(long, run);
    assert.equal(inFlight.state, 'complete', 'not killed mid-job');
    assert.equal(data(inFlight).version, 1, 'finished on the old code');
    const after = await finished(next, run);
    assert.equal(after.state, 'complete');
    assert.equal(data(after).version, 2, 'the job popped after the change ran the new code');
    assert.notEqual(data(after).pid, data(inFlight).pid, 'in a fresh process');
    assert.equal(run.find(reloadLine).length, 1, 'one reload for one save; sandbox activity does not count');

    run.signal('SIGTERM');
    assert.equal((await run.waitForExit()).code, 0);
  });

  test('a save of several files: the old worker stops at the first write', async () => {
    // The new worker starts once every file is written.
    const dir = project(1);
    const run = pool('burst', 'burst', dir, ['--log-level', 'debug']);
    await run.waitForLine(logged('watching'));
    await run.waitForLine('worker ready');
    const first = await finished(await client.queue('burst').put('versioned', {}), run);
    assert.equal(data(first).version, 1);

    const mark = run.lines.length;
    writeVersion(dir, 2);
    writeFileSync(join(dir, 'lib', 'extra.ts'), 'export const EXTRA = true;\n');
    // The old worker is told to stop at the save's first event, before the save has settled.
    const reload = await run.waitForLine(reloadLine, { after: mark });
    assert.match(String(reload.file), /^lib\/(version|extra)\.ts$/);
    // Once it has exited (a pop it had in flight when told could still have taken a job put now),
    // a job put meanwhile waits for the new worker.
    await run.waitForLine(reloadExit, { after: mark });
    const next = await client.queue('burst').put('versioned', {});
    const settled = await run.waitForLine(logged('code-settled'), { after: mark });
    assert.deepEqual(settled.files, ['lib/extra.ts', 'lib/version.ts'], 'both files of the save, in one burst');
    const restarted = await run.waitForLine(logged('worker-forked', { restart: true }), { after: mark });
    assert.ok(
      run.lines.indexOf(restarted) > run.lines.indexOf(settled),
      'no worker starts while the files are being written',
    );
    assert.ok(
      run.lines.indexOf(reload) < run.lines.indexOf(settled),
      'the pool stopped taking work at the first write',
    );

    const after = await finished(next, run);
    assert.equal(data(after).version, 2, 'the job put after the old worker stopped ran the new code');
    assert.notEqual(data(after).pid, data(first).pid, 'in a fresh process');
    assert.equal(run.find(reloadLine).length, 1, 'one reload for one save');

    run.signal('SIGTERM');
    assert.equal((await run.waitForExit()).code, 0);
  });

  test('a handler with a syntax error fails the jobs that need it; the next save heals the worker', async () => {
    const dir = project(1);
    const run = pool('syntax', 'syntax', dir);
    await run.waitForLine(logged('watching'));
    await run.waitForLine('worker ready');

    let mark = run.lines.length;
    writeFileSync(join(dir, 'lib', 'version.ts'), 'export const VERSION: number = (;\n');
    await reloaded(run, mark);
    const broken = await finished(await client.queue('syntax').put('versioned', {}), run);
    assert.equal(broken.state, 'failed');
    const group = broken.failure?.group ?? '';
    assert.match(group, /^syntax-\w+$/, 'group <queue>-<ErrorName>');
    assert.ok((await client.jobs.failed())[group] === 1);

    mark = run.lines.length;
    writeVersion(dir, 3);
    await reloaded(run, mark);
    const healed = await finished(await client.queue('syntax').put('versioned', {}), run);
    assert.equal(healed.state, 'complete');
    assert.equal(data(healed).version, 3);
    assert.equal(run.find(died()).length, 0, 'no worker crashed');

    run.signal('SIGTERM');
    assert.equal((await run.waitForExit()).code, 0);
  });
});
