// `npm run demo` end to end (exit 0, the summary's counts, nothing left running afterwards or
// after Ctrl-C), and the example handlers doing what examples/README.md says, run by the real
// bin/qless-worker against a private redis-server, read back from Redis.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Client } from '../../src/client/client.ts';
import type { Job } from '../../src/client/job.ts';
import { childEnv } from '../helpers/child-env.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { eventually, startWorker, type LogLine, type WorkerRun } from '../helpers/worker.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../examples', import.meta.url));

/** `npm run demo` in its own process group (as a terminal would start it), output collected. */
class DemoRun {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor() {
    const env = childEnv();
    this.child = spawn('npm', ['run', 'demo'], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.once('close', (code, signal) => resolve({ code, signal })));
  }

  /** The first capture of a pattern in stdout, once it has been printed. */
  async printed(pattern: RegExp, timeout = 60_000): Promise<string> {
    return eventually(() => pattern.exec(this.stdout)?.[1], {
      timeout,
      interval: 100,
      what: `${pattern} in the demo's output\n${this.describe()}`,
    });
  }

  async exit(timeout = 90_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the demo was still running after ${timeout} ms\n${this.describe()}`)),
        timeout,
      );
    });
    try {
      return await Promise.race([this.exited, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** What the demo said about itself: worker pid, Redis port, workdir. */
  async started(): Promise<{ workerPid: number; redisPort: number; workdir: string }> {
    return {
      redisPort: Number(await this.printed(/redis-server listening on port (\d+)/)),
      workerPid: Number(await this.printed(/started qless-worker \(pid (\d+)\)/)),
      workdir: await this.printed(/--workdir (\S+)/),
    };
  }

  killGroup(): void {
    try {
      if (this.child.pid !== undefined) process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }

  describe(): string {
    return `--- stdout (end):\n${this.stdout.slice(-3000)}\n--- stderr:\n${this.stderr.slice(-3000)}`;
  }
}

/** Whether any process is left in a process group. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });
}

async function assertNothingLeft(
  demo: DemoRun,
  started: { workerPid: number; redisPort: number; workdir: string },
): Promise<void> {
  // Processes whose parent just exited may wait a moment to be reaped.
  await eventually(() => !groupAlive(started.workerPid), {
    what: `no process left in the worker's group ${started.workerPid}`,
  });
  await eventually(() => !groupAlive(demo.child.pid!), {
    what: `no process left in the demo's group ${demo.child.pid}`,
  });
  assert.equal(
    await accepts(started.redisPort),
    false,
    `the demo's redis-server on port ${started.redisPort} is still listening`,
  );
  assert.equal(existsSync(started.workdir), false, `the demo's workdir ${started.workdir} is still there`);
}

describe('npm run demo', () => {
  const demos: DemoRun[] = [];
  after(() => {
    for (const demo of demos) demo.killGroup();
  });

  test('runs every example job, stops qless-worker with SIGTERM (exit 0) and prints the summary', async () => {
    const demo = new DemoRun();
    demos.push(demo);
    const started = await demo.started();
    const exit = await demo.exit();
    assert.deepEqual(exit, { code: 0, signal: null }, demo.describe());
    assert.match(demo.stdout, /^jobs: +30 put, all ended [\d.]+ s after the worker started$/m);
    const completed =
      'completed: 25 (countdown 8, pipeline.Steps (fetch → resize → publish) 12, ' +
      'retrying.FlakyUpload (2 retries each) 5)';
    assert.ok(demo.stdout.split('\n').includes(completed), `no line ${JSON.stringify(completed)} in:\n${demo.stdout}`);
    assert.match(demo.stdout, /^failed: +5 \(demo-CardDeclinedError 4, demo-ModuleNotFound 1\)$/m);
    assert.match(demo.stdout, /stopped by SIGTERM, exit code 0$/m);
    // The worker's own pretty log lines are part of the show.
    assert.match(demo.stdout, /qless-worker supervisor stopped/);
    await assertNothingLeft(demo, started);
  });

  test('Ctrl-C while jobs run leaves no process, server or directory behind', async () => {
    const demo = new DemoRun();
    demos.push(demo);
    const started = await demo.started();
    await demo.printed(/(countdown: \d)/);
    // A terminal's Ctrl-C: SIGINT to the whole foreground process group.
    process.kill(-demo.child.pid!, 'SIGINT');
    await demo.exit(30_000);
    assert.match(demo.stdout, /demo: SIGINT: stopping qless-worker and redis-server/);
    await assertNothingLeft(demo, started);
  });
});

