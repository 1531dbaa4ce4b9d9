// Conformance: exact reply strings of the protocol document §4b (Redis 7.0.15), plus the reply
// kinds of §1 and the "not errors" list of §1.2. Written from the document alone; every expected
// string is compared whole, key order included, because other qless clients compare them so.
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startCore, type Core } from '../helpers/qless.ts';

const T = 1700000000;
const HISTOGRAM_LENGTH = 148; // §2 stats histogram layout: s0–s59, m1–m59, h1–h23, d1–d6

let core: Core;
before(async () => {
  core = await startCore();
});
after(async () => {
  await core.close();
});

/** A 148-long histogram with the given counts at the given bins, as JSON text. */
function histogram(counts: Record<number, number>): string {
  const bins = new Array<number>(HISTOGRAM_LENGTH).fill(0);
  for (const [index, count] of Object.entries(counts)) bins[Number(index)] = count;
  return `[${bins.join(',')}]`;
}

// The §4b rows for `wait`, `dep`, `sch`, `run`, the recurring child and `queues`/`workers` name
// one queue `q`; they are built here as one scenario: put wait/dep/sch/run and the template `rec`
// at T, then one pop by w1 at T+1.5 (which spawns rec-1 and hands out `run`, the highest priority).
describe('§4b rows of the shared queue scenario', () => {
  const recurGetBeforePop: { reply?: unknown } = {};
  const popReply: { reply?: unknown } = {};

  before(async () => {
    await core.flush();
    await core.call(T, 'put', 'w0', 'q', 'wait', 'K', '{"x":1}', 0, 'priority', 5, 'tags', '["t1","t2"]');
    await core.call(T, 'put', 'w0', 'q', 'dep', 'K', '{}', 0, 'depends', '["wait"]');
    await core.call(T, 'put', 'w0', 'q', 'sch', 'K', '{}', 30);
    await core.call(T, 'put', 'w0', 'q', 'run', 'K', '{}', 0, 'priority', 10);
    await core.call(
      T,
      'recur',
      'q',
      'rec',
      'K',
      '{"r":1}',
      'interval',
      60,
      0,
      'priority',
      3,
      'tags',
      '["rt"]',
      'retries',
      2,
      'backlog',
      4,
    );
    recurGetBeforePop.reply = await core.call(T, 'recur.get', 'rec');
    popReply.reply = await core.call(T + 1.5, 'pop', 'q', 'w1', 1);
  });

  const RUNNING =
    '{"jid":"run","retries":5,"data":"{}","failure":{},"expires":1700000061.5,"remaining":5,' +
    '"spawned_from_jid":false,"dependencies":{},"klass":"K","tracked":false,"tags":{},"queue":"q",' +
    '"state":"running","history":[{"when":1700000000,"q":"q","what":"put"},{"when":1700000001,' +
    '"what":"popped","worker":"w1"}],"dependents":{},"priority":10,"worker":"w1"}';

  test('get, waiting (tags, priority 5, one dependent)', async () => {
    assert.equal(
      await core.call(T + 2, 'get', 'wait'),
      '{"jid":"wait","retries":5,"data":"{\\"x\\":1}","failure":{},"expires":0,"remaining":5,' +
        '"spawned_from_jid":false,"dependencies":{},"klass":"K","tracked":false,"tags":["t1","t2"],' +
        '"queue":"q","state":"waiting","history":[{"when":1700000000,"q":"q","what":"put"}],' +
        '"dependents":["dep"],"priority":5,"worker":""}',
    );
  });

  test('scheduled (delay 30)', async () => {
    assert.equal(
      await core.call(T + 2, 'get', 'sch'),
      '{"jid":"sch","retries":5,"data":"{}","failure":{},"expires":0,"remaining":5,' +
        '"spawned_from_jid":false,"dependencies":{},"klass":"K","tracked":false,"tags":{},"queue":"q",' +
        '"state":"scheduled","history":[{"when":1700000000,"q":"q","what":"put"}],"dependents":{},' +
        '"priority":0,"worker":""}',
    );
  });

  test('depends', async () => {
    assert.equal(
      await core.call(T + 2, 'get', 'dep'),
      '{"jid":"dep","retries":5,"data":"{}","failure":{},"expires":0,"remaining":5,' +
        '"spawned_from_jid":false,"dependencies":["wait"],"klass":"K","tracked":false,"tags":{},' +
        '"queue":"q","state":"depends","history":[{"when":1700000000,"q":"q","what":"put"}],' +
        '"dependents":{},"priority":0,"worker":""}',
    );
  });

  test('running (popped at 1700000001.5), and the pop reply that handed it out', async () => {
    assert.equal(await core.call(T + 2, 'get', 'run'), RUNNING);
    // §4: pop returns a JSON array of job objects, the same object `get` gives.
    assert.equal(popReply.reply, `[${RUNNING}]`);
  });

  test('recurring child', async () => {
    assert.equal(
      await core.call(T + 2, 'get', 'rec-1'),
      '{"jid":"rec-1","retries":2,"data":"{\\"r\\":1}","failure":{},"expires":0,"remaining":2,' +
        '"spawned_from_jid":"rec","dependencies":{},"klass":"K","tracked":false,"tags":["rt"],' +
        '"queue":"q","state":"waiting","history":[{"when":1700000000,"q":"q","what":"put"}],' +
        '"dependents":{},"priority":3,"worker":""}',
    );
  });

  test('recur.get (before any spawn)', () => {
    assert.equal(
      recurGetBeforePop.reply,
      '{"tags":["rt"],"jid":"rec","retries":2,"data":"{\\"r\\":1}","queue":"q","state":"recur",' +
        '"count":0,"interval":60,"klass":"K","backlog":4,"priority":3}',
    );
  });

  test('queues / queues q', async () => {
    const row =
      '{"paused":false,"running":1,"name":"q","waiting":2,"recurring":1,"depends":1,"stalled":0,"scheduled":1}';
    assert.equal(await core.call(T + 2, 'queues'), `[${row}]`);
    assert.equal(await core.call(T + 2, 'queues', 'q'), row);
  });

  test('workers / workers w1', async () => {
    assert.equal(await core.call(T + 2, 'workers'), '[{"stalled":0,"name":"w1","jobs":1}]');
    assert.equal(await core.call(T + 2, 'workers', 'w1'), '{"stalled":{},"jobs":["run"]}');
  });

  test('tag get t1', async () => {
    assert.equal(await core.call(T + 2, 'tag', 'get', 't1'), '{"jobs":["wait"],"total":1}');
  });
});

