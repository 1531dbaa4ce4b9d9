// A cancel that reaches the worker before the reply of the pop that gave it the job (the event
// and the reply come on two connections), with the real runner, client and call batcher on a
// private redis-server: the job ends as cancelled without its handler running, instead of running
// until its next heartbeat is refused; a cancel of another job changes nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Client } from '../../src/client/client.ts';
import type { JobJson } from '../../src/client/types.ts';
import { CallBatcher } from '../../src/worker/call-batcher.ts';
import { HeldJobs } from '../../src/worker/held-jobs.ts';
import { JobRunner } from '../../src/worker/job/runner.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { JOBS } from './blackbox.ts';

const WORKER = 'early-0';
let server: RedisServer;
let client: Client;
let scratch: string;
let home: string;
const lines: Record<string, unknown>[] = [];

before(async () => {
  server = await startRedis();
  client = new Client({ url: server.url, workerName: WORKER });
  scratch = realpathSync(mkdtempSync(join(tmpdir(), 'qless-early-cancel-')));
  // The runner moves the process into the slot's sandbox (as in a worker process); back after.
  home = process.cwd();
});

after(async () => {
  process.chdir(home);
  await client?.close();
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function runner(): JobRunner {
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const batcher = new CallBatcher((calls) => {
    const batch = client.batch();
    for (const call of calls) batch.call(call.command, ...call.args);
    return batch.exec();
  });
  return new JobRunner(
    { name: WORKER, path: JOBS, sandbox: join(scratch, 'slot'), concurrency: 2 },
    { client, batcher, held: new HeldJobs(() => undefined), logger },
  );
}

/** Pops one job of `queue` as the worker, the way the fetcher gets it (the script's JSON). */
async function popOne(queue: string): Promise<JobJson> {
  const [json] = JSON.parse(String(await client.call('pop', queue, WORKER, 1))) as JobJson[];
  assert.ok(json, `a job popped from ${queue}`);
  return json;
}

const ranHandler = (jid: string): boolean => lines.some((line) => line.jid === jid && line.marker === 'record');

test('a cancel before the pop reply: the job ends as cancelled and its handler never runs', async () => {
  const jobs = runner();
  const jid = await client.queue('early').put('record', {});
  const json = await popOne('early');
  await client.jobs.cancel(jid);
  // The canceled event is handled before the runner gets the popped job.
  jobs.lockLost(jid, 'canceled');
  assert.equal(await jobs.run(json, 0), 'canceled');
  assert.equal(ranHandler(jid), false, 'the handler did not run');

  // Popped again later (not possible for a cancelled job, but a jid may be put anew): runs as usual.
  const again = await client.queue('early').put('record', {}, { jid });
  assert.equal(again, jid);
  assert.equal(await jobs.run(await popOne('early'), 0), 'completed');
  assert.equal(ranHandler(jid), true);
});

test('a cancel of another job leaves a popped job alone', async () => {
  const jobs = runner();
  const jid = await client.queue('other').put('record', {});
  const json = await popOne('other');
  jobs.lockLost('f'.repeat(32), 'canceled');
  assert.equal(await jobs.run(json, 0), 'completed');
  assert.equal(ranHandler(jid), true);
  await jobs.writesSettled();
  assert.equal((await client.jobs.get(jid))?.state, 'complete');
});
