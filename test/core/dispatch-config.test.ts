// The script's calling convention (§1), every command it dispatches (one valid call each, and
// unknown names refused), and the config commands (§3).
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCore, scriptMessage, type Core, type Reply } from '../helpers/qless.ts';
import { scriptSha } from '../../src/client/script.ts';

const T = 1700000000;
let core: Core;

before(async () => {
  core = await startCore();
});
after(async () => {
  await core.close();
});
beforeEach(async () => {
  await core.flush();
  await core.call(T, 'put', 'w', 'q', 'j', 'K', '{}', 0);
});

async function rawError(...argv: string[]): Promise<string> {
  try {
    await core.redis.evalsha(scriptSha(), 0, ...argv);
  } catch (error) {
    return scriptMessage(error);
  }
  throw new Error('expected an error');
}

test('bad calls are refused before anything is written', async () => {
  const before = await core.snapshot();
  assert.equal(await rawError(), 'Must provide a command');
  assert.equal(await core.error(T, 'frobnicate', 'j'), 'Unknown command frobnicate');
  assert.equal(await rawError('get'), "bad argument #1 to 'tonumber' (value expected)");
  assert.equal(await core.error('soon', 'get', 'j'), 'Arg "now" missing or not a number: nil');
  assert.equal(await core.error('', 'put', 'w', 'q', 'x', 'K', '{}', 0), 'Arg "now" missing or not a number: nil');
  const withKeys = await core.redis.evalsha(scriptSha(), 1, 'ql:j:j', 'get', String(T), 'j').catch(scriptMessage);
  assert.equal(withKeys, 'No Keys should be provided');
  assert.deepEqual(await core.snapshot(), before);
});

test('errors carry the user_script wrapper of Redis 7', async () => {
  const error = await core.call(T, 'frobnicate').catch((e: unknown) => e);
  assert.ok(error instanceof Error);
  assert.match(
    error.message,
    /^ERR user_script:\d+: Unknown command frobnicate script: [0-9a-f]{40}, on @user_script:\d+\.$/,
  );
});

test('now accepts anything Lua tonumber accepts', async () => {
  await core.call('0x10', 'put', 'w', 'q', 'hex', 'K', '{}', 0);
  assert.equal(await core.redis.hget('ql:j:hex', 'time'), '16.00000000000000000000');
  await core.call(' 1e9 ', 'put', 'w', 'q', 'exp', 'K', '{}', 0);
  assert.equal(await core.redis.hget('ql:j:exp', 'time'), '1000000000.00000000000000000000');
});

