// Black-box tests for the parts of issue 3's "Done when" that the other suites showed only
// through an inner module (the worker process harness) or not at all. Every test starts the real
// bin/qless-worker (the supervisor, which forks real workers) against a private redis-server and
// asserts what ended up in Redis (and, for sandboxes, on disk).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, type Job } from '../../src/client/index.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import {
  eventually,
  isAlive,
  startWorker,
  type LogLine,
  type StartOptions,
  type WorkerRun,
} from '../helpers/worker.ts';

const JOBS = fileURLToPath(new URL('../fixtures/handlers/jobs', import.meta.url));
const RESOLVE = fileURLToPath(new URL('../fixtures/handlers/resolve', import.meta.url));
const SUPERVISED = fileURLToPath(new URL('../fixtures/supervisor/handlers', import.meta.url));
const AUDIT = fileURLToPath(new URL('../fixtures/handlers/audit', import.meta.url));

let redis: RedisServer;
let client: Client;
let scratch: string;
const runs: WorkerRun[] = [];

before(async () => {
  redis = await startRedis();
  client = new Client({ url: redis.url, workerName: 'producer' });
  scratch = realpathSync(mkdtempSync(join(tmpdir(), 'qless-done-when-')));
});

after(async () => {
  for (const run of runs) await run.kill();
  await client?.close();
  await redis?.stop();
  // A job may have left an unreadable directory behind if a test failed half-way.
  rmSync(scratch, { recursive: true, force: true });
});

/** Starts the real bin/qless-worker; killed (whole process group) at the end of the file. */
function pool(args: string[], options: StartOptions = {}): WorkerRun {
  const run = startWorker(args, options);
  runs.push(run);
  return run;
}

/** A pool on one private Redis with the usual test settings: no file watching, quick polls. */
function poolOn(
  name: string,
  queues: string,
  path: string,
  extra: string[] = [],
  options: StartOptions = {},
): WorkerRun {
  return pool(['-q', queues, '-r', redis.url, '-p', path, '-n', name, '--no-watch', '-i', '0.2', ...extra], options);
}

async function getJob(jid: string): Promise<Job | undefined> {
  const [found] = await client.jobs.multiget(jid);
  return found;
}

async function mustGet(jid: string): Promise<Job> {
  const found = await getJob(jid);
  assert.ok(found, `job ${jid} exists`);
  return found;
}

/** Waits until the job is in one of the states, and returns it. */
async function settled(jid: string, run: WorkerRun, states: string[] = ['complete', 'failed']): Promise<Job> {
  return eventually(
    async () => {
      const found = await getJob(jid);
      return found && states.includes(found.state) ? found : undefined;
    },
    { what: `job ${jid} to be ${states.join(' or ')}\n${run.describe()}`, timeout: 30_000 },
  );
}

async function allComplete(jids: string[], run: WorkerRun): Promise<Job[]> {
  return eventually(
    async () => {
      const found = await client.jobs.multiget(...jids);
      const failed = found.find((one) => one.state === 'failed');
      if (failed) throw new Error(`job ${failed.jid} failed: ${failed.failure?.group} ${failed.failure?.message}`);
      return found.length === jids.length && found.every((one) => one.state === 'complete') ? found : undefined;
    },
    { what: `${jids.length} jobs to complete\n${run.describe()}`, timeout: 30_000 },
  );
}

function dataOf(found: Job): Record<string, unknown> {
  assert.ok(found.data !== null && typeof found.data === 'object' && !Array.isArray(found.data), 'data is an object');
  return found.data as Record<string, unknown>;
}

function whats(found: Job, what: string): number {
  return found.history.filter((entry) => entry.what === what).length;
}

async function workerNames(): Promise<string[]> {
  return (await client.workers.list()).map((worker) => worker.name);
}

/** The failure groups in Redis that belong to this queue (the tests share one Redis). */
async function failedGroupsOf(queue: string): Promise<string[]> {
  return Object.keys(await client.jobs.failed()).filter(
    (group) => group.startsWith(`${queue}-`) || group === `failed-retries-${queue}`,
  );
}

const startedJob = (jid: string) => (line: LogLine) => line.msg === 'job started' && line.jid === jid;
const readyLines = (run: WorkerRun): LogLine[] => run.find((line) => line.msg === 'worker ready');