describe('§4b single-job rows', () => {
  beforeEach(async () => {
    await core.flush();
  });

  test('failed (`fail` at 1700000004.5)', async () => {
    await core.call(T, 'put', 'w0', 'q', 'fl', 'K', '{}', 0, 'priority', 10);
    await core.call(T + 3, 'pop', 'q', 'w1', 1);
    assert.equal(await core.call(T + 4.5, 'fail', 'fl', 'w1', 'grp', 'msg'), 'fl');
    assert.equal(
      await core.call(T + 5, 'get', 'fl'),
      '{"jid":"fl","retries":5,"data":"{}","failure":{"message":"msg","group":"grp","when":1700000004,' +
        '"worker":"w1"},"expires":0,"remaining":5,"spawned_from_jid":false,"dependencies":{},"klass":"K",' +
        '"tracked":false,"tags":{},"queue":"q","state":"failed","history":[{"when":1700000000,"q":"q",' +
        '"what":"put"},{"when":1700000003,"what":"popped","worker":"w1"},{"group":"grp","what":"failed",' +
        '"when":1700000004,"worker":"w1"}],"dependents":{},"priority":10,"worker":""}',
    );
    // §4b failed / failed grp; unknown group
    assert.equal(await core.call(T + 5, 'failed'), '{"grp":1}');
    assert.equal(await core.call(T + 5, 'failed', 'grp'), '{"jobs":["fl"],"total":1}');
    assert.equal(await core.call(T + 5, 'failed', 'nope'), '{"jobs":{},"total":0}');
  });

  test('failed by exhausted `retry` at 1700000001.5', async () => {
    // The row elides parts ("…"); they are filled in from §3b's job key order and §2's fields
    // for a job with retries 0, priority 0, popped by w1 at 1700000001.
    await core.call(T, 'put', 'w0', 'q4', 'ex', 'K', '{}', 0, 'retries', 0);
    await core.call(T + 1, 'pop', 'q4', 'w1', 1);
    assert.equal(await core.call(T + 1.5, 'retry', 'ex', 'q4', 'w1'), -1);
    assert.equal(
      await core.call(T + 2, 'get', 'ex'),
      '{"jid":"ex","retries":0,"data":"{}",' +
        '"failure":{"message":"Job exhausted retries in queue \\"q4\\"","group":"failed-retries-q4",' +
        '"when":1700000001.5,"worker":""},"expires":0,"remaining":-1,"spawned_from_jid":false,' +
        '"dependencies":{},"klass":"K","tracked":false,"tags":{},"queue":"q4","state":"failed",' +
        '"history":[{"when":1700000000,"q":"q4","what":"put"},{"when":1700000001,"what":"popped",' +
        '"worker":"w1"},{"when":1700000001,"group":"failed-retries-q4","what":"failed"}],"dependents":{},' +
        '"priority":0,"worker":""}',
    );
  });

  test('complete', async () => {
    await core.call(T, 'put', 'w0', 'q', 'cp', 'K', '{}', 0, 'priority', 10);
    await core.call(T + 3, 'pop', 'q', 'w1', 1);
    assert.equal(await core.call(T + 4, 'complete', 'cp', 'w1', 'q', '{}'), 'complete');
    assert.equal(
      await core.call(T + 5, 'get', 'cp'),
      '{"jid":"cp","retries":5,"data":"{}","failure":{},"expires":0,"remaining":5,' +
        '"spawned_from_jid":false,"dependencies":{},"klass":"K","tracked":false,"tags":{},"queue":"",' +
        '"state":"complete","history":[{"when":1700000000,"q":"q","what":"put"},{"when":1700000003,' +
        '"what":"popped","worker":"w1"},{"when":1700000004,"what":"done"}],"dependents":{},"priority":10,' +
        '"worker":""}',
    );
  });

  test('stalled by `timeout`', async () => {
    // Elided parts filled from §3b/§2: priority 0, popped by w2 at T.
    await core.call(T, 'put', 'w0', 'q2', 'to', 'K', '{}', 0);
    await core.call(T, 'pop', 'q2', 'w2', 1);
    assert.equal(await core.call(T + 1, 'timeout', 'to'), null);
    assert.equal(
      await core.call(T + 2, 'get', 'to'),
      '{"jid":"to","retries":5,"data":"{}","failure":{},"expires":0,"remaining":5,' +
        '"spawned_from_jid":false,"dependencies":{},"klass":"K","tracked":false,"tags":{},"queue":"q2",' +
        '"state":"stalled","history":[{"when":1700000000,"q":"q2","what":"put"},{"when":1700000000,' +
        '"what":"popped","worker":"w2"},{"when":1700000001,"what":"timed-out"}],"dependents":{},' +
        '"priority":0,"worker":"w2"}',
    );
  });

  test('waiting after `retry` (worker/expires kept)', async () => {
    // Elided parts filled from §3b/§2: priority 0, popped by w3 at T (expires T+60).
    await core.call(T, 'put', 'w0', 'q3', 'rt', 'K', '{}', 0);
    await core.call(T, 'pop', 'q3', 'w3', 1);
    assert.equal(await core.call(T + 1, 'retry', 'rt', 'q3', 'w3'), 4);
    assert.equal(
      await core.call(T + 2, 'get', 'rt'),
      '{"jid":"rt","retries":5,"data":"{}","failure":{},"expires":1700000060,"remaining":4,' +
        '"spawned_from_jid":false,"dependencies":{},"klass":"K","tracked":false,"tags":{},"queue":"q3",' +
        '"state":"waiting","history":[{"when":1700000000,"q":"q3","what":"put"},{"when":1700000000,' +
        '"what":"popped","worker":"w3"}],"dependents":{},"priority":0,"worker":"w3"}',
    );
  });

  test('track: none, then one tracked scheduled job', async () => {
    assert.equal(await core.call(T, 'track'), '{"expired":{},"jobs":{}}');
    await core.call(T, 'put', 'w0', 'q', 'sch', 'K', '{}', 30);
    assert.equal(await core.call(T, 'track', 'track', 'sch'), '1');
    assert.equal(
      await core.call(T, 'track'),
      '{"expired":{},"jobs":[{"jid":"sch","retries":5,"data":"{}","failure":{},"expires":0,' +
        '"remaining":5,"spawned_from_jid":false,"dependencies":{},"klass":"K","tracked":true,"tags":{},' +
        '"queue":"q","state":"scheduled","history":[{"when":1700000000,"q":"q","what":"put"}],' +
        '"dependents":{},"priority":0,"worker":""}]}',
    );
  });

  test('tag get t1 / tag top; empty forms', async () => {
    assert.equal(await core.call(T, 'tag', 'get', 't1'), '{"jobs":{},"total":0}');
    assert.equal(await core.call(T, 'tag', 'top'), '{}');
    await core.call(T, 'put', 'w0', 'q', 'wait', 'K', '{"x":1}', 0, 'priority', 5, 'tags', '["t1","t2"]');
    assert.equal(await core.call(T, 'tag', 'get', 't1'), '{"jobs":["wait"],"total":1}');
    // §4 tag top lists counters >= 2 only; after one put each counter is 1.
    assert.equal(await core.call(T, 'tag', 'top'), '{}');
    // §4 tag add: the tag is already on the job, but the counter still goes up.
    assert.equal(await core.call(T, 'tag', 'add', 'wait', 't1'), '["t1","t2"]');
    assert.equal(await core.call(T, 'tag', 'top'), '["t1"]');
    assert.equal(await core.call(T, 'tag', 'get', 't1'), '{"jobs":["wait"],"total":1}');
  });

  test('config.get with nothing stored', async () => {
    assert.equal(
      await core.call(T, 'config.get'),
      '{"application":"qless","grace-period":10,"stats-history":30,"jobs-history":604800,' +
        '"heartbeat":60,"jobs-history-count":50000,"histogram-history":7}',
    );
  });

  test('config.get with max-job-history=50, q-heartbeat=5, grace-period=0 stored', async () => {
    // doc-ambiguity: the row does not say in which order the three keys were set; set in the
    // order the row names them.
    await core.call(T, 'config.set', 'max-job-history', 50);
    await core.call(T, 'config.set', 'q-heartbeat', 5);
    await core.call(T, 'config.set', 'grace-period', 0);
    assert.equal(
      await core.call(T, 'config.get'),
      '{"histogram-history":7,"stats-history":30,"q-heartbeat":"5","max-job-history":"50",' +
        '"jobs-history-count":50000,"application":"qless","grace-period":"0","heartbeat":60,' +
        '"jobs-history":604800}',
    );
  });

  test('stats with samples (wait 1.5, 3, 3; run 1.5; one failure) and with no data', async () => {
    const empty = `{"std":0,"histogram":${histogram({})},"mean":0,"count":0}`;
    assert.equal(
      await core.call(T, 'stats', 'q', T),
      `{"run":${empty},"failures":0,"retries":0,"failed":0,"wait":${empty}}`,
    );
    await core.call(T, 'put', 'w0', 'q', 'a', 'K', '{}', 0);
    await core.call(T, 'put', 'w0', 'q', 'b', 'K', '{}', 0);
    await core.call(T, 'put', 'w0', 'q', 'c', 'K', '{}', 0);
    const first = JSON.parse(String(await core.call(T + 1.5, 'pop', 'q', 'w1', 1))) as { jid: string }[];
    assert.equal(first.length, 1);
    await core.call(T + 3, 'complete', first[0].jid, 'w1', 'q', '{}');
    const rest = JSON.parse(String(await core.call(T + 3, 'pop', 'q', 'w1', 2))) as { jid: string }[];
    assert.equal(rest.length, 2);
    await core.call(T + 3, 'fail', rest[0].jid, 'w1', 'grp', 'msg');
    assert.equal(
      await core.call(T + 4, 'stats', 'q', T),
      `{"run":{"std":0,"histogram":${histogram({ 1: 1 })},"mean":1.5,"count":1},"failures":1,"retries":0,"failed":1,` +
        `"wait":{"std":0.86602540378444,"histogram":${histogram({ 1: 1, 3: 2 })},"mean":2.5,"count":3}}`,
    );
  });

  test('multiget a missing b; no hits; no jids', async () => {
    await core.call(T, 'put', 'w0', 'q', 'a', 'K', '{}', 0);
    await core.call(T, 'put', 'w0', 'q', 'b', 'K', '{}', 0);
    const job = (jid: string): string =>
      `{"jid":"${jid}","retries":5,"data":"{}","failure":{},"expires":0,"remaining":5,` +
      '"spawned_from_jid":false,"dependencies":{},"klass":"K","tracked":false,"tags":{},"queue":"q",' +
      '"state":"waiting","history":[{"when":1700000000,"q":"q","what":"put"}],"dependents":{},"priority":0,' +
      '"worker":""}';
    assert.equal(await core.call(T, 'get', 'a'), job('a'));
    assert.equal(await core.call(T, 'multiget', 'a', 'missing', 'b'), `[${job('a')},${job('b')}]`);
    assert.equal(await core.call(T, 'multiget', 'missing'), '{}');
    assert.equal(await core.call(T, 'multiget'), '{}');
  });

  test('pop / peek with nothing', async () => {
    assert.equal(await core.call(T, 'peek', 'q', 5), '{}');
    assert.equal(await core.call(T, 'pop', 'q', 'w1', 5), '{}');
  });

  test('queues / workers with nothing known', async () => {
    assert.equal(await core.call(T, 'queues'), '{}');
    assert.equal(await core.call(T, 'workers'), '{}');
    assert.equal(await core.call(T, 'failed'), '{}');
  });
});

