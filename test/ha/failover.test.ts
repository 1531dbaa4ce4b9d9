// Failover under load: a primary, a replica and three sentinels (real processes), a qless-worker
// pool of 4 workers on the Sentinel URL with jobs flowing, then kill -9 of the primary. Sentinel
// promotes the replica; the pool moves by itself; every job ends completed (those whose completion
// the dead primary had not replicated run again, counted); nothing fails because of the switch;
// `qless put` and `qless get` sent during the failover wait for the new primary. The data nodes
// and the sentinels have passwords; neither shows in a log line, a command line or Redis.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, scriptSha } from '../../src/client/index.ts';
import { qless, startQless } from '../helpers/cli.ts';
import type { RedisProcess } from '../helpers/redis-process.ts';
import { SentinelCluster } from '../helpers/sentinel.ts';
import { eventually, isAlive, startWorker, type WorkerRun } from '../helpers/worker.ts';

const HANDLERS = fileURLToPath(new URL('./fixtures/', import.meta.url));
const JOBS = 1500;
/** Jobs completed before the kill, so that the kill lands on a pool in full flow. */
const COMPLETED_BEFORE_KILL = 300;
const DATA_PASSWORD = 'data-pw-5d1c';
const SENTINEL_PASSWORD = 'sentinel-pw-8e2a';

/** Every key of the database with its contents, as text (to look for secrets in). */
async function everything(client: Client): Promise<string> {
  const parts: string[] = [];
  for (const key of await client.redis.keys('*')) {
    const type = await client.redis.type(key);
    if (type === 'string') parts.push(key, String(await client.redis.get(key)));
    else if (type === 'hash') parts.push(key, JSON.stringify(await client.redis.hgetall(key)));
    else if (type === 'list') parts.push(key, JSON.stringify(await client.redis.lrange(key, 0, -1)));
    else if (type === 'set') parts.push(key, JSON.stringify(await client.redis.smembers(key)));
    else if (type === 'zset') parts.push(key, JSON.stringify(await client.redis.zrange(key, 0, -1)));
  }
  return parts.join('\n');
}

/** The handler's record: each jid's run start times. */
function readRuns(file: string): Map<string, number[]> {
  const runs = new Map<string, number[]>();
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const [jid, startedAt] = line.split(' ');
    runs.set(jid, [...(runs.get(jid) ?? []), Number(startedAt)]);
  }
  return runs;
}

function commandLine(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
}

