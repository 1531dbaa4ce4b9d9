// Conformance: the exact error texts of the protocol document §1 and §1.2, without Redis's
// wrapper. Where a row needs a job, the job is set up so that only the row's condition is wrong.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { scriptMessage } from '../helpers/qless.ts';
import { useCore } from '../helpers/client-suite.ts';
import { scriptSha } from '../../src/client/script.ts';

const T = 1700000000;

const fx = useCore();

/** EVALSHA with raw arguments (numkeys and all), returning the script's message. */
async function rawError(numkeys: number, ...args: string[]): Promise<string> {
  try {
    await fx.core.redis.evalsha(scriptSha(), numkeys, ...args);
  } catch (error) {
    return scriptMessage(error);
  }
  throw new Error('expected the call to fail, but it succeeded');
}

const err = (now: number, command: string, ...args: (string | number)[]): Promise<string> =>
  fx.core.error(now, command, ...args);

async function waiting(jid: string, queue = 'q', ...options: (string | number)[]): Promise<void> {
  await fx.core.call(T, 'put', 'w0', queue, jid, 'K', '{}', 0, ...options);
}
async function running(jid: string, worker = 'w1', queue = 'q'): Promise<void> {
  await waiting(jid, queue);
  const popped = JSON.parse(String(await fx.core.call(T, 'pop', queue, worker, 1))) as { jid: string }[];
  assert.deepEqual(
    popped.map((job) => job.jid),
    [jid],
  );
}

describe('§1 calling convention', () => {
  test('no command / unknown command / keys given', async () => {
    assert.equal(await rawError(0), 'Must provide a command');
    assert.equal(await err(T, 'frobnicate'), 'Unknown command frobnicate');
    assert.equal(await rawError(1, 'ql:x', 'get', String(T), 'j'), 'No Keys should be provided');
  });

  test('now not numeric always says nil; now absent is tonumber’s own error', async () => {
    assert.equal(await fx.core.error('abc', 'get', 'j'), 'Arg "now" missing or not a number: nil');
    assert.equal(await rawError(0, 'get'), "bad argument #1 to 'tonumber' (value expected)");
  });
});

describe('§1.2 missing jid / queue', () => {
  test('Job(): no jid provided', async () => {
    for (const command of ['get', 'requeue', 'heartbeat', 'complete', 'fail', 'retry', 'depends', 'priority']) {
      // requeue takes put's arguments: worker, queue, then jid.
      const args = command === 'requeue' ? ['w0', 'q'] : [];
      assert.equal(await err(T, command, ...args), 'Job(): no jid provided', command);
    }
  });

  test('Queue(): no queue name provided', async () => {
    assert.equal(await err(T, 'put', 'w0'), 'Queue(): no queue name provided', 'put');
    for (const command of ['peek', 'pop', 'stats', 'length', 'unfail', 'recur']) {
      assert.equal(await err(T, command), 'Queue(): no queue name provided', command);
    }
  });

  test('Recurring(): no jid provided', async () => {
    for (const command of ['recur.get', 'recur.update', 'recur.tag', 'recur.untag', 'unrecur']) {
      assert.equal(await err(T, command), 'Recurring(): no jid provided', command);
    }
  });
});

