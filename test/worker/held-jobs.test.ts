// The held-jobs reports to the supervisor: the first change after a quiet spell is reported at
// once (one report for the jobs of one pop), later changes within REPORT_EVERY_MS are folded
// into one trailing report with the final set, and flush() sends what is pending.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeldJobs } from '../../src/worker/held-jobs.ts';
import { REPORT_EVERY_MS } from '../../src/worker/report-throttle.ts';
import type { HeldJob } from '../../src/protocol/ipc.ts';

const job = (jid: string, expires = 100): HeldJob => ({ jid, queue: 'q', klass: 'k', expires });
const microtasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('the jobs of one pop share one report, sent before any later turn of the event loop', async () => {
  const reports: HeldJob[][] = [];
  const held = new HeldJobs((jobs) => reports.push(jobs));
  held.add(job('a'));
  held.add(job('b'));
  assert.equal(reports.length, 0, 'not synchronously: the rest of the pop joins');
  await Promise.resolve();
  assert.deepEqual(reports, [[job('a'), job('b')]]);
});

test('changes right after a report are folded into one trailing report with the final set', async (t) => {
  // The report's timer and the clock it is measured by, both under the test's control.
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const reports: HeldJob[][] = [];
  const held = new HeldJobs(
    (jobs) => reports.push(jobs),
    () => Date.now(),
  );
  held.add(job('a'));
  await microtasks();
  held.add(job('b'));
  held.remove('a');
  held.updateExpiry('b', 200);
  held.add(job('c'));
  held.remove('c');
  await microtasks();
  assert.equal(reports.length, 1, 'throttled');
  t.mock.timers.tick(REPORT_EVERY_MS - 1);
  assert.equal(reports.length, 1, `nothing more before ${REPORT_EVERY_MS} ms`);
  t.mock.timers.tick(1);
  assert.deepEqual(reports, [[job('a')], [job('b', 200)]]);
});

test('flush sends what is pending; nothing pending sends nothing', async () => {
  const reports: HeldJob[][] = [];
  const held = new HeldJobs((jobs) => reports.push(jobs));
  held.add(job('a'));
  await microtasks();
  held.remove('a');
  held.flush();
  assert.deepEqual(reports, [[job('a')], []]);
  held.flush();
  assert.equal(reports.length, 2);
});
