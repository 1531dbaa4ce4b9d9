// Typed errors with the script's own message, and bad input refused with Redis left as it was.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, InvalidInputError, Job, JobNotFoundError, LostLockError, QlessError } from '../../src/client/index.ts';
import { scriptErrorText } from '../../src/client/errors.ts';
import { useCore } from '../helpers/client-suite.ts';

const T0 = 1_700_000_000;
const fx = useCore({ workers: ['w1', 'w2'], clock: T0 });

/** Runs `action`, expecting it to throw `type`; returns the error. */
async function expectError<E extends Error>(
  action: () => Promise<unknown>,
  type: new (...args: never[]) => E,
): Promise<E> {
  try {
    await action();
  } catch (error) {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected ${type.name}, but the call succeeded`);
}

async function running(jid: string): Promise<Job> {
  await fx.clients.w1.queue('q').put('K', {}, { jid });
  const [job] = await fx.clients.w1.queue('q').pop();
  return job;
}

async function asSeenBy(owner: Client, jid: string): Promise<Job> {
  const job = await owner.jobs.get(jid);
  assert.ok(job instanceof Job);
  return job;
}

describe('error messages', () => {
  test('are the script text, without the Redis wrapping', async () => {
    const error = await expectError(() => fx.clients.w1.call('nonsense'), QlessError);
    assert.equal(error.message, 'Unknown command nonsense');
    assert.equal(error.command, 'nonsense');
    assert.equal(error.name, 'QlessError');
  });

  test('errors raised by a Redis command inside the script are unwrapped too', async () => {
    const error = await expectError(() => fx.clients.w1.call('pause'), QlessError);
    assert.equal(error.message, 'Wrong number of args calling Redis command from script');
  });

  test('the Redis 6 and 7 wrappings are both removed', () => {
    assert.equal(
      scriptErrorText('ERR user_script:1: Put(): Arg "klass" missing script: 0123abcd, on @user_script:1.'),
      'Put(): Arg "klass" missing',
    );
    assert.equal(
      scriptErrorText(
        'ERR Error running script (call to f_0123abcd): @user_script:9: user_script:9: Put(): Arg "klass" missing',
      ),
      'Put(): Arg "klass" missing',
    );
    assert.equal(
      scriptErrorText(
        'ERR Wrong number of args calling Redis command from script script: 0123abcd, on @user_script:5.',
      ),
      'Wrong number of args calling Redis command from script',
    );
  });

  test('a raw call with bad arguments gets the script refusal', async () => {
    const error = await expectError(() => fx.clients.w1.call('put', 'w1', 'q', 'jid', 'K', '{}', 'soon'), QlessError);
    assert.equal(error.message, 'Put(): Arg "delay" not a number: soon');
    assert.deepEqual(await fx.core.snapshot(), {});
  });
});

describe('LostLockError', () => {
  test('heartbeat, complete, fail and retry by a worker that does not hold the job', async () => {
    await running('a');
    const stolen = await asSeenBy(fx.clients.w2, 'a');
    const before = await fx.core.snapshot();
    const heartbeat = await expectError(() => stolen.heartbeat(), LostLockError);
    assert.equal(heartbeat.message, 'Heartbeat(): Job a given out to another worker: w1');
    assert.equal(heartbeat.command, 'heartbeat');
    const complete = await expectError(() => stolen.complete(), LostLockError);
    assert.equal(complete.message, 'Complete(): Job a has been handed out to another worker: w1');
    const fail = await expectError(() => stolen.fail('g', 'm'), LostLockError);
    assert.equal(fail.message, 'Fail(): Job a running with another worker: w1');
    const retry = await expectError(() => stolen.retry(), LostLockError);
    assert.equal(retry.message, 'Retry(): Job a has been given to another worker: w1');
    assert.deepEqual(await fx.core.snapshot(), before);
  });

  test('on a job that is no longer running, or gone', async () => {
    const job = await running('a');
    await job.complete();
    const again = await expectError(() => job.complete(), LostLockError);
    assert.equal(again.message, 'Complete(): Job a is not currently running: complete');
    assert.ok(again instanceof QlessError);
    const beat = await expectError(() => job.heartbeat(), LostLockError);
    assert.equal(beat.message, 'Heartbeat(): Job a not currently running: complete');

    const gone = await running('b');
    await fx.clients.w1.jobs.cancel('b');
    const missing = await expectError(() => gone.heartbeat(), LostLockError);
    assert.equal(missing.message, 'Heartbeat(): Job b does not exist');
    const failMissing = await expectError(() => gone.fail('g', 'm'), LostLockError);
    assert.equal(failMissing.message, 'Fail(): Job bdoes not exist');
  });
});

describe('JobNotFoundError', () => {
  test('for calls on a job that does not exist', async () => {
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'a' });
    const job = await asSeenBy(fx.clients.w1, 'a');
    await fx.clients.w1.jobs.cancel('a');
    const priority = await expectError(() => job.setPriority(3), JobNotFoundError);
    assert.equal(priority.message, 'Priority(): Job a does not exist');
    const log = await expectError(() => job.log('hello'), JobNotFoundError);
    assert.equal(log.message, 'Log(): Job a does not exist');
    const tag = await expectError(() => job.tag('t'), JobNotFoundError);
    assert.equal(tag.message, 'Tag(): Job a does not exist');
    assert.ok(tag instanceof QlessError);
    assert.ok(!(tag instanceof LostLockError));
  });

  test('for a recurring job that was cancelled', async () => {
    await fx.clients.w1.queue('q').recur('K', {}, { jid: 'r', interval: 60 });
    const recurring = await fx.clients.w1.jobs.get('r');
    assert.ok(recurring !== null && !(recurring instanceof Job));
    await recurring.cancel();
    const error = await expectError(() => recurring.update({ priority: 1 }), JobNotFoundError);
    assert.equal(error.message, 'Recur(): No recurring job r');
  });
});

describe('script refusals change nothing', () => {
  test('cancel of a job another job depends on', async () => {
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'a' });
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'b', depends: ['a'] });
    const before = await fx.core.snapshot();
    const error = await expectError(() => fx.clients.w1.jobs.cancel('a'), QlessError);
    assert.equal(error.message, 'Cancel(): a is a dependency of b but is not mentioned to be canceled');
    assert.deepEqual(await fx.core.snapshot(), before);
  });

  test('complete by the wrong worker', async () => {
    await running('a');
    const before = await fx.core.snapshot();
    await expectError(async () => (await asSeenBy(fx.clients.w2, 'a')).complete(), LostLockError);
    assert.deepEqual(await fx.core.snapshot(), before);
  });

  test('depend on a job that is not in the depends state', async () => {
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'a' });
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'b' });
    const before = await fx.core.snapshot();
    const error = await expectError(async () => (await asSeenBy(fx.clients.w1, 'a')).depend('b'), QlessError);
    assert.equal(error.message, 'Depends(): Job a not in the depends state: waiting');
    assert.deepEqual(await fx.core.snapshot(), before);
  });

  test('raw calls: unknown command, non-numeric delay or priority, malformed JSON, wrong worker', async () => {
    // And breaking a dependency: each gets the script's message as a QlessError.
    await fx.clients.w1.queue('q').put('K', { keep: 1 }, { jid: 'run', tags: ['t'] });
    const [running] = await fx.clients.w1.queue('q').pop();
    assert.equal(running.jid, 'run');
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'base' });
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'child', depends: ['base'] });
    const cases: [string, () => Promise<unknown>][] = [
      ['Unknown command frobnicate', () => fx.clients.w1.call('frobnicate', 'run')],
      ['Put(): Arg "delay" not a number: soon', () => fx.clients.w1.call('put', 'w1', 'q', 'run', 'K', '{}', 'soon')],
      [
        'Put(): Arg "priority" not a numberhigh',
        () => fx.clients.w1.call('put', 'w1', 'q', 'run', 'K', '{}', '0', 'priority', 'high'),
      ],
      [
        'Put(): Arg "priority" not a numberhigh',
        () => fx.clients.w1.call('put', 'w1', 'q', 'new', 'K', '{}', '0', 'priority', 'high'),
      ],
      [
        'Expected object key string but found invalid token at character 2',
        () => fx.clients.w1.call('put', 'w1', 'q', 'run', 'K', '{x', '0'),
      ],
      [
        'Complete(): Job run has been handed out to another worker: w1',
        () => fx.clients.w1.call('complete', 'run', 'w2', 'q', '{}'),
      ],
      [
        'Cancel(): base is a dependency of child but is not mentioned to be canceled',
        () => fx.clients.w1.call('cancel', 'base'),
      ],
    ];
    for (const [message, action] of cases) {
      const before = await fx.core.snapshot();
      await assert.rejects(action, (error: unknown) => {
        assert.ok(error instanceof QlessError, String(error));
        assert.equal(error.message, message);
        return true;
      });
      assert.deepEqual(await fx.core.snapshot(), before, message);
    }
  });
});

describe('InvalidInputError: refused before anything is sent', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const refusals: [string, () => Promise<unknown>][] = [
    ['data undefined', () => fx.clients.w1.queue('q').put('K', undefined)],
    ['data function', () => fx.clients.w1.queue('q').put('K', () => 1)],
    ['data BigInt', () => fx.clients.w1.queue('q').put('K', { n: 10n })],
    ['data cycle', () => fx.clients.w1.queue('q').put('K', cyclic)],
    ['data NaN inside', () => fx.clients.w1.queue('q').put('K', { a: [1, Number.NaN] })],
    ['data Infinity inside', () => fx.clients.w1.queue('q').put('K', { a: { b: Infinity } })],
    ['data Map', () => fx.clients.w1.queue('q').put('K', { m: new Map([[1, 2]]) })],
    ['data undefined in an array', () => fx.clients.w1.queue('q').put('K', [1, undefined])],
    ['data symbol', () => fx.clients.w1.queue('q').put('K', { s: Symbol('x') })],
    ['empty klass', () => fx.clients.w1.queue('q').put('', {})],
    ['non-string klass', () => fx.clients.w1.queue('q').put(42 as unknown as string, {})],
    ['empty jid', () => fx.clients.w1.queue('q').put('K', {}, { jid: '' })],
    ['NaN priority', () => fx.clients.w1.queue('q').put('K', {}, { priority: Number.NaN })],
    ['Infinity priority', () => fx.clients.w1.queue('q').put('K', {}, { priority: Infinity })],
    ['string priority', () => fx.clients.w1.queue('q').put('K', {}, { priority: '5' as unknown as number })],
    ['negative delay', () => fx.clients.w1.queue('q').put('K', {}, { delay: -1 })],
    ['Infinity delay', () => fx.clients.w1.queue('q').put('K', {}, { delay: Infinity })],
    ['NaN retries', () => fx.clients.w1.queue('q').put('K', {}, { retries: Number.NaN })],
    ['fractional retries', () => fx.clients.w1.queue('q').put('K', {}, { retries: 1.5 })],
    ['negative retries', () => fx.clients.w1.queue('q').put('K', {}, { retries: -1 })],
    ['tags not strings', () => fx.clients.w1.queue('q').put('K', {}, { tags: [1 as unknown as string] })],
    ['depends with an empty jid', () => fx.clients.w1.queue('q').put('K', {}, { depends: [''] })],
    ['zero interval', () => fx.clients.w1.queue('q').recur('K', {}, { interval: 0 })],
    ['negative offset', () => fx.clients.w1.queue('q').recur('K', {}, { interval: 5, offset: -5 })],
    ['recur data NaN', () => fx.clients.w1.queue('q').recur('K', Number.NaN, { interval: 5 })],
    ['pop count 0', () => fx.clients.w1.queue('q').pop(0)],
    ['pop fractional count', () => fx.clients.w1.queue('q').pop(1.5)],
    ['peek count -1', () => fx.clients.w1.queue('q').peek(-1)],
    ['unknown job list state', () => fx.clients.w1.queue('q').jobs('waiting' as 'running')],
    ['fractional page offset', () => fx.clients.w1.queue('q').jobs('running', 0.5)],
    ['bad stats date', () => fx.clients.w1.queue('q').stats(new Date('nonsense'))],
    ['empty tag search', () => fx.clients.w1.jobs.tagged('')],
    ['cancel of nothing', () => fx.clients.w1.jobs.cancel()],
    ['config value NaN', () => fx.clients.w1.config.set('heartbeat', Number.NaN)],
    ['empty config key', () => fx.clients.w1.config.set('', 1)],
    ['deregister of nothing', () => fx.clients.w1.workers.deregister()],
    ['empty raw command', () => fx.clients.w1.call('')],
    ['unfail count 0', () => fx.clients.w1.queue('q').unfail('g', 0)],
  ];

  for (const [name, action] of refusals) {
    test(name, async () => {
      await fx.clients.w1.queue('q').put('K', { keep: 1 }, { jid: 'existing', tags: ['t'] });
      const before = await fx.core.snapshot();
      const error = await expectError(action, InvalidInputError);
      assert.ok(error instanceof QlessError);
      assert.ok(error.message.length > 0);
      assert.deepEqual(await fx.core.snapshot(), before);
    });
  }

  test('an empty queue name is refused when the queue is made', () => {
    assert.throws(() => fx.clients.w1.queue(''), InvalidInputError);
  });

  test('job methods refuse bad input too', async () => {
    const job = await running('a');
    const before = await fx.core.snapshot();
    await expectError(() => job.complete(undefined, { delay: 5 }), InvalidInputError);
    await expectError(() => job.complete('next', { delay: -5 }), InvalidInputError);
    await expectError(() => job.complete('', {}), InvalidInputError);
    await expectError(() => job.fail('', 'message'), InvalidInputError);
    await expectError(() => job.fail('g', 'm', { bad: () => 1 }), InvalidInputError);
    await expectError(() => job.heartbeat(Number.NaN), InvalidInputError);
    await expectError(() => job.retry({ delay: Number.NaN }), InvalidInputError);
    await expectError(() => job.retry({ message: 'no group' }), InvalidInputError);
    await expectError(() => job.move('', {}), InvalidInputError);
    await expectError(() => job.setPriority(Infinity), InvalidInputError);
    await expectError(() => job.tag(), InvalidInputError);
    await expectError(() => job.untag(''), InvalidInputError);
    await expectError(() => job.depend(), InvalidInputError);
    await expectError(() => job.undepend('all'), InvalidInputError);
    await expectError(() => job.log(''), InvalidInputError);
    await expectError(() => job.log('m', [1] as unknown as Record<string, unknown>), InvalidInputError);
    assert.deepEqual(await fx.core.snapshot(), before);
  });

  test('a broken clock is refused', async () => {
    const broken = new Client({ url: fx.url, now: () => Number.NaN });
    try {
      await expectError(() => broken.queue('q').put('K', {}), InvalidInputError);
      assert.deepEqual(await fx.core.snapshot(), {});
    } finally {
      await broken.close();
    }
  });
});
