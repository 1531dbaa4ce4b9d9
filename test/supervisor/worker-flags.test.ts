// The V8 flags of the worker processes the real bin/qless-worker forks (read from /proc): a small
// young generation and a lean start by default, and flags in NODE_OPTIONS left to rule. And the
// supervisor's own flags, which bin/qless-worker writes out as src/protocol/v8-flags.ts has them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SUPERVISOR_LEAN_FLAGS, WORKER_LEAN_START_FLAGS } from '../../src/protocol/v8-flags.ts';
import { DEFAULT_ENTRY, workerExecArgv } from '../../src/supervisor/worker-launch.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { startWorker, type WorkerRun } from '../helpers/worker.ts';
import { logged } from './log-events.ts';

const HANDLERS = fileURLToPath(new URL('../fixtures/handlers/jobs', import.meta.url));

let redis: RedisServer;
const runs: WorkerRun[] = [];

before(async () => {
  redis = await startRedis();
});

after(async () => {
  for (const run of runs) await run.kill();
  await redis.stop();
});

/** The command line of the pool's first worker process, once it is ready. */
async function workerCommandLine(env: Record<string, string> = {}): Promise<string[]> {
  const run = startWorker(['-q', 'flags', '-r', redis.url, '-w', '1', '-p', HANDLERS, '--no-watch'], { env });
  runs.push(run);
  const forked = await run.waitForLine(logged('worker-forked', { restart: false }));
  await run.waitForLine('worker ready');
  const commandLine = readFileSync(`/proc/${Number(forked.workerPid)}/cmdline`, 'utf8')
    .split('\0')
    .filter(Boolean);
  run.signal('SIGTERM');
  assert.equal((await run.waitForExit()).code, 0);
  return commandLine;
}

test('workers run with a young generation of at most 1 MB a semi-space, and start lean', async () => {
  const commandLine = await workerCommandLine();
  assert.ok(commandLine.includes('--max-semi-space-size=1'), commandLine.join(' '));
  for (const flag of WORKER_LEAN_START_FLAGS) assert.ok(commandLine.includes(flag), commandLine.join(' '));
});

test('compiler flags in NODE_OPTIONS rule instead of the lean start; other flags do not', () => {
  const lean = (nodeOptions: string) =>
    WORKER_LEAN_START_FLAGS.every((flag) => workerExecArgv(DEFAULT_ENTRY, nodeOptions).includes(flag));
  assert.equal(lean('--max-old-space-size=512'), true);
  for (const given of ['--jitless', '--no-opt', '--max-old-space-size=512 --optimize-for-size', '--lite-mode'])
    assert.equal(lean(given), false, given);
});

test("bin/qless-worker sets the supervisor's flags of src/protocol/v8-flags.ts", () => {
  const bin = readFileSync(fileURLToPath(new URL('../../bin/qless-worker', import.meta.url)), 'utf8');
  assert.ok(bin.includes(`setFlagsFromString('${SUPERVISOR_LEAN_FLAGS.join(' ')}')`), bin);
});

test('a --max-semi-space-size in NODE_OPTIONS rules instead', async () => {
  const commandLine = await workerCommandLine({ NODE_OPTIONS: '--max-semi-space-size=8' });
  assert.ok(!commandLine.some((arg) => arg.includes('semi-space')), commandLine.join(' '));
});
