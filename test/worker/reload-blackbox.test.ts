// Restarting a pool's workers without losing a job, black-box: a rolling restart (HUP) of busy
// workers completes every job exactly once, old and new processes sharing them; a change of the
// handler file itself (hot reload) takes effect on the next job, a syntax error fails its jobs
// until the next save heals it, and a handler created after its job failed runs the next one.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, isAlive, type LogLine, type WorkerRun } from '../helpers/worker.ts';
import { dataOf, isReady, readyLines, stopPool, SUPERVISED, usePools, whats } from './blackbox.ts';

const fx = usePools('reload');

describe('HUP under load', () => {
  test('a rolling restart of two busy workers loses nothing: every job completed, popped once', async () => {
    // … by old and new processes.
    const run = fx.poolOn('hup-load', 'hup-load', SUPERVISED, ['-w', '2', '-c', '2']);
    await eventually(() => readyLines(run).length === 2, { what: `two workers ready\n${run.describe()}` });
    const oldPids = readyLines(run).map((line) => line.pid);
    const jids = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        fx.client.queue('hup-load').put('sleepy', { ms: 60 + (index % 4) * 30 }),
      ),
    );
    await eventually(
      async () => (await fx.client.jobs.multiget(...jids)).filter((one) => one.state === 'complete').length >= 4,
      { what: 'some jobs completed' },
    );
    const mark = run.lines.length;
    run.signal('SIGHUP');
    await run.waitForLine('rolling restart', { after: mark });
    const jobs = await fx.allComplete(jids, run);
    for (const one of jobs) assert.equal(whats(one, 'popped'), 1, `${one.jid} popped once (never handed back)`);
    const ranBy = new Set(jobs.map((one) => dataOf(one).ranBy));
    assert.ok(
      oldPids.some((pid) => ranBy.has(pid)),
      'old processes ran some',
    );
    assert.ok(
      [...ranBy].some((pid) => !oldPids.includes(pid as number)),
      'new processes ran the rest',
    );
    for (const pid of oldPids) assert.equal(isAlive(pid), false);
    assert.equal(run.find((line) => line.reason === 'stopped (reload)').length, 2);
    assert.equal(run.find('exited unexpectedly').length, 0);
    assert.deepEqual(await fx.failedGroupsOf('hup-load'), []);
    const names = await fx.workerNames();
    assert.ok(names.includes('hup-load-0') && names.includes('hup-load-1'), 'the same names after the restart');
    await stopPool(run);
  });
});

describe('hot reload of the handler file itself', () => {
  function project(files: Record<string, string>): string {
    const dir = realpathSync(mkdtempSync(join(fx.scratch, 'reload-')));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  }

  const versioned = (version: number): string =>
    'export default function versioned(job: { data: Record<string, unknown> }): void {\n' +
    `  job.data.version = ${version};\n  job.data.pid = process.pid;\n}\n`;
  const reloadLine = (line: LogLine): boolean => line.msg.startsWith('rolling restart (change under --path');

  /**
   * The change after `mark` restarted the pool: the old worker was told to stop and has exited, so
   * no pop it had in flight when it was told can take the next job put.
   */
  async function reloaded(run: WorkerRun, mark: number): Promise<void> {
    await run.waitForLine(reloadLine, { after: mark });
    await run.waitForLine((line) => /exited \(code 0, stopped \(reload\)\)/.test(line.msg), { after: mark });
  }

  function watched(name: string, dir: string): WorkerRun {
    // Watching is on (no --no-watch); the sandboxes live inside --path, as with the defaults.
    return fx.pool(['-q', name, '-r', fx.redis.url, '-p', dir, '-d', dir, '-n', name, '-w', '1', '-i', '0.2'], {
      cwd: dir,
    });
  }

  test('an edit of the handler module takes effect on the next job', async () => {
    const dir = project({ 'versioned.ts': versioned(1) });
    const run = watched('edit-handler', dir);
    await run.waitForLine('watching');
    await run.waitForLine(isReady);
    const first = await fx.settled(await fx.client.queue('edit-handler').put('versioned', {}), run);
    assert.equal(dataOf(first).version, 1);
    const mark = run.lines.length;
    writeFileSync(join(dir, 'versioned.ts'), versioned(2));
    await reloaded(run, mark);
    const second = await fx.settled(await fx.client.queue('edit-handler').put('versioned', {}), run);
    assert.equal(second.state, 'complete');
    assert.equal(dataOf(second).version, 2);
    await stopPool(run);
  });

  test('a syntax error in the handler module fails its jobs as <queue>-<ErrorName>', async () => {
    // … and the next save heals it.
    const dir = project({ 'versioned.ts': versioned(1) });
    const run = watched('syntax-handler', dir);
    await run.waitForLine('watching');
    await run.waitForLine(isReady);
    let mark = run.lines.length;
    writeFileSync(join(dir, 'versioned.ts'), 'export default function versioned( {\n');
    await reloaded(run, mark);
    const broken = await fx.settled(await fx.client.queue('syntax-handler').put('versioned', {}), run);
    assert.equal(broken.state, 'failed');
    assert.match(broken.failure?.group ?? '', /^syntax-handler-[A-Z]\w*Error$/);
    assert.match(broken.failure?.message ?? '', /versioned\.ts/, 'the message names the file');
    mark = run.lines.length;
    writeFileSync(join(dir, 'versioned.ts'), versioned(3));
    await reloaded(run, mark);
    const healed = await fx.settled(await fx.client.queue('syntax-handler').put('versioned', {}), run);
    assert.equal(healed.state, 'complete', JSON.stringify(healed.failure));
    assert.equal(dataOf(healed).version, 3);
    assert.equal(run.find('exited unexpectedly').length, 0);
    await stopPool(run);
  });

  test('a handler file created after its job failed with ModuleNotFound runs the next job', async () => {
    const dir = project({ 'versioned.ts': versioned(1) });
    const run = watched('late-handler', dir);
    await run.waitForLine('watching');
    await run.waitForLine(isReady);
    const missing = await fx.settled(await fx.client.queue('late-handler').put('latecomer', {}), run);
    assert.equal(missing.state, 'failed');
    assert.equal(missing.failure?.group, 'late-handler-ModuleNotFound');
    const mark = run.lines.length;
    writeFileSync(join(dir, 'latecomer.ts'), versioned(7));
    await reloaded(run, mark);
    const found = await fx.settled(await fx.client.queue('late-handler').put('latecomer', {}), run);
    assert.equal(found.state, 'complete', JSON.stringify(found.failure));
    assert.equal(dataOf(found).version, 7);
    // The failed one, retried by an operator, completes too.
    await (await fx.mustGet(missing.jid)).move('late-handler');
    const retried = await fx.settled(missing.jid, run, ['complete']);
    assert.equal(dataOf(retried).version, 7);
    assert.ok(existsSync(join(dir, 'sandbox', 'worker-0')));
    await stopPool(run);
  });
});
