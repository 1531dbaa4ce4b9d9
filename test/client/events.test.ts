// Events: ql:log, a watched worker's channel and the tracked-job channels, typed; subscriptions in Redis.
import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, Job, type Events, type LogEvent, type TrackedEvent } from '../../src/client/index.ts';
import { useCore } from '../helpers/client-suite.ts';

const T0 = 1_700_000_000;
const fx = useCore({ workers: ['w1', 'w2'], clock: T0 });
let events: Events;

beforeEach(() => {
  events = fx.clients.w1.events();
});

/** Resolves once `list` holds `count` items; fails (instead of hanging) if they never come. */
async function collected<T>(list: T[], count: number): Promise<T[]> {
  const deadline = Date.now() + 5000;
  while (list.length < count) {
    if (Date.now() > deadline) assert.fail(`expected ${count} events, got ${list.length}: ${JSON.stringify(list)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return list;
}

async function subscribers(channel: string): Promise<number> {
  const reply = (await fx.core.redis.pubsub('NUMSUB', channel)) as [string, number];
  return Number(reply[1]);
}

describe('log events', () => {
  test('arrive typed, in order, for every kind', async () => {
    const received: LogEvent[] = [];
    events.on('log', (event) => received.push(event));
    await events.ready();
    assert.equal(await subscribers('ql:log'), 1);

    const q = fx.clients.w1.queue('q');
    await q.put('K', {}, { jid: 'a' });
    await q.put('K', {}, { jid: 'b' });
    await q.put('K', {}, { jid: 'c' });
    const jobs = await q.pop(3);
    const byJid = new Map(jobs.map((job) => [job.jid, job]));
    await byJid.get('a')?.complete();
    await byJid.get('b')?.complete('q2');
    await byJid.get('c')?.fail('grp', 'broken');
    await fx.clients.w1.jobs.cancel('b');
    await fx.clients.w1.config.set('heartbeat', 30);
    await fx.clients.w1.config.unset('heartbeat');

    assert.deepEqual(await collected(received, 9), [
      { jid: 'a', event: 'put', queue: 'q' },
      { jid: 'b', event: 'put', queue: 'q' },
      { jid: 'c', event: 'put', queue: 'q' },
      { jid: 'a', event: 'completed', queue: 'q' },
      { jid: 'b', event: 'advanced', queue: 'q', to: 'q2' },
      { jid: 'c', event: 'failed', group: 'grp', message: 'broken', worker: 'w1' },
      { jid: 'b', event: 'canceled', queue: 'q2', worker: '' },
      { event: 'config_set', option: 'heartbeat', value: '30' },
      { event: 'config_unset', option: 'heartbeat' },
    ]);
    // Narrowing on the event name gives the typed fields.
    const failed = received.find((event): event is Extract<LogEvent, { event: 'failed' }> => event.event === 'failed');
    assert.equal(failed?.group, 'grp');
    await events.close();
    assert.equal(await subscribers('ql:log'), 0);
  });

  test('an unreadable message is reported as an error event', async () => {
    const errors: Error[] = [];
    const received: LogEvent[] = [];
    events.on('error', (error) => errors.push(error));
    events.on('log', (event) => received.push(event));
    await events.ready();
    await fx.core.redis.publish('ql:log', 'not json');
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'after' });
    await collected(received, 1);
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /ql:log/);
    await events.close();
  });

  test('removing the last log listener unsubscribes ql:log; adding one subscribes again', async () => {
    const first: LogEvent[] = [];
    const second: LogEvent[] = [];
    const onFirst = (event: LogEvent): void => void first.push(event);
    const onSecond = (event: LogEvent): void => void second.push(event);
    events.on('log', onFirst).on('log', onSecond);
    await events.ready();
    events.off('log', onFirst);
    await events.ready();
    assert.equal(await subscribers('ql:log'), 1, 'one listener left');
    events.off('log', onSecond);
    await events.ready();
    assert.equal(await subscribers('ql:log'), 0);

    events.on('log', onFirst);
    await events.ready();
    assert.equal(await subscribers('ql:log'), 1);
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'again' });
    await collected(first, 1);
    assert.deepEqual(first, [{ event: 'put', jid: 'again', queue: 'q' }]);
    assert.deepEqual(second, []);
    await events.close();
  });
});

describe('worker events', () => {
  test('a watched worker hears about lock loss, cancellation and re-puts of its jobs', async () => {
    const heard: [LogEvent, string][] = [];
    const log: LogEvent[] = [];
    events.on('worker', (event, worker) => heard.push([event, worker]));
    events.on('log', (event) => log.push(event));
    await events.watchWorker('w1');
    await events.ready();
    assert.equal(await subscribers('ql:w:w1'), 1);

    const q = fx.clients.w1.queue('q');
    for (const jid of ['a', 'b', 'c', 'x']) await q.put('K', {}, { jid });
    // Equal put times pop in reverse jid order: x, c, b for w1, then a for w2.
    const mine = await q.pop(3);
    const [theirs] = await fx.clients.w2.queue('q').pop();
    assert.equal(theirs.jid, 'a');
    const byJid = new Map(mine.map((job) => [job.jid, job]));
    await byJid.get('x')?.timeout();
    await fx.clients.w1.jobs.cancel('c');
    await fx.clients.w2.queue('elsewhere').put('K', {}, { jid: 'b' });
    await theirs.timeout();

    // 4 puts, x lock_lost, c canceled, b put + lock_lost, a lock_lost (published last).
    await collected(log, 9);
    assert.deepEqual(heard, [
      [{ jid: 'x', event: 'lock_lost', worker: 'w1' }, 'w1'],
      [{ jid: 'c', queue: 'q', event: 'canceled', worker: 'w1' }, 'w1'],
      [{ jid: 'b', event: 'lock_lost', worker: 'w1' }, 'w1'],
    ]);
    await events.close();
  });

  test('unwatchWorker stops them', async () => {
    const heard: LogEvent[] = [];
    const log: LogEvent[] = [];
    events.on('worker', (event) => heard.push(event));
    events.on('log', (event) => log.push(event));
    await events.watchWorker('w1');
    await events.unwatchWorker('w1');
    await events.ready();
    assert.equal(await subscribers('ql:w:w1'), 0);
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'a' });
    const [job] = await fx.clients.w1.queue('q').pop();
    await job.timeout();
    // ql:w:w1 is published before ql:log for a timeout; the log event arriving means it would have too.
    await collected(log, 2);
    assert.deepEqual(heard, []);
    await events.close();
  });
});

describe('tracked events', () => {
  test('track, put, popped, completed, untrack arrive as jids', async () => {
    const received: TrackedEvent[] = [];
    events.on('tracked', (event) => received.push(event));
    await events.ready();
    assert.equal(await subscribers('ql:popped'), 1);
    assert.equal(await subscribers('ql:untrack'), 1);

    const q = fx.clients.w1.queue('q');
    await q.put('K', {}, { jid: 'a' });
    const job = await fx.clients.w1.jobs.get('a');
    assert.ok(job instanceof Job);
    await job.track();
    await q.put('K', {}, { jid: 'a' });
    fx.now += 1;
    await q.put('K', {}, { jid: 'untracked' });
    const [popped] = await q.pop();
    assert.equal(popped.jid, 'a');
    await popped.complete();
    await job.untrack();

    assert.deepEqual(await collected(received, 5), [
      { event: 'track', jid: 'a' },
      { event: 'put', jid: 'a' },
      { event: 'popped', jid: 'a' },
      { event: 'completed', jid: 'a' },
      { event: 'untrack', jid: 'a' },
    ]);
    await events.close();
  });

  test('failed, stalled (a lock expiry at a pop) and canceled arrive as jids, in order', async () => {
    const received: TrackedEvent[] = [];
    events.on('tracked', (event) => received.push(event));
    await events.ready();

    const q = fx.clients.w1.queue('q');
    const track = async (jid: string): Promise<void> => {
      const job = await fx.clients.w1.jobs.get(jid);
      assert.ok(job instanceof Job);
      await job.track();
    };
    await q.put('K', {}, { jid: 'f' });
    await track('f');
    const [failing] = await q.pop();
    assert.equal(failing.jid, 'f');
    await failing.fail('grp', 'broken');

    await q.put('K', {}, { jid: 's' });
    await track('s');
    const [held] = await q.pop();
    assert.equal(held.jid, 's');
    // w2 pops after w1's 60 s lock ran out: the courtesy step publishes ql:stalled.
    fx.now = T0 + 61;
    assert.deepEqual(await fx.clients.w2.queue('q').pop(), []);

    await q.put('K', {}, { jid: 'c' });
    await track('c');
    await fx.clients.w1.jobs.cancel('c');

    const expected: TrackedEvent[] = [
      { event: 'track', jid: 'f' },
      { event: 'popped', jid: 'f' },
      { event: 'failed', jid: 'f' },
      { event: 'track', jid: 's' },
      { event: 'popped', jid: 's' },
      { event: 'stalled', jid: 's' },
      { event: 'track', jid: 'c' },
      { event: 'canceled', jid: 'c' },
    ];
    assert.deepEqual(await collected(received, expected.length), expected);
    // What the events say is what Redis holds.
    assert.equal(await fx.core.redis.hget('ql:j:f', 'state'), 'failed');
    assert.equal(await fx.core.redis.hget('ql:j:s', 'grace'), '1');
    assert.equal(await fx.core.redis.exists('ql:j:c'), 0);
    await events.close();
  });
});

describe('closing', () => {
  test('client.close() closes the events objects it made', async () => {
    const extra = new Client({ url: fx.url, workerName: 'w9' });
    const own = extra.events();
    own.on('log', () => {});
    await own.watchWorker('w9');
    await own.ready();
    assert.equal(await subscribers('ql:w:w9'), 1);
    await extra.close();
    assert.equal(await subscribers('ql:w:w9'), 0);
    await events.close();
  });
});
