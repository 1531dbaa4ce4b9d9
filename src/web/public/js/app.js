// The dashboard page: a hash router (so every view, filters included, is a URL that can be
// bookmarked, and the page works under any prefix), the navigation, and the live indicator.
import { html, render, useEffect, useState } from '../vendor/preact-htm.js';
import { loadSession, readOnly, version } from './api.js';
import { startLive, useLiveStatus } from './live.js';
import { ConfigPage } from './pages/config.js';
import { FailedGroupPage, FailedPage } from './pages/failed.js';
import { FindPage } from './pages/find.js';
import { JobPage } from './pages/job.js';
import { CompletedPage, TagPage, TagsPage, TrackedPage } from './pages/lists.js';
import { Overview } from './pages/overview.js';
import { PutPage } from './pages/put.js';
import { QueuePage } from './pages/queue.js';
import { RecurringPage } from './pages/recurring.js';
import { WorkerPage, WorkersPage } from './pages/workers.js';
import { Toasts } from './ui.js';

const ROUTES = [
  [/^\/$/, Overview, 'overview'],
  [/^\/queues\/(.+)$/, QueuePage, 'overview'],
  [/^\/jobs\/(.+)$/, JobPage, ''],
  [/^\/failed$/, FailedPage, 'failed'],
  [/^\/failed\/(.+)$/, FailedGroupPage, 'failed'],
  [/^\/workers$/, WorkersPage, 'workers'],
  [/^\/workers\/(.+)$/, WorkerPage, 'workers'],
  [/^\/tracked$/, TrackedPage, 'tracked'],
  [/^\/tags$/, TagsPage, 'tags'],
  [/^\/tags\/(.+)$/, TagPage, 'tags'],
  [/^\/completed$/, CompletedPage, 'completed'],
  [/^\/recurring$/, RecurringPage, 'recurring'],
  [/^\/config$/, ConfigPage, 'config'],
  [/^\/put$/, PutPage, 'put'],
  [/^\/find$/, FindPage, 'find'],
];

const NAV = [
  ['overview', '#/', 'Overview'],
  ['failed', '#/failed', 'Failed'],
  ['workers', '#/workers', 'Workers'],
  ['recurring', '#/recurring', 'Recurring'],
  ['tracked', '#/tracked', 'Tracked'],
  ['tags', '#/tags', 'Tags'],
  ['completed', '#/completed', 'Completed'],
  ['config', '#/config', 'Config'],
  ['put', '#/put', 'Put'],
  ['find', '#/find', 'Find'],
];

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, search = ''] = raw.split('?');
  return { path, search: new URLSearchParams(search) };
}

function useHash() {
  const [hash, setHash] = useState(parseHash);
  useEffect(() => {
    const update = () => setHash(parseHash());
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return hash;
}

function LiveIndicator() {
  const status = useLiveStatus();
  const text = {
    live: 'live',
    connecting: 'connecting…',
    paused: 'paused (tab hidden)',
    polling: 'live stream lost: polling every 5 s',
  }[status.mode];
  return html`<span class=${`live live-${status.mode}`} role="status"
    title="Updates pushed by the server as qless events happen">
    <span class="dot"></span>${text}</span>`;
}

function FindBox() {
  const [jid, setJid] = useState('');
  const submit = (event) => {
    event.preventDefault();
    if (jid.trim() !== '') location.hash = `#/find?jid=${encodeURIComponent(jid.trim())}`;
  };
  return html`<form class="jidbox" role="search" onSubmit=${submit}>
    <input aria-label="find a jid" placeholder="jid or prefix…" value=${jid}
      onInput=${(event) => setJid(event.target.value)} />
    </form>`;
}

function App() {
  const { path, search } = useHash();
  const [open, setOpen] = useState(false);
  let page = html`<p class="error">No page ${path}. <a href="#/">Overview</a></p>`;
  let section = '';
  for (const [pattern, Page, name] of ROUTES) {
    const match = pattern.exec(path);
    if (!match) continue;
    const params = match.slice(1).map((part) => decodeURIComponent(part));
    const navigate = (next) => {
      const merged = new URLSearchParams(search);
      for (const [key, value] of Object.entries(next)) {
        if (value === undefined || value === null || value === '' || value === 0) merged.delete(key);
        else merged.set(key, String(value));
      }
      const text = merged.toString();
      location.hash = `#${path}${text ? `?${text}` : ''}`;
    };
    page = html`<${Page} key=${path} params=${params} search=${search} navigate=${navigate} />`;
    section = name;
    break;
  }
  useEffect(() => setOpen(false), [path]);
  return html`<div class="shell">
    <header class="top">
      <a class="brand" href="#/">qless</a>
      <button class="menu" aria-label="menu" aria-expanded=${open} onClick=${() => setOpen(!open)}>☰</button>
      <nav class=${open ? 'nav open' : 'nav'}>
        ${NAV.filter(([name]) => !(readOnly() && name === 'put')).map(
          ([name, href, label]) => html`<a class=${name === section ? 'current' : ''} href=${href}>${label}
          </a>`,
        )}
      </nav>
      <${FindBox} />
      ${
        readOnly()
          ? html`<span class="badge readonly"
        title="Writes are refused by the server">read-only</span>`
          : null
      }
      <${LiveIndicator} />
    </header>
    <main>${page}</main>
    <footer class="muted">qless-worker ${version()} dashboard</footer>
    <${Toasts} />
  </div>`;
}

async function main() {
  const root = document.getElementById('app');
  try {
    await loadSession();
  } catch (error) {
    root.textContent = `The dashboard cannot start: ${error.message}`;
    return;
  }
  startLive();
  root.textContent = '';
  render(html`<${App} />`, root);
}

void main();
