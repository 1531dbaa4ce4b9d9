// Several hosts on one qless: two qless-worker supervisors with different --name prefixes (as on
// two machines) share one queue of 20,000 jobs. Every job completes, none runs twice (the
// handler's own record on disk), both pools take part, and `qless workers` lists both pools.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '../../src/client/index.ts';
import { qlessJson } from '../helpers/cli.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { eventually, startWorker, type WorkerRun } from '../helpers/worker.ts';

const HANDLERS = fileURLToPath(new URL('./fixtures/', import.meta.url));
const JOBS = 20_000;

describe('two supervisors on one qless', () => {
  let server: RedisServer;
  let client: Client;
  const pools: WorkerRun[] = [];
  let dir: string;

  before(async () => {
    server = await startRedis();
    client = new Client({ url: server.url, workerName: 'producer' });
    dir = mkdtempSync(join(tmpdir(), 'qless-ha-hosts-'));
  });

  after(async () => {
    for (const pool of pools) await pool.kill();
    await client?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test(`${JOBS} jobs: all complete, none twice, both pools work and are listed`, async () => {
    const queue = client.queue('shared');
    for (let i = 0; i < JOBS; i += 1_000)
      await Promise.all(Array.from({ length: Math.min(1_000, JOBS - i) }, () => queue.put('runs', {})));
    const runsFile = join(dir, 'runs.log');
    writeFileSync(runsFile, '');
    for (const name of ['host-a', 'host-b']) {
      mkdirSync(join(dir, name));
      pools.push(
        startWorker(
          [
            ...['-q', 'shared', '-w', '2', '-c', '4', '-i', '0.2', '--no-watch', '-r', server.url],
            ...['-p', HANDLERS, '-d', join(dir, name), '-n', name],
          ],
          { env: { HA_RUNS_FILE: runsFile }, cwd: dir },
        ),
      );
    }
    await eventually(async () => (await client.redis.zcard('ql:completed')) === JOBS, {
      timeout: 240_000,
      interval: 250,
      what: `all ${JOBS} jobs completed`,
    });

    const runs = readFileSync(runsFile, 'utf8').split('\n').filter(Boolean);
    const byJid = new Map<string, number>();
    const byPid = new Map<number, number>();
    for (const line of runs) {
      const [jid, , pid] = line.split(' ');
      byJid.set(jid, (byJid.get(jid) ?? 0) + 1);
      byPid.set(Number(pid), (byPid.get(Number(pid)) ?? 0) + 1);
    }
    assert.equal(byJid.size, JOBS, 'every job ran');
    assert.deepEqual(
      [...byJid].filter(([, count]) => count > 1),
      [],
      'no job ran twice',
    );
    assert.deepEqual(await client.redis.smembers('ql:failures'), [], 'nothing failed');

    // Both pools ran jobs: each pool's worker processes appear in the record.
    for (const pool of pools) {
      const pids = pool.find('forked worker').map((line) => Number(line.workerPid));
      const ran = pids.reduce((sum, pid) => sum + (byPid.get(pid) ?? 0), 0);
      assert.ok(ran > 0, `pool ${pool.pid} ran jobs`);
    }
    const listed = await qlessJson<{ workers: { name: string }[] }>(['workers'], { redis: server.url });
    assert.deepEqual(listed.workers.map((worker) => worker.name).sort(), [
      'host-a-0',
      'host-a-1',
      'host-b-0',
      'host-b-1',
    ]);
  });
});