describe('§1 reply kinds and §1.2 "not errors"', () => {
  beforeEach(async () => {
    await core.flush();
  });

  test('bulk strings, integers, arrays and nils as §1 lists them', async () => {
    assert.equal(await core.call(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0), 'j');
    assert.equal(await core.call(T, 'requeue', 'w0', 'q', 'j', 'K', '{}', 0), 'j');
    assert.equal(await core.call(T, 'length', 'q'), 1);
    await core.call(T, 'pop', 'q', 'w1', 1);
    assert.equal(await core.call(T + 1, 'heartbeat', 'j', 'w1'), T + 61);
    assert.equal(await core.call(T + 1, 'priority', 'j', 4), 4);
    assert.equal(await core.call(T + 1, 'log', 'j', 'note'), null);
    assert.equal(await core.call(T + 2, 'complete', 'j', 'w1', 'q', '{}'), 'complete');
    assert.equal(await core.call(T + 2, 'track', 'track', 'j'), '1');
    assert.equal(await core.call(T + 2, 'track', 'track', 'j'), '0');
    assert.equal(await core.call(T + 2, 'track', 'untrack', 'j'), '1');
    assert.equal(await core.call(T + 2, 'track', 'untrack', 'j'), '0');
    assert.deepEqual(await core.call(T + 2, 'jobs', 'complete'), ['j']);
    assert.equal(await core.call(T + 2, 'config.set', 'heartbeat', 30), null);
    assert.equal(await core.call(T + 2, 'config.get', 'heartbeat'), '30');
    assert.equal(await core.call(T + 2, 'config.unset', 'heartbeat'), null);
    assert.equal(await core.call(T + 2, 'config.get', 'heartbeat'), 60);
    assert.equal(await core.call(T + 2, 'pause', 'q'), null);
    assert.equal(await core.call(T + 2, 'unpause', 'q'), null);
    assert.equal(await core.call(T + 2, 'worker.deregister', 'w1'), null);
    assert.equal(await core.call(T + 2, 'queue.forget', 'q'), null);
    assert.equal(await core.call(T + 2, 'recur', 'q', 'r', 'K', '{}', 'interval', 60, 0), 'r');
    assert.equal(await core.call(T + 2, 'recur.update', 'r', 'priority', 2), 1);
    assert.equal(await core.call(T + 2, 'recur.tag', 'r', 'a'), '["a"]');
    assert.equal(await core.call(T + 2, 'recur.untag', 'r', 'a'), '{}');
    assert.equal(await core.call(T + 2, 'unrecur', 'r'), 1);
  });

  test('fail returns the jid, retry the remaining count, unfail the number moved, depends 1', async () => {
    await core.call(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0);
    await core.call(T, 'pop', 'q', 'w1', 1);
    assert.equal(await core.call(T, 'retry', 'j', 'q', 'w1'), 4);
    await core.call(T, 'pop', 'q', 'w1', 1);
    assert.equal(await core.call(T, 'fail', 'j', 'w1', 'grp', 'msg'), 'j');
    assert.equal(await core.call(T, 'unfail', 'q', 'grp'), 1);
    await core.call(T, 'put', 'w0', 'q', 'd', 'K', '{}', 0, 'depends', '["j"]');
    assert.equal(await core.call(T, 'depends', 'd', 'off', 'all'), 1);
  });

  test('get / recur.get of a missing job, config.get of unknown keys: nil', async () => {
    assert.equal(await core.call(T, 'get', 'missing'), null);
    assert.equal(await core.call(T, 'recur.get', 'missing'), null);
    assert.equal(await core.call(T, 'config.get', 'no-such-key'), null);
    // §3: these two have code defaults but no table default, so config.get gives nil.
    assert.equal(await core.call(T, 'config.get', 'max-job-history'), null);
    assert.equal(await core.call(T, 'config.get', 'max-worker-age'), null);
  });

  test('unrecur of a missing template is 1; cancel of a missing jid returns it; empty cancel/timeout', async () => {
    assert.equal(await core.call(T, 'unrecur', 'missing'), 1);
    assert.deepEqual(await core.call(T, 'cancel', 'ghost'), ['ghost']);
    assert.deepEqual(await core.call(T, 'cancel'), []);
    assert.equal(await core.call(T, 'timeout'), null);
  });

  test('cancel returns the jids as given', async () => {
    await core.call(T, 'put', 'w0', 'q', 'a', 'K', '{}', 0);
    await core.call(T, 'put', 'w0', 'q', 'b', 'K', '{}', 0);
    assert.deepEqual(await core.call(T, 'cancel', 'b', 'ghost', 'a'), ['b', 'ghost', 'a']);
    assert.equal(await core.call(T, 'get', 'a'), null);
    assert.equal(await core.call(T, 'get', 'b'), null);
  });
});

