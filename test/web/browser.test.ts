// The dashboard in real headless Chromium (Debian's chromium, driven by playwright-core), one
// browser and one dashboard for the whole file, a real bin/qless-worker running the jobs that get
// retried. Saves screenshots of the main pages: to a temporary directory, or to the directory in
// QLESS_SCREENSHOTS_DIR (`npm run screenshots` refreshes README's pictures in docs/screenshots/).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { Client } from '../../src/client/index.ts';
import { type RunningDashboard, startDashboard } from '../../src/web/index.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { eventually, startWorker, type WorkerRun } from '../helpers/worker.ts';

const CHROMIUM = '/usr/bin/chromium';

/** What the tests read inside the page (the project's TypeScript has no DOM types). */
interface InPage {
  notReloaded?: boolean;
  pwned?: number;
  document: { querySelector(selector: string): { textContent: string | null } | null };
}
const HANDLERS = fileURLToPath(new URL('../fixtures/handlers/jobs', import.meta.url));
const KEEP_SCREENSHOTS = process.env.QLESS_SCREENSHOTS_DIR;
const SCREENSHOTS = KEEP_SCREENSHOTS ? resolve(KEEP_SCREENSHOTS) : mkdtempSync(join(tmpdir(), 'qless-web-screens-'));
const RETRIED = 12;

let redis: RedisServer;
let client: Client;
let dashboard: RunningDashboard;
let readOnlyDashboard: RunningDashboard;
let worker: WorkerRun;
let browser: BrowserContext;
let profile: string;
let page: Page;
const retriedJids: string[] = [];

async function seed(): Promise<void> {
  const images = client.queue('images');
  for (let i = 0; i < 60; i++)
    await images.put(
      'resize.Thumbnail',
      { image: `photo-${i}.jpg`, width: 200 + (i % 4) * 100 },
      {
        tags: i % 4 === 0 ? ['web', 'urgent'] : ['web'],
        priority: i % 3,
      },
    );
  for (const job of await images.pop(4)) await job.complete();
  for (const job of await images.pop(3))
    await job.fail(
      'images-TimeoutError',
      `TimeoutError: resize took longer than 30 s\n    at resize (jobs/resize.ts:41:11)`,
    );
  await images.pop(2);
  const email = client.queue('email');
  for (let i = 0; i < 9; i++)
    await email.put('mail.Welcome', { user: { id: 1000 + i, email: `user${i}@example.com` } }, { delay: 600 });
  const parent = await email.put('mail.Digest', { week: 48 });
  await email.put('mail.Report', { week: 48 }, { depends: [parent] });
  await client.queue('reports').recur('report.Daily', { format: 'pdf' }, { interval: 86400, jid: 'daily-report' });
  // Jobs of queue `work` that failed once: the worker (started later) runs them when retried.
  const work = client.queue('work');
  for (let i = 0; i < RETRIED; i++) retriedJids.push(await work.put('noop', { order: 5000 + i }));
  for (const job of await work.pop(RETRIED))
    await job.fail('work-FlakyError', 'FlakyError: the upstream API answered 503');
  await client.queue('evil').put(
    '<img src=x onerror="window.pwned=2">',
    { html: '<script>window.pwned=1</script>' },
    {
      jid: 'evil-job',
      tags: ['<b>bold</b>'],
    },
  );
}