describe('§1.2 put / requeue', () => {
  test('jid / klass absent', async () => {
    assert.equal(await err(T, 'put', 'w0', 'q'), 'Put(): Arg "jid" missing');
    assert.equal(await err(T, 'put', 'w0', 'q', 'j'), 'Put(): Arg "klass" missing');
  });

  test('data: false, absent, and cjson parse errors; null, strings and arrays are accepted', async () => {
    assert.equal(await err(T, 'put', 'w0', 'q', 'j', 'K', 'false', 0), 'Put(): Arg "data" missing or not JSON: false');
    assert.equal(await err(T, 'put', 'w0', 'q', 'j', 'K'), "bad argument #1 to 'decode' (string expected, got nil)");
    assert.equal(
      await err(T, 'put', 'w0', 'q', 'j', 'K', 'x', 0),
      'Expected value but found invalid token at character 1',
    );
    assert.equal(
      await err(T, 'put', 'w0', 'q', 'j', 'K', '{x', 0),
      'Expected object key string but found invalid token at character 2',
    );
    assert.equal(await fx.core.call(T, 'put', 'w0', 'q', 'n', 'K', 'null', 0), 'n');
    assert.equal(await fx.core.call(T, 'put', 'w0', 'q', 's', 'K', '"text"', 0), 's');
    assert.equal(await fx.core.call(T, 'put', 'w0', 'q', 'a', 'K', '[1,2]', 0), 'a');
    // §2 data is stored as received.
    assert.equal(await fx.core.redis.hget('ql:j:n', 'data'), 'null');
    assert.equal(await fx.core.redis.hget('ql:j:s', 'data'), '"text"');
    assert.equal(await fx.core.redis.hget('ql:j:a', 'data'), '[1,2]');
  });

  test('delay absent / bad', async () => {
    assert.equal(await err(T, 'put', 'w0', 'q', 'j', 'K', '{}'), 'Put(): Arg "delay" not a number: nil');
    assert.equal(await err(T, 'put', 'w0', 'q', 'j', 'K', '{}', 'soon'), 'Put(): Arg "delay" not a number: soon');
  });

  test('odd number of option words (put and recur): a Lua table address', async () => {
    assert.match(
      await err(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0, 'priority'),
      /^Odd number of additional args: table: 0x[0-9a-f]+$/,
    );
    assert.match(
      await err(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0, 'priority', 1, 'tags'),
      /^Odd number of additional args: table: 0x[0-9a-f]+$/,
    );
    assert.match(
      await err(T, 'recur', 'q', 'r', 'K', '{}', 'interval', 60, 0, 'retries'),
      /^Odd number of additional args: table: 0x[0-9a-f]+$/,
    );
  });

  test('priority / retries / tags / depends bad', async () => {
    assert.equal(
      await err(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0, 'priority', 'x'),
      'Put(): Arg "priority" not a numberx',
    );
    assert.equal(
      await err(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0, 'retries', 'x'),
      'Put(): Arg "retries" not a number: x',
    );
    assert.equal(await err(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0, 'tags', 'false'), 'Put(): Arg "tags" not JSONfalse');
    assert.equal(
      await err(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0, 'depends', 'false'),
      'Put(): Arg "depends" not JSON: false',
    );
  });

  test('requeue of a missing job', async () => {
    assert.equal(await err(T, 'requeue', 'w0', 'q', 'j', 'K', '{}', 0), 'Requeue(): Job j does not exist');
  });
});

describe('§1.2 heartbeat', () => {
  test('worker absent (sic: Heatbeat)', async () => {
    await running('j');
    assert.equal(await err(T, 'heartbeat', 'j'), 'Heatbeat(): Arg "worker" missing');
  });

  test('missing / not running (waiting, stalled) / other owner', async () => {
    assert.equal(await err(T, 'heartbeat', 'nope', 'w1'), 'Heartbeat(): Job nope does not exist');
    await waiting('w');
    assert.equal(await err(T, 'heartbeat', 'w', 'w1'), 'Heartbeat(): Job w not currently running: waiting');
    await running('j', 'w1', 'q2');
    assert.equal(await err(T, 'heartbeat', 'j', 'w2'), 'Heartbeat(): Job j given out to another worker: w1');
    await fx.core.call(T, 'timeout', 'j');
    assert.equal(await err(T, 'heartbeat', 'j', 'w1'), 'Heartbeat(): Job j not currently running: stalled');
  });

  test('data is decoded first: bad JSON fails even for a missing job', async () => {
    assert.equal(await err(T, 'heartbeat', 'nope', 'w1', 'x'), 'Expected value but found invalid token at character 1');
  });
});