describe('§4 paging: count 0 at offset 0', () => {
  before(async () => {
    await core.flush();
    for (const jid of ['c1', 'c2']) {
      await core.call(T, 'put', 'w0', 'q', jid, 'K', '{}', 0, 'tags', '["t"]');
      await core.call(T, 'pop', 'q', 'w1', 1);
      await core.call(T + 1, 'complete', jid, 'w1', 'q', '{}');
    }
    await core.call(T, 'tag', 'add', 'c1', 't');
    await core.call(T + 2, 'put', 'w0', 'q', 's1', 'K', '{}', 100);
    await core.call(T + 2, 'put', 'w0', 'q', 's2', 'K', '{}', 100);
    await core.call(T + 2, 'put', 'w0', 'q', 'd1', 'K', '{}', 0, 'depends', '["s1"]');
    await core.call(T + 2, 'put', 'w0', 'q', 'r1', 'K', '{}', 0);
    await core.call(T + 2, 'pop', 'q', 'w1', 1);
    await core.call(T + 3, 'put', 'w0', 'q', 'f1', 'K', '{}', 0);
    await core.call(T + 3, 'pop', 'q', 'w1', 1);
    await core.call(T + 3, 'fail', 'f1', 'w1', 'grp', 'msg');
    await core.call(T + 3, 'recur', 'q', 'rc', 'K', '{}', 'interval', 60, 1000);
  });

  test('everything for jobs complete|scheduled|depends, failed <group>, tag get', async () => {
    assert.deepEqual(await core.call(T + 4, 'jobs', 'complete', 0, 0), ['c2', 'c1']);
    assert.deepEqual(await core.call(T + 4, 'jobs', 'scheduled', 'q', 0, 0), ['s1', 's2']);
    assert.deepEqual(await core.call(T + 4, 'jobs', 'depends', 'q', 0, 0), ['d1']);
    assert.equal(await core.call(T + 4, 'failed', 'grp', 0, 0), '{"jobs":["f1"],"total":1}');
    assert.equal(await core.call(T + 4, 'tag', 'get', 't', 0, 0), '{"jobs":["c1","c2"],"total":2}');
  });

  test('nothing for jobs running|recurring and tag top; the defaults show them', async () => {
    assert.deepEqual(await core.call(T + 4, 'jobs', 'running', 'q', 0, 0), []);
    assert.deepEqual(await core.call(T + 4, 'jobs', 'recurring', 'q', 0, 0), []);
    assert.equal(await core.call(T + 4, 'tag', 'top', 0, 0), '{}');
    assert.deepEqual(await core.call(T + 4, 'jobs', 'running', 'q'), ['r1']);
    assert.deepEqual(await core.call(T + 4, 'jobs', 'recurring', 'q'), ['rc']);
    assert.equal(await core.call(T + 4, 'tag', 'top'), '["t"]');
  });
});
