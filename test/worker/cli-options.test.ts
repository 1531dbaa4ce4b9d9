// bin/qless-worker's options: bad values are refused before anything starts (one line, exit 2,
// nothing in Redis, no sandbox made); good ones, from flags or QLESS_* variables, reach the pool;
// the defaults (worker names) and every way to name Redis (REDIS_URL, QLESS_REDIS_URL, --host and
// --port) end up in Redis as documented.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { eventually, runWorkerToExit, startWorker } from '../helpers/worker.ts';
import { readyLines, stopPool, SUPERVISED, usePools } from './blackbox.ts';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

// The refusals below run first: they check that nothing was written to this Redis yet.
const fx = usePools('cli');

describe('qless-worker refuses invalid options', () => {
  const cases: { name: string; args: string[]; env?: Record<string, string>; says: RegExp }[] = [
    { name: 'no queue', args: [], says: /at least one queue is required/ },
    { name: 'an empty queue list', args: ['-q', ','], says: /at least one queue is required/ },
    { name: 'negative workers', args: ['-q', 'a', '-w', '-1'], says: /--workers must be a whole number of at least 0/ },
    { name: 'workers that are not a number', args: ['-q', 'a', '--workers', 'many'], says: /--workers .*not a number/ },
    {
      name: 'an interval that is not a number',
      args: ['-q', 'a', '-i', 'soon'],
      says: /--interval must be a number of seconds.*not a number/,
    },
    {
      name: 'a negative interval',
      args: ['-q', 'a', '-i', '-2'],
      says: /--interval must be a number of seconds, more than zero/,
    },
    {
      name: 'a --path that does not exist',
      args: ['-q', 'a', '-p', '/no/such/handlers'],
      says: /--path \/no\/such\/handlers does not exist/,
    },
    {
      name: 'a --workdir that does not exist',
      args: ['-q', 'a', '-d', '/no/such/workdir'],
      says: /--workdir \/no\/such\/workdir does not exist/,
    },
    {
      name: 'a Redis URL that cannot be parsed',
      args: ['-q', 'a', '-r', 'not a url'],
      says: /--redis: Redis URL cannot be parsed/,
    },
    {
      name: 'a URL that is not redis://',
      args: ['-q', 'a', '-r', 'http://127.0.0.1:6379'],
      says: /--redis: Redis URL must start with redis:\/\/ or rediss:\/\//,
    },
    { name: 'a port out of range', args: ['-q', 'a', '--port', '70000'], says: /--port must be at most 65535/ },
    {
      name: 'zero concurrency',
      args: ['-q', 'a', '-c', '0'],
      says: /--concurrency must be a whole number of at least 1/,
    },
    {
      name: 'an unknown reserver',
      args: ['-q', 'a', '--reserver', 'random'],
      says: /--reserver must be one of ordered, round-robin, shuffled/,
    },
    {
      name: 'negative max-jobs',
      args: ['-q', 'a', '--max-jobs', '-3'],
      says: /--max-jobs must be a whole number of at least 0/,
    },
    {
      name: 'a shutdown timeout that is not a number',
      args: ['-q', 'a', '--shutdown-timeout', 'later'],
      says: /--shutdown-timeout must be a number of seconds/,
    },
    {
      name: 'an unknown log format',
      args: ['-q', 'a', '--log-format', 'xml'],
      says: /--log-format must be one of json, pretty/,
    },
    { name: 'an unknown log level', args: ['-q', 'a', '--log-level', 'loud'], says: /--log-level must be one of/ },
    {
      name: 'an --import path that does not exist',
      args: ['-q', 'a', '-m', './missing-setup.ts'],
      says: /--import .*missing-setup\.ts does not exist/,
    },
    { name: 'an unknown option', args: ['-q', 'a', '--queues', 'b'], says: /Unknown argument: queues/ },
    {
      name: 'a bad value from the environment',
      args: [],
      env: { QLESS_QUEUE: 'a', QLESS_WORKERS: '-2' },
      says: /--workers must be a whole number of at least 0/,
    },
    {
      name: 'a bad Redis URL from QLESS_REDIS_URL',
      args: ['-q', 'a'],
      env: { QLESS_REDIS_URL: 'redis//nope' },
      says: /--redis: Redis URL cannot be parsed/,
    },
  ];

  for (const { name, args, env, says } of cases) {
    test(name, async () => {
      // Point at the private Redis unless the case is about the URL itself.
      const redisArgs = args.includes('-r') || env?.QLESS_REDIS_URL ? [] : ['-r', fx.redis.url];
      const result = await runWorkerToExit([...args, ...redisArgs, '--no-watch'], { cwd: fx.scratch, env });
      assert.equal(result.code, 2, `exit code\n${result.stderr}`);
      const lines = result.stderr.split('\n').filter((line) => line !== '');
      assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
      assert.match(lines[0], /^qless-worker: /);
      assert.match(lines[0], says);
      assert.equal(result.stdout, '', 'nothing logged: no supervisor started');
      assert.equal(await fx.client.redis.dbsize(), 0, 'nothing written to Redis');
      assert.equal(existsSync(join(fx.scratch, 'sandbox')), false, 'no sandbox made');
    });
  }
});