async function stop(run: WorkerRun): Promise<void> {
  run.signal('SIGTERM');
  assert.deepEqual(await run.waitForExit(30_000), { code: 0, signal: null }, run.describe());
}

describe('options: defaults and the ways to name Redis', () => {
  test('without --name, worker k is <hostname>-<supervisor pid>-<k>, one name per slot, in Redis', async () => {
    const run = pool(['-q', 'naming', '-r', redis.url, '-p', SUPERVISED, '-w', '2', '--no-watch', '-i', '0.2']);
    await eventually(() => readyLines(run).length === 2, { what: `two workers ready\n${run.describe()}` });
    const prefix = `${hostname()}-${run.pid}`;
    await eventually(
      async () => {
        const names = await workerNames();
        return names.includes(`${prefix}-0`) && names.includes(`${prefix}-1`);
      },
      { what: `both default names registered\n${run.describe()}` },
    );
    const jid = await client.queue('naming').put('sleepy', {});
    const done = await settled(jid, run, ['complete']);
    const popper = done.history.find((entry) => entry.what === 'popped')?.worker;
    assert.ok(popper === `${prefix}-0` || popper === `${prefix}-1`, `popped by ${popper}`);
    await stop(run);
    const names = await workerNames();
    assert.ok(!names.some((name) => name.startsWith(prefix)), `deregistered on TERM: ${names.join(', ')}`);
  });

  test('REDIS_URL is used when neither --redis nor QLESS_REDIS_URL is given', async () => {
    const run = pool(['-q', 'env-redis', '-p', SUPERVISED, '-w', '1', '-n', 'plain-env', '--no-watch', '-i', '0.2'], {
      env: { REDIS_URL: redis.url },
    });
    const jid = await client.queue('env-redis').put('sleepy', {});
    const done = await settled(jid, run, ['complete']);
    assert.equal(done.history.find((entry) => entry.what === 'popped')?.worker, 'plain-env-0');
    await stop(run);
  });

  test('QLESS_REDIS_URL wins over REDIS_URL', async () => {
    const run = pool(['-q', 'env-order', '-p', SUPERVISED, '-w', '1', '-n', 'env-order', '--no-watch', '-i', '0.2'], {
      env: { QLESS_REDIS_URL: redis.url, REDIS_URL: 'redis://127.0.0.1:1' },
    });
    const jid = await client.queue('env-order').put('sleepy', {});
    const done = await settled(jid, run, ['complete']);
    assert.equal(done.history.find((entry) => entry.what === 'popped')?.worker, 'env-order-0');
    assert.equal(run.find('is unreachable').length, 0);
    await stop(run);
  });

  test('--host and --port replace those parts of the URL', async () => {
    const port = new URL(redis.url).port;
    const run = pool([
      '-q',
      'host-port',
      '-r',
      'redis://nowhere.invalid:1',
      '--host',
      '127.0.0.1',
      '--port',
      port,
      '-p',
      SUPERVISED,
      '-w',
      '1',
      '-n',
      'host-port',
      '--no-watch',
      '-i',
      '0.2',
    ]);
    const startup = await run.waitForLine('supervisor starting');
    assert.equal((startup.options as { redis: string }).redis, `redis://127.0.0.1:${port}`);
    const jid = await client.queue('host-port').put('sleepy', {});
    const done = await settled(jid, run, ['complete']);
    assert.equal(done.history.find((entry) => entry.what === 'popped')?.worker, 'host-port-0');
    await stop(run);
  });
});

describe('klass resolution through the real binary: top-level await handlers', () => {
  let run: WorkerRun;
  before(async () => {
    run = poolOn('tla', 'tla', RESOLVE, ['-w', '1']);
    await run.waitForLine('worker ready');
  });

  for (const [klass, ran] of [
    ['toplevel', { module: 'toplevel.mjs', ready: 'loaded with top-level await' }],
    ['toplevel-ts', { module: 'toplevel-ts.ts', ready: 'ts loaded with top-level await' }],
  ] as const) {
    test(`${klass}: a module with top-level await loads and its job completes`, async () => {
      const done = await settled(await client.queue('tla').put(klass, {}), run);
      assert.equal(done.state, 'complete', JSON.stringify(done.failure));
      assert.deepEqual(dataOf(done).ran, ran);
    });
  }
});

