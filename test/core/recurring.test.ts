// recur, recur.get, recur.update, recur.tag, recur.untag, unrecur and spawning children (§4, §6).
import { test, describe, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { useCore } from '../helpers/client-suite.ts';

const T = 1700000000;
const fx = useCore();

async function pop(at: number | string, count: number, queue = 'q'): Promise<string[]> {
  const reply = String(await fx.core.call(at, 'pop', queue, 'w', count));
  return reply === '{}' ? [] : (JSON.parse(reply) as { jid: string }[]).map((job) => job.jid);
}

async function peek(at: number | string, count: number, queue = 'q'): Promise<string[]> {
  const reply = String(await fx.core.call(at, 'peek', queue, count));
  return reply === '{}' ? [] : (JSON.parse(reply) as { jid: string }[]).map((job) => job.jid);
}

async function recur(
  at: number | string,
  interval: number,
  offset: number | string,
  ...options: (string | number)[]
): Promise<void> {
  assert.equal(
    await fx.core.call(at, 'recur', 'q', 'rec', 'K', '{"r":1}', 'interval', interval, offset, ...options),
    'rec',
  );
}

describe('recur', () => {
  test('writes the template and schedules it; no events', async () => {
    const messages = await fx.core.listen('ql:*');
    await recur(T, 60, 30, 'priority', 3, 'tags', '["rt"]', 'retries', 2, 'backlog', 4);
    assert.deepEqual(await messages.take(), []);
    await messages.close();
    assert.deepEqual(await fx.core.redis.hgetall('ql:r:rec'), {
      jid: 'rec',
      klass: 'K',
      data: '{"r":1}',
      priority: '3',
      tags: '["rt"]',
      state: 'recur',
      queue: 'q',
      type: 'interval',
      count: '0',
      interval: '60',
      retries: '2',
      backlog: '4',
    });
    assert.deepEqual(await fx.core.redis.zrange('ql:q:q-recur', 0, -1, 'WITHSCORES'), ['rec', String(T + 30)]);
    assert.deepEqual(await fx.core.redis.zrange('ql:queues', 0, -1, 'WITHSCORES'), ['q', String(T)]);
    assert.equal(
      await fx.core.call(T, 'recur.get', 'rec'),
      '{"tags":["rt"],"jid":"rec","retries":2,"data":"{\\"r\\":1}","queue":"q","state":"recur",' +
        '"count":0,"interval":60,"klass":"K","backlog":4,"priority":3}',
    );
  });

  test('again: every field from the new arguments (defaults included) except count; moves queue', async () => {
    await recur(T, 60, 0, 'priority', 3, 'tags', '["rt"]', 'retries', 2, 'backlog', 4);
    await pop(T, 5);
    assert.equal(await fx.core.call(T + 1, 'recur', 'other', 'rec', 'K2', '{}', 'interval', 30, 5), 'rec');
    assert.deepEqual(await fx.core.redis.hgetall('ql:r:rec'), {
      jid: 'rec',
      klass: 'K2',
      data: '{}',
      priority: '0',
      tags: '{}',
      state: 'recur',
      queue: 'other',
      type: 'interval',
      count: '1',
      interval: '30',
      retries: '0',
      backlog: '0',
    });
    assert.equal(await fx.core.redis.exists('ql:q:q-recur'), 0);
    assert.equal(await fx.core.redis.zscore('ql:q:other-recur', 'rec'), String(T + 6));
  });

  test('refusals change nothing', async () => {
    const before = await fx.core.snapshot();
    const cases: [string, (string | number)[]][] = [
      ['Queue(): no queue name provided', []],
      ['RecurringJob On(): Arg "jid" missing', ['q']],
      ['RecurringJob On(): Arg "klass" missing', ['q', 'r']],
      ['RecurringJob On(): Arg "spec" missing', ['q', 'r', 'K']],
      ['RecurringJob On(): Arg "spec" missing', ['q', 'r', 'K', '{}']],
      ['RecurringJob On(): Arg "data" not JSON: false', ['q', 'r', 'K', 'false', 'interval']],
      ['Recur(): schedule type "cron" unknown', ['q', 'r', 'K', '{}', 'cron', 60, 0]],
      ['Recur(): Arg "interval" not a number: nil', ['q', 'r', 'K', '{}', 'interval']],
      ['Recur(): Arg "interval" not a number: x', ['q', 'r', 'K', '{}', 'interval', 'x', 0]],
      ['Recur(): Arg "offset" not a number: nil', ['q', 'r', 'K', '{}', 'interval', 60]],
      ['Recur(): Arg "interval" must be greater than 0', ['q', 'r', 'K', '{}', 'interval', 0, 0]],
      [
        'Recur(): Arg "tags" must be JSON string array: false',
        ['q', 'r', 'K', '{}', 'interval', 60, 0, 'tags', 'false'],
      ],
      ['Recur(): Arg "priority" not a number: x', ['q', 'r', 'K', '{}', 'interval', 60, 0, 'priority', 'x']],
      ['Recur(): Arg "retries" not a number: x', ['q', 'r', 'K', '{}', 'interval', 60, 0, 'retries', 'x']],
      ['Recur(): Arg "backlog" not a number: x', ['q', 'r', 'K', '{}', 'interval', 60, 0, 'backlog', 'x']],
    ];
    for (const [message, args] of cases) {
      assert.equal(await fx.core.error(T, 'recur', ...args), message, message);
    }
    assert.match(
      await fx.core.error(T, 'recur', 'q', 'r', 'K', '{}', 'interval', 60, 0, 'priority'),
      /^Odd number of additional args: table: 0x[0-9a-f]+$/,
    );
    assert.deepEqual(await fx.core.snapshot(), before);
  });
});

describe('spawning children', () => {
  test('a child is a waiting job dated at its spawn time; no events, tags scored at now', async () => {
    await recur(T, 60, 0, 'priority', 3, 'tags', '["rt"]', 'retries', 2);
    const messages = await fx.core.listen('ql:*');
    assert.deepEqual(await fx.core.call(T + 5, 'peek', 'q', 0), '{}');
    const [child] = JSON.parse(String(await fx.core.call(T + 5, 'peek', 'q', 1))) as Record<string, unknown>[];
    assert.deepEqual(await messages.take(), []);
    await messages.close();
    assert.equal(
      JSON.stringify(child),
      JSON.stringify(
        JSON.parse(
          '{"jid":"rec-1","retries":2,"data":"{\\"r\\":1}","failure":{},"expires":0,"remaining":2,' +
            '"spawned_from_jid":"rec","dependencies":{},"klass":"K","tracked":false,"tags":["rt"],' +
            '"queue":"q","state":"waiting","history":[{"when":1700000000,"q":"q","what":"put"}],' +
            '"dependents":{},"priority":3,"worker":""}',
        ),
      ),
    );
    assert.equal(
      await fx.core.call(T + 5, 'get', 'rec-1'),
      '{"jid":"rec-1","retries":2,"data":"{\\"r\\":1}","failure":{},"expires":0,"remaining":2,' +
        '"spawned_from_jid":"rec","dependencies":{},"klass":"K","tracked":false,"tags":["rt"],' +
        '"queue":"q","state":"waiting","history":[{"when":1700000000,"q":"q","what":"put"}],' +
        '"dependents":{},"priority":3,"worker":""}',
    );
    assert.deepEqual(await fx.core.redis.hkeys('ql:j:rec-1'), [
      'jid',
      'klass',
      'data',
      'priority',
      'tags',
      'state',
      'worker',
      'expires',
      'queue',
      'retries',
      'remaining',
      'time',
      'spawned_from_jid',
    ]);
    assert.equal(await fx.core.redis.hget('ql:j:rec-1', 'time'), '1700000000.00000000000000000000');
    assert.equal(Number(await fx.core.redis.zscore('ql:q:q-work', 'rec-1')), 3 - T / 1e10);
    assert.equal(await fx.core.redis.zscore('ql:t:rt', 'rec-1'), String(T + 5));
    assert.deepEqual(await fx.core.redis.zrange('ql:tags', 0, -1, 'WITHSCORES'), ['rt', '1']);
    assert.equal(await fx.core.redis.hget('ql:r:rec', 'count'), '1');
    assert.equal(await fx.core.redis.zscore('ql:q:q-recur', 'rec'), String(T + 60));
  });

  test('without backlog every missed interval spawns, at most `count` per pop', async () => {
    await recur(T, 60, 0);
    // Earlier spawns score higher (priority − spawn time/1e10), so they pop first.
    assert.deepEqual(await pop(T + 250, 2), ['rec-1', 'rec-2']);
    assert.deepEqual(await pop(T + 250, 10), ['rec-3', 'rec-4', 'rec-5']);
    assert.equal(await fx.core.redis.zscore('ql:q:q-recur', 'rec'), String(T + 300));
    assert.deepEqual(await fx.core.redis.lrange('ql:j:rec-3-history', 0, 0), ['[1700000120,"put",{"q":"q"}]']);
  });

  test('backlog 2 at +250 s with interval 60: 2 children', async () => {
    await recur(T, 60, 0, 'backlog', 2);
    assert.deepEqual(await peek(T + 250, 10), ['rec-1', 'rec-2']);
    assert.equal(await fx.core.redis.hget('ql:j:rec-1', 'time'), '1700000180.00000000000000000000');
    assert.equal(await fx.core.redis.zscore('ql:q:q-recur', 'rec'), String(T + 300));
  });

  test('backlog 2 at exactly +240 s: 3 children', async () => {
    await recur(T, 60, 0, 'backlog', 2);
    assert.deepEqual(await peek(T + 240, 10), ['rec-1', 'rec-2', 'rec-3']);
    assert.equal(await fx.core.redis.hget('ql:j:rec-1', 'time'), '1700000120.00000000000000000000');
  });

  test('a fractional next-spawn score loses its fraction', async () => {
    await recur('1700000000.7', 60, 10.5);
    assert.deepEqual(await peek(T + 11, 5), []);
    assert.deepEqual(await peek(T + 12, 5), ['rec-1']);
    assert.equal(await fx.core.redis.hget('ql:j:rec-1', 'time'), '1700000011.00000000000000000000');
    assert.equal(await fx.core.redis.zscore('ql:q:q-recur', 'rec'), String(T + 71));
    assert.deepEqual(await fx.core.redis.lrange('ql:j:rec-1-history', 0, -1), ['[1700000011,"put",{"q":"q"}]']);
  });

  test('children do not register their queue; unrecur keeps them', async () => {
    await recur(T, 60, 0);
    await fx.core.redis.del('ql:queues');
    await pop(T, 5);
    assert.equal(await fx.core.redis.exists('ql:queues'), 0);
    assert.equal(await fx.core.call(T, 'unrecur', 'rec'), 1);
    assert.equal(await fx.core.redis.exists('ql:r:rec', 'ql:q:q-recur'), 0);
    assert.equal(await fx.core.redis.hget('ql:j:rec-1', 'state'), 'running');
    assert.equal(await fx.core.call(T, 'unrecur', 'rec'), 1);
    assert.equal(await fx.core.error(T, 'unrecur'), 'Recurring(): no jid provided');
  });
});

describe('recur.update', () => {
  beforeEach(async () => {
    await recur(T, 60, 0);
  });

  test('each option; an interval change shifts the next spawn; a queue change keeps it', async () => {
    assert.equal(
      await fx.core.call(
        T + 1,
        'recur.update',
        'rec',
        'priority',
        2.5,
        'retries',
        4,
        'data',
        '{"n":2}',
        'klass',
        'K2',
        'backlog',
        3,
      ),
      1,
    );
    assert.deepEqual(await fx.core.redis.hmget('ql:r:rec', 'priority', 'retries', 'data', 'klass', 'backlog'), [
      '2.5',
      '4',
      '{"n":2}',
      'K2',
      '3',
    ]);
    assert.equal(await fx.core.call(T + 1, 'recur.update', 'rec', 'interval', 90), 1);
    assert.equal(await fx.core.redis.hget('ql:r:rec', 'interval'), '90');
    assert.equal(await fx.core.redis.zscore('ql:q:q-recur', 'rec'), String(T + 30));
    assert.equal(await fx.core.call(T + 2, 'recur.update', 'rec', 'queue', 'other'), 1);
    assert.equal(await fx.core.redis.exists('ql:q:q-recur'), 0);
    assert.equal(await fx.core.redis.zscore('ql:q:other-recur', 'rec'), String(T + 30));
    assert.deepEqual(await fx.core.redis.zrange('ql:queues', 0, -1, 'WITHSCORES'), [
      'q',
      String(T),
      'other',
      String(T + 2),
    ]);
  });

  test('refusals; options before a bad one are already applied', async () => {
    const before = await fx.core.snapshot();
    assert.equal(await fx.core.error(T, 'recur.update'), 'Recurring(): no jid provided');
    assert.equal(await fx.core.error(T, 'recur.update', 'ghost', 'priority', 1), 'Recur(): No recurring job ghost');
    assert.equal(await fx.core.error(T, 'recur.update', 'rec', 'priority'), 'No value provided for priority');
    assert.equal(
      await fx.core.error(T, 'recur.update', 'rec', 'interval', 'x'),
      'Recur(): Arg "interval" must be a number: x',
    );
    assert.equal(
      await fx.core.error(T, 'recur.update', 'rec', 'backlog', 'x'),
      'Recur(): Arg "backlog" not a number: x',
    );
    assert.equal(
      await fx.core.error(T, 'recur.update', 'rec', 'data', 'false'),
      'Recur(): Arg "data" is not JSON-encoded: false',
    );
    assert.equal(
      await fx.core.error(T, 'recur.update', 'rec', 'colour', 'red'),
      'Recur(): Unrecognized option "colour"',
    );
    assert.deepEqual(await fx.core.snapshot(), before);
    assert.equal(
      await fx.core.error(T, 'recur.update', 'rec', 'priority', 9, 'retries', 'x'),
      'Recur(): Arg "retries" must be a number: x',
    );
    assert.equal(await fx.core.redis.hget('ql:r:rec', 'priority'), '9');
  });
});

describe('recur.tag and recur.untag', () => {
  test('edit only the template tags field', async () => {
    await recur(T, 60, 0, 'tags', '["x"]');
    assert.equal(await fx.core.call(T, 'recur.tag', 'rec', 'a', 'b', 'a', 'x'), '["x","a","b","a"]');
    assert.equal(await fx.core.call(T, 'recur.untag', 'rec', 'a', 'zz'), '["x","b"]');
    assert.equal(await fx.core.call(T, 'recur.untag', 'rec', 'x', 'b'), '{}');
    assert.equal(await fx.core.redis.hget('ql:r:rec', 'tags'), '{}');
    assert.equal(await fx.core.redis.exists('ql:tags', 'ql:t:a', 'ql:t:x'), 0);
  });

  test('a missing template', async () => {
    assert.equal(await fx.core.error(T, 'recur.tag', 'ghost', 'a'), 'Tag(): Job ghost does not exist');
    assert.equal(await fx.core.error(T, 'recur.untag', 'ghost', 'a'), 'Untag(): Job ghost does not exist');
    assert.equal(await fx.core.error(T, 'recur.tag'), 'Recurring(): no jid provided');
    assert.equal(await fx.core.error(T, 'recur.untag'), 'Recurring(): no jid provided');
    assert.equal(await fx.core.call(T, 'recur.get', 'ghost'), null);
    assert.equal(await fx.core.error(T, 'recur.get'), 'Recurring(): no jid provided');
  });
});