describe('qless-worker help and version', () => {
  test('--help shows the options and examples and exits 0', async () => {
    const result = await runWorkerToExit(['--help'], { cwd: fx.scratch });
    assert.equal(result.code, 0);
    for (const text of [
      '--queue',
      '--workers',
      '--interval',
      '--path',
      '--workdir',
      '--redis',
      '--name',
      '--concurrency',
      '--reserver',
      '--resume',
      '--import',
      '--max-jobs',
      '--max-memory',
      '--shutdown-timeout',
      '--no-watch',
      '--log-level',
      '--log-format',
      'Examples:',
      'QLESS_',
    ]) {
      assert.ok(result.stdout.includes(text), `help mentions ${text}`);
    }
    assert.equal(await fx.client.redis.dbsize(), 0);
  });

  test('--version prints the package version', async () => {
    const result = await runWorkerToExit(['--version'], { cwd: fx.scratch });
    assert.equal(result.code, 0);
    assert.equal(result.stdout.trim(), VERSION);
  });
});

describe('qless-worker takes its options from flags and QLESS_* variables', () => {
  test('comma lists and repeated -q, defaults resolved, and the pool works the queues', async () => {
    const run = startWorker(
      [
        '-q',
        'first,second',
        '-q',
        'third',
        '-r',
        fx.redis.url,
        '-p',
        SUPERVISED,
        '-w',
        '0',
        '--no-watch',
        '-n',
        'flags',
      ],
      { cwd: fx.scratch },
    );
    try {
      const startup = await run.waitForLine('supervisor starting');
      assert.equal(startup.pid, run.pid, 'the process started as bin/qless-worker is the supervisor');
      const options = startup.options as Record<string, unknown>;
      assert.deepEqual(options.queues, ['first', 'second', 'third']);
      assert.ok(
        typeof options.workers === 'number' && options.workers >= 1,
        'workers 0 means the available parallelism',
      );
      assert.equal(options.interval, 5);
      assert.equal(options.concurrency, 1);
      assert.equal(options.reserver, 'ordered');
      assert.equal(options.shutdownTimeout, 30);
      assert.equal(options.workdir, fx.scratch);
      const jid = await fx.client.queue('third').put('sleepy', {});
      await eventually(async () => (await fx.client.jobs.get(jid))?.state === 'complete', {
        what: `job in "third" completed\n${run.describe()}`,
      });
      run.signal('SIGTERM');
      assert.equal((await run.waitForExit()).code, 0);
    } finally {
      await run.kill();
    }
  });

  test('QLESS_QUEUE, QLESS_WORKERS, QLESS_NAME and QLESS_REDIS_URL are read from the environment', async () => {
    const run = startWorker(['-p', SUPERVISED], {
      cwd: fx.scratch,
      env: {
        QLESS_QUEUE: 'env-a,env-b',
        QLESS_WORKERS: '1',
        QLESS_NAME: 'from-env',
        QLESS_REDIS_URL: fx.redis.url,
        QLESS_WATCH: 'false',
        QLESS_UNRELATED_SETTING: 'ignored',
      },
    });
    try {
      const startup = await run.waitForLine('supervisor starting');
      const options = startup.options as Record<string, unknown>;
      assert.deepEqual(options.queues, ['env-a', 'env-b']);
      assert.equal(options.workers, 1);
      assert.equal(options.name, 'from-env');
      assert.equal(options.redis, fx.redis.url);
      assert.equal(options.watch, false);
      const jid = await fx.client.queue('env-b').put('sleepy', {});
      await eventually(async () => (await fx.client.jobs.get(jid))?.state === 'complete', {
        what: `job completed\n${run.describe()}`,
      });
      const job = await fx.client.jobs.get(jid);
      assert.ok(job && 'history' in job);
      assert.ok(job.history.some((entry) => entry.what === 'popped' && entry.worker === 'from-env-0'));
      run.signal('SIGTERM');
      assert.equal((await run.waitForExit()).code, 0);
    } finally {
      await run.kill();
    }
  });
});

