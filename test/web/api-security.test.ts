// Safe by default: read-only mode refuses every write route on the server, writes need the CSRF
// token and a same-origin request, and an exposed dashboard needs a password or a token.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { useDashboard } from './dashboard.ts';

type Json = Record<string, unknown>;

/** Every write route with a body that would succeed if it were allowed. */
const WRITES: [method: 'POST' | 'DELETE', url: string, body: Json][] = [
  ['POST', '/api/jobs', { queue: 'q', klass: 'K', data: '{}' }],
  ['POST', '/api/jobs/J/retry', {}],
  ['POST', '/api/jobs/J/cancel', {}],
  ['POST', '/api/jobs/J/move', { queue: 'q' }],
  ['POST', '/api/jobs/J/priority', { priority: 1 }],
  ['POST', '/api/jobs/J/track', {}],
  ['POST', '/api/jobs/J/untrack', {}],
  ['POST', '/api/jobs/J/tag', { tags: ['t'] }],
  ['POST', '/api/jobs/J/untag', { tags: ['t'] }],
  ['POST', '/api/jobs/J/undepend', { all: true }],
  ['POST', '/api/jobs/J/timeout', {}],
  ['POST', '/api/jobs/J/run-now', {}],
  ['POST', '/api/queues/q/pause', {}],
  ['POST', '/api/queues/q/unpause', {}],
  ['POST', '/api/failed/g/retry-all', {}],
  ['POST', '/api/failed/g/cancel-all', {}],
  ['POST', '/api/operations', { action: 'cancel', jids: ['J'] }],
  ['POST', '/api/recurring/R', { interval: 5 }],
  ['POST', '/api/recurring/R/unrecur', {}],
  ['POST', '/api/config/heartbeat', { value: '5' }],
  ['DELETE', '/api/config/heartbeat', {}],
];

async function seed(d: ReturnType<typeof useDashboard>): Promise<void> {
  await d.client.queue('q').put('K', {}, { jid: 'J' });
  await d.client.queue('q').recur('K', {}, { interval: 60, jid: 'R' });
  await d.client.queue('g').put('K', {}, { jid: 'F' });
  const [popped] = await d.client.queue('g').pop();
  await popped.fail('g', 'x');
}

describe('read-only mode', () => {
  const d = useDashboard({ readOnly: true });

  test('every write route answers 403 and changes nothing; reads work; the session says read-only', async () => {
    await seed(d);
    const before = await d.core.snapshot();
    for (const [method, url, body] of WRITES) {
      const reply = await d.send<Json>(method, url.replace('J', 'J'), body);
      assert.equal(reply.status, 403, `${method} ${url}`);
      assert.equal(reply.body.error, 'the dashboard is read-only');
    }
    assert.deepEqual(await d.core.snapshot(), before);
    assert.equal((await d.get<Json>('/api/session')).body.readOnly, true);
    assert.equal((await d.get('/api/overview')).status, 200);
  });
});

describe('cross-site protection', () => {
  const d = useDashboard();

  test('a write without the token, with a wrong one, or from another site: refused, nothing changed', async () => {
    await seed(d);
    const before = await d.core.snapshot();
    for (const [method, url, body] of WRITES) {
      const cases: Record<string, string>[] = [
        { 'x-qless-csrf': '' },
        { 'x-qless-csrf': 'wrong' },
        { origin: 'https://evil.example' },
        { 'sec-fetch-site': 'cross-site' },
        { origin: 'null' },
      ];
      for (const headers of cases) {
        const reply = await d.send<Json>(method, url, body, headers);
        assert.equal(reply.status, 403, `${method} ${url} ${JSON.stringify(headers)}`);
      }
    }
    assert.deepEqual(await d.core.snapshot(), before);
    // The same request, from the page itself, goes through.
    assert.equal((await d.post('/api/jobs/J/priority', { priority: 3 })).status, 200);
  });

  test('a form POST from another site (no custom header, urlencoded) is refused', async () => {
    await seed(d);
    const reply = await d.app.inject({
      method: 'POST',
      url: '/api/jobs/J/cancel',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      payload: 'x=1',
    });
    assert.ok(reply.statusCode === 403 || reply.statusCode === 415, String(reply.statusCode));
    assert.notEqual(await d.client.jobs.get('J'), null);
  });
});

describe('basic auth', () => {
  const d = useDashboard({ auth: { user: 'ops', password: 's3cret:x' } });
  const basic = (user: string, password: string): Record<string, string> => ({
    authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
  });

  test('every route, the page and the metrics need the user and password', async () => {
    for (const url of ['/', '/api/overview', '/metrics', '/assets/js/app.js', '/api/events']) {
      const reply = await d.get(url);
      assert.equal(reply.status, 401, url);
      assert.match(String(reply.headers['www-authenticate']), /^Basic/);
    }
    assert.equal((await d.get('/api/overview', basic('ops', 'wrong'))).status, 401);
    assert.equal((await d.get('/api/overview', basic('ops', 's3cret:x'))).status, 200);
  });
});

describe('token', () => {
  const d = useDashboard({ token: 'a-long-secret-token' });

  test('a bearer token, or ?token= once (traded for an HttpOnly cookie), is required', async () => {
    assert.equal((await d.get('/api/overview')).status, 401);
    assert.equal((await d.get('/api/overview', { authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await d.get('/api/overview', { authorization: 'Bearer a-long-secret-token' })).status, 200);
    const opened = await d.get('/?token=a-long-secret-token');
    assert.equal(opened.status, 303);
    assert.equal(opened.headers.location, '/');
    const cookie = String(opened.headers['set-cookie']);
    assert.match(cookie, /qless_web_token=a-long-secret-token/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.equal((await d.get('/', { cookie: 'qless_web_token=a-long-secret-token' })).status, 200);
    assert.equal((await d.get('/?token=nope')).status, 401);
  });
});

describe('mounted under a prefix', () => {
  const d = useDashboard({ prefix: '/ops/qless' });

  test('the page, the API and the assets answer under the prefix; the bare prefix redirects to prefix/', async () => {
    await d.client.queue('q').put('K', {});
    assert.equal((await d.get('/api/overview')).status, 200);
    assert.equal((await d.get('/')).status, 200);
    assert.equal((await d.get('/assets/vendor/uplot.js')).status, 200);
    const bare = await d.app.inject({ method: 'GET', url: '/ops/qless' });
    assert.equal(bare.statusCode, 308);
    assert.equal(bare.headers.location, '/ops/qless/');
    assert.equal((await d.app.inject({ method: 'GET', url: '/api/overview' })).statusCode, 404);
  });
});

describe('the log of writes', () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  const d = useDashboard({ logTo: sink, auth: { user: 'alice', password: 'pw' } });
  const as = { authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}` };

  test('every write is logged through pino with who, what and which jids; reads are not', async () => {
    const jid = await d.client.queue('q').put('K', {});
    await d.get('/api/overview', as);
    assert.equal((await d.post(`/api/jobs/${jid}/priority`, { priority: 4 }, as)).status, 200);
    assert.equal((await d.post(`/api/jobs/${jid}/cancel`, {}, as)).status, 200);
    const audit = lines.filter((line) => line.audit === true);
    assert.deepEqual(
      audit.map((line) => [line.actor, line.action, line.jids]),
      [
        ['alice', 'priority', [jid]],
        ['alice', 'cancel', [jid]],
      ],
    );
    assert.equal(audit[0].priority, 4);
  });
});
