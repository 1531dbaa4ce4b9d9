// Connecting: the URL chain, passwords, TLS (rediss://), script reload on NOSCRIPT, defaults,
// and the README's example run as written.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import {
  Client,
  DEFAULT_REDIS_URL,
  InvalidInputError,
  QlessError,
  resolveRedisUrl,
  scriptSha,
} from '../../src/client/index.ts';
import { freePort, startRedis, type RedisServer } from '../helpers/redis.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Whether a job with this jid ended up in the Redis at `url`. */
async function hasJob(url: string, jid: string): Promise<boolean> {
  const redis = new Redis(url);
  try {
    return (await redis.exists(`ql:j:${jid}`)) === 1;
  } finally {
    redis.disconnect();
  }
}

describe('resolveRedisUrl', () => {
  test('option, then QLESS_REDIS_URL, then REDIS_URL, then the default', () => {
    const env = { QLESS_REDIS_URL: 'redis://q:1', REDIS_URL: 'redis://r:2' };
    assert.equal(resolveRedisUrl('redis://o:3', env), 'redis://o:3');
    assert.equal(resolveRedisUrl(undefined, env), 'redis://q:1');
    assert.equal(resolveRedisUrl(undefined, { REDIS_URL: 'redis://r:2' }), 'redis://r:2');
    assert.equal(resolveRedisUrl(undefined, {}), DEFAULT_REDIS_URL);
    assert.equal(DEFAULT_REDIS_URL, 'redis://127.0.0.1:6379');
  });

  test('empty strings count as unset', () => {
    assert.equal(resolveRedisUrl('', { QLESS_REDIS_URL: '', REDIS_URL: 'redis://r:2' }), 'redis://r:2');
  });

  test('rediss:// and passwords are accepted; other schemes and garbage are refused', () => {
    assert.equal(resolveRedisUrl('rediss://:pw@host:6380/2', {}), 'rediss://:pw@host:6380/2');
    assert.throws(() => resolveRedisUrl('http://host:6379', {}), InvalidInputError);
    assert.throws(() => resolveRedisUrl('not a url', {}), InvalidInputError);
    assert.throws(() => resolveRedisUrl('redis://host:6379/notadb', {}), InvalidInputError);
    assert.throws(() => new Client({ url: 'nope://x' }), InvalidInputError);
  });

  test('messages do not show the password', () => {
    assert.throws(
      () => resolveRedisUrl('redis://:hunter2@host:6379/x', {}),
      (error: Error) => !error.message.includes('hunter2'),
    );
  });
});

describe('the environment chooses the server', () => {
  let a: RedisServer;
  let b: RedisServer;
  const saved = { QLESS_REDIS_URL: process.env.QLESS_REDIS_URL, REDIS_URL: process.env.REDIS_URL };

  before(async () => {
    [a, b] = await Promise.all([startRedis(), startRedis()]);
  });
  after(async () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await Promise.all([a.stop(), b.stop()]);
  });

  test('QLESS_REDIS_URL wins over REDIS_URL; REDIS_URL is used alone', async () => {
    process.env.QLESS_REDIS_URL = a.url;
    process.env.REDIS_URL = b.url;
    const first = new Client();
    await first.queue('q').put('K', {}, { jid: 'via-qless-url' });
    await first.close();
    delete process.env.QLESS_REDIS_URL;
    const second = new Client();
    await second.queue('q').put('K', {}, { jid: 'via-redis-url' });
    await second.close();
    assert.equal(await hasJob(a.url, 'via-qless-url'), true);
    assert.equal(await hasJob(b.url, 'via-qless-url'), false);
    assert.equal(await hasJob(b.url, 'via-redis-url'), true);
    assert.equal(await hasJob(a.url, 'via-redis-url'), false);
  });

  test('the url option wins over both', async () => {
    process.env.QLESS_REDIS_URL = a.url;
    process.env.REDIS_URL = a.url;
    const client = new Client({ url: b.url });
    await client.queue('q').put('K', {}, { jid: 'via-option' });
    await client.close();
    assert.equal(await hasJob(b.url, 'via-option'), true);
    assert.equal(await hasJob(a.url, 'via-option'), false);
  });
});

describe('a password-protected server', () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedis({ args: ['--requirepass', 's3cret'] });
  });
  after(async () => {
    await server.stop();
  });

  test('works with the password in the URL', async () => {
    const client = new Client({ url: `redis://:s3cret@127.0.0.1:${server.port}` });
    const jid = await client.queue('q').put('K', { secret: false });
    const [job] = await client.queue('q').pop();
    assert.equal(job.jid, jid);
    await client.close();
    const check = new Redis(server.port, '127.0.0.1', { password: 's3cret' });
    assert.equal(await check.hget(`ql:j:${jid}`, 'state'), 'running');
    check.disconnect();
  });

  test('a wrong password is Redis’s error, not a qless one', async () => {
    const client = new Client({
      url: `redis://:wrong@127.0.0.1:${server.port}`,
      redisOptions: { maxRetriesPerRequest: 0 },
    });
    client.redis.on('error', () => {});
    await assert.rejects(
      () => client.queue('q').put('K', {}),
      (error: Error) => !(error instanceof QlessError) && /WRONGPASS|NOAUTH/.test(error.message),
    );
    await client.close();
  });
});

