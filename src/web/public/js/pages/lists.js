// Tracked jobs, tags (most used, and the jobs of one tag) and completed jobs, paged with totals.
import { html } from '../../vendor/preact-htm.js';
import { enc, query } from '../api.js';
import { JobTable } from '../bulk.js';
import { num } from '../format.js';
import { useResource } from '../resource.js';
import { ErrorNote, Loading, Pager, Section, tagLink } from '../ui.js';

const PAGE = 25;

export function TrackedPage() {
  const { data, error, loading } = useResource('tracked');
  if (loading && !data) return html`<${Loading} />`;
  if (!data) return html`<${ErrorNote} error=${error} />`;
  return html`<div class="page">
    <header class="page-head"><h1>Tracked jobs <span class="muted">${num(data.jobs.length)}</span></h1></header>
    <${JobTable} jobs=${data.jobs} columns=${['jid', 'klass', 'queue', 'state', 'worker', 'updated']}
      empty="No tracked jobs: track one from its page." />
    ${
      data.expired.length > 0
        ? html`<p
      class="muted">${num(data.expired.length)} tracked jid(s) no longer exist.</p>`
        : null
    }
  </div>`;
}

export function TagsPage({ search, navigate }) {
  const offset = Number(search.get('offset')) || 0;
  const { data, error, loading } = useResource(`tags${query({ offset, limit: 100 })}`);
  if (loading && !data) return html`<${Loading} />`;
  if (!data) return html`<${ErrorNote} error=${error} />`;
  return html`<div class="page">
    <header class="page-head"><h1>Tags</h1></header>
    ${
      data.tags.length === 0
        ? html`<p class="muted empty">No tag is used by two jobs or more.</p>`
        : html`<div class="tag-cloud">${data.tags.map(
            (
              item,
            ) => html`<a class="tag big" href=${tagLink(item.tag)}>${item.tag} <span class="muted">${num(item.jobs)}
          </span></a>`,
          )}</div>`
    }
    ${
      offset > 0 || data.tags.length === 100
        ? html`<nav class="pager">
      <button disabled=${offset === 0}
        onClick=${() => navigate({ offset: Math.max(0, offset - 100) })}>‹ more used</button>
      <button disabled=${data.tags.length < 100}
        onClick=${() => navigate({ offset: offset + 100 })}>less used ›</button>
      </nav>`
        : null
    }
  </div>`;
}

export function TagPage({ params, search, navigate }) {
  const tag = params[0];
  const offset = Number(search.get('offset')) || 0;
  const { data, error, loading } = useResource(`tags/${enc(tag)}${query({ offset, limit: PAGE })}`);
  if (loading && !data) return html`<${Loading} />`;
  if (!data) return html`<${ErrorNote} error=${error} />`;
  return html`<div class="page">
    <header class="page-head"><h1>Tag ${tag} <span class="muted">${num(data.total)} jobs</span></h1></header>
    <${JobTable} jobs=${data.jobs} total=${data.total} target=${{ filter: { tag } }}
      columns=${['jid', 'klass', 'queue', 'state', 'updated']} />
    <${Pager} total=${data.total} offset=${data.offset} limit=${data.limit}
      go=${(next) => navigate({ offset: next })} />
  </div>`;
}

export function CompletedPage({ search, navigate }) {
  const offset = Number(search.get('offset')) || 0;
  const { data, error, loading } = useResource(
    `completed${query({ offset, limit: PAGE })}`,
    (changes) => (changes.counts.completed ?? 0) > 0,
  );
  if (loading && !data) return html`<${Loading} />`;
  if (!data) return html`<${ErrorNote} error=${error} />`;
  return html`<div class="page">
    <header class="page-head"><h1>Completed <span class="muted">${num(data.total)} kept</span></h1></header>
    <${Section} title="Newest first">
      <${JobTable} jobs=${data.jobs} columns=${['jid', 'klass', 'tags', 'updated']} empty="No completed jobs kept." />
      <${Pager} total=${data.total} offset=${data.offset} limit=${data.limit}
        go=${(next) => navigate({ offset: next })} />
    <//>
  </div>`;
}
