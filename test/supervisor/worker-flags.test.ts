// The V8 flags of the worker processes the real bin/qless-worker forks (read from /proc): a small
// young generation by default, and a --max-semi-space-size in NODE_OPTIONS left to rule.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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

test('workers run with a young generation of at most 1 MB a semi-space', async () => {
  const commandLine = await workerCommandLine();
  assert.ok(commandLine.includes('--max-semi-space-size=1'), commandLine.join(' '));
});

test('a --max-semi-space-size in NODE_OPTIONS rules instead', async () => {
  const commandLine = await workerCommandLine({ NODE_OPTIONS: '--max-semi-space-size=8' });
  assert.ok(!commandLine.some((arg) => arg.includes('semi-space')), commandLine.join(' '));
});