describe('§1.2 complete', () => {
  test('worker / queue / data absent; data false', async () => {
    await running('j');
    assert.equal(await err(T, 'complete', 'j'), 'Complete(): Arg "worker" missing');
    assert.equal(await err(T, 'complete', 'j', 'w1'), 'Complete(): Arg "queue" missing');
    assert.equal(await err(T, 'complete', 'j', 'w1', 'q'), "bad argument #1 to 'decode' (string expected, got nil)");
    assert.equal(
      await err(T, 'complete', 'j', 'w1', 'q', 'false'),
      'Complete(): Arg "data" missing or not JSON: false',
    );
  });

  test('missing / not running / other owner / other queue', async () => {
    assert.equal(await err(T, 'complete', 'nope', 'w1', 'q', '{}'), 'Complete(): Job nope does not exist');
    await waiting('w');
    assert.equal(await err(T, 'complete', 'w', 'w1', 'q', '{}'), 'Complete(): Job w is not currently running: waiting');
    await running('j', 'w1', 'q2');
    assert.equal(
      await err(T, 'complete', 'j', 'w2', 'q2', '{}'),
      'Complete(): Job j has been handed out to another worker: w1',
    );
    assert.equal(await err(T, 'complete', 'j', 'w1', 'q', '{}'), 'Complete(): Job j running in another queue: q2');
  });

  test('delay / depends without next; delay not a number', async () => {
    await running('j');
    assert.equal(
      await err(T, 'complete', 'j', 'w1', 'q', '{}', 'delay', 5),
      'Complete(): "delay" cannot be used without a "next".',
    );
    assert.equal(
      await err(T, 'complete', 'j', 'w1', 'q', '{}', 'depends', '["x"]'),
      'Complete(): "depends" cannot be used without a "next".',
    );
    assert.equal(await err(T, 'complete', 'j', 'w1', 'q', '{}', 'next', 'q2', 'delay', 'x'), 'assertion failed!');
  });
});

describe('§1.2 fail', () => {
  test('worker / group / message absent', async () => {
    await running('j');
    assert.equal(await err(T, 'fail', 'j'), 'Fail(): Arg "worker" missing');
    assert.equal(await err(T, 'fail', 'j', 'w1'), 'Fail(): Arg "group" missing');
    assert.equal(await err(T, 'fail', 'j', 'w1', 'grp'), 'Fail(): Arg "message" missing');
  });

  test('missing / not running (no space after jid) / other owner', async () => {
    assert.equal(await err(T, 'fail', 'nope', 'w1', 'grp', 'msg'), 'Fail(): Job nopedoes not exist');
    await waiting('w');
    assert.equal(await err(T, 'fail', 'w', 'w1', 'grp', 'msg'), 'Fail(): Job wnot currently running: waiting');
    await running('j', 'w1', 'q2');
    assert.equal(await err(T, 'fail', 'j', 'w2', 'grp', 'msg'), 'Fail(): Job j running with another worker: w1');
  });
});

describe('§1.2 retry', () => {
  test('queue / worker absent; bad delay', async () => {
    await running('j');
    assert.equal(await err(T, 'retry', 'j'), 'Retry(): Arg "queue" missing');
    assert.equal(await err(T, 'retry', 'j', 'q'), 'Retry(): Arg "worker" missing');
    assert.equal(await err(T, 'retry', 'j', 'q', 'w1', 'x'), 'Retry(): Arg "delay" not a number: x');
  });

  test('missing / not running / other owner', async () => {
    assert.equal(await err(T, 'retry', 'nope', 'q', 'w1'), 'Retry(): Job nope does not exist');
    await waiting('w');
    assert.equal(await err(T, 'retry', 'w', 'q', 'w1'), 'Retry(): Job w is not currently running: waiting');
    await running('j', 'w1', 'q2');
    assert.equal(await err(T, 'retry', 'j', 'q2', 'w2'), 'Retry(): Job j has been given to another worker: w1');
  });
});