describe('failover: kill -9 of the primary under a pool of 4 workers', () => {
  let cluster: SentinelCluster;
  let producer: Client;
  let pool: WorkerRun | undefined;
  let dir: string;
  let url: string;
  let runsFile: string;
  let dead: RedisProcess | undefined;
  const cli = (): { redis: string; env: Record<string, string> } => ({
    redis: url,
    env: { QLESS_SENTINEL_PASSWORD: SENTINEL_PASSWORD },
  });

  before(async () => {
    cluster = await SentinelCluster.start({ password: DATA_PASSWORD, sentinelPassword: SENTINEL_PASSWORD });
    url = cluster.url({ auth: `:${DATA_PASSWORD}` });
    dir = mkdtempSync(join(tmpdir(), 'qless-ha-failover-'));
    producer = new Client({
      url,
      workerName: 'producer',
      redisOptions: { maxRetriesPerRequest: null, sentinelPassword: SENTINEL_PASSWORD },
    });
    producer.redis.on('error', () => undefined);
  });

  after(async () => {
    await pool?.kill();
    await producer?.close();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the pool resumes on the new primary; every job completes; nothing fails', async (t) => {
    // A lock whose completion died with the old primary expires (and its job runs again) within seconds.
    await producer.config.set('heartbeat', 3);
    const queue = producer.queue('ha');
    const jids: string[] = [];
    for (let i = 0; i < JOBS; i += 100) {
      const chunk = Array.from({ length: Math.min(100, JOBS - i) }, () => queue.put('runs', { ms: 4 }));
      jids.push(...(await Promise.all(chunk)));
    }
    // Every put reached the replica: the failover must not lose a job that was put.
    assert.equal(await producer.redis.wait(1, 5_000), 1, 'the replica acknowledged the puts');

    runsFile = join(dir, 'runs.log');
    writeFileSync(runsFile, '');
    pool = startWorker(
      [
        ...['-q', 'ha', '-w', '4', '-i', '0.2', '-p', HANDLERS, '-d', dir, '-n', 'ha', '--no-watch', '-r', url],
        ...['--sentinel-password', SENTINEL_PASSWORD],
      ],
      { env: { HA_RUNS_FILE: runsFile } },
    );
    await eventually(async () => (await producer.redis.zcard('ql:completed')) >= COMPLETED_BEFORE_KILL, {
      timeout: 30_000,
      what: `${COMPLETED_BEFORE_KILL} jobs completed before the kill`,
    });
    const forkedBefore = pool.find('forked worker').map((line) => line.workerPid);
    assert.equal(forkedBefore.length, 4, pool.describe());

    // Redis does not replicate its script cache: the replica has no qless script yet.
    const primaryBefore = await cluster.primary();
    const replica = cluster.connect(cluster.nodes.find((node) => node !== primaryBefore)?.port ?? 0);
    try {
      assert.deepEqual(await replica.script('EXISTS', scriptSha()), [0]);
    } finally {
      replica.disconnect();
    }
    const killed = await cluster.killPrimary();
    dead = killed.node;
    const killedAt = killed.at;
    // Sent while there is no primary: both wait for the promotion instead of failing.
    const put = startQless(['put', 'ha', 'runs', '--data', '{"ms":1}'], cli());
    const get = startQless(['get', jids[0], '--json'], cli());
    const promotion = await cluster.waitForPromotion(dead.port);
    t.diagnostic(`Sentinel promoted the replica ${promotion.at - killedAt} ms after the kill`);

    const putResult = await put.done;
    assert.equal(putResult.code, 0, `qless put during the failover: ${putResult.stderr}`);
    const putJid = putResult.stdout.trim();
    assert.match(putJid, /^[0-9a-f]{32}$/);
    const getResult = await get.done;
    assert.equal(getResult.code, 0, `qless get during the failover: ${getResult.stderr}`);
    assert.equal((JSON.parse(getResult.stdout) as { jid: string }).jid, jids[0]);
    jids.push(putJid);

    await eventually(async () => (await producer.redis.zcard('ql:completed')) >= jids.length, {
      timeout: 60_000,
      interval: 200,
      what: 'every job completed on the new primary',
    });
    // The producer follows Sentinel too: it reads the new primary.
    assert.equal(Number((await producer.redis.info('server')).match(/tcp_port:(\d+)/)?.[1]), promotion.port);
    // The script was loaded on the new primary at its first use there (NOSCRIPT, then SCRIPT LOAD).
    assert.deepEqual(await producer.redis.script('EXISTS', scriptSha()), [1]);

    const states = await Promise.all(jids.map((jid) => producer.redis.hget(`ql:j:${jid}`, 'state')));
    const notComplete = jids.filter((_, index) => states[index] !== 'complete');
    assert.deepEqual(notComplete, [], 'every job put before (and during) the kill ends completed');
    assert.deepEqual(await producer.redis.smembers('ql:failures'), [], 'nothing failed');
    assert.equal(await producer.redis.zcard('ql:q:ha-locks'), 0, 'nothing left running');
    assert.equal(await producer.redis.zcard('ql:q:ha-work'), 0, 'nothing left waiting');

    // What ran, from the handler's own record on disk.
    const runs = readRuns(runsFile);
    assert.deepEqual(
      jids.filter((jid) => !runs.has(jid)),
      [],
      'every job ran',
    );
    const again = [...runs].filter(([, starts]) => starts.length > 1);
    t.diagnostic(`${again.length} job(s) ran twice (their pop or completion died with the old primary)`);
    for (const [jid, starts] of again) {
      // Only the switch may run a job again: its first run came from the old primary (it began
      // before the new one could give out work), the second from the new one.
      assert.ok(starts[0] < promotion.at, `${jid} ran again without having run before the promotion`);
      assert.equal(starts.length, 2, `${jid} ran ${starts.length} times`);
    }

    // The supervisor and its four workers lived through it: no restart, no crash loop.
    assert.ok(isAlive(pool.pid), 'the supervisor is still running');
    assert.deepEqual(
      pool.find('forked worker').map((line) => line.workerPid),
      forkedBefore,
      'no worker was forked again',
    );
    assert.deepEqual(pool.find('exited'), [], 'no worker exited');
    for (const pid of forkedBefore) assert.ok(isAlive(pid as number), `worker ${pid} is alive`);

    // The passwords are nowhere to be read: not in the logs, not in `ps`, not in Redis.
    const logs = [...pool.lines.map((line) => JSON.stringify(line)), ...pool.otherStdout, pool.stderr].join('\n');
    assert.match(logs, /redis\+sentinel:\/\/:\*\*\*@/, 'the logs show the URL, redacted');
    const shown = [logs, commandLine(pool.pid), ...forkedBefore.map((pid) => commandLine(pid as number))];
    shown.push(await everything(producer));
    for (const text of shown) {
      assert.ok(!text.includes(DATA_PASSWORD), 'the data password is hidden');
      assert.ok(!text.includes(SENTINEL_PASSWORD), 'the sentinel password is hidden');
    }
    assert.match(commandLine(pool.pid), /--sentinel-password \*\*\*/);
  });

  test('a manual failover (the old primary demoted, still up): the pool follows', async (t) => {
    // Every job completes; nothing fails.
    assert.ok(pool && dead, 'runs after the kill test');
    // The killed node comes back as a replica; then Sentinel swaps the roles while jobs flow.
    await cluster.rejoin(dead);
    const before = await cluster.primary();
    const queue = producer.queue('ha');
    const jids: string[] = [];
    for (let i = 0; i < 1_000; i += 100)
      jids.push(...(await Promise.all(Array.from({ length: 100 }, () => queue.put('runs', { ms: 4 })))));
    assert.equal(await producer.redis.wait(1, 5_000), 1, 'the replica acknowledged the puts');
    const forked = pool.find('forked worker').length;
    const done = await producer.redis.zcard('ql:completed');
    await eventually(async () => (await producer.redis.zcard('ql:completed')) >= done + 200, {
      what: '200 of the new jobs completed before the failover',
    });
    await cluster.failover();
    const promotion = await cluster.waitForPromotion(before.port);
    t.diagnostic(`Sentinel moved the primary from ${before.port} to ${promotion.port}`);
    await eventually(
      async () => {
        const states = await Promise.all(jids.map((jid) => producer.redis.hget(`ql:j:${jid}`, 'state')));
        return states.every((state) => state === 'complete');
      },
      { timeout: 60_000, interval: 250, what: 'every new job completed on the new primary' },
    );
    assert.deepEqual(await producer.redis.smembers('ql:failures'), [], 'nothing failed');
    assert.equal(await producer.redis.zcard('ql:q:ha-locks'), 0, 'nothing left running');
    const runs = readRuns(runsFile);
    assert.deepEqual(
      jids.filter((jid) => !runs.has(jid)),
      [],
      'every job ran',
    );
    const again = jids.filter((jid) => (runs.get(jid)?.length ?? 0) > 1);
    t.diagnostic(`${again.length} job(s) ran twice (written to the old primary after the new one was promoted)`);
    for (const jid of again)
      assert.ok((runs.get(jid) ?? [])[0] < promotion.at, `${jid} ran again after the switch only`);
    assert.equal(pool.find('forked worker').length, forked, 'no worker was forked again');
    assert.deepEqual(pool.find('exited'), [], 'no worker exited');
  });

  test('qless after the failover: the workers of the pool are listed on the new primary', async () => {
    const result = await qless(['workers', '--json'], cli());
    assert.equal(result.code, 0, result.stderr);
    const { workers } = JSON.parse(result.stdout) as { workers: { name: string }[] };
    const names = workers.map((worker) => worker.name).sort();
    assert.deepEqual(names, ['ha-0', 'ha-1', 'ha-2', 'ha-3']);
  });

  test('qless with a wrong sentinel password, or an unknown master name: exit 3 with the reason', async () => {
    const wrong = await qless(['queues'], { ...cli(), env: { QLESS_SENTINEL_PASSWORD: 'wrong' } });
    assert.equal(wrong.code, 3, wrong.stderr);
    assert.match(
      wrong.stderr,
      /^qless: cannot connect to Redis at redis\+sentinel:\/\/:\*\*\*@.*no sentinel .*WRONGPASS/,
    );
    const unknown = await qless(['queues'], { ...cli(), redis: url.replace('/qless', '/nosuchmaster') });
    assert.equal(unknown.code, 3, unknown.stderr);
    assert.match(unknown.stderr, /no sentinel named a primary \(ERR No such master with that name\)/);
    for (const result of [wrong, unknown]) assert.ok(!result.stderr.includes(DATA_PASSWORD));
  });
});
