// qless get / priority / move / track / untrack / tag / untag / tagged / cancel, against Redis.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job } from '../../src/client/index.ts';
import { qless, qlessJson } from '../helpers/cli.ts';
import { useCore } from '../helpers/client-suite.ts';

describe('qless and single jobs', () => {
  const fx = useCore({ workers: ['w1'] });

  async function popped(queue: string, jid: string): Promise<Job> {
    await fx.clients.w1.queue(queue).put('images.Resize', { path: 'cat.png' }, { jid, tags: ['cats'], priority: 2 });
    const [job] = await fx.clients.w1.queue(queue).pop();
    assert.equal(job.jid, jid);
    return job;
  }

  test('get: fields, failure and the history as a timeline; --json has the same job', async () => {
    const job = await popped('images', 'j1');
    await job.log('resized', { by: 'ops' });
    await job.fail('images-Boom', 'Error: boom\n    at resize (resize.ts:3:9)');
    const human = await qless(['get', 'j1'], { redis: fx.url });
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^jid +j1$/m);
    assert.match(human.stdout, /^klass +images\.Resize$/m);
    assert.match(human.stdout, /^state +failed$/m);
    assert.match(human.stdout, /^tags +cats$/m);
    assert.match(human.stdout, /^failure +images-Boom at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(.+\) by w1$/m);
    assert.match(human.stdout, /^message +Error: boom\n +at resize \(resize\.ts:3:9\)$/m);
    assert.match(human.stdout, /^data +\{\n +"path": "cat\.png"\n +\}$/m);
    // The timeline, in order.
    const timeline = human.stdout.slice(human.stdout.indexOf('\nhistory\n'));
    const steps = [/put into images/, /popped by w1/, /resized \(by=ops\)/, /failed into images-Boom by w1/];
    let position = 0;
    for (const step of steps) {
      const found = timeline.slice(position).search(step);
      assert.ok(found >= 0, `timeline lacks ${step} after position ${position}:\n${timeline}`);
      position += found;
    }
    assert.match(timeline, /^ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +put into images$/m);

    const document = await qlessJson<{
      jid: string;
      state: string;
      data: unknown;
      tags: string[];
      failure: { group: string; worker: string };
      history: { what: string }[];
    }>(['get', 'j1'], { redis: fx.url });
    assert.equal(document.state, 'failed');
    assert.deepEqual(document.data, { path: 'cat.png' });
    assert.deepEqual(document.tags, ['cats']);
    assert.equal(document.failure.group, 'images-Boom');
    assert.equal(document.failure.worker, 'w1');
    assert.deepEqual(
      document.history.map((entry) => entry.what),
      ['put', 'popped', 'resized', 'failed'],
    );
    assert.deepEqual(document, JSON.parse(JSON.stringify((await fx.clients.w1.jobs.get('j1'))!.toJSON())));
  });

  test('get: a running job shows its worker and lock; a recurring job its schedule', async () => {
    // A missing one exits 1.
    await popped('images', 'run');
    const running = await qless(['get', 'run'], { redis: fx.url });
    assert.match(running.stdout, /^worker +w1$/m);
    assert.match(running.stdout, /^lock expires +\d{4}-.+\(in /m);
    await fx.clients.w1.queue('reports').recur('Reports.Daily', { r: 1 }, { jid: 'rec', interval: 86400, backlog: 1 });
    const recurring = await qless(['get', 'rec'], { redis: fx.url });
    assert.equal(recurring.code, 0, recurring.stderr);
    assert.match(recurring.stdout, /^state +recurring$/m);
    assert.match(recurring.stdout, /^every +1d$/m);
    const document = await qlessJson<{ jid: string; state: string; interval: number; backlog: number }>(
      ['get', 'rec'],
      { redis: fx.url },
    );
    assert.deepEqual([document.state, document.interval, document.backlog], ['recur', 86400, 1]);
    const missing = await qless(['get', 'nope'], { redis: fx.url });
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '');
    assert.equal(missing.stderr, 'qless: job nope does not exist\n');
  });

  test('priority changes the job and its place in the queue; recurring jobs too; missing → 1', async () => {
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'p' });
    const human = await qless(['priority', 'p', '-3'], { redis: fx.url });
    assert.equal(human.code, 0, human.stderr);
    assert.equal(human.stdout, 'priority of p is now -3\n');
    assert.equal(Number(await fx.core.redis.hget('ql:j:p', 'priority')), -3);
    assert.equal(Number(await fx.core.redis.zscore('ql:q:q-work', 'p')), -3);
    assert.deepEqual(await qlessJson(['priority', 'p', '7.5'], { redis: fx.url }), { jid: 'p', priority: 7.5 });
    assert.equal(Number(await fx.core.redis.hget('ql:j:p', 'priority')), 7.5);
    await fx.clients.w1.queue('q').recur('K', {}, { jid: 'r', interval: 60 });
    assert.equal((await qless(['priority', 'r', '4'], { redis: fx.url })).code, 0);
    assert.equal(Number(await fx.core.redis.hget('ql:r:r', 'priority')), 4);
    const missing = await qless(['priority', 'nope', '1'], { redis: fx.url });
    assert.equal(missing.code, 1);
    assert.equal(await fx.core.redis.exists('ql:j:nope'), 0);
  });

  test('move puts the job into another queue', async () => {
    await fx.clients.w1.queue('a').put('K', { keep: true }, { jid: 'm' });
    const human = await qless(['move', 'm', 'b'], { redis: fx.url });
    assert.equal(human.code, 0, human.stderr);
    assert.equal(human.stdout, 'moved m to b\n');
    assert.equal(await fx.core.redis.hget('ql:j:m', 'queue'), 'b');
    assert.equal(await fx.core.redis.zscore('ql:q:a-work', 'm'), null);
    assert.notEqual(await fx.core.redis.zscore('ql:q:b-work', 'm'), null);
    assert.deepEqual(JSON.parse((await fx.core.redis.hget('ql:j:m', 'data'))!), { keep: true });
    assert.deepEqual(await qlessJson(['move', 'm', 'c'], { redis: fx.url }), { jid: 'm', queue: 'c' });
    assert.equal(await fx.core.redis.hget('ql:j:m', 'queue'), 'c');
    const missing = await qless(['move', 'nope', 'c'], { redis: fx.url });
    assert.equal(missing.code, 1);
    assert.equal(await fx.core.redis.exists('ql:j:nope'), 0);
  });

  test('track and untrack', async () => {
    await fx.clients.w1.queue('q').put('K', {}, { jid: 't' });
    const tracked = await qless(['track', 't'], { redis: fx.url });
    assert.equal(tracked.stdout, 'tracking t\n');
    assert.notEqual(await fx.core.redis.zscore('ql:tracked', 't'), null);
    assert.deepEqual(await qlessJson(['track', 't'], { redis: fx.url }), { jid: 't', tracked: true, changed: false });
    assert.equal((await qless(['untrack', 't'], { redis: fx.url })).stdout, 'stopped tracking t\n');
    assert.equal(await fx.core.redis.zscore('ql:tracked', 't'), null);
    assert.deepEqual(await qlessJson(['untrack', 't'], { redis: fx.url }), {
      jid: 't',
      tracked: false,
      changed: false,
    });
    await fx.clients.w1.queue('q').recur('K', {}, { jid: 'r', interval: 60 });
    const recurring = await qless(['track', 'r'], { redis: fx.url });
    assert.equal(recurring.code, 1);
    assert.match(recurring.stderr, /r is a recurring job/);
    assert.equal((await qless(['track', 'nope'], { redis: fx.url })).code, 1);
    assert.equal(await fx.core.redis.zcard('ql:tracked'), 0);
  });

  test('tag, untag and tagged (with paging)', async () => {
    for (const jid of ['t1', 't2', 't3']) await fx.clients.w1.queue('q').put('K', {}, { jid });
    const human = await qless(['tag', 't1', 'red', 'blue'], { redis: fx.url });
    assert.equal(human.code, 0, human.stderr);
    assert.equal(human.stdout, 'tags of t1: red, blue\n');
    assert.deepEqual(JSON.parse((await fx.core.redis.hget('ql:j:t1', 'tags'))!), ['red', 'blue']);
    assert.notEqual(await fx.core.redis.zscore('ql:t:red', 't1'), null);
    await qless(['tag', 't2', 'red'], { redis: fx.url });
    await qless(['tag', 't3', 'red'], { redis: fx.url });
    assert.deepEqual(await qlessJson(['untag', 't1', 'blue'], { redis: fx.url }), { jid: 't1', tags: ['red'] });
    assert.equal(await fx.core.redis.zscore('ql:t:blue', 't1'), null);

    const list = await qless(['tagged', 'red'], { redis: fx.url });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^t1\s+K\s+q\s+waiting\s+0\s+-\s+red\s/m);
    assert.match(list.stdout, /^1–3 of 3 jobs tagged red$/m);
    const page = await qlessJson<{
      tag: string;
      total: number;
      offset: number;
      limit: number;
      jobs: { jid: string }[];
    }>(['tagged', 'red', '--offset', '1', '--limit', '1'], { redis: fx.url });
    assert.deepEqual([page.tag, page.total, page.offset, page.limit], ['red', 3, 1, 1]);
    assert.deepEqual(
      page.jobs.map((job) => job.jid),
      (await fx.clients.w1.jobs.tagged('red', 1, 1)).jobs,
    );
    assert.equal((await qless(['tagged', 'none'], { redis: fx.url })).stdout, 'no jobs tagged none\n');

    await fx.clients.w1.queue('q').recur('K', {}, { jid: 'r', interval: 60 });
    assert.equal((await qless(['tag', 'r', 'nightly'], { redis: fx.url })).code, 0);
    assert.deepEqual(JSON.parse((await fx.core.redis.hget('ql:r:r', 'tags'))!), ['nightly']);
    assert.equal((await qless(['tag', 'nope', 'x'], { redis: fx.url })).code, 1);
  });

  test('cancel deletes jobs; a job others depend on is refused with the script message (exit 1)', async () => {
    // Nothing changes then.
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'base' });
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'child', depends: ['base'] });
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'lone' });
    const before = await fx.core.snapshot();
    const refused = await qless(['cancel', 'base'], { redis: fx.url });
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      'qless: Cancel(): base is a dependency of child but is not mentioned to be canceled\n',
    );
    assert.deepEqual(await fx.core.snapshot(), before);
    const missing = await qless(['cancel', 'lone', 'ghost'], { redis: fx.url });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no such job: ghost \(nothing canceled\)/);
    assert.deepEqual(await fx.core.snapshot(), before);

    const done = await qless(['cancel', 'base', 'child'], { redis: fx.url });
    assert.equal(done.code, 0, done.stderr);
    assert.equal(done.stdout, 'canceled base\ncanceled child\n');
    assert.equal(await fx.core.redis.exists('ql:j:base', 'ql:j:child'), 0);
    assert.equal(await fx.core.redis.zscore('ql:q:q-work', 'base'), null);
    assert.equal(await fx.core.redis.zscore('ql:q:q-depends', 'child'), null);

    const [job] = await fx.clients.w1.queue('q').pop();
    assert.equal(job.jid, 'lone');
    await job.complete();
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'other' });
    const document = await qlessJson<{ canceled: string[]; skipped: string[] }>(['cancel', 'lone', 'other'], {
      redis: fx.url,
    });
    assert.deepEqual(document, { group: null, canceled: ['other'], skipped: ['lone'] });
    assert.equal(await fx.core.redis.hget('ql:j:lone', 'state'), 'complete');
    assert.equal(await fx.core.redis.exists('ql:j:other'), 0);
  });

  test('tag --json and untag: the tags after the change, in the job hash and the tag sets', async () => {
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'j', tags: ['keep'] });
    assert.deepEqual(await qlessJson(['tag', 'j', 'red', 'blue'], { redis: fx.url }), {
      jid: 'j',
      tags: ['keep', 'red', 'blue'],
    });
    assert.deepEqual(JSON.parse((await fx.core.redis.hget('ql:j:j', 'tags'))!), ['keep', 'red', 'blue']);
    assert.notEqual(await fx.core.redis.zscore('ql:t:blue', 'j'), null);
    const untag = await qless(['untag', 'j', 'keep', 'blue'], { redis: fx.url });
    assert.equal(untag.code, 0, untag.stderr);
    assert.equal(untag.stdout, 'tags of j: red\n');
    assert.deepEqual(JSON.parse((await fx.core.redis.hget('ql:j:j', 'tags'))!), ['red']);
    assert.equal(await fx.core.redis.exists('ql:t:keep', 'ql:t:blue'), 0);
    assert.equal((await qless(['untag', 'j', 'red'], { redis: fx.url })).stdout, 'tags of j: -\n');
  });

  test('cancel or untrack of a recurring job, untag of a missing job: exit 1, nothing changes', async () => {
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'j', tags: ['keep'] });
    await fx.clients.w1.queue('q').recur('K', {}, { jid: 'r', interval: 60, offset: 600 });
    const before = await fx.core.snapshot();
    const refused: [string[], number, RegExp][] = [
      [['cancel', 'r'], 1, /^qless: r: recurring job, stop it with qless unrecur \(nothing canceled\)\n$/],
      [['cancel', 'j', 'r'], 1, /recurring job/],
      [['untrack', 'r'], 1, /^qless: r is a recurring job: it cannot be untracked\n$/],
      [['untag', 'ghost', 'x'], 1, /^qless: job ghost does not exist\n$/],
    ];
    for (const [args, code, stderr] of refused) {
      const result = await qless(args, { redis: fx.url });
      assert.equal(result.code, code, `qless ${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, stderr);
      assert.equal(result.stdout, '');
      assert.deepEqual(await fx.core.snapshot(), before, `qless ${args.join(' ')} changed Redis`);
    }
  });
});