describe('§1.2 cancel, timeout, priority, depends', () => {
  test('cancel of a job whose dependent is not listed', async () => {
    await waiting('a');
    await fx.core.call(T, 'put', 'w0', 'q', 'b', 'K', '{}', 0, 'depends', '["a"]');
    assert.equal(await err(T, 'cancel', 'a'), 'Cancel(): a is a dependency of b but is not mentioned to be canceled');
  });

  test('timeout: missing / not running', async () => {
    assert.equal(await err(T, 'timeout', 'nope'), 'Timeout(): Job nope does not exist');
    await waiting('w');
    assert.equal(await err(T, 'timeout', 'w'), 'Timeout(): Job w not running');
  });

  test('priority: bad number / missing job', async () => {
    await waiting('j');
    assert.equal(await err(T, 'priority', 'j', 'x'), 'Priority(): Arg "priority" missing or not a number: x');
    assert.equal(await err(T, 'priority', 'j'), 'Priority(): Arg "priority" missing or not a number: nil');
    assert.equal(await err(T, 'priority', 'nope', 5), 'Priority(): Job nope does not exist');
  });

  test('depends: no sub-command / wrong state (checked before the sub-command) / bad sub-command', async () => {
    await waiting('a');
    await fx.core.call(T, 'put', 'w0', 'q', 'd', 'K', '{}', 0, 'depends', '["a"]');
    assert.equal(await err(T, 'depends', 'd'), 'Depends(): Arg "command" missing');
    assert.equal(await err(T, 'depends', 'a', 'on', 'd'), 'Depends(): Job a not in the depends state: waiting');
    assert.equal(await err(T, 'depends', 'a', 'sideways', 'd'), 'Depends(): Job a not in the depends state: waiting');
    assert.equal(await err(T, 'depends', 'nope', 'on', 'a'), 'Depends(): Job nope not in the depends state: false');
    assert.equal(await err(T, 'depends', 'd', 'sideways', 'a'), 'Depends(): Argument "command" must be "on" or "off"');
  });
});

describe('§1.2 log, track, tag', () => {
  test('log', async () => {
    await waiting('j');
    assert.equal(await err(T, 'log'), "Log(): Argument 'jid' missing");
    assert.equal(await err(T, 'log', 'j'), "Log(): Argument 'message' missing");
    assert.equal(await err(T, 'log', 'j', 'msg', 'false'), "Log(): Argument 'data' not cjson: false");
    assert.equal(await err(T, 'log', 'nope', 'msg'), 'Log(): Job nope does not exist');
  });

  test('track', async () => {
    await waiting('j');
    assert.equal(await err(T, 'track', 'track'), 'Track(): Arg "jid" missing');
    assert.equal(await err(T, 'track', 'track', 'nope'), 'Track(): Job does not exist');
    assert.equal(await err(T, 'track', 'follow', 'j'), 'Track(): Unknown action "follow"');
  });

  test('tag: sub-commands', async () => {
    assert.equal(await err(T, 'tag'), 'Tag(): Arg "command" must be "add", "remove", "get" or "top"');
    assert.equal(await err(T, 'tag', 'sideways'), 'Tag(): First argument must be "add", "remove" or "get"');
  });

  test('tag: arguments', async () => {
    assert.equal(await err(T, 'tag', 'add'), 'Tag(): Arg "jid" missing');
    assert.equal(await err(T, 'tag', 'add', 'nope', 't'), 'Tag(): Job nope does not exist');
    assert.equal(await err(T, 'tag', 'get'), 'Tag(): Arg "tag" missing');
    assert.equal(await err(T, 'tag', 'get', 't', 'x'), 'Tag(): Arg "offset" not a number: x');
    assert.equal(await err(T, 'tag', 'get', 't', 0, 'x'), 'Tag(): Arg "count" not a number: x');
  });
});

