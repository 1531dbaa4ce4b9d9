// ACL users, with the rules exactly as the README gives them: a pool whose user has the worker
// rule runs jobs; a dashboard user with the read-only rule reads everything `qless` shows and may
// write nothing; a pool whose user lacks the rule starts no worker, says why, and starts once an
// admin grants the rule.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Client, Job } from '../../src/client/index.ts';
import { qless } from '../helpers/cli.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { eventually, isAlive, startWorker, type WorkerRun } from '../helpers/worker.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const HANDLERS = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** The tokens after `ACL SETUSER <user>` of the README's rule for that user. */
function readmeRule(user: string): string[] {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const line = readme.split('\n').find((text) => text.startsWith(`ACL SETUSER ${user} `));
  assert.ok(line, `README.md gives an ACL rule for ${user}`);
  return line.split(/\s+/).slice(3);
}

/** The rule with its password placeholder replaced. */
function withPassword(rule: string[], password: string): string[] {
  return rule.map((token) => (token.startsWith('>') ? `>${password}` : token));
}

function scriptCommands(): string[] {
  const source = readFileSync(join(REPO, 'src/lua/qless.lua'), 'utf8');
  const names = [...source.matchAll(/redis\.p?call\(\s*'([a-zA-Z]+)'/g)].map((match) => match[1].toLowerCase());
  assert.ok(names.length > 20, 'the script calls Redis');
  return [...new Set(names)].sort();
}

describe('ACL users with the README rules', () => {
  let server: RedisServer;
  let admin: Redis;
  let client: Client;
  const pools: WorkerRun[] = [];
  let dir: string;
  let runsFile: string;

  const urlOf = (user: string): string => `redis://${user}:pw-${user}@127.0.0.1:${server.port}`;
  const pool = (user: string, name: string, queue = 'acl'): WorkerRun => {
    const run = startWorker(
      ['-q', queue, '-w', '2', '-i', '0.2', '-p', HANDLERS, '-d', dir, '-n', name, '--no-watch', '-r', urlOf(user)],
      { env: { HA_RUNS_FILE: runsFile } },
    );
    pools.push(run);
    return run;
  };

  before(async () => {
    server = await startRedis();
    admin = new Redis(server.url);
    for (const user of ['qless-worker', 'qless-dashboard'])
      await admin.call('ACL', 'SETUSER', user, ...withPassword(readmeRule(user), `pw-${user}`));
    // Another application's user: every command, but none of qless's keys or channels.
    await admin.call('ACL', 'SETUSER', 'other-app', 'on', '>pw-other-app', '~app:*', '&app:*', '+@all');
    client = new Client({ url: server.url, workerName: 'producer' });
    dir = mkdtempSync(join(tmpdir(), 'qless-ha-acl-'));
    runsFile = join(dir, 'runs.log');
    writeFileSync(runsFile, '');
  });

  after(async () => {
    for (const run of pools) await run.kill();
    await client?.close();
    admin?.disconnect();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the worker rule allows every command the qless script calls', () => {
    const rule = readmeRule('qless-worker');
    const missing = scriptCommands().filter((command) => !rule.includes(`+${command}`));
    assert.deepEqual(missing, []);
  });

  test('a pool whose user has the worker rule runs jobs (and a job that throws fails as usual)', async () => {
    const ok = await Promise.all(Array.from({ length: 20 }, () => client.queue('acl').put('runs', {})));
    const bad = await client.queue('acl').put('missing.Handler', {});
    const run = pool('qless-worker', 'acl');
    await eventually(async () => (await client.redis.zcard('ql:completed')) === ok.length, {
      what: 'every job completed by the ACL user',
    });
    await eventually(async () => (await client.redis.hget(`ql:j:${bad}`, 'state')) === 'failed', {
      what: 'the job without a handler failed',
    });
    assert.deepEqual(
      run.find((line) => line.level >= 50),
      [],
      'nothing logged as an error',
    );
    await eventually(async () => (await client.redis.zrange('ql:workers', 0, -1)).sort().join() === 'acl-0,acl-1', {
      what: 'both workers of the pool polled',
    });
  });

  test('the dashboard user reads what qless shows, and may write nothing', async () => {
    const [jid] = await client.redis.zrange('ql:completed', 0, 0);
    const reads = [
      ['queues'],
      ['workers'],
      ['worker', 'acl-0'],
      ['get', jid],
      ['failed'],
      ['failed', 'acl-ModuleNotFound'],
      ['jobs', 'complete'],
      ['jobs', 'running', 'acl'],
      ['stats', 'acl'],
      ['config'],
      ['tagged', 'nothing'],
    ];
    for (const args of reads) {
      const result = await qless([...args, '--json'], { redis: urlOf('qless-dashboard') });
      assert.equal(result.code, 0, `qless ${args.join(' ')}: ${result.stderr}`);
    }
    // A waiting job in a queue no pool serves, for the dashboard to try to cancel.
    const waiting = await client.queue('acl-idle').put('runs', {});
    const keys = await client.redis.dbsize();
    const state = await client.redis.hgetall(`ql:j:${waiting}`);
    for (const args of [
      ['put', 'acl', 'runs'],
      ['cancel', waiting],
      ['config', 'set', 'heartbeat', '5'],
    ]) {
      const result = await qless(args, { redis: urlOf('qless-dashboard') });
      assert.notEqual(result.code, 0, `qless ${args.join(' ')} was refused`);
      assert.match(result.stderr, /can't (access|run)|NOPERM|no permissions/, result.stderr);
    }
    assert.equal(await client.redis.dbsize(), keys, 'no key added');
    assert.deepEqual(await client.redis.hgetall(`ql:j:${waiting}`), state, 'the job is unchanged');
  });

  test('a pool whose user lacks the rule starts no worker, says why, and starts once the rule is granted', async () => {
    const jid = await client.queue('acl-late').put('runs', {});
    const run = pool('other-app', 'lacking', 'acl-late');
    const refusal = 'Redis user other-app may not do what qless-worker needs';
    await run.waitForLine(refusal);
    // The second check (a second later) is refused too, and still no worker was started.
    await run.waitForLine((line) => line.msg.includes(refusal) && line.retryInMs === 2_000);
    assert.deepEqual(run.find('forked worker'), [], 'no worker forked');
    assert.ok(isAlive(run.pid), 'the supervisor waits, it does not exit');
    assert.match(run.find(refusal)[0].msg, /README/);

    await admin.call(
      'ACL',
      'SETUSER',
      'other-app',
      'reset',
      ...withPassword(readmeRule('qless-worker'), 'pw-other-app'),
    );
    await run.waitForLine('Redis user other-app may now run the pool', { timeout: 30_000 });
    await eventually(async () => (await client.redis.hget(`ql:j:${jid}`, 'state')) === 'complete', {
      what: 'the job completed once the user may',
    });
    const job = await client.jobs.get(jid);
    assert.ok(job instanceof Job);
    assert.match(String(job.history.find((entry) => entry.what === 'popped')?.worker), /^lacking-[01]$/);
  });
});
