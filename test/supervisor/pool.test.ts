// The supervisor on its own: the real supervisor (parsed by the real CLI) forks a fake worker
// entry that speaks the IPC protocol, so slots, signals, backoff, watchdog and reload are tested
// without depending on the job-running side.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '../../src/client/index.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { eventually, isAlive, startWorker, type LogLine, type WorkerRun } from '../helpers/worker.ts';
import { died, handedBack, logged } from './log-events.ts';

const LAUNCHER = [
  process.execPath,
  '--import',
  import.meta.resolve('tsx'),
  fileURLToPath(new URL('../fixtures/supervisor/run-supervisor.ts', import.meta.url)),
];
// Quick to kill a silent worker past a lock expiry; the idle limit stays long, or a fake worker
// still loading tsx on a busy machine (silent, holding nothing) would be killed as idle first.
const QUICK_WATCHDOG = JSON.stringify({ pingEveryMs: 100, silentAfterMs: 400, idleSilenceLimitMs: 60_000 });

let redis: RedisServer;
const runs: WorkerRun[] = [];
const dirs: string[] = [];

before(async () => {
  redis = await startRedis();
});

after(async () => {
  for (const run of runs) await run.kill();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  await redis.stop();
});

function tempDir(): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'qless-supervisor-')));
  dirs.push(dir);
  return dir;
}

function supervise(args: string[], env: Record<string, string> = {}): { run: WorkerRun; dir: string } {
  const dir = tempDir();
  const run = startWorker(['-q', 'jobs', '-r', redis.url, '-p', dir, '-d', dir, '-n', 'pool', ...args], {
    command: LAUNCHER,
    env,
    cwd: dir,
  });
  runs.push(run);
  return { run, dir };
}

const started = (line: LogLine): boolean => line.msg === 'fake worker started';

/** The pid of the fake worker currently running in a slot (its latest start line). */
function currentPid(run: WorkerRun, slot: number): number {
  const lines = run.find((line) => started(line) && line.slot === slot);
  assert.ok(lines.length > 0, `slot ${slot} never started`);
  return lines[lines.length - 1].pid;
}

async function waitForStarts(run: WorkerRun, count: number): Promise<void> {
  await eventually(() => run.find(started).length >= count, { what: `${count} worker starts\n${run.describe()}` });
}