before(async () => {
  redis = await startRedis();
  client = new Client({ url: redis.url, workerName: 'web-1' });
  await seed();
  const live = { liveFlushMs: 200, poolsMs: 500, throughputMs: 1000 };
  dashboard = await startDashboard({ host: '127.0.0.1', port: 0, redis: redis.url, ...live });
  readOnlyDashboard = await startDashboard({ host: '127.0.0.1', port: 0, redis: redis.url, readOnly: true, ...live });
  worker = startWorker([
    '-q',
    'work',
    '-w',
    '1',
    '-i',
    '0.2',
    '-p',
    HANDLERS,
    '-n',
    'web-worker',
    '--no-watch',
    '--log-format',
    'json',
    '--redis',
    redis.url,
  ]);
  profile = mkdtempSync(join(tmpdir(), 'qless-web-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    viewport: { width: 1280, height: 860 },
    colorScheme: 'light',
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  page.on('dialog', (dialog) => void dialog.accept());
  mkdirSync(SCREENSHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  rmSync(profile, { recursive: true, force: true });
  await worker?.kill();
  await dashboard?.close();
  await readOnlyDashboard?.close();
  await client?.close();
  await redis?.stop();
  if (!KEEP_SCREENSHOTS) rmSync(SCREENSHOTS, { recursive: true, force: true });
});

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

test('overview → queue → job, by clicking', async () => {
  await page.goto(dashboard.url);
  await page.getByRole('link', { name: 'images', exact: true }).first().waitFor();
  assert.equal(await page.locator('.live-live').count(), 1, 'the live indicator says live');
  await page.getByRole('link', { name: 'images', exact: true }).first().click();
  await page.locator('.tab.current', { hasText: 'waiting' }).waitFor();
  assert.match(await page.locator('.pager').innerText(), /1–25 of 51/);
  await page.locator('.pager button', { hasText: '3' }).click();
  await page.waitForFunction(() =>
    (globalThis as unknown as InPage).document.querySelector('.pager')?.textContent?.includes('51–51 of 51'),
  );
  await page.locator('.pager button', { hasText: '1' }).first().click();
  await page.waitForFunction(() =>
    (globalThis as unknown as InPage).document.querySelector('.pager')?.textContent?.includes('1–25 of 51'),
  );
  await shot('queue');
  const firstJid = (await page.locator('table.jobs tbody tr td.mono a').first().innerText()).trim();
  await page.locator('table.jobs tbody tr td.mono a').first().click();
  await page.locator('h1', { hasText: firstJid }).waitFor();
  assert.match(await page.locator('.timeline').innerText(), /put into images/);
  assert.match(await page.locator('pre.json').innerText(), /"image": "photo-/);
});

test('a job page with a failure, its timeline and actions (screenshot)', async () => {
  const [failed] = (await client.jobs.failedGroup('images-TimeoutError', 0, 1)).jobs;
  await page.goto(`${dashboard.url}#/jobs/${failed.jid}`);
  await page.locator('.failure pre.message', { hasText: 'TimeoutError: resize took longer' }).waitFor();
  assert.match(await page.locator('.timeline').innerText(), /failed into images-TimeoutError by web-1/);
  await shot('job');
});

test('retry a failure group: a real qless-worker runs the jobs and the page updates without a reload', async () => {
  await page.goto(`${dashboard.url}#/failed`);
  await page.locator('table.groups', { hasText: 'work-FlakyError' }).waitFor();
  await shot('failed');
  await page.evaluate(() => {
    (globalThis as unknown as InPage).notReloaded = true;
  });
  const row = page.locator('table.groups tr', { hasText: 'work-FlakyError' });
  await row.getByRole('button', { name: `Retry all ${RETRIED}` }).click();
  await page.locator('.operation .op-result', { hasText: `${RETRIED} succeeded, 0 failed` }).waitFor();
  // The group disappears from the list by itself (the live stream), without a reload.
  await page.locator('table.groups', { hasText: 'work-FlakyError' }).waitFor({ state: 'detached', timeout: 20_000 });
  const jobs = await eventually(
    async () => {
      const found = await client.jobs.multiget(...retriedJids);
      return found.every((job) => job.state === 'complete') ? found : undefined;
    },
    { what: `the retried jobs to be completed by the worker\n${worker.describe()}` },
  );
  assert.ok(
    jobs.every((job) => job.history.some((entry) => entry.what === 'popped' && entry.worker?.startsWith('web-worker'))),
  );
  await page.goto(`${dashboard.url}#/queues/work`);
  await page.locator('.card', { hasText: `completed today ${RETRIED}` }).waitFor({ timeout: 20_000 });
  assert.equal(await page.evaluate(() => (globalThis as unknown as InPage).notReloaded), true);
  // The overview once the worker has done something (its throughput shows).
  await page.goto(dashboard.url);
  await page.locator('table.queues', { hasText: 'work' }).waitFor();
  await page.waitForTimeout(500);
  await shot('overview');
});

test("workers: what qless knows, with its pool's status (host, pid, memory, uptime, current job)", async () => {
  // The running qless-worker publishes its pool's status; the page shows it beside qless's counts.
  const jid = await client.queue('work').put('wait.ForAWhile', { ms: 2_500 });
  const status = await eventually(
    async () => {
      const pool = await client.pools.get('web-worker');
      const slot = pool?.slots.find((candidate) => candidate.worker === 'web-worker-0');
      return slot?.jobs.some((job) => job.jid === jid) ? { pool, slot } : undefined;
    },
    { what: 'the pool status shows the slow job in flight' },
  );
  await page.goto(`${dashboard.url}#/workers`);
  const row = page.locator('tr', { hasText: 'web-worker-0' });
  await row.waitFor();
  await page.locator('tr', { hasText: 'wait.ForAWhile' }).first().waitFor();
  const text = await row.innerText();
  const mb = `${Math.round((status.slot.rssBytes ?? 0) / (1024 * 1024))} MB`;
  for (const expected of [hostname(), String(status.slot.pid), 'MB', 'wait.ForAWhile'])
    assert.ok(text.includes(expected), `${expected} in: ${text} (published ${mb})`);
  await page.locator('table.compact', { hasText: hostname() }).waitFor();
  await shot('workers');
  await row.getByRole('link', { name: 'web-worker-0' }).click();
  await page.locator('h1', { hasText: 'web-worker-0' }).waitFor();
  assert.match(await page.locator('main').innerText(), /Process \(pool web-worker\)[\s\S]*restarts\s*0/i);
  // The slow job ends before the next test needs the worker.
  await eventually(async () => (await client.jobs.get(jid))?.state === 'complete', { what: 'the slow job completed' });
});

test('cancel a job from its page', async () => {
  const jid = await client.queue('images').put('resize.Thumbnail', { image: 'cancel-me.jpg' });
  await page.goto(`${dashboard.url}#/jobs/${jid}`);
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.locator('.toast', { hasText: 'Canceled' }).waitFor();
  assert.equal(await client.jobs.get(jid), null);
});

test('put a job from the form', async () => {
  await page.goto(`${dashboard.url}#/put`);
  await page.fill('input[name=queue]', 'forms');
  await page.fill('input[name=klass]', 'forms.Submitted');
  await page.fill('textarea[name=data]', '{"broken": ');
  await page.locator('.put-form .error').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Put' }).isDisabled(), true);
  await page.fill('textarea[name=data]', '{"order": 77, "items": ["a", "b"]}');
  await page.fill('input[name=priority]', '7');
  await page.fill('input[name=tags]', 'from-form, test');
  await page.getByRole('button', { name: 'Put' }).click();
  const jid = (await page.locator('.created a').innerText()).trim();
  const job = await client.jobs.get(jid);
  assert.ok(job && job.state !== 'recur');
  assert.deepEqual(
    [job.queue, job.klass, job.data, job.priority, job.tags],
    ['forms', 'forms.Submitted', { order: 77, items: ['a', 'b'] }, 7, ['from-form', 'test']],
  );
});

/**
 * Waits for a job's row among the find results, pressing Continue as a user would while the steps
 * so far (each bounded in jobs and in time: 1 s, which a loaded machine can use up) have not reached it.
 */
async function waitForFound(jid: string): Promise<void> {
  const row = page.locator('table.jobs a', { hasText: jid });
  const more = page.locator('.find-summary button', { hasText: 'Continue' });
  for (let step = 0; step < 20; step++) {
    await row.or(more).first().waitFor();
    if (await row.isVisible()) return;
    await more.click();
  }
  await row.waitFor();
}

test('find a job by a jid prefix and by a value inside its data; the filter lives in the URL', async () => {
  const jid = await client.queue('email').put('mail.Receipt', { order: { id: 987654 } });
  await page.goto(dashboard.url);
  await page.fill('.jidbox input', jid.slice(0, 10));
  await page.press('.jidbox input', 'Enter');
  await waitForFound(jid);
  assert.match(page.url(), new RegExp(`#/find\\?jid=${jid.slice(0, 10)}`));
  await page.goto(`${dashboard.url}#/find`);
  await page.fill('input[name=q]', 'order.id = 987654');
  await page.getByRole('button', { name: 'Find', exact: true }).click();
  await waitForFound(jid);
  assert.equal(await page.locator('table.jobs tbody tr').count(), 1);
  assert.match(await page.locator('.find-summary').innerText(), /1 found among \d+ jobs looked at/);
  // The URL alone opens the same view.
  const url = page.url();
  await page.goto('about:blank');
  await page.goto(url);
  await waitForFound(jid);
});

test('a bulk retry of a filtered set: all N matching, confirmed, with a result report', async () => {
  // In a queue no worker polls, so they stay failed until retried, then wait.
  const flaky: string[] = [];
  for (let i = 0; i < 5; i++) flaky.push(await client.queue('graveyard').put('noop', { batch: 'b7', i }));
  const other = await client.queue('graveyard').put('noop', { batch: 'other' });
  for (const job of await client.queue('graveyard').pop(10)) await job.fail('graveyard-Error', 'gone wrong');
  await page.goto(`${dashboard.url}#/find?group=graveyard-Error&q=${encodeURIComponent('batch = b7')}`);
  await page.locator('table.jobs tbody tr').first().waitFor();
  await page.getByRole('button', { name: 'Count all matching' }).click();
  await page.locator('.find-summary strong', { hasText: '5' }).waitFor();
  await page.locator('.bulk label.all input').check();
  await page.locator('.bulk').getByRole('button', { name: 'Retry' }).click();
  await page.locator('.operation .op-result', { hasText: '5 succeeded, 0 failed' }).waitFor();
  const retried = await client.jobs.multiget(...flaky);
  assert.deepEqual(
    retried.map((job) => job.state),
    ['waiting', 'waiting', 'waiting', 'waiting', 'waiting'],
  );
  assert.equal((await client.jobs.get(other))?.state, 'failed');
  assert.deepEqual((await client.jobs.failed())['graveyard-Error'], 1);
});

test('a job whose data and klass hold HTML shows them as text and runs nothing', async () => {
  await page.goto(`${dashboard.url}#/jobs/evil-job`);
  await page.locator('pre.json', { hasText: '<script>window.pwned=1</script>' }).waitFor();
  assert.match(await page.locator('dl.fields').innerText(), /<img src=x onerror="window.pwned=2">/);
  assert.match(await page.locator('dl.fields').innerText(), /<b>bold<\/b>/);
  assert.equal(await page.locator('main script, main img, main b').count(), 0);
  await page.goto(`${dashboard.url}#/queues/evil`);
  await page.locator('table.jobs', { hasText: '<img src=x' }).waitFor();
  assert.equal(await page.evaluate(() => (globalThis as unknown as InPage).pwned), undefined);
});

test('read-only mode shows no write control, and its write routes answer 403', async () => {
  const [failed] = (await client.jobs.failedGroup('images-TimeoutError', 0, 1)).jobs;
  for (const hash of ['#/', '#/queues/images', `#/jobs/${failed.jid}`, '#/failed', '#/config', '#/recurring']) {
    await page.goto(`${readOnlyDashboard.url}${hash}`);
    await page.locator('main div.page').first().waitFor();
    await page.waitForTimeout(200);
    const controls = await page.locator('main button:not(.pg), main input[type=checkbox], main textarea').count();
    assert.equal(controls, 0, `${hash} shows a write control`);
  }
  assert.equal(await page.locator('.badge.readonly').count(), 1);
  assert.equal(await page.getByRole('link', { name: 'Put' }).count(), 0);
  const statuses = await page.evaluate(async (jid) => {
    const session = (await (await fetch('api/session')).json()) as { csrfToken: string };
    const headers = { 'content-type': 'application/json', 'x-qless-csrf': session.csrfToken };
    const writes = [
      ['jobs', { queue: 'q', klass: 'K', data: '{}' }],
      [`jobs/${jid}/retry`, {}],
      [`jobs/${jid}/cancel`, {}],
      ['failed/images-TimeoutError/retry-all', {}],
      ['queues/images/pause', {}],
    ] as const;
    return Promise.all(
      writes.map(
        async ([path, body]) =>
          (await fetch(`api/${path}`, { method: 'POST', headers, body: JSON.stringify(body) })).status,
      ),
    );
  }, failed.jid);
  assert.deepEqual(statuses, [403, 403, 403, 403, 403]);
  assert.equal((await client.jobs.get(failed.jid))?.state, 'failed');
  assert.equal(await client.queue('images').isPaused(), false);
});

test('a cross-site POST is refused', async () => {
  const jid = await client.queue('images').put('resize.Thumbnail', { image: 'keep-me.jpg' });
  const target = `${dashboard.url}api/jobs/${jid}/cancel`;
  // Another origin (another port) with a form that posts to the dashboard, and a no-cors fetch.
  const evil: Server = createServer((_request, response) => {
    response.setHeader('content-type', 'text/html');
    response.end(`<!doctype html><form id="f" method="POST" action="${target}"><input name="x" value="1"></form>
      <script>fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', credentials: 'include', body: 'x=1' })
        .finally(() => document.getElementById('f').submit());</script>`);
  });
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
  const address = evil.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  try {
    const answered = page.waitForResponse(
      (response) =>
        response.url() === target &&
        response.request().method() === 'POST' &&
        response.request().resourceType() === 'document',
    );
    await page.goto(`http://127.0.0.1:${port}/`);
    const response = await answered;
    assert.equal(response.status(), 403);
    assert.match(await response.text(), /cross-site request refused|x-qless-csrf/);
    assert.notEqual(await client.jobs.get(jid), null);
  } finally {
    evil.close();
  }
});