describe('options: defaults and the ways to name Redis', () => {
  test('without --name, worker k is <hostname>-<supervisor pid>-<k>, one name per slot, in Redis', async () => {
    const run = fx.pool(['-q', 'naming', '-r', fx.redis.url, '-p', SUPERVISED, '-w', '2', '--no-watch', '-i', '0.2']);
    await eventually(() => readyLines(run).length === 2, { what: `two workers ready\n${run.describe()}` });
    const prefix = `${hostname()}-${run.pid}`;
    await eventually(
      async () => {
        const names = await fx.workerNames();
        return names.includes(`${prefix}-0`) && names.includes(`${prefix}-1`);
      },
      { what: `both default names registered\n${run.describe()}` },
    );
    const jid = await fx.client.queue('naming').put('sleepy', {});
    const done = await fx.settled(jid, run, ['complete']);
    const popper = done.history.find((entry) => entry.what === 'popped')?.worker;
    assert.ok(popper === `${prefix}-0` || popper === `${prefix}-1`, `popped by ${popper}`);
    await stopPool(run);
    const names = await fx.workerNames();
    assert.ok(!names.some((name) => name.startsWith(prefix)), `deregistered on TERM: ${names.join(', ')}`);
  });

  test('REDIS_URL is used when neither --redis nor QLESS_REDIS_URL is given', async () => {
    const run = fx.pool(
      ['-q', 'env-redis', '-p', SUPERVISED, '-w', '1', '-n', 'plain-env', '--no-watch', '-i', '0.2'],
      {
        env: { REDIS_URL: fx.redis.url },
      },
    );
    const jid = await fx.client.queue('env-redis').put('sleepy', {});
    const done = await fx.settled(jid, run, ['complete']);
    assert.equal(done.history.find((entry) => entry.what === 'popped')?.worker, 'plain-env-0');
    await stopPool(run);
  });

  test('QLESS_REDIS_URL wins over REDIS_URL', async () => {
    const run = fx.pool(
      ['-q', 'env-order', '-p', SUPERVISED, '-w', '1', '-n', 'env-order', '--no-watch', '-i', '0.2'],
      {
        env: { QLESS_REDIS_URL: fx.redis.url, REDIS_URL: 'redis://127.0.0.1:1' },
      },
    );
    const jid = await fx.client.queue('env-order').put('sleepy', {});
    const done = await fx.settled(jid, run, ['complete']);
    assert.equal(done.history.find((entry) => entry.what === 'popped')?.worker, 'env-order-0');
    assert.equal(run.find('is unreachable').length, 0);
    await stopPool(run);
  });

  test('--host and --port replace those parts of the URL', async () => {
    const port = new URL(fx.redis.url).port;
    const run = fx.pool([
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
    const jid = await fx.client.queue('host-port').put('sleepy', {});
    const done = await fx.settled(jid, run, ['complete']);
    assert.equal(done.history.find((entry) => entry.what === 'popped')?.worker, 'host-port-0');
    await stopPool(run);
  });
});
