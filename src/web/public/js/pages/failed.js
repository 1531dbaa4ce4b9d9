// Failures: every group with its count and newest message; retry-all and cancel-all act on the
// whole group (batched, with progress); a group's jobs, paged.
import { html, useState } from '../../vendor/preact-htm.js';
import { enc, post, query, readOnly } from '../api.js';
import { JobTable, OperationReport } from '../bulk.js';
import { firstLine, num } from '../format.js';
import { useResource } from '../resource.js';
import { ErrorNote, groupLink, jobLink, Loading, Pager, Section, toast } from '../ui.js';

const PAGE = 25;

/** Retry-all and cancel-all; the page shows the operation's report (it outlives the group's row). */
function GroupActions({ group, count, onStarted }) {
  if (readOnly()) return null;
  const start = async (action) => {
    const verb = action === 'retry' ? 'Retry' : 'Cancel';
    if (
      !window.confirm(`${verb} all ${num(count)} jobs of ${group}?${action === 'cancel' ? ' They are deleted.' : ''}`)
    )
      return;
    try {
      onStarted(await post(`failed/${enc(group)}/${action}-all`));
    } catch (error) {
      toast(error.message, 'error');
    }
  };
  return html`<span class="group-actions">
    <button class="small" onClick=${() => start('retry')}>Retry all ${num(count)}</button>
    <button class="small danger" onClick=${() => start('cancel')}>Cancel all</button>
  </span>`;
}

function Report({ operation, close }) {
  return operation ? html`<${OperationReport} key=${operation.id} operation=${operation} onClose=${close} />` : null;
}

export function FailedPage() {
  const [operation, setOperation] = useState(null);
  const { data, error, loading } = useResource('failed', (changes) => changes.failures);
  if (loading && !data) return html`<${Loading} />`;
  if (!data) return html`<${ErrorNote} error=${error} />`;
  return html`<div class="page failed">
    <header class="page-head"><h1>Failed jobs <span class="muted">${num(data.total)}</span></h1></header>
    <${ErrorNote} error=${error} />
    <${Report} operation=${operation} close=${() => setOperation(null)} />
    ${
      data.groups.length === 0
        ? html`<p class="muted empty">No failed jobs.</p>`
        : html`<div class="table-wrap"><table class="groups">
          <thead><tr><th>group</th><th class="num">jobs</th><th>newest failure</th><th></th></tr></thead>
          <tbody>${data.groups.map(
            (group) => html`<tr key=${group.group}>
              <td><a href=${groupLink(group.group)}><strong>${group.group}</strong></a></td>
              <td class="num bad">${num(group.count)}</td>
              <td class="message">${
                group.sample
                  ? html`<a class="mono" href=${jobLink(group.sample.jid)}>${group.sample.klass}
                </a> ${firstLine(group.sample.failure?.message, 160)}`
                  : ''
              }</td>
              <td><${GroupActions} group=${group.group} count=${group.count} onStarted=${setOperation} /></td>
            </tr>`,
          )}</tbody>
        </table></div>`
    }
  </div>`;
}

export function FailedGroupPage({ params, search, navigate }) {
  const group = params[0];
  const [operation, setOperation] = useState(null);
  const offset = Number(search.get('offset')) || 0;
  const { data, error, loading } = useResource(
    `failed/${enc(group)}${query({ offset, limit: PAGE })}`,
    (changes) => changes.failures,
  );
  if (loading && !data) return html`<${Loading} />`;
  if (error?.status === 404)
    return html`<div class="page"><h1>${group}</h1>
      <p class="muted empty">This group has no failed jobs (any more).</p></div>`;
  if (!data) return html`<${ErrorNote} error=${error} />`;
  return html`<div class="page failed-group">
    <header class="page-head"><h1>${group} <span class="muted">${num(data.total)} failed</span></h1>
      <${GroupActions} group=${group} count=${data.total} onStarted=${setOperation} /></header>
    <${ErrorNote} error=${error} />
    <${Report} operation=${operation} close=${() => setOperation(null)} />
    <${Section} title="Jobs">
      <${JobTable} jobs=${data.jobs} total=${data.total} target=${{ group }}
        columns=${['jid', 'klass', 'queue', 'failure', 'updated']} />
      <${Pager} total=${data.total} offset=${data.offset} limit=${data.limit}
        go=${(next) => navigate({ offset: next })} />
    <//>
  </div>`;
}
