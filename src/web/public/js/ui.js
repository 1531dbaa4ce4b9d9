// Small pieces every page uses: links, badges, times, pager, notices, buttons that confirm and
// report, and the toast that says what a write did. Everything is rendered as text: job fields
// never reach the page as HTML.
import { html, useState } from '../vendor/preact-htm.js';
import { absolute, ago, num } from './format.js';

export const link = (path) => `#${path}`;
export const jobLink = (jid) => link(`/jobs/${encodeURIComponent(jid)}`);
export const queueLink = (queue, state) =>
  link(`/queues/${encodeURIComponent(queue)}${state ? `?state=${encodeURIComponent(state)}` : ''}`);
export const workerLink = (worker) => link(`/workers/${encodeURIComponent(worker)}`);
export const groupLink = (group) => link(`/failed/${encodeURIComponent(group)}`);
export const tagLink = (tag) => link(`/tags/${encodeURIComponent(tag)}`);

export function Time({ at }) {
  if (!at) return html`<span class="muted">–</span>`;
  return html`<time datetime=${new Date(at * 1000).toISOString()} title=${absolute(at)}>${ago(at)}</time>`;
}

export function State({ state }) {
  return html`<span class=${`badge state-${state}`}>${state}</span>`;
}

export function Tags({ tags }) {
  if (!tags || tags.length === 0) return null;
  return html`<span class="tags">${tags.map((tag) => html`<a class="tag" href=${tagLink(tag)}>${tag}</a>`)}</span>`;
}

export function Count({ value, href, warn }) {
  const text = num(value);
  const cls = value === 0 ? 'count zero' : warn ? 'count warn' : 'count';
  return href && value > 0 ? html`<a class=${cls} href=${href}>${text}</a>` : html`<span class=${cls}>${text}</span>`;
}

export function Loading({ what = 'Loading' }) {
  return html`<p class="muted loading">${what}…</p>`;
}

export function ErrorNote({ error }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${error.message ?? String(error)}</p>`;
}

/** Numbered pages: first, previous, a window of numbers, next, last, and "x–y of N". */
export function Pager({ total, offset, limit, go }) {
  if (!total || total <= limit) return total ? html`<p class="pager muted">${num(total)} in all</p>` : null;
  const pages = Math.ceil(total / limit);
  const page = Math.floor(offset / limit) + 1;
  const numbers = [];
  for (let n = Math.max(1, page - 3); n <= Math.min(pages, page + 3); n++) numbers.push(n);
  const button = (n, label, disabled) =>
    html`<button class=${n === page && !label ? 'pg current' : 'pg'} disabled=${disabled}
      onClick=${() => go((n - 1) * limit)}>${label ?? n}
      </button>`;
  return html`<nav class="pager" aria-label="pages">
    ${button(1, '«', page === 1)} ${button(page - 1, '‹', page === 1)}
    ${numbers.map((n) => button(n, undefined, n === page))}
    ${button(page + 1, '›', page === pages)} ${button(pages, '»', page === pages)}
    <span class="muted">${num(offset + 1)}–${num(Math.min(total, offset + limit))} of ${num(total)}</span>
  </nav>`;
}

let toastListener = null;
export function toast(text, kind = 'ok') {
  toastListener?.({ text, kind, at: Date.now() });
}

export function Toasts() {
  const [items, setItems] = useState([]);
  toastListener = (item) => {
    setItems((old) => [...old.slice(-3), item]);
    setTimeout(() => setItems((old) => old.filter((other) => other !== item)), 6000);
  };
  return html`<div class="toasts" aria-live="polite">
    ${items.map((item) => html`<div class=${`toast ${item.kind}`}>${item.text}</div>`)}
  </div>`;
}

/**
 * A button that runs a write: asks first when `confirm` is given (a destructive action names
 * what it will do to how many), then shows the result or the server's refusal.
 */
export function Action({ label, run, confirm, danger, done, disabled, small }) {
  const [busy, setBusy] = useState(false);
  const click = async () => {
    if (confirm && !window.confirm(confirm)) return;
    setBusy(true);
    try {
      const result = await run();
      if (done) toast(typeof done === 'function' ? done(result) : done);
    } catch (error) {
      toast(error.message ?? String(error), 'error');
    } finally {
      setBusy(false);
    }
  };
  const cls = ['action', danger ? 'danger' : '', small ? 'small' : ''].join(' ');
  return html`<button class=${cls} disabled=${busy || disabled} onClick=${click}>${busy ? '…' : label}</button>`;
}

/** Pretty JSON as text, in a scrollable block. */
export function Json({ value }) {
  return html`<pre class="json">${JSON.stringify(value, null, 2)}</pre>`;
}

export function Section({ title, children, extra }) {
  return html`<section class="card"><header><h2>${title}</h2>${extra}</header>${children}</section>`;
}