describe('failure groups and handler endings through the real binary; the worker keeps going', () => {
  let run: WorkerRun;
  before(async () => {
    run = poolOn('fails', 'fq', JOBS, ['-w', '1']);
    await run.waitForLine('worker ready');
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
      const done = await settled(await client.queue('fq').put(klass, {}), run);
      assert.equal(done.state, 'failed');
      assert.equal(done.failure?.group, group);
      assert.equal(done.failure?.worker, 'fails-0');
      assert.match(done.failure?.message ?? '', message);
      const listed = await client.jobs.failedGroup(group);
      assert.ok(
        listed.jobs.some((one) => one.jid === done.jid),
        `${done.jid} is listed in ${group}`,
      );
    });
  }

  test('the stored message is the stack, cut at 10,000 characters', async () => {
    const done = await settled(await client.queue('fq').put('failing.ThrowsLong', {}), run);
    assert.equal(done.failure?.group, 'fq-RangeError');
    assert.equal(done.failure?.message.length, 10_000);
    assert.match(done.failure?.message ?? '', /^RangeError: xxx/);
  });

  test('a handler that fails its job itself keeps its own group (the worker does not complete it)', async () => {
    const done = await settled(await client.queue('fq').put('pipeline.FailsItself', {}), run);
    assert.equal(done.state, 'failed');
    assert.equal(done.failure?.group, 'custom-group');
    assert.equal(done.failure?.message, 'failed by the handler');
    assert.equal(whats(done, 'done'), 0);
  });

  test('a handler that retries its job itself leaves it scheduled, one retry used', async () => {
    const jid = await client.queue('fq').put('pipeline.RetriesItself', {});
    const found = await settled(jid, run, ['scheduled']);
    assert.equal(found.remaining, found.retries - 1);
    await run.waitForLine((line) => line.jid === jid && line.msg === 'job ended');
    assert.equal((await mustGet(jid)).state, 'scheduled', 'still scheduled after the handler returned');
  });

  test('a handler that moves its job leaves it waiting in the other queue', async () => {
    const jid = await client.queue('fq').put('pipeline.MovesItself', {});
    await run.waitForLine((line) => line.jid === jid && line.msg === 'job ended');
    const found = await mustGet(jid);
    assert.equal(found.state, 'waiting');
    assert.equal(found.queue, 'elsewhere');
    assert.equal(whats(found, 'done'), 0);
  });

  test('a handler that cancels its job: the job is gone', async () => {
    const jid = await client.queue('fq').put('pipeline.CancelsItself', {});
    await run.waitForLine((line) => line.jid === jid && line.msg === 'job ended');
    assert.equal(await getJob(jid), undefined);
  });

  test('after all of that the first worker process is still the one completing jobs', async () => {
    const ready = readyLines(run);
    assert.equal(ready.length, 1, 'never restarted');
    assert.equal(run.find('exited').length, 0, 'no worker exited');
    const done = await settled(await client.queue('fq').put('sequence', {}), run);
    assert.equal(done.state, 'complete');
    assert.equal(dataOf(done).pid, ready[0].pid);
    assert.equal(isAlive(ready[0].pid), true);
  });
});

describe('a handler whose promise never settles', () => {
  test('does not hold the worker (other jobs complete meanwhile) nor the shutdown', async () => {
    // The job that never ends is handed back at the shutdown timeout; exit code 0.
    const run = poolOn('forever', 'forever', JOBS, ['-w', '1', '-c', '2', '--shutdown-timeout', '1']);
    await run.waitForLine('worker ready');
    const stuck = await client.queue('forever').put('failing.NeverSettles', {});
    await run.waitForLine(startedJob(stuck));
    const others = await Promise.all([1, 2, 3].map(() => client.queue('forever').put('noop', {})));
    await allComplete(others, run);
    assert.equal((await mustGet(stuck)).state, 'running');
    await stop(run);
    const found = await mustGet(stuck);
    assert.equal(found.state, 'waiting', 'handed back to its queue');
    assert.equal(found.queue, 'forever');
    assert.equal(found.remaining, found.retries - 1);
    assert.ok(!(await workerNames()).includes('forever-0'));
  });
});