describe('§1.2 jobs, failed, unfail, stats, peek, pop', () => {
  test('jobs', async () => {
    assert.equal(await err(T, 'jobs'), 'Jobs(): Arg "state" missing');
    assert.equal(await err(T, 'jobs', 'running'), 'Jobs(): Arg "queue" missing');
    // The queue is checked before the state name.
    assert.equal(await err(T, 'jobs', 'sideways'), 'Jobs(): Arg "queue" missing');
    assert.equal(await err(T, 'jobs', 'sideways', 'q'), 'Jobs(): Unknown type "sideways"');
    assert.equal(await err(T, 'jobs', 'waiting', 'q'), 'Jobs(): Unknown type "waiting"');
    assert.equal(await err(T, 'jobs', 'complete', 'x'), 'Jobs(): Arg "offset" not a number: x');
    assert.equal(await err(T, 'jobs', 'complete', 0, 'x'), 'Jobs(): Arg "count" not a number: x');
    assert.equal(await err(T, 'jobs', 'running', 'q', 'x'), 'Jobs(): Arg "offset" not a number: x');
    assert.equal(await err(T, 'jobs', 'running', 'q', 0, 'x'), 'Jobs(): Arg "count" not a number: x');
  });

  test('failed / unfail', async () => {
    assert.equal(await err(T, 'failed', 'grp', 'x'), 'Failed(): Arg "start" is not a number: x');
    assert.equal(await err(T, 'failed', 'grp', 0, 'x'), 'Failed(): Arg "limit" is not a number: x');
    assert.equal(await err(T, 'unfail', 'q'), 'Unfail(): Arg "group" missing');
    assert.equal(await err(T, 'unfail', 'q', 'grp', 'x'), 'Unfail(): Arg "count" not a number: x');
  });

  test('stats / peek / pop', async () => {
    assert.equal(await err(T, 'stats', 'q'), 'Stats(): Arg "date" missing or not a number: nil');
    assert.equal(await err(T, 'stats', 'q', 'today'), 'Stats(): Arg "date" missing or not a number: today');
    assert.equal(await err(T, 'peek', 'q'), 'Peek(): Arg "count" missing or not a number: nil');
    assert.equal(await err(T, 'peek', 'q', 'x'), 'Peek(): Arg "count" missing or not a number: x');
    assert.equal(await err(T, 'pop', 'q'), 'Pop(): Arg "worker" missing');
    assert.equal(await err(T, 'pop', 'q', 'w1'), 'Pop(): Arg "count" missing or not a number: nil');
    assert.equal(await err(T, 'pop', 'q', 'w1', 'x'), 'Pop(): Arg "count" missing or not a number: x');
  });
});