test('config.get without a key: the defaults, then stored keys assigned in HGETALL order', async () => {
  assert.equal(
    await core.call(T, 'config.get'),
    '{"application":"qless","grace-period":10,"stats-history":30,"jobs-history":604800,' +
      '"heartbeat":60,"jobs-history-count":50000,"histogram-history":7}',
  );
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

test('config.get <key>: stored string, else default integer, else nil', async () => {
  assert.equal(await core.call(T, 'config.get', 'heartbeat'), 60);
  assert.equal(await core.call(T, 'config.get', 'application'), 'qless');
  assert.equal(await core.call(T, 'config.get', 'max-job-history'), null);
  assert.equal(await core.call(T, 'config.get', 'max-worker-age'), null);
  assert.equal(await core.call(T, 'config.get', 'nonsense'), null);
  await core.call(T, 'config.set', 'heartbeat', '30');
  assert.equal(await core.call(T, 'config.get', 'heartbeat'), '30');
});

test('config.set / config.unset write ql:config and publish on ql:log', async () => {
  const messages = await core.listen('ql:*');
  assert.equal(await core.call(T, 'config.set', 'heartbeat', 30), null);
  assert.deepEqual(await core.redis.hgetall('ql:config'), { heartbeat: '30' });
  assert.equal(await core.call(T, 'config.unset', 'heartbeat'), null);
  assert.equal(await core.redis.exists('ql:config'), 0);
  assert.deepEqual(await messages.take(), [
    ['ql:log', '{"option":"heartbeat","event":"config_set","value":"30"}'],
    ['ql:log', '{"event":"config_unset","option":"heartbeat"}'],
  ]);
  await messages.close();
});

test('config.set / config.unset argument errors change nothing', async () => {
  const before = await core.snapshot();
  assert.equal(await core.error(T, 'config.set'), 'config.set(): Arg "option" missing');
  assert.equal(await core.error(T, 'config.set', 'heartbeat'), 'config.set(): Arg "value" missing');
  assert.equal(await core.error(T, 'config.unset'), 'config.unset(): Arg "option" missing');
  assert.deepEqual(await core.snapshot(), before);
});

test('the per-queue heartbeat overrides the global one', async () => {
  await core.call(T, 'config.set', 'heartbeat', 30);
  await core.call(T, 'config.set', 'q-heartbeat', 5);
  await core.call(T, 'put', 'w', 'other', 'o', 'K', '{}', 0);
  await core.call(T, 'pop', 'q', 'w1', 1);
  await core.call(T, 'pop', 'other', 'w1', 1);
  assert.equal(await core.redis.zscore('ql:q:q-locks', 'j'), String(T + 5));
  assert.equal(await core.redis.zscore('ql:q:other-locks', 'o'), String(T + 30));
  assert.equal(await core.call(T + 1, 'heartbeat', 'j', 'w1'), T + 6);
  assert.equal(await core.call(T + 1, 'heartbeat', 'o', 'w1'), T + 31);
});

// Every command of the script: the list of issue 2 ("What to build" item 3), in its order.
const SCRIPT_COMMANDS = [
  'put',
  'requeue',
  'get',
  'multiget',
  'peek',
  'pop',
  'heartbeat',
  'complete',
  'fail',
  'retry',
  'cancel',
  'timeout',
  'priority',
  'depends',
  'log',
  'track',
  'tag',
  'jobs',
  'failed',
  'unfail',
  'queues',
  'workers',
  'stats',
  'length',
  'pause',
  'unpause',
  'recur',
  'recur.get',
  'recur.update',
  'recur.tag',
  'recur.untag',
  'unrecur',
  'config.get',
  'config.set',
  'config.unset',
  'worker.deregister',
  'queue.forget',
];

interface JobObject {
  jid: string;
  state: string;
  queue: string;
  worker: string;
  dependents: string[] | Record<string, never>;
  dependencies: string[] | Record<string, never>;
  history: { what: string }[];
}

const jobs = (reply: Reply): JobObject[] => (reply === '{}' ? [] : (JSON.parse(String(reply)) as JobObject[]));

describe('every command of the script, one valid call each', () => {
  test('all 37 commands answer with their documented reply and effect', async () => {
    await core.flush();
    const used = new Set<string>();
    const call = async (now: number, command: string, ...args: (string | number)[]): Promise<Reply> => {
      used.add(command);
      return core.call(now, command, ...args);
    };

    // put / requeue: the jid; requeue moves an existing job like put.
    assert.equal(await call(T, 'put', 'w0', 'q', 'a', 'K', '{"n":1}', 0), 'a');
    assert.equal(await call(T, 'requeue', 'w0', 'q2', 'a', 'K', '{"n":1}', 0), 'a');
    assert.equal(await core.redis.zscore('ql:q:q-work', 'a'), null);
    assert.notEqual(await core.redis.zscore('ql:q:q2-work', 'a'), null);
    assert.equal(await call(T, 'put', 'w0', 'q', 'b', 'K', '{}', 0, 'depends', '["a"]'), 'b');

    // get / multiget / peek: job objects; peek locks nothing.
    const a = JSON.parse(String(await call(T, 'get', 'a'))) as JobObject;
    assert.deepEqual([a.jid, a.queue, a.state, a.dependents], ['a', 'q2', 'waiting', ['b']]);
    assert.deepEqual(
      jobs(await call(T, 'multiget', 'a', 'ghost', 'b')).map((job) => [job.jid, job.state]),
      [
        ['a', 'waiting'],
        ['b', 'depends'],
      ],
    );
    assert.deepEqual(
      jobs(await call(T, 'peek', 'q2', 5)).map((job) => job.jid),
      ['a'],
    );
    assert.equal(await core.redis.exists('ql:q:q2-locks'), 0);

    // pop / heartbeat / complete, which releases the dependent b.
    assert.deepEqual(
      jobs(await call(T + 1, 'pop', 'q2', 'w1', 1)).map((job) => [job.jid, job.worker]),
      [['a', 'w1']],
    );
    assert.equal(await call(T + 2, 'heartbeat', 'a', 'w1'), T + 62);
    assert.equal(await call(T + 3, 'complete', 'a', 'w1', 'q2', '{}'), 'complete');
    assert.equal(await core.redis.hget('ql:j:b', 'state'), 'waiting');
    assert.equal(await core.redis.exists('ql:q:q-depends'), 0);

    // fail / failed / unfail.
    assert.deepEqual(
      jobs(await call(T + 4, 'pop', 'q', 'w1', 1)).map((job) => job.jid),
      ['b'],
    );
    assert.equal(await call(T + 5, 'fail', 'b', 'w1', 'g', 'boom'), 'b');
    assert.equal(await call(T + 5, 'failed'), '{"g":1}');
    assert.equal(await call(T + 6, 'unfail', 'q', 'g', 1), 1);
    assert.equal(await core.redis.hget('ql:j:b', 'state'), 'waiting');

    // retry: the remaining count; timeout: nil, the job stalls.
    await call(T + 7, 'pop', 'q', 'w1', 1);
    assert.equal(await call(T + 8, 'retry', 'b', 'q', 'w1'), 4);
    await call(T + 9, 'pop', 'q', 'w1', 1);
    assert.equal(await call(T + 10, 'timeout', 'b'), null);
    assert.equal(await core.redis.hget('ql:j:b', 'state'), 'stalled');

    // priority / depends / log.
    assert.equal(await call(T + 11, 'priority', 'b', 5), 5);
    assert.equal(await core.redis.zscore('ql:q:q-work', 'b'), '5');
    assert.equal(await call(T + 12, 'put', 'w0', 'q', 'd', 'K', '{}', 0), 'd');
    assert.equal(await call(T + 12, 'put', 'w0', 'q', 'c', 'K', '{}', 0, 'depends', '["b"]'), 'c');
    assert.equal(await call(T + 13, 'depends', 'c', 'on', 'd'), 1);
    assert.deepEqual((await core.redis.smembers('ql:j:c-dependencies')).sort(), ['b', 'd']);
    assert.equal(await call(T + 14, 'depends', 'c', 'off', 'd'), 1);
    assert.deepEqual(await core.redis.smembers('ql:j:c-dependencies'), ['b']);
    assert.equal(await call(T + 15, 'log', 'b', 'note', '{"k":"v"}'), null);
    assert.equal((await core.redis.lrange('ql:j:b-history', -1, -1))[0], '[1700000015,"note",{"k":"v"}]');

    // track / tag (add, get, top).
    assert.equal(await call(T + 16, 'track', 'track', 'b'), '1');
    assert.deepEqual(
      (JSON.parse(String(await call(T + 16, 'track'))) as { jobs: JobObject[] }).jobs.map((job) => job.jid),
      ['b'],
    );
    assert.equal(await call(T + 17, 'tag', 'add', 'b', 't1'), '["t1"]');
    assert.equal(await call(T + 18, 'tag', 'add', 'd', 't1'), '["t1"]');
    assert.equal(await call(T + 18, 'tag', 'get', 't1'), '{"jobs":["b","d"],"total":2}');
    assert.equal(await call(T + 18, 'tag', 'top'), '["t1"]');

    // cancel: the jids; the dependent c goes, b's dependents set with it.
    assert.deepEqual(await call(T + 19, 'cancel', 'c'), ['c']);
    assert.equal(await core.redis.exists('ql:j:c', 'ql:j:b-dependents'), 0);

    // jobs / queues / workers / stats / length.
    assert.deepEqual(await call(T + 20, 'jobs', 'complete'), ['a']);
    assert.deepEqual(await call(T + 20, 'jobs', 'depends', 'q'), []);
    const queues = JSON.parse(String(await call(T + 20, 'queues'))) as { name: string; waiting: number }[];
    assert.deepEqual(
      queues.map((queue) => [queue.name, queue.waiting]),
      [
        ['q', 2],
        ['q2', 0],
      ],
    );
    assert.deepEqual(
      (JSON.parse(String(await call(T + 20, 'workers'))) as { name: string }[]).map((worker) => worker.name),
      ['w1'],
    );
    assert.equal(await call(T + 20, 'workers', 'w1'), '{"stalled":{},"jobs":["b"]}');
    const stats = JSON.parse(String(await call(T + 20, 'stats', 'q', T))) as {
      wait: { count: number; histogram: number[] };
      failures: number;
    };
    assert.deepEqual([stats.wait.count, stats.wait.histogram.length, stats.failures], [3, 148, 1]);
    assert.equal(await call(T + 20, 'length', 'q'), 2);

    // pause / unpause: nil; a paused queue pops nothing.
    assert.equal(await call(T + 21, 'pause', 'q'), null);
    assert.equal(await core.call(T + 21, 'pop', 'q', 'w2', 1), '{}');
    assert.equal(await call(T + 21, 'unpause', 'q'), null);
    assert.equal(await core.redis.exists('ql:paused_queues'), 0);

    // recur and friends.
    assert.equal(await call(T + 22, 'recur', 'q', 'r', 'K', '{}', 'interval', 60, 0), 'r');
    assert.equal((JSON.parse(String(await call(T + 22, 'recur.get', 'r'))) as { state: string }).state, 'recur');
    assert.equal(await call(T + 22, 'recur.update', 'r', 'priority', 2), 1);
    assert.equal(await call(T + 22, 'recur.tag', 'r', 'x'), '["x"]');
    assert.equal(await call(T + 22, 'recur.untag', 'r', 'x'), '{}');
    assert.equal(await call(T + 22, 'unrecur', 'r'), 1);
    assert.equal(await core.redis.exists('ql:r:r', 'ql:q:q-recur'), 0);

    // config.get (default integer, stored string) / config.set / config.unset.
    assert.equal(await call(T + 23, 'config.get', 'heartbeat'), 60);
    assert.equal(await call(T + 23, 'config.set', 'heartbeat', 30), null);
    assert.equal(await call(T + 23, 'config.get', 'heartbeat'), '30');
    assert.equal(await call(T + 23, 'config.unset', 'heartbeat'), null);
    assert.equal(await core.redis.exists('ql:config'), 0);

    // worker.deregister / queue.forget: nil; only the names go.
    assert.equal(await call(T + 24, 'worker.deregister', 'w1'), null);
    assert.equal(await core.redis.zscore('ql:workers', 'w1'), null);
    assert.equal(await call(T + 24, 'queue.forget', 'q2'), null);
    assert.deepEqual(await core.redis.zrange('ql:queues', 0, -1), ['q']);

    assert.deepEqual([...used].sort(), [...SCRIPT_COMMANDS].sort());
    assert.equal(SCRIPT_COMMANDS.length, 37);
  });

  test('a name that is not one of them is refused as unknown, also near misses', async () => {
    await core.flush();
    for (const name of ['Put', 'recur.list', 'config', 'worker.deregister ', 'queues.forget']) {
      assert.equal(await core.error(T, name, 'x'), `Unknown command ${name}`);
    }
    assert.deepEqual(await core.snapshot(), {});
  });
});