describe('lock loss noticed by a refused heartbeat (no event)', () => {
  test('the signal aborts with lock-lost and the worker neither completes nor fails the job', async () => {
    // A 1 s lock in this queue only: the worker renews it about every half second.
    await client.config.set('refused-heartbeat', 1);
    const report = join(scratch, 'refused-heartbeat.jsonl');
    const run = poolOn('refused', 'refused', JOBS, ['-w', '1']);
    await run.waitForLine('worker ready');
    const jid = await client.queue('refused').put('wait.UntilAborted', { report });
    await run.waitForLine(startedJob(jid));
    // Taken over behind the worker's back: a put by the same worker name publishes no lock_lost,
    // so only the worker's next heartbeat can find out.
    const sameName = new Client({ url: redis.url, workerName: 'refused-0' });
    try {
      await sameName.queue('refused-elsewhere').put('noop', { moved: true }, { jid });
    } finally {
      await sameName.close();
    }
    const ended = await run.waitForLine((line) => line.jid === jid && line.msg === 'job ended', { timeout: 10_000 });
    assert.equal(ended.outcome, 'lock-lost');
    const lines = readFileSync(report, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(lines.find((line) => line.aborted)?.why, 'lock-lost');
    const found = await mustGet(jid);
    assert.equal(found.state, 'waiting');
    assert.equal(found.queue, 'refused-elsewhere');
    assert.deepEqual(found.data, { moved: true }, 'the worker wrote nothing back');
    assert.equal(whats(found, 'done'), 0);
    assert.equal(found.failure, null);
    const next = await client.queue('refused').put('noop', {});
    assert.equal((await settled(next, run)).state, 'complete', 'the worker goes on');
    await stop(run);
  });
});

describe('sandbox confinement', () => {
  let outside: string;

  before(() => {
    outside = join(scratch, 'outside');
    mkdirSync(join(outside, 'dir'), { recursive: true });
    writeFileSync(join(outside, 'keep.txt'), 'keep');
    writeFileSync(join(outside, 'dir', 'keep-too.txt'), 'keep');
  });

  function assertOutsideIntact(): void {
    assert.deepEqual(readdirSync(outside).sort(), ['dir', 'keep.txt']);
    assert.equal(readFileSync(join(outside, 'keep.txt'), 'utf8'), 'keep');
    assert.equal(readFileSync(join(outside, 'dir', 'keep-too.txt'), 'utf8'), 'keep');
  }

  test('concurrency 1: a job that swaps its sandbox (the cwd) for a symlink deletes nothing behind it', async () => {
    // The symlink points elsewhere; the next job gets a real, empty directory.
    const workdir = join(scratch, 'confine-1');
    mkdirSync(workdir);
    const sandbox = join(workdir, 'sandbox', 'worker-0');
    const run = poolOn('confine-1', 'confine-1', AUDIT, ['-w', '1', '-d', workdir]);
    await run.waitForLine('worker ready');

    const swapped = await settled(await client.queue('confine-1').put('confine.ReplaceSandbox', { outside }), run);
    assert.equal(swapped.state, 'complete', JSON.stringify(swapped.failure));
    assert.equal(dataOf(swapped).sandbox, sandbox);
    const inspected = await settled(await client.queue('confine-1').put('confine.Inspect', {}), run);
    assert.equal(inspected.state, 'complete', JSON.stringify(inspected.failure));
    assert.deepEqual(dataOf(inspected).before, []);
    assert.equal(dataOf(inspected).isLink, false);
    assert.equal(dataOf(inspected).isDirectory, true);
    assert.equal(dataOf(inspected).cwd, sandbox, 'the process is back inside the real sandbox');
    assert.equal(lstatSync(sandbox).isDirectory(), true);
    assertOutsideIntact();

    const messy = await settled(await client.queue('confine-1').put('confine.MessThenThrow', { outside }), run);
    assert.equal(messy.state, 'failed');
    assert.equal(messy.failure?.group, 'confine-1-Error');
    await eventually(() => readdirSync(sandbox).length === 0, { what: 'the sandbox emptied after a failed job' });
    assertOutsideIntact();
    const after = await settled(await client.queue('confine-1').put('confine.Inspect', {}), run);
    assert.deepEqual(dataOf(after).before, []);
    assert.equal(readyLines(run).length, 1, 'the same worker process all along');
    await stop(run);
  });

  test('concurrency 2: a job that swaps its own sub-directory for a symlink deletes nothing behind it', async () => {
    // Later jobs get real, empty directories.
    const workdir = join(scratch, 'confine-2');
    mkdirSync(workdir);
    const slot = join(workdir, 'sandbox', 'worker-0');
    const run = poolOn('confine-2', 'confine-2', AUDIT, ['-w', '1', '-c', '2', '-d', workdir]);
    await run.waitForLine('worker ready');

    const swapped = await Promise.all(
      [1, 2].map(() => client.queue('confine-2').put('confine.ReplaceSandbox', { outside })),
    );
    for (const done of await allComplete(swapped, run)) assert.ok(String(dataOf(done).sandbox).startsWith(`${slot}/`));
    const inspected = [];
    for (let i = 0; i < 4; i++) inspected.push(await client.queue('confine-2').put('confine.Inspect', {}));
    for (const done of await allComplete(inspected, run)) {
      const seen = dataOf(done);
      assert.ok(String(seen.sandbox).startsWith(`${slot}/`), `${String(seen.sandbox)} inside ${slot}`);
      assert.deepEqual(seen.before, []);
      assert.equal(seen.isLink, false);
      assert.equal(seen.isDirectory, true);
    }
    assertOutsideIntact();
    await stop(run);
  });
});

describe('--max-memory', () => {
  test('--max-memory 1: the worker recycles after every job, the slot is refilled under the same name', async () => {
    // No job is lost.
    const jids: string[] = [];
    for (let i = 0; i < 3; i++) jids.push(await client.queue('memory').put('sequence', {}));
    const run = poolOn('memory', 'memory', JOBS, ['-w', '1', '--max-memory', '1']);
    const jobs = await allComplete(jids, run);
    const pids = new Set(jobs.map((one) => dataOf(one).pid));
    assert.equal(pids.size, 3, 'each job in a fresh process (1 MB is below any Node process)');
    for (const one of jobs) {
      assert.equal(whats(one, 'popped'), 1);
      assert.equal(one.history.find((entry) => entry.what === 'popped')?.worker, 'memory-0');
    }
    const recycled = run.find((line) => line.msg.startsWith('recycling'));
    assert.ok(recycled.length >= 2, `recycled at least twice (${recycled.length})`);
    assert.ok(
      recycled.every((line) => /max-memory/.test(String(line.reason))),
      'for max-memory',
    );
    assert.equal(run.find('exited unexpectedly').length, 0);
    await stop(run);
  });
});

describe('--import', () => {
  test('a relative TypeScript path and a package of the handler project load, in order, in every worker', async () => {
    // Each worker loads them before it polls.
    const project = join(scratch, 'imports-project');
    cpSync(AUDIT, project, { recursive: true });
    mkdirSync(join(project, 'node_modules', 'audit-setup'), { recursive: true });
    writeFileSync(
      join(project, 'node_modules', 'audit-setup', 'package.json'),
      JSON.stringify({ name: 'audit-setup', version: '1.0.0', main: 'index.js' }),
    );
    writeFileSync(
      join(project, 'node_modules', 'audit-setup', 'index.js'),
      '(globalThis.auditImports ??= []).push({ module: "audit-setup", pid: process.pid });\n',
    );
    // Put before the pool starts: the very first pop must already find the imports loaded.
    const jids: string[] = [];
    for (let i = 0; i < 6; i++) jids.push(await client.queue('imports').put('imports', {}));
    const run = pool(
      [
        '-q',
        'imports',
        '-r',
        redis.url,
        '-p',
        project,
        '-n',
        'imports',
        '-w',
        '2',
        '--no-watch',
        '-i',
        '0.2',
        '-m',
        './setup-first.ts',
        '-m',
        'audit-setup',
      ],
      {
        cwd: project,
      },
    );
    const jobs = await allComplete(jids, run);
    for (const one of jobs) {
      const seen = dataOf(one);
      assert.deepEqual(seen.imports, [
        { module: 'setup-first.ts', pid: seen.pid },
        { module: 'audit-setup', pid: seen.pid },
      ]);
    }
    await stop(run);
  });
});

describe('kill -9 of a worker holding several jobs (-c 3)', () => {
  test('every job it held is handed back at once and completed by the replacement; nothing lost', async () => {
    const gate = join(scratch, 'kill9-gate');
    const run = poolOn('k9c', 'k9c', JOBS, ['-w', '1', '-c', '3']);
    const first = await run.waitForLine('worker ready');
    const jids: string[] = [];
    for (let i = 0; i < 5; i++) jids.push(await client.queue('k9c').put('gate', { gate }, { retries: 3 }));
    const held = await eventually(
      async () => {
        const mine = await client.workers.get('k9c-0');
        return mine.jobs.length === 3 ? mine.jobs : undefined;
      },
      { what: `three jobs held by k9c-0\n${run.describe()}` },
    );
    for (const jid of held) await run.waitForLine(startedJob(jid));
    process.kill(first.pid, 'SIGKILL');
    await run.waitForLine((line) => line.msg.includes('exited unexpectedly') && line.workerPid === first.pid);
    for (const jid of held) await run.waitForLine((line) => line.msg.includes('handed back') && line.jid === jid);
    const second = await eventually(() => readyLines(run).find((line) => line.pid !== first.pid), {
      what: `a replacement ready\n${run.describe()}`,
    });
    writeFileSync(gate, 'open');

    const jobs = await allComplete(jids, run);
    assert.equal(isAlive(first.pid), false);
    for (const one of jobs) {
      assert.notEqual(dataOf(one).pid, first.pid, `${one.jid} completed by a live worker`);
      const pops = one.history.filter((entry) => entry.what === 'popped').map((entry) => entry.worker);
      assert.ok(
        pops.every((worker) => worker === 'k9c-0'),
        'always under the slot name',
      );
      assert.equal(pops.length, held.includes(one.jid) ? 2 : 1, `${one.jid}: popped again only if it was held`);
    }
    assert.ok(jobs.some((one) => dataOf(one).pid === second.pid));
    assert.deepEqual(await failedGroupsOf('k9c'), []);
    await stop(run);
  });
});

describe('graceful and immediate shutdown by INT and QUIT', () => {
  for (const signal of ['SIGINT', 'SIGQUIT'] as const) {
    test(`${signal}: the job in flight finishes (completed), names deregistered, exit 0`, async () => {
      const queue = `graceful-${signal.toLowerCase()}`;
      const run = pool([
        '-q',
        queue,
        '-r',
        redis.url,
        '-p',
        SUPERVISED,
        '-n',
        queue,
        '-w',
        '1',
        '--no-watch',
        '-i',
        '0.2',
      ]);
      const worker = await run.waitForLine('worker ready');
      const jid = await client.queue(queue).put('sleepy', { ms: 1000 });
      await run.waitForLine(startedJob(jid));
      run.signal(signal);
      assert.deepEqual(await run.waitForExit(), { code: 0, signal: null }, run.describe());
      const found = await mustGet(jid);
      assert.equal(found.state, 'complete');
      assert.equal(dataOf(found).ranBy, worker.pid, 'finished by the worker that started it');
      assert.equal(whats(found, 'popped'), 1);
      assert.ok(!(await workerNames()).includes(`${queue}-0`));
      assert.equal(isAlive(worker.pid), false);
    });
  }

  test('a second INT kills at once: the unfinished job is handed back to its queue, exit 0', async () => {
    const run = pool([
      '-q',
      'twice',
      '-r',
      redis.url,
      '-p',
      SUPERVISED,
      '-n',
      'twice',
      '-w',
      '1',
      '--no-watch',
      '-i',
      '0.2',
      '--shutdown-timeout',
      '300',
    ]);
    const worker = await run.waitForLine('worker ready');
    const jid = await client.queue('twice').put('sleepy', { ms: 60_000 });
    await run.waitForLine(startedJob(jid));
    run.signal('SIGINT');
    await run.waitForLine((line) => line.msg.startsWith('SIGINT: graceful shutdown'));
    run.signal('SIGINT');
    assert.deepEqual(await run.waitForExit(20_000), { code: 0, signal: null }, run.describe());
    assert.equal(isAlive(worker.pid), false);
    const found = await mustGet(jid);
    assert.equal(found.state, 'waiting', 'handed back');
    assert.equal(found.queue, 'twice');
    assert.equal(found.remaining, found.retries - 1);
    assert.equal(dataOf(found).ranBy, undefined, 'the handler never finished');
    assert.ok(!(await workerNames()).includes('twice-0'));
  });
});

describe('HUP under load', () => {
  test('a rolling restart of two busy workers loses nothing', async () => {
    // Every job completed, popped once, by old and new processes.
    const run = pool([
      '-q',
      'hup-load',
      '-r',
      redis.url,
      '-p',
      SUPERVISED,
      '-n',
      'hup-load',
      '-w',
      '2',
      '-c',
      '2',
      '--no-watch',
      '-i',
      '0.2',
    ]);
    await eventually(() => readyLines(run).length === 2, { what: `two workers ready\n${run.describe()}` });
    const oldPids = readyLines(run).map((line) => line.pid);
    const jids = await Promise.all(
      Array.from({ length: 30 }, (_, index) => client.queue('hup-load').put('sleepy', { ms: 60 + (index % 4) * 30 })),
    );
    await eventually(
      async () => (await client.jobs.multiget(...jids)).filter((one) => one.state === 'complete').length >= 4,
      { what: 'some jobs completed' },
    );
    const mark = run.lines.length;
    run.signal('SIGHUP');
    await run.waitForLine('rolling restart', { after: mark });
    const jobs = await allComplete(jids, run);
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
    assert.deepEqual(await failedGroupsOf('hup-load'), []);
    const names = await workerNames();
    assert.ok(names.includes('hup-load-0') && names.includes('hup-load-1'), 'the same names after the restart');
    await stop(run);
  });
});

describe('hot reload of the handler file itself', () => {
  function project(files: Record<string, string>): string {
    const dir = realpathSync(mkdtempSync(join(scratch, 'reload-')));
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
    return pool(['-q', name, '-r', redis.url, '-p', dir, '-d', dir, '-n', name, '-w', '1', '-i', '0.2'], { cwd: dir });
  }

  test('an edit of the handler module takes effect on the next job', async () => {
    const dir = project({ 'versioned.ts': versioned(1) });
    const run = watched('edit-handler', dir);
    await run.waitForLine('watching');
    await run.waitForLine('worker ready');
    const first = await settled(await client.queue('edit-handler').put('versioned', {}), run);
    assert.equal(dataOf(first).version, 1);
    const mark = run.lines.length;
    writeFileSync(join(dir, 'versioned.ts'), versioned(2));
    await reloaded(run, mark);
    const second = await settled(await client.queue('edit-handler').put('versioned', {}), run);
    assert.equal(second.state, 'complete');
    assert.equal(dataOf(second).version, 2);
    await stop(run);
  });

  test('a syntax error in the handler module fails its jobs as <queue>-<ErrorName>', async () => {
    // The next save heals it.
    const dir = project({ 'versioned.ts': versioned(1) });
    const run = watched('syntax-handler', dir);
    await run.waitForLine('watching');
    await run.waitForLine('worker ready');
    let mark = run.lines.length;
    writeFileSync(join(dir, 'versioned.ts'), 'export default function versioned( {\n');
    await reloaded(run, mark);
    const broken = await settled(await client.queue('syntax-handler').put('versioned', {}), run);
    assert.equal(broken.state, 'failed');
    assert.match(broken.failure?.group ?? '', /^syntax-handler-[A-Z]\w*Error$/);
    assert.match(broken.failure?.message ?? '', /versioned\.ts/, 'the message names the file');
    mark = run.lines.length;
    writeFileSync(join(dir, 'versioned.ts'), versioned(3));
    await reloaded(run, mark);
    const healed = await settled(await client.queue('syntax-handler').put('versioned', {}), run);
    assert.equal(healed.state, 'complete', JSON.stringify(healed.failure));
    assert.equal(dataOf(healed).version, 3);
    assert.equal(run.find('exited unexpectedly').length, 0);
    await stop(run);
  });

  test('a handler file created after its job failed with ModuleNotFound runs the next job', async () => {
    const dir = project({ 'versioned.ts': versioned(1) });
    const run = watched('late-handler', dir);
    await run.waitForLine('watching');
    await run.waitForLine('worker ready');
    const missing = await settled(await client.queue('late-handler').put('latecomer', {}), run);
    assert.equal(missing.state, 'failed');
    assert.equal(missing.failure?.group, 'late-handler-ModuleNotFound');
    const mark = run.lines.length;
    writeFileSync(join(dir, 'latecomer.ts'), versioned(7));
    await reloaded(run, mark);
    const found = await settled(await client.queue('late-handler').put('latecomer', {}), run);
    assert.equal(found.state, 'complete', JSON.stringify(found.failure));
    assert.equal(dataOf(found).version, 7);
    // The failed one, retried by an operator, completes too.
    await (await mustGet(missing.jid)).move('late-handler');
    const retried = await settled(missing.jid, run, ['complete']);
    assert.equal(dataOf(retried).version, 7);
    assert.ok(existsSync(join(dir, 'sandbox', 'worker-0')));
    await stop(run);
  });
});
