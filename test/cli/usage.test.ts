// qless: --help with examples, bad usage refused before anything is written (exit 2), an
// unreachable Redis reported in one line (exit 3), and `qless script`.
import { createHash } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, scriptSha, scriptSource } from '../../src/client/index.ts';
import { qless } from '../helpers/cli.ts';
import { startCore, type Core } from '../helpers/qless.ts';
import { freePort, startRedis } from '../helpers/redis.ts';

const SUBCOMMANDS = [
  'put',
  'recur',
  'unrecur',
  'queues',
  'queue',
  'peek',
  'jobs',
  'get',
  'tagged',
  'workers',
  'worker',
  'failed',
  'retry',
  'cancel',
  'pause',
  'unpause',
  'priority',
  'move',
  'track',
  'untrack',
  'tag',
  'untag',
  'config',
  'stats',
  'watch',
  'script',
];

/** One line on stderr, no stack trace. */
function assertOneLine(stderr: string): void {
  assert.match(stderr, /^qless: .+\n$/);
  assert.doesNotMatch(stderr, /\n\s+at /);
}

describe('qless usage', () => {
  let core: Core;
  let client: Client;
  let jid: string;

  before(async () => {
    core = await startCore();
    client = new Client({ url: core.server.url });
    // Something in Redis, so "unchanged" means more than "still empty".
    jid = await client.queue('q').put('K', { a: 1 }, { tags: ['t'] });
    const failing = await client.queue('f').put('K', {});
    const [popped] = await client.queue('f').pop();
    assert.equal(popped.jid, failing);
    await popped.fail('f-Boom', 'boom');
  });

  after(async () => {
    await client.close();
    await core.close();
  });

  test('qless --help lists every subcommand with examples and the exit codes', async () => {
    const result = await qless(['--help']);
    assert.equal(result.code, 0);
    for (const name of SUBCOMMANDS) assert.match(result.stdout, new RegExp(`qless ${name}\\b`));
    assert.match(result.stdout, /Examples:\n\s+qless put /);
    assert.match(result.stdout, /2 {2}bad usage/);
  });

  test('every subcommand --help shows an example of that subcommand', async () => {
    for (const name of SUBCOMMANDS) {
      const result = await qless([name, '--help']);
      assert.equal(result.code, 0, `${name} --help: ${result.stderr}`);
      assert.match(
        result.stdout,
        new RegExp(`Examples:\\n\\s+qless ${name}\\b`),
        `${name} --help has no example of itself:\n${result.stdout}`,
      );
    }
  });

  test('bad usage exits 2 with one line and leaves Redis untouched', async () => {
    const before = await core.snapshot();
    const cases: string[][] = [
      [],
      ['nosuch'],
      ['put', 'q'],
      ['put', 'q', 'K', '--bogus'],
      ['put', '', 'K'],
      ['put', 'q', 'K', '--data', '{bad'],
      ['put', 'q', 'K', '--data', '"a string"'],
      ['put', 'q', 'K', '--priority', 'high'],
      ['put', 'q', 'K', '--priority', '0x10'],
      ['put', 'q', 'K', '--delay', '-1'],
      ['put', 'q', 'K', '--retries', '1.5'],
      ['put', 'q', 'K', '--jid', ''],
      ['recur', 'q', 'K'],
      ['recur', 'q', 'K', '--every', '0'],
      ['recur', 'q', 'K', '--every', '60', '--backlog', 'x'],
      ['priority', jid, 'abc'],
      ['priority', jid],
      ['cancel'],
      ['cancel', jid, '--group', 'f-Boom'],
      ['retry', 'f-Boom', '--count', '0'],
      ['pause'],
      ['tag', jid],
      ['config', 'set', 'heartbeat', 'soon'],
      ['config', 'set', 'heartbeat'],
      ['config', 'frob', 'heartbeat'],
      ['config', 'get', 'heartbeat', 'extra'],
      ['jobs', 'waiting', 'q'],
      ['jobs', 'running'],
      ['jobs', 'complete', 'q'],
      ['stats', 'q', '--date', '2024-13-01'],
      ['stats', 'q', '--date', 'yesterday'],
      ['peek', 'q', 'many'],
      ['failed', 'f-Boom', '--limit', '0'],
      ['queues', '--offset', '-1'],
      ['--redis', 'http://127.0.0.1:1', 'put', 'q', 'K'],
    ];
    for (const args of cases) {
      const result = await qless(args, { redis: core.server.url });
      assert.equal(result.code, 2, `qless ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
      assertOneLine(result.stderr);
      assert.equal(result.stdout, '', `qless ${args.join(' ')} printed ${result.stdout}`);
    }
    assert.deepEqual(await core.snapshot(), before);
  });

  test('bad usage is refused before connecting: exit 2 even when Redis is unreachable', async () => {
    const nowhere = `redis://127.0.0.1:${await freePort()}`;
    const result = await qless(['put', 'q', 'K', '--data', '{bad'], { redis: nowhere });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--data is not valid JSON/);
  });

  test('an unreachable Redis: one clear line, exit 3, no stack trace', async () => {
    const nowhere = `redis://127.0.0.1:${await freePort()}`;
    for (const args of [['queues'], ['put', 'q', 'K'], ['get', 'x'], ['watch']]) {
      const result = await qless(args, { redis: nowhere });
      assert.equal(result.code, 3, `qless ${args.join(' ')}: ${result.stderr}`);
      assertOneLine(result.stderr);
      assert.match(result.stderr, new RegExp(`cannot connect to Redis at ${nowhere}: .*ECONNREFUSED`));
    }
  });

  test('a Redis that accepts connections but never answers does not hang qless', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const result = await qless(['queues'], { redis: `redis://127.0.0.1:${port}`, timeout: 25_000 });
      assert.equal(result.signal, null, 'qless hung and was killed');
      assert.equal(result.code, 3);
      assertOneLine(result.stderr);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('a wrong password: one line naming the URL without the password, exit 3', async () => {
    const guarded = await startRedis({ args: ['--requirepass', 'secret'] });
    try {
      const wrong = await qless(['queues'], { redis: guarded.url.replace('redis://', 'redis://:hunter2@') });
      assert.equal(wrong.code, 3);
      assertOneLine(wrong.stderr);
      assert.match(wrong.stderr, /WRONGPASS/);
      assert.doesNotMatch(wrong.stderr, /hunter2/);
      const right = await qless(['queues'], { redis: guarded.url.replace('redis://', 'redis://:secret@') });
      assert.equal(right.code, 0, right.stderr);
      assert.equal(right.stdout, 'no queues\n');
    } finally {
      await guarded.stop();
    }
  });

  test('--redis wins over QLESS_REDIS_URL and REDIS_URL', async () => {
    const nowhere = `redis://127.0.0.1:${await freePort()}`;
    const viaFlag = await qless(['--redis', core.server.url, 'queues', '--json'], {
      redis: nowhere,
      env: { REDIS_URL: nowhere },
    });
    assert.equal(viaFlag.code, 0, viaFlag.stderr);
    assert.deepEqual(
      (JSON.parse(viaFlag.stdout) as { queues: { name: string }[] }).queues.map((queue) => queue.name).sort(),
      ['f', 'q'],
    );
    const viaRedisUrl = await qless(['queues', '--json'], { env: { REDIS_URL: core.server.url } });
    assert.equal(viaRedisUrl.code, 0, viaRedisUrl.stderr);
    const chained = await qless(['queues'], { redis: nowhere, env: { REDIS_URL: core.server.url } });
    assert.equal(chained.code, 3, 'QLESS_REDIS_URL comes before REDIS_URL');
  });

  test('qless script prints the unified Lua script byte for byte, loadable under its SHA1', async () => {
    const result = await qless(['script']);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, scriptSource());
    assert.equal(createHash('sha1').update(result.stdout).digest('hex'), scriptSha());
    await core.redis.script('FLUSH');
    assert.equal(await core.redis.script('LOAD', result.stdout), scriptSha());
    const reply = await core.redis.evalsha(scriptSha(), 0, 'get', String(Date.now() / 1000), jid);
    assert.equal((JSON.parse(String(reply)) as { jid: string }).jid, jid);
  });

  test('qless script needs no Redis: it prints the script even when the URL points nowhere', async () => {
    const nowhere = `redis://127.0.0.1:${await freePort()}`;
    const result = await qless(['script'], { redis: nowhere });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.equal(result.stdout, scriptSource());
  });
});