describe('§1.2 recurring jobs', () => {
  test('recur: required arguments', async () => {
    assert.equal(await err(T, 'recur', 'q'), 'RecurringJob On(): Arg "jid" missing');
    assert.equal(await err(T, 'recur', 'q', 'r'), 'RecurringJob On(): Arg "klass" missing');
    // "also when data is absent"
    assert.equal(await err(T, 'recur', 'q', 'r', 'K'), 'RecurringJob On(): Arg "spec" missing');
    assert.equal(await err(T, 'recur', 'q', 'r', 'K', '{}'), 'RecurringJob On(): Arg "spec" missing');
    assert.equal(
      await err(T, 'recur', 'q', 'r', 'K', 'false', 'interval', 60, 0),
      'RecurringJob On(): Arg "data" not JSON: false',
    );
  });

  test('recur: schedule and options', async () => {
    const base = ['q', 'r', 'K', '{}'];
    assert.equal(await err(T, 'recur', ...base, 'cron', 60, 0), 'Recur(): schedule type "cron" unknown');
    assert.equal(await err(T, 'recur', ...base, 'interval', 'x', 0), 'Recur(): Arg "interval" not a number: x');
    assert.equal(await err(T, 'recur', ...base, 'interval', 60, 'x'), 'Recur(): Arg "offset" not a number: x');
    assert.equal(await err(T, 'recur', ...base, 'interval', 0, 0), 'Recur(): Arg "interval" must be greater than 0');
    assert.equal(
      await err(T, 'recur', ...base, 'interval', 60, 0, 'priority', 'x'),
      'Recur(): Arg "priority" not a number: x',
    );
    assert.equal(
      await err(T, 'recur', ...base, 'interval', 60, 0, 'retries', 'x'),
      'Recur(): Arg "retries" not a number: x',
    );
    assert.equal(
      await err(T, 'recur', ...base, 'interval', 60, 0, 'backlog', 'x'),
      'Recur(): Arg "backlog" not a number: x',
    );
    assert.equal(
      await err(T, 'recur', ...base, 'interval', 60, 0, 'tags', 'false'),
      'Recur(): Arg "tags" must be JSON string array: false',
    );
  });

  test('recur.update', async () => {
    assert.equal(await err(T, 'recur.update', 'nope', 'priority', 1), 'Recur(): No recurring job nope');
    await fx.core.call(T, 'recur', 'q', 'r', 'K', '{}', 'interval', 60, 0);
    assert.equal(await err(T, 'recur.update', 'r', 'priority'), 'No value provided for priority');
    for (const key of ['priority', 'interval', 'retries']) {
      assert.equal(await err(T, 'recur.update', 'r', key, 'x'), `Recur(): Arg "${key}" must be a number: x`, key);
    }
    assert.equal(await err(T, 'recur.update', 'r', 'backlog', 'x'), 'Recur(): Arg "backlog" not a number: x');
    assert.equal(await err(T, 'recur.update', 'r', 'data', 'false'), 'Recur(): Arg "data" is not JSON-encoded: false');
    assert.equal(await err(T, 'recur.update', 'r', 'colour', 'red'), 'Recur(): Unrecognized option "colour"');
  });

  test('recur.tag / recur.untag of a missing template', async () => {
    assert.equal(await err(T, 'recur.tag', 'nope', 't'), 'Tag(): Job nope does not exist');
    assert.equal(await err(T, 'recur.untag', 'nope', 't'), 'Untag(): Job nope does not exist');
  });
});

describe('§1.2 config and Redis-level errors', () => {
  test('config.set / config.unset', async () => {
    assert.equal(await err(T, 'config.set'), 'config.set(): Arg "option" missing');
    assert.equal(await err(T, 'config.set', 'heartbeat'), 'config.set(): Arg "value" missing');
    assert.equal(await err(T, 'config.unset'), 'config.unset(): Arg "option" missing');
  });

  test('pause, unpause, worker.deregister, queue.forget with no names', async () => {
    for (const command of ['pause', 'unpause', 'worker.deregister', 'queue.forget']) {
      assert.equal(await err(T, command), 'Wrong number of args calling Redis command from script', command);
    }
  });

  test('count 0 in unfail, fractional offsets and counts: value is not an integer or out of range', async () => {
    const message = 'value is not an integer or out of range';
    await running('j');
    await fx.core.call(T, 'fail', 'j', 'w1', 'grp', 'msg');
    assert.equal(await err(T, 'unfail', 'q', 'grp', 0), message, 'unfail count 0');
    assert.equal(await err(T, 'failed', 'grp', 0.5, 10), message, 'failed start 0.5');
    assert.equal(await err(T, 'failed', 'grp', 0, 2.5), message, 'failed limit 2.5');
    assert.equal(await err(T, 'jobs', 'complete', 0.5), message, 'jobs complete offset 0.5');
    assert.equal(await err(T, 'jobs', 'running', 'q', 0, 1.5), message, 'jobs running count 1.5');
    assert.equal(await err(T, 'tag', 'get', 't', 0.5), message, 'tag get offset 0.5');
    assert.equal(await err(T, 'tag', 'top', 0, 1.5), message, 'tag top count 1.5');
    await waiting('w');
    assert.equal(await err(T, 'peek', 'q', 1.5), message, 'peek count 1.5');
    assert.equal(await err(T, 'pop', 'q', 'w1', 1.5), message, 'pop count 1.5');
  });
});
