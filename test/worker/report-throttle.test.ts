// When a worker's reports go out (src/worker/report-throttle.ts): the changes of one turn share
// one report sent in a microtask after a quiet spell; changes within REPORT_EVERY_MS of a report
// wait for one trailing report at the end of that interval; flush sends what is pending, and
// nothing when nothing is. The throttle's timer and clock are node:test's mock timers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REPORT_EVERY_MS, ReportThrottle } from '../../src/worker/report-throttle.ts';

const microtasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('the changes of one turn share one report, sent in a microtask', async () => {
  let sent = 0;
  const throttle = new ReportThrottle(() => sent++);
  throttle.changed();
  throttle.changed();
  assert.equal(sent, 0, 'not synchronously: the rest of the turn joins');
  await Promise.resolve();
  assert.equal(sent, 1);
  await microtasks();
  assert.equal(sent, 1, 'one report for the turn');
});

test('changes within the interval wait for one trailing report at its end', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  let sent = 0;
  const throttle = new ReportThrottle(
    () => sent++,
    () => Date.now(),
  );
  throttle.changed();
  await microtasks();
  assert.equal(sent, 1);
  t.mock.timers.tick(REPORT_EVERY_MS / 2);
  throttle.changed();
  await microtasks();
  throttle.changed();
  await microtasks();
  assert.equal(sent, 1, 'throttled');
  t.mock.timers.tick(REPORT_EVERY_MS / 2 - 1);
  assert.equal(sent, 1, `nothing more before ${REPORT_EVERY_MS} ms since the last report`);
  t.mock.timers.tick(1);
  assert.equal(sent, 2, 'one trailing report for both changes');
  t.mock.timers.tick(REPORT_EVERY_MS * 3);
  assert.equal(sent, 2, 'no change, no report');
  throttle.changed();
  await microtasks();
  assert.equal(sent, 3, 'at once again after a quiet spell');
});

test('flush sends a pending change at once, and nothing when nothing is pending', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  let sent = 0;
  const throttle = new ReportThrottle(
    () => sent++,
    () => Date.now(),
  );
  throttle.flush();
  assert.equal(sent, 0);
  throttle.changed();
  await microtasks();
  throttle.changed();
  throttle.flush();
  assert.equal(sent, 2, 'the trailing report went out at the flush');
  t.mock.timers.tick(REPORT_EVERY_MS);
  assert.equal(sent, 2, 'its timer no longer sends');
  throttle.flush();
  assert.equal(sent, 2);
});
