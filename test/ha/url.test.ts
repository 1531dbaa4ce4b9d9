// The connection description: every URL form parsed as documented, wrong ones refused with one
// clear message that never shows a password, TLS flags folded into the URL, secrets hidden from
// arguments, and the ioredis options each form stands for.
import { describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  InvalidInputError,
  parseRedisUrl,
  redactPassword,
  redisOptionsFor,
  resolveRedisUrl,
  withTlsFiles,
} from '../../src/client/index.ts';
import { foldTlsFlags, redactArguments } from '../../src/cli/connection-flags.ts';
import { commandConnectionOptions, FAILOVER_WAIT_MS } from '../../src/client/command-connection.ts';

describe('Redis URL forms', () => {
  test('redis:// and rediss://: host, port, user, password, db', () => {
    assert.deepEqual(parseRedisUrl('redis://127.0.0.1:6380/2'), {
      scheme: 'redis',
      sentinel: false,
      tls: false,
      tlsFiles: {},
      username: undefined,
      password: undefined,
      db: 2,
      hosts: [{ host: '127.0.0.1', port: 6380 }],
      masterName: undefined,
    });
    const tls = parseRedisUrl('rediss://worker:p%40ss@redis.example:6390');
    assert.equal(tls.tls, true);
    assert.equal(tls.username, 'worker');
    assert.equal(tls.password, 'p@ss');
    assert.deepEqual(tls.hosts, [{ host: 'redis.example', port: 6390 }]);
    assert.deepEqual(parseRedisUrl('redis://[::1]').hosts, [{ host: '::1', port: 6379 }]);
    assert.equal(parseRedisUrl('redis://:only-password@h').password, 'only-password');
    assert.equal(parseRedisUrl('redis://:only-password@h').username, undefined);
  });

  test('redis+sentinel://: the sentinels (default port 26379), the master name, the db', () => {
    const target = parseRedisUrl('redis+sentinel://app:secret@s1:26380,s2,[::1]:26381/mymaster/3');
    assert.equal(target.sentinel, true);
    assert.equal(target.tls, false);
    assert.deepEqual(target.hosts, [
      { host: 's1', port: 26380 },
      { host: 's2', port: 26379 },
      { host: '::1', port: 26381 },
    ]);
    assert.equal(target.masterName, 'mymaster');
    assert.equal(target.db, 3);
    assert.equal(target.username, 'app');
    assert.equal(target.password, 'secret');
    assert.equal(parseRedisUrl('redis+sentinel://s1/m').db, 0);
    assert.equal(parseRedisUrl('rediss+sentinel://s1/m?tls_ca=/ca.pem').tlsFiles.ca, '/ca.pem');
  });

  test('wrong URLs are refused with a message that names the problem and hides the password', () => {
    const cases: [string, RegExp][] = [
      ['not a url', /cannot be parsed/],
      ['http://h:1', /must start with redis:\/\/ or rediss:\/\//],
      ['redis://h:99999', /bad port/],
      ['redis://h:1/x', /database number/],
      ['redis://h1,h2', /several hosts: that needs redis\+sentinel/],
      ['redis+sentinel://:hunter2@s1,s2', /names no master/],
      ['redis+sentinel://:hunter2@/m', /names no sentinel/],
      ['redis+sentinel://s1/m/x', /database number/],
      ['redis+sentinel://s1/m/1/2', /\/<master-name>\[\/db\]/],
      ['redis://:hunter2@h?tls_ca=/ca.pem', /TLS parameters but no TLS scheme/],
      ['rediss://:hunter2@h?tls_cert=/c.pem', /tls_cert and tls_key together/],
      ['rediss://:hunter2@h?family=6', /unknown parameter "family"/],
      ['rediss://:hunter2@h?tls_ca=/a&tls_ca=/b', /tls_ca twice/],
    ];
    for (const [url, says] of cases) {
      assert.throws(
        () => parseRedisUrl(url),
        (error: Error) =>
          error instanceof InvalidInputError && says.test(error.message) && !error.message.includes('hunter2'),
        url,
      );
    }
  });

  test('redactPassword hides the password of every form, and only that', () => {
    assert.equal(redactPassword('redis://:pw@h:1/2'), 'redis://:***@h:1/2');
    assert.equal(redactPassword('rediss://user:pw@h'), 'rediss://user:***@h');
    assert.equal(
      redactPassword('redis+sentinel://app:p@w/d@s1:26379,s2:26379/master/1'),
      'redis+sentinel://app:***@s1:26379,s2:26379/master/1',
    );
    assert.equal(
      redactPassword('rediss+sentinel://:pw@s1/m?tls_ca=/certs/a@b.pem'),
      'rediss+sentinel://:***@s1/m?tls_ca=/certs/a@b.pem',
    );
    assert.equal(redactPassword('redis://user@h'), 'redis://user@h');
    assert.equal(redactPassword('redis://h:6379'), 'redis://h:6379');
  });
});

describe('TLS files', () => {
  test('as flags they become URL parameters; relative paths are made absolute; unreadable ones are refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qless-ha-url-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), 'not checked here');
      const folded = foldTlsFlags('rediss://:pw@h:1', { 'tls-ca': join(dir, 'ca.pem') });
      assert.equal(folded, `rediss://:pw@h:1?tls_ca=${join(dir, 'ca.pem')}`);
      assert.equal(parseRedisUrl(folded).tlsFiles.ca, join(dir, 'ca.pem'));
      // A flag replaces the same parameter of the URL and keeps the others.
      assert.equal(
        withTlsFiles('rediss://h?tls_ca=/old.pem&tls_cert=/c.pem&tls_key=/k.pem', { ca: '/new 1+1.pem' }),
        'rediss://h?tls_ca=/new%201%2B1.pem&tls_cert=/c.pem&tls_key=/k.pem',
      );
      assert.equal(parseRedisUrl('rediss://h?tls_ca=/new%201%2B1.pem').tlsFiles.ca, '/new 1+1.pem');
      assert.throws(
        () => foldTlsFlags('redis://:pw@h:1', { 'tls-ca': 'ca.pem' }),
        /--tls-ca, --tls-cert and --tls-key need a rediss:\/\//,
      );

      const cwd = process.cwd();
      process.chdir(dir);
      try {
        assert.equal(resolveRedisUrl('rediss://h?tls_ca=ca.pem', {}), `rediss://h?tls_ca=${join(dir, 'ca.pem')}`);
      } finally {
        process.chdir(cwd);
      }
      assert.throws(
        () => resolveRedisUrl(`rediss://h?tls_ca=${join(dir, 'missing.pem')}`, {}),
        /the tls_ca file .*missing\.pem cannot be read \(ENOENT\)/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the ioredis options a URL stands for', () => {
  test('Sentinel: the sentinels, the master name, role master; the sentinel password only from the environment', () => {
    const options = redisOptionsFor(parseRedisUrl('redis+sentinel://app:data-pw@s1:1,s2:2/m/4'), {
      QLESS_SENTINEL_PASSWORD: 'sentinel-pw',
    });
    assert.deepEqual(options.sentinels, [
      { host: 's1', port: 1 },
      { host: 's2', port: 2 },
    ]);
    assert.equal(options.name, 'm');
    assert.equal(options.role, 'master');
    assert.equal(options.db, 4);
    assert.equal(options.username, 'app');
    assert.equal(options.password, 'data-pw');
    assert.equal(options.sentinelPassword, 'sentinel-pw');
    assert.equal(redisOptionsFor(parseRedisUrl('redis+sentinel://s1/m'), {}).sentinelPassword, undefined);
  });

  test('READONLY and LOADING replies are sent again after a reconnect, other errors are not', () => {
    const { reconnectOnError } = redisOptionsFor(parseRedisUrl('redis://h'), {});
    assert.ok(reconnectOnError);
    assert.equal(reconnectOnError(new Error("READONLY You can't write against a read only replica.")), 2);
    assert.equal(reconnectOnError(new Error('LOADING Redis is loading the dataset in memory')), 2);
    assert.equal(reconnectOnError(new Error('ERR user_script:1: Job does not exist')), false);
    assert.equal(reconnectOnError(new Error('NOPERM no permission')), false);
  });

  test('a server that keeps answering READONLY (a URL naming a replica): its error after 30 resends a minute', () => {
    const { reconnectOnError } = redisOptionsFor(parseRedisUrl('redis://h'), {});
    assert.ok(reconnectOnError);
    const answers = Array.from({ length: 31 }, () => reconnectOnError(new Error('READONLY replica')));
    assert.deepEqual(answers.slice(0, 30), Array(30).fill(2));
    assert.equal(answers[30], false);
  });
});

describe('secrets on the command line', () => {
  test('the sentinel password and URL passwords are replaced by ***', () => {
    assert.deepEqual(
      redactArguments([
        '-q',
        'a',
        '--sentinel-password',
        's3cret',
        '-r',
        'redis+sentinel://:pw@s1,s2/m',
        '--sentinel-password=other',
        '--redis=rediss://u:pw2@h',
      ]),
      [
        '-q',
        'a',
        '--sentinel-password',
        '***',
        '-r',
        'redis+sentinel://:***@s1,s2/m',
        '--sentinel-password=***',
        '--redis=rediss://u:***@h',
      ],
    );
  });
});

describe('a command connection', () => {
  test('plain URL: one attempt; Sentinel URL: retries for 60 s from each loss of the connection', () => {
    const plain = commandConnectionOptions('redis://h:1');
    assert.equal(plain.retryStrategy?.(1), null);
    assert.equal(plain.maxRetriesPerRequest, 0);
    mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    try {
      const { retryStrategy, sentinelRetryStrategy, maxRetriesPerRequest } =
        commandConnectionOptions('redis+sentinel://s1/m');
      assert.ok(retryStrategy && sentinelRetryStrategy);
      assert.equal(maxRetriesPerRequest, null, 'calls wait for the new primary');
      // A long-running command (watch) loses its primary an hour after it started: it waits again.
      mock.timers.tick(3_600_000);
      assert.equal(retryStrategy(1), 200);
      mock.timers.tick(FAILOVER_WAIT_MS - 1);
      assert.equal(retryStrategy(300), 200);
      mock.timers.tick(1);
      assert.equal(retryStrategy(301), null, 'gives up 60 s after the loss');
      // Every sentinel unreachable for a whole round: give up at once.
      assert.equal(sentinelRetryStrategy(1), 10);
      assert.equal(sentinelRetryStrategy(2), null);
    } finally {
      mock.timers.reset();
    }
  });
});
