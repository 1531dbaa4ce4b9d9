// The workers bin/qless-worker starts ahead of its supervisor (src/launch/spares.cjs), with the
// real bin on a private redis-server: the supervisor runs its first workers in them when they fit
// (the `spare` field of its worker-forked lines, and the pids), those run jobs like any worker,
// restarts fork anew, and no spare outlives a run that did not need it (--help, a refused option,
// fewer workers than started, QLESS_WORKER_NO_SPARES), and none is started before the bundle
// exists (each would build its own). A spare is found by a marker in its environment
// (/proc/<pid>/environ).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '../../src/client/index.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { eventually, isAlive, runWorkerToExit, startWorker, type LogLine, type WorkerRun } from '../helpers/worker.ts';

const HANDLERS = fileURLToPath(new URL('../fixtures/handlers/jobs', import.meta.url));

let redis: RedisServer;
let client: Client;
let dir: string;
const runs: WorkerRun[] = [];

before(async () => {
  redis = await startRedis();
  client = new Client({ url: redis.url });
  dir = mkdtempSync(join(tmpdir(), 'qless-spares-'));
  // Workers are started ahead only once the bundle for these sources exists: any start builds it.
  const built = await runWorkerToExit(['--version']);
  assert.equal(built.code, 0, built.stderr);
});

after(async () => {
  for (const run of runs) await run.kill();
  await client.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

let marks = 0;
/** A value no other process has in its environment. */
function newMark(): string {
  marks += 1;
  return `${process.pid}-${marks}-${Date.now()}`;
}

/** Pids of live processes whose environment holds QLESS_SPARE_TEST_MARK=<mark>. */
function processesMarked(mark: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0');
      if (environ.includes(`QLESS_SPARE_TEST_MARK=${mark}`)) found.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

const forked = (line: LogLine): boolean => line.event === 'worker-forked';

function pool(queue: string, args: string[], env: Record<string, string> = {}): { run: WorkerRun; mark: string } {
  const mark = newMark();
  const run = startWorker(
    ['-q', queue, '-r', redis.url, '-p', HANDLERS, '-d', dir, '-n', queue, '--no-watch', ...args],
    { env: { QLESS_SPARE_TEST_MARK: mark, ...env } },
  );
  runs.push(run);
  return { run, mark };
}

async function stop(run: WorkerRun): Promise<void> {
  run.signal('SIGTERM');
  assert.equal((await run.waitForExit()).code, 0, run.describe());
}

test('the first workers run in the processes started ahead; they run jobs; a restart forks anew', async () => {
  const { run, mark } = pool('ahead', ['-w', '2']);
  await eventually(() => run.find((line) => line.msg === 'worker ready').length === 2, {
    what: `two workers ready\n${run.describe()}`,
  });
  const lines = run.find(forked);
  assert.deepEqual(
    lines.map((line) => line.spare),
    [true, true],
    run.describe(),
  );
  // Only the supervisor and its two workers carry the mark: no spare was started twice or left over.
  const marked = processesMarked(mark).sort((a, b) => a - b);
  assert.deepEqual(
    marked,
    [run.pid, ...lines.map((line) => Number(line.workerPid))].sort((a, b) => a - b),
  );

  const jids = await Promise.all([1, 2, 3, 4].map(() => client.queue('ahead').put('noop', {})));
  await eventually(async () => (await client.jobs.multiget(...jids)).every((job) => job.state === 'complete'), {
    what: `the jobs completed\n${run.describe()}`,
  });

  const first = Number(lines[0].workerPid);
  process.kill(first, 'SIGKILL');
  const restart = await run.waitForLine((line) => forked(line) && line.restart === true);
  assert.equal(restart.spare, false, 'a restarted slot gets a new fork');
  assert.equal(isAlive(first), false);
  await stop(run);
  assert.deepEqual(processesMarked(mark), []);
});

test('--workers=1 after a larger guess from the environment, and --log-format pretty: spares fit or go', async () => {
  const { run, mark } = pool('one', ['--workers=1'], { QLESS_WORKERS: '3' });
  await run.waitForLine('worker ready');
  assert.deepEqual(
    run.find(forked).map((line) => line.spare),
    [true],
  );
  await eventually(() => processesMarked(mark).length === 2, { what: 'the unused spares ended' });
  await stop(run);

  const pretty = pool('pretty', ['-w', '1', '--log-format', 'pretty']);
  await eventually(() => /worker ready/.test(pretty.run.otherStdout.join('\n')), {
    what: `a pretty ready line\n${pretty.run.describe()}`,
  });
  assert.match(pretty.run.otherStdout.join('\n'), /forked worker pretty-0 \(pid \d+, started ahead\)/);
  await stop(pretty.run);
  assert.deepEqual(processesMarked(pretty.mark), []);
});

test('QLESS_WORKER_NO_SPARES=1: every worker is forked by the supervisor', async () => {
  const { run, mark } = pool('forked', ['-w', '2'], { QLESS_WORKER_NO_SPARES: '1' });
  await eventually(() => run.find((line) => line.msg === 'worker ready').length === 2, {
    what: `two workers ready\n${run.describe()}`,
  });
  assert.deepEqual(
    run.find(forked).map((line) => line.spare),
    [false, false],
  );
  await stop(run);
  assert.deepEqual(processesMarked(mark), []);
});

test('no worker is started ahead before the bundle is built: the first start after an edit builds it', async () => {
  const cache = mkdtempSync(join(dir, 'cache-'));
  const { run } = pool('fresh', ['-w', '2'], { QLESS_WORKER_CACHE_DIR: cache });
  await eventually(() => run.find((line) => line.msg === 'worker ready').length === 2, {
    what: `two workers ready\n${run.describe()}`,
  });
  assert.deepEqual(
    run.find(forked).map((line) => line.spare),
    [false, false],
  );
  assert.equal(readdirSync(cache).filter((file) => file.endsWith('.cjs')).length, 2, 'one build: two bundles');
  await stop(run);

  const again = pool('fresh', ['-w', '2'], { QLESS_WORKER_CACHE_DIR: cache });
  await again.run.waitForLine((line) => forked(line) && line.slot === 1);
  assert.deepEqual(
    again.run.find(forked).map((line) => line.spare),
    [true, true],
  );
  await stop(again.run);
});

test('--help starts no worker; a refused option leaves no process behind', async () => {
  const helpMark = newMark();
  const help = await runWorkerToExit(['--help'], { env: { QLESS_SPARE_TEST_MARK: helpMark } });
  assert.equal(help.code, 0);
  assert.deepEqual(processesMarked(helpMark), []);

  const badMark = newMark();
  const bad = await runWorkerToExit(['-q', 'x', '-w', '2', '--interval', 'soon', '-r', redis.url], {
    env: { QLESS_SPARE_TEST_MARK: badMark },
  });
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /interval/);
  assert.deepEqual(processesMarked(badMark), [], 'the spares ended with the refused run');
});