describe('example handlers (bin/qless-worker --path examples)', () => {
  let server: RedisServer;
  let client: Client;
  let worker: WorkerRun;

  before(async () => {
    server = await startRedis();
    client = new Client({ url: server.url, workerName: 'producer' });
    worker = startWorker([
      '-q',
      'demo,fetch,resize,publish',
      '-r',
      server.url,
      '-p',
      EXAMPLES,
      '-n',
      'examples',
      '-w',
      '1',
      '-c',
      '4',
      '-i',
      '0.2',
      '--no-watch',
    ]);
    await worker.waitForLine('worker ready');
  });

  after(async () => {
    await worker?.kill();
    await client?.close();
    await server?.stop();
  });

  async function ended(jid: string): Promise<Job> {
    return eventually(
      async () => {
        const [job] = await client.jobs.multiget(jid);
        return job && (job.state === 'complete' || job.state === 'failed') ? job : undefined;
      },
      { what: `job ${jid} to end\n${worker.describe()}` },
    );
  }

  const forJob = (jid: string, msg: string) => (line: LogLine) => line.jid === jid && line.msg === msg;
  const popped = (job: Job) => job.history.filter((entry) => entry.what === 'popped').length;

  test('countdown counts data.seconds down, logging each second with the job fields, and completes', async () => {
    const jid = await client.queue('demo').put('countdown', { seconds: 2 });
    const job = await ended(jid);
    assert.equal(job.state, 'complete');
    assert.deepEqual(job.data, { seconds: 2, counted: 2 });
    assert.equal(popped(job), 1);
    for (const msg of ['countdown: 2', 'countdown: 1', 'countdown: liftoff']) {
      const line = await worker.waitForLine(forJob(jid, msg));
      assert.equal(line.queue, 'demo');
      assert.equal(line.klass, 'countdown');
      assert.equal(line.worker, 'examples-0');
    }
  });

  test('countdown refuses seconds that are not a whole number: failed into <queue>-RangeError', async () => {
    const jid = await client.queue('demo').put('countdown', { seconds: 1.5 });
    const job = await ended(jid);
    assert.equal(job.state, 'failed');
    assert.equal(job.failure?.group, 'demo-RangeError');
    assert.match(
      job.failure?.message ?? '',
      /^RangeError: data\.seconds must be a whole number of seconds \(0 or more\), got 1\.5\n\s+at /,
    );
  });

  test('pipeline.Steps goes fetch → resize → publish and is completed after the last step', async () => {
    const jid = await client.queue('fetch').put('pipeline.Steps', { image: 'cat.jpg' });
    const job = await ended(jid);
    assert.equal(job.state, 'complete');
    assert.deepEqual(job.data, {
      image: 'cat.jpg',
      steps: ['fetch', 'resize', 'publish'],
      resizedBytes: Buffer.byteLength('cat.jpg at 200px\n'),
    });
    assert.deepEqual(
      job.history.filter((entry) => entry.what === 'put').map((entry) => entry.q),
      ['fetch', 'resize', 'publish'],
    );
    assert.equal(popped(job), 3);
  });

  test('failing.ChargeCard fails into <queue>-CardDeclinedError with the stack as message', async () => {
    const jid = await client.queue('demo').put('failing.ChargeCard', { card: '1234', cents: 1250 });
    const job = await ended(jid);
    assert.equal(job.state, 'failed');
    assert.equal(job.failure?.group, 'demo-CardDeclinedError');
    assert.equal(job.failure?.worker, 'examples-0');
    assert.match(
      job.failure?.message ?? '',
      new RegExp(`^CardDeclinedError: card ending 1234 was declined for 12\\.50 \\(order ${jid}\\)\\n\\s+at `),
    );
  });

  test('retrying.FlakyUpload retries itself data.failures times with a delay, then completes', async () => {
    const jid = await client.queue('demo').put('retrying.FlakyUpload', { failures: 2, delay: 0.2 });
    const job = await ended(jid);
    assert.equal(job.state, 'complete');
    assert.deepEqual(job.data, { failures: 2, delay: 0.2, attempts: 3 });
    assert.equal(popped(job), 3);
    assert.equal(job.remaining, job.retries);
  });

  test('retrying.FlakyUpload with more failures than retries ends in failed-retries-<queue>', async () => {
    const jid = await client.queue('demo').put('retrying.FlakyUpload', { failures: 5, delay: 0.1 }, { retries: 1 });
    const job = await ended(jid);
    assert.equal(job.state, 'failed');
    assert.equal(job.failure?.group, 'failed-retries-demo');
    assert.equal(popped(job), 2);
  });

  test('countdown honours job.signal: on SIGTERM it stops at once and the worker hands the job back', async () => {
    // With 600 s to count and 300 s of shutdown timeout, only a countdown that stops on the
    // signal lets the worker exit within the wait below.
    const slow = startWorker([
      '-q',
      'slow',
      '-r',
      server.url,
      '-p',
      EXAMPLES,
      '-n',
      'slow',
      '-w',
      '1',
      '-i',
      '0.2',
      '--no-watch',
      '--shutdown-timeout',
      '300',
    ]);
    try {
      const jid = await client.queue('slow').put('countdown', { seconds: 600 });
      await slow.waitForLine(forJob(jid, 'countdown: 600'));
      slow.signal('SIGTERM');
      const exit = await slow.waitForExit(30_000);
      assert.deepEqual(exit, { code: 0, signal: null }, slow.describe());
      const job = (await client.jobs.get(jid)) as Job;
      assert.equal(job.state, 'waiting');
      assert.equal(job.remaining, job.retries - 1);
      assert.deepEqual(job.data, { seconds: 600 });
      assert.equal(slow.find((line) => line.jid === jid && line.msg === 'job ended')[0]?.outcome, 'handed-back');
    } finally {
      await slow.kill();
    }
  });
});
