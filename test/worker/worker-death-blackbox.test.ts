// A worker killed with -9 while it holds several jobs, black-box: the supervisor hands every job
// it held back to its queue at once (not after the locks expire), the replacement in the same slot
// (same name) runs them, and no job is lost or failed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, isAlive } from '../helpers/worker.ts';
import { dataOf, isReady, JOBS, readyLines, startedJob, stopPool, usePools } from './blackbox.ts';

const fx = usePools('worker-death');

describe('kill -9 of a worker holding several jobs (-c 3)', () => {
  test('every job it held is handed back at once and completed by the replacement; nothing lost', async () => {
    const gate = join(fx.scratch, 'kill9-gate');
    const run = fx.poolOn('k9c', 'k9c', JOBS, ['-w', '1', '-c', '3']);
    const first = await run.waitForLine(isReady);
    const jids: string[] = [];
    for (let i = 0; i < 5; i++) jids.push(await fx.client.queue('k9c').put('gate', { gate }, { retries: 3 }));
    const held = await eventually(
      async () => {
        const mine = await fx.client.workers.get('k9c-0');
        return mine.jobs.length === 3 ? mine.jobs : undefined;
      },
      { what: `three jobs held by k9c-0\n${run.describe()}` },
    );
    for (const jid of held) await run.waitForLine(startedJob(jid));
    process.kill(first.pid, 'SIGKILL');
    await run.waitForLine((line) => line.msg.includes('exited unexpectedly') && line.workerPid === first.pid);
    for (const jid of held) await run.waitForLine((line) => line.msg.includes('handed back') && line.jid === jid);
    const second = await eventually(() => readyLines(run).find((line) => line.pid !== first.pid), {
      what: `a replacement ready\n${run.describe()}`,
    });
    writeFileSync(gate, 'open');

    const jobs = await fx.allComplete(jids, run);
    assert.equal(isAlive(first.pid), false);
    for (const one of jobs) {
      assert.notEqual(dataOf(one).pid, first.pid, `${one.jid} completed by a live worker`);
      const pops = one.history.filter((entry) => entry.what === 'popped').map((entry) => entry.worker);
      assert.ok(
        pops.every((worker) => worker === 'k9c-0'),
        'always under the slot name',
      );
      assert.equal(pops.length, held.includes(one.jid) ? 2 : 1, `${one.jid}: popped again only if it was held`);
    }
    assert.ok(jobs.some((one) => dataOf(one).pid === second.pid));
    assert.deepEqual(await fx.failedGroupsOf('k9c'), []);
    await stopPool(run);
  });
});