describe('TLS (rediss://)', () => {
  // A committed self-signed certificate (test/fixtures/tls), so the test needs no openssl.
  const certDir = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
  let server: RedisServer;
  let tlsPort = 0;

  before(async () => {
    tlsPort = await freePort();
    server = await startRedis({
      args: [
        '--tls-port',
        String(tlsPort),
        '--tls-cert-file',
        join(certDir, 'cert.pem'),
        '--tls-key-file',
        join(certDir, 'key.pem'),
        '--tls-ca-cert-file',
        join(certDir, 'cert.pem'),
        '--tls-auth-clients',
        'no',
      ],
    });
  });
  after(async () => {
    await server.stop();
  });

  test('a rediss:// URL connects over TLS', async () => {
    const ca = readFileSync(join(certDir, 'cert.pem'));
    const client = new Client({ url: `rediss://127.0.0.1:${tlsPort}`, redisOptions: { tls: { ca } } });
    const jid = await client.queue('q').put('K', { over: 'tls' });
    assert.deepEqual((await client.queue('q').peek())[0]?.data, { over: 'tls' });
    await client.close();
    // Same server, plain port: the job is really there.
    assert.equal(await hasJob(server.url, jid), true);
    // The TLS port does not speak plain Redis, so the client above did use TLS.
    const plain = new Redis(tlsPort, '127.0.0.1', {
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 2000,
    });
    plain.on('error', () => {});
    await assert.rejects(() => plain.ping());
    plain.disconnect();
  });
});

describe('script loading and defaults', () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server.stop();
  });

  test('loads the script on first use and again after SCRIPT FLUSH', async () => {
    const client = new Client({ url: server.url });
    await client.redis.script('FLUSH');
    await client.queue('q').put('K', {}, { jid: 'a' });
    await client.redis.script('FLUSH');
    assert.equal(await client.queue('q').length(), 1);
    assert.deepEqual(await client.redis.script('EXISTS', scriptSha()), [1]);
    await client.close();
  });

  test('defaults: worker name <hostname>-<pid>, the system clock in fractional seconds', async () => {
    const client = new Client({ url: server.url });
    assert.equal(client.workerName, `${hostname()}-${process.pid}`);
    const before = Date.now() / 1000;
    await client.queue('q').put('K', {}, { jid: 'clock' });
    const after = Date.now() / 1000;
    const [job] = await client.queue('q').pop();
    assert.equal(job.worker, client.workerName);
    const time = Number(await client.redis.hget('ql:j:clock', 'time'));
    assert.ok(time >= before - 0.001 && time <= after + 0.001, `time ${time} should be between ${before} and ${after}`);
    await client.close();
    assert.equal(client.redis.status, 'end');
  });

  test('a given connection is used and left open', async () => {
    const redis = new Redis(server.url);
    const client = new Client({ redis, workerName: 'given' });
    await client.queue('q').put('K', {}, { jid: 'given' });
    await client.close();
    assert.equal(await redis.hget('ql:j:given', 'klass'), 'K');
    redis.disconnect();
  });
});

describe("README's example", () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server.stop();
  });

  test('runs as written and leaves a completed job', async () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const section = readme.split(/^## /m).find((part) => part.startsWith('Use the client'));
    assert.ok(section, 'README.md has a "Use the client" section');
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(code, 'the section has a ts code block');
    assert.match(code, /from 'qless-worker'/, 'the example imports the package by its name');
    const runnable = code.replaceAll('redis://127.0.0.1:6379', server.url);
    // Never let the example reach a real Redis on 6379.
    assert.ok(
      runnable.includes(server.url) && !runnable.includes(':6379'),
      'the example names redis://127.0.0.1:6379 and nothing else',
    );
    const dir = mkdtempSync(join(tmpdir(), 'qless-readme-'));
    try {
      // As in a project that installed the package: node_modules/qless-worker is this repository.
      mkdirSync(join(dir, 'node_modules'));
      symlinkSync(REPO, join(dir, 'node_modules', 'qless-worker'), 'dir');
      const file = join(dir, 'example.mts');
      writeFileSync(file, runnable);
      const run = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), file], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, QLESS_REDIS_URL: server.url },
      });
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /^true /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const redis = new Redis(server.url);
    try {
      const jids = await redis.zrange('ql:completed', 0, -1);
      assert.equal(jids.length, 1);
      const job = await redis.hgetall(`ql:j:${jids[0]}`);
      assert.equal(job.state, 'complete');
      assert.equal(job.klass, 'images.Resize');
      assert.deepEqual(JSON.parse(job.data), { path: 'in/cat.png', width: 200 });
    } finally {
      redis.disconnect();
    }
  });
});