describe('supervisor with a fake worker entry', () => {
  test('forks one worker per slot with its name, sandbox and config', async () => {
    const { run, dir } = supervise(['-w', '2', '--no-watch', '-i', '0.5', '-c', '3']);
    await waitForStarts(run, 2);
    const starts = run.find(started);
    const bySlot = new Map(starts.map((line) => [line.slot as number, line]));
    assert.deepEqual([...bySlot.keys()].sort(), [0, 1]);
    for (const slot of [0, 1]) {
      const line = bySlot.get(slot);
      assert.ok(line, `slot ${slot} started`);
      assert.equal(line.worker, `pool-${slot}`);
      assert.equal(line.cwd, join(dir, 'sandbox', `worker-${slot}`));
      const config = line.config as Record<string, unknown>;
      assert.deepEqual(config.queues, ['jobs']);
      assert.equal(config.interval, 0.5);
      assert.equal(config.concurrency, 3);
      assert.equal(config.redis, redis.url);
      assert.equal(config.shutdownTimeout, 30, 'the drain bound when the supervisor is gone');
      assert.equal(line.paused, false);
      // The worker is a child of the supervisor (no process in between).
      assert.notEqual(line.pid, run.pid);
    }
    const startup = await run.waitForLine(logged('supervisor-starting'));
    assert.deepEqual((startup.options as Record<string, unknown>).queues, ['jobs']);
    run.signal('SIGTERM');
    assert.deepEqual(await run.waitForExit(), { code: 0, signal: null });
    for (const line of starts) assert.equal(isAlive(line.pid), false);
  });

  test('HUP stops every worker and refills each slot with a new process under the same name', async () => {
    const { run } = supervise(['-w', '2', '--no-watch']);
    await waitForStarts(run, 2);
    const before = [currentPid(run, 0), currentPid(run, 1)];
    run.signal('SIGHUP');
    await waitForStarts(run, 4);
    const after = [currentPid(run, 0), currentPid(run, 1)];
    for (const slot of [0, 1]) {
      assert.notEqual(after[slot], before[slot]);
      assert.equal(isAlive(before[slot]), false);
    }
    assert.equal(run.find('fake worker stopping').length, 2);
    const exits = run.find(logged('worker-exited', { reason: 'stopped (reload)' }));
    assert.equal(exits.length, 2);
    assert.ok(exits.every((line) => line.code === 0));
    run.signal('SIGTERM');
    assert.equal((await run.waitForExit()).code, 0);
  });

  test('TTIN adds a slot, TTOU retires the highest one and never goes below one', async () => {
    const { run } = supervise(['-w', '1', '--no-watch']);
    await waitForStarts(run, 1);
    run.signal('SIGTTIN');
    await run.waitForLine((line) => started(line) && line.slot === 1);
    run.signal('SIGTTOU');
    await run.waitForLine(logged('slot-retired', { slot: 1 }));
    assert.ok(run.find(logged('worker-exited', { slot: 1, reason: 'stopped (retire)' })).length === 1);
    const mark = run.lines.length;
    run.signal('SIGTTOU');
    await run.waitForLine(logged('set-target', { signal: 'SIGTTOU', target: 1 }), { after: mark });
    assert.equal(isAlive(currentPid(run, 0)), true);
    assert.equal(run.find((line) => started(line) && line.slot === 0).length, 1);
    run.signal('SIGTERM');
    assert.equal((await run.waitForExit()).code, 0);
  });

  test('USR2 pauses and CONT resumes every worker; a worker forked while paused starts paused', async () => {
    const { run } = supervise(['-w', '1', '--no-watch']);
    await waitForStarts(run, 1);
    run.signal('SIGUSR2');
    await run.waitForLine('fake worker paused');
    run.signal('SIGTTIN');
    const late = await run.waitForLine((line) => started(line) && line.slot === 1);
    assert.equal(late.paused, true);
    run.signal('SIGCONT');
    await eventually(() => run.find('fake worker resumed').length === 2, { what: 'both workers resumed' });
    // QUIT is a graceful shutdown too.
    run.signal('SIGQUIT');
    assert.deepEqual(await run.waitForExit(), { code: 0, signal: null });
    assert.equal(run.find('fake worker stopping').length, 2);
  });

  test('a slot whose worker keeps dying is restarted with growing delays, logged once per step', async () => {
    const { run } = supervise(['-w', '1', '--no-watch'], { FAKE_WORKER_MODE: 'crash' });
    const steps = await eventually(
      () => {
        const lines = run.find(logged('backoff'));
        return lines.length >= 3 ? lines : undefined;
      },
      { what: `three backoff steps\n${run.describe()}` },
    );
    const delays = steps.map((line) => line.delayMs as number);
    assert.ok(delays[0] > 0 && delays[1] > delays[0] && delays[2] > delays[1], `delays grow: ${delays.join(', ')}`);
    assert.deepEqual(
      steps.map((line) => line.step),
      [2, 3, 4],
    );
    // One fork per death: the first death is replaced at once, then one per backoff step.
    const forks = run.find(logged('worker-forked')).length;
    const deaths = run.find(died()).length;
    assert.ok(forks <= deaths + 1, `forks ${forks}, deaths ${deaths}`);
    assert.equal(run.exit, undefined, 'the supervisor keeps running');
    run.signal('SIGTERM');
    assert.equal((await run.waitForExit()).code, 0);
  });

  test('the watchdog kills a worker that stops answering past its lock expiry and replaces it', async () => {
    const { run } = supervise(['-w', '1', '--no-watch'], { FAKE_WORKER_MODE: 'block', FAKE_WATCHDOG: QUICK_WATCHDOG });
    const first = await run.waitForLine(started);
    const kill = await run.waitForLine(logged('watchdog-kill'));
    assert.equal(kill.workerPid, first.pid);
    assert.deepEqual(kill.held, ['blocked-job']);
    assert.match(String(kill.why), /past the lock expiry of blocked-job$/);
    const exit = await run.waitForLine(died({ workerPid: first.pid }));
    assert.equal(exit.signal, 'SIGKILL');
    const second = await run.waitForLine((line) => started(line) && line.pid !== first.pid);
    assert.equal(second.slot, 0);
    assert.equal(isAlive(first.pid), false);
    run.signal('SIGTERM');
    assert.equal((await run.waitForExit()).code, 0);
  });

  test('a job the dead worker popped but never reported is handed back before the slot is refilled', async () => {
    // No report told the supervisor about it: the job is found in Redis.
    const client = new Client({ url: redis.url, workerName: 'producer' });
    try {
      const jid = await client.queue('unreported').put('Anything', {}, { retries: 4 });
      const dir = tempDir();
      const { run } = supervise(['-w', '1', '--no-watch', '-q', 'unreported'], {
        FAKE_WORKER_MODE: 'pop-unreported',
        FAKE_WORKER_POP_MARKER: join(dir, 'popped'),
      });
      const popped = await run.waitForLine('fake worker popped a job');
      assert.equal(popped.jid, jid);
      const [running] = await client.jobs.multiget(jid);
      assert.equal(running.state, 'running');
      assert.equal(running.worker, 'pool-0');
      process.kill(popped.pid, 'SIGKILL');
      const handback = await run.waitForLine(handedBack(jid));
      assert.equal(handback.remaining, 3);
      const [back] = await client.jobs.multiget(jid);
      assert.equal(back.state, 'waiting', 'back in its queue long before its lock would expire');
      assert.equal(back.remaining, 3);
      // The hand-back happened before the replacement (same name) was forked.
      const refill = logged('worker-forked', { worker: 'pool-0', restart: true });
      const order = run.lines.findIndex(logged('handback', { outcome: 'handed-back' }));
      const restart = run.lines.findIndex(refill);
      assert.ok(restart === -1 || order < restart, 'hand-back before the refill');
      await run.waitForLine(refill);
      run.signal('SIGTERM');
      assert.equal((await run.waitForExit()).code, 0);
    } finally {
      await client.close();
    }
  });

  test('shutdown kills the workers that do not finish within --shutdown-timeout, then exits 0', async () => {
    const { run } = supervise(['-w', '2', '--no-watch', '--shutdown-timeout', '0.5'], { FAKE_WORKER_MODE: 'linger' });
    await waitForStarts(run, 2);
    const pids = [currentPid(run, 0), currentPid(run, 1)];
    run.signal('SIGTERM');
    assert.deepEqual(await run.waitForExit(), { code: 0, signal: null });
    assert.equal(run.find('fake worker ignoring stop').length, 2);
    const kills = run.find(logged('kill-all', { why: 'shutdown timeout of 0.5 s reached' }));
    assert.deepEqual(
      kills.map((line) => (line.workers as string[]).length),
      [2],
    );
    for (const pid of pids) assert.equal(isAlive(pid), false);
  });

  test('a second INT kills at once', async () => {
    const { run } = supervise(['-w', '1', '--no-watch', '--shutdown-timeout', '600'], { FAKE_WORKER_MODE: 'linger' });
    await waitForStarts(run, 1);
    run.signal('SIGINT');
    await run.waitForLine('fake worker ignoring stop');
    run.signal('SIGINT');
    assert.deepEqual(await run.waitForExit(), { code: 0, signal: null });
    const kills = run.find(logged('kill-all', { why: 'second SIGINT: immediate shutdown' }));
    assert.deepEqual(
      kills.map((line) => line.workers),
      [['pool-0']],
    );
  });

  test('a change under --path restarts the workers; node_modules, dot-folders and sandboxes do not', async () => {
    const { run, dir } = supervise(['-w', '1', '-i', '1']);
    await run.waitForLine(logged('watching'));
    await waitForStarts(run, 1);
    mkdirSync(join(dir, 'node_modules', 'dep'), { recursive: true });
    mkdirSync(join(dir, '.git'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', 'dep', 'index.js'), 'export {};\n');
    writeFileSync(join(dir, '.git', 'HEAD'), 'ref\n');
    writeFileSync(join(dir, 'sandbox', 'worker-0', 'scratch.txt'), 'job output\n');
    writeFileSync(join(dir, 'handler.ts'), 'export default () => 1;\n');
    const restart = await run.waitForLine(logged('rolling-restart'));
    assert.equal(restart.file, 'handler.ts', 'node_modules, .git and the sandbox did not count');
    await waitForStarts(run, 2);
    assert.equal(run.find(logged('rolling-restart')).length, 1);
    run.signal('SIGTERM');
    assert.equal((await run.waitForExit()).code, 0);
  });
});
