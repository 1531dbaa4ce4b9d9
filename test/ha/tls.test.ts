// TLS: a redis-server that speaks only TLS (--port 0, --tls-port) with certificates made here by
// openssl, and asks for client certificates. The pool (flags) and `qless` (URL parameters) work
// over rediss://; a wrong CA, or no client certificate, is refused with a clear message (exit 3).
// Then Sentinel over TLS (rediss+sentinel://): data nodes, replication and sentinels TLS only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '../../src/client/index.ts';
import { qless } from '../helpers/cli.ts';
import { dataNodeArgs, RedisProcess } from '../helpers/redis-process.ts';
import { SentinelCluster } from '../helpers/sentinel.ts';
import { makeCertificates, type TestCertificates } from '../helpers/tls-certs.ts';
import { eventually, startWorker, type WorkerRun } from '../helpers/worker.ts';

const HANDLERS = fileURLToPath(new URL('./fixtures/', import.meta.url));

describe('TLS with a CA and client certificates', () => {
  let certs: TestCertificates;
  let server: RedisProcess;
  let client: Client;
  let pool: WorkerRun | undefined;
  let dir: string;
  let base: string;
  /** The URL with every TLS file as a parameter. */
  let full: string;

  before(async () => {
    certs = makeCertificates();
    server = await RedisProcess.start({
      tls: true,
      args: (port, home) =>
        dataNodeArgs(0, home, [
          ...['--tls-port', String(port), '--tls-cert-file', certs.serverCert, '--tls-key-file', certs.serverKey],
          ...['--tls-ca-cert-file', certs.ca, '--tls-auth-clients', 'yes'],
        ]),
    });
    base = `rediss://127.0.0.1:${server.port}`;
    full = `${base}?tls_ca=${certs.ca}&tls_cert=${certs.clientCert}&tls_key=${certs.clientKey}`;
    client = new Client({ url: full, workerName: 'producer' });
    dir = mkdtempSync(join(tmpdir(), 'qless-ha-tls-'));
  });

  after(async () => {
    await pool?.kill();
    await client?.close();
    await server?.stop();
    certs?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the pool (--tls-ca, --tls-cert, --tls-key) runs jobs over rediss://', async () => {
    const runsFile = join(dir, 'runs.log');
    writeFileSync(runsFile, '');
    const jids = await Promise.all(Array.from({ length: 20 }, () => client.queue('tls').put('runs', {})));
    pool = startWorker(
      [
        ...['-q', 'tls', '-w', '2', '-i', '0.2', '-p', HANDLERS, '-d', dir, '-n', 'tls', '--no-watch', '-r', base],
        ...['--tls-ca', certs.ca, '--tls-cert', certs.clientCert, '--tls-key', certs.clientKey],
      ],
      { env: { HA_RUNS_FILE: runsFile } },
    );
    await eventually(async () => (await client.redis.zcard('ql:completed')) === jids.length, {
      what: 'every job completed over TLS',
    });
    const states = await Promise.all(jids.map((jid) => client.redis.hget(`ql:j:${jid}`, 'state')));
    assert.deepEqual(new Set(states), new Set(['complete']));
    await eventually(async () => (await client.redis.zrange('ql:workers', 0, -1)).sort().join() === 'tls-0,tls-1', {
      what: 'both workers polled over TLS',
    });
  });

  test('qless over rediss:// with the files as URL parameters', async () => {
    const put = await qless(['put', 'tls', 'runs'], { redis: full });
    assert.equal(put.code, 0, put.stderr);
    const jid = put.stdout.trim();
    assert.equal(await client.redis.hget(`ql:j:${jid}`, 'klass'), 'runs');
    const get = await qless(['get', jid, '--json'], { redis: full });
    assert.equal(get.code, 0, get.stderr);
    assert.equal((JSON.parse(get.stdout) as { jid: string }).jid, jid);
  });

  test('a wrong CA is refused: exit 3, a message naming the CA, nothing written', async () => {
    const before = await client.redis.dbsize();
    const result = await qless(
      ['put', 'tls', 'runs', '--tls-ca', certs.otherCa, '--tls-cert', certs.clientCert, '--tls-key', certs.clientKey],
      { redis: base },
    );
    assert.equal(result.code, 3, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        String.raw`^qless: cannot connect to Redis at rediss:\/\/.*: ` +
          "TLS: the server's certificate is not signed by a trusted CA .*--tls-ca",
      ),
    );
    assert.equal(result.stderr.split('\n').filter(Boolean).length, 1, 'one line');
    assert.equal(await client.redis.dbsize(), before);
  });

  test('no client certificate for a server that asks for one: exit 3, one line saying so', async () => {
    const result = await qless(['queues', '--tls-ca', certs.ca], { redis: base });
    assert.equal(result.code, 3, result.stderr);
    assert.equal(
      result.stderr.trim().split(': ').slice(-2).join(': '),
      'TLS: the server asks for a client certificate; give one with --tls-cert and --tls-key',
    );
  });

  test('TLS flags for a redis:// URL, or a CA file that is missing, are bad usage (exit 2)', async () => {
    const plain = await qless(['queues', '--tls-ca', certs.ca], { redis: `redis://127.0.0.1:${server.port}` });
    assert.equal(plain.code, 2, plain.stderr);
    assert.match(plain.stderr, /--tls-ca, --tls-cert and --tls-key need a rediss:\/\//);
    const missing = await qless(['queues', '--tls-ca', join(dir, 'nope.pem')], { redis: base });
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /the tls_ca file .*nope\.pem cannot be read \(ENOENT\)/);
  });
});

describe('Sentinel over TLS (rediss+sentinel://)', () => {
  let certs: TestCertificates;
  let cluster: SentinelCluster;
  let client: Client;
  let pool: WorkerRun | undefined;
  let dir: string;

  before(async () => {
    certs = makeCertificates();
    cluster = await SentinelCluster.start({ tls: { ca: certs.ca, cert: certs.serverCert, key: certs.serverKey } });
    client = new Client({ url: cluster.url(), workerName: 'producer' });
    dir = mkdtempSync(join(tmpdir(), 'qless-ha-tls-sentinel-'));
  });

  after(async () => {
    await pool?.kill();
    await client?.close();
    await cluster?.stop();
    certs?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  test('qless and a pool find the primary through TLS sentinels and talk to it over TLS', async () => {
    const url = cluster.url();
    assert.match(url, /^rediss\+sentinel:\/\/.*\?tls_ca=/);
    const put = await qless(['put', 'tls-sentinel', 'runs'], { redis: url });
    assert.equal(put.code, 0, put.stderr);
    const jid = put.stdout.trim();
    const runsFile = join(dir, 'runs.log');
    writeFileSync(runsFile, '');
    pool = startWorker(
      ['-q', 'tls-sentinel', '-w', '1', '-i', '0.2', '-p', HANDLERS, '-d', dir, '-n', 'tls-s', '--no-watch', '-r', url],
      { env: { HA_RUNS_FILE: runsFile } },
    );
    await eventually(async () => (await client.redis.hget(`ql:j:${jid}`, 'state')) === 'complete', {
      what: 'the job completed through the TLS sentinels',
    });
    // On the primary the sentinels name, reached over TLS only.
    const primary = cluster.connect((await cluster.primary()).port);
    try {
      assert.equal(await primary.hget(`ql:j:${jid}`, 'state'), 'complete');
    } finally {
      primary.disconnect();
    }
  });
});
