// READONLY from a primary that was demoted while the client is connected to it (as a managed
// service's failover behind one address does): the call is not an error; the connection
// reconnects and sends it again until the server takes writes, and the job completes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { Client } from '../../src/client/index.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { eventually } from '../helpers/worker.ts';

async function inSync(replica: Redis): Promise<void> {
  await eventually(async () => /master_link_status:up/.test(await replica.info('replication')), {
    what: 'the replica in sync',
  });
}

describe('READONLY', () => {
  let a: RedisServer;
  let b: RedisServer;
  let adminA: Redis;
  let adminB: Redis;
  let client: Client;

  before(async () => {
    [a, b] = await Promise.all([startRedis(), startRedis()]);
    adminA = new Redis(a.url);
    adminB = new Redis(b.url);
    await adminB.replicaof('127.0.0.1', a.port);
    await inSync(adminB);
    client = new Client({ url: a.url, workerName: 'w', redisOptions: { maxRetriesPerRequest: null } });
    client.redis.on('error', () => undefined);
  });

  after(async () => {
    await client?.close();
    adminA?.disconnect();
    adminB?.disconnect();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  test('a complete sent to a demoted primary is sent again, and completes once it takes writes again', async () => {
    const jid = await client.queue('q').put('K', {});
    const [job] = await client.queue('q').pop();
    assert.equal(job.jid, jid);
    await adminA.wait(1, 2_000);
    // A becomes a replica of B; its clients stay connected and get READONLY for writes.
    await adminB.replicaof('NO', 'ONE');
    await adminA.replicaof('127.0.0.1', b.port);
    await inSync(adminA);
    const readonly = await client.redis.evalsha('0'.repeat(40), 0).catch((error: Error) => error.message);
    assert.match(String(readonly), /NOSCRIPT/, 'the client still talks to A');
    const completing = job.complete();
    let settled = false;
    void completing.finally(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(settled, false, 'the complete waits while A refuses writes');
    assert.equal(await adminB.hget(`ql:j:${jid}`, 'state'), 'running');
    // A takes writes again (B follows it): the complete that was refused goes through.
    await adminA.replicaof('NO', 'ONE');
    await adminB.replicaof('127.0.0.1', a.port);
    assert.equal(await completing, 'complete');
    assert.equal(await adminA.hget(`ql:j:${jid}`, 'state'), 'complete');
  });
});
