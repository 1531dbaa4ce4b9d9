// Recurring jobs: all of them, and an editor for one (interval, priority, retries, tags; unrecur).
import { html, useState } from '../../vendor/preact-htm.js';
import { enc, post, readOnly } from '../api.js';
import { duration, num } from '../format.js';
import { useResource } from '../resource.js';
import { Action, ErrorNote, jobLink, Loading, queueLink, Section, Tags } from '../ui.js';

export function RecurringEditor({ job }) {
  const [form, setForm] = useState({
    interval: String(job.interval),
    priority: String(job.priority),
    retries: String(job.retries),
    tags: job.tags.join(', '),
  });
  const field = (name, label, type = 'text') =>
    html`<label>${label} <input name=${name} type=${type} step="any" value=${form[name]} disabled=${readOnly()}
      onInput=${(event) => setForm({ ...form, [name]: event.target.value })} />
      </label>`;
  const save = () =>
    post(`recurring/${enc(job.jid)}`, {
      interval: Number(form.interval),
      priority: Number(form.priority),
      retries: Number(form.retries),
      tags: form.tags
        .split(',')
        .map((tag) => tag.trim())
        .filter(Boolean),
    });
  return html`<${Section} title="Recurring job">
    <dl class="fields inline-fields">
      <div><dt>queue</dt><dd><a href=${queueLink(job.queue)}>${job.queue}</a></dd></div>
      <div><dt>klass</dt><dd><code>${job.klass}</code></dd></div>
      <div><dt>every</dt><dd>${duration(job.interval)}</dd></div>
      <div><dt>spawned</dt><dd>${num(job.count)}</dd></div>
    </dl>
    <form class="edit" onSubmit=${(event) => event.preventDefault()}>
      ${field('interval', 'interval (s)', 'number')} ${field('priority', 'priority', 'number')}
      ${field('retries', 'retries', 'number')} ${field('tags', 'tags')}
      ${
        readOnly()
          ? null
          : html`<div class="action-row"><${Action} label="Save" run=${save} done="Recurring job updated" />
            <${Action} label="Unrecur" danger=${true}
              confirm=${`Stop recurring job ${job.jid}? Jobs it spawned stay.`}
              run=${() => post(`recurring/${enc(job.jid)}/unrecur`)} done="No longer recurs" />
              </div>`
      }
    </form>
  <//>`;
}

export function RecurringPage() {
  const { data, error, loading } = useResource('recurring', null);
  if (loading && !data) return html`<${Loading} />`;
  if (!data) return html`<${ErrorNote} error=${error} />`;
  return html`<div class="page">
    <header class="page-head"><h1>Recurring jobs <span class="muted">${num(data.total)}</span></h1></header>
    ${
      data.jobs.length === 0
        ? html`<p class="muted empty">No recurring jobs.</p>`
        : html`<div class="table-wrap"><table>
          <thead><tr><th>jid</th><th>queue</th><th>klass</th><th class="num">every</th><th class="num">prio</th>
            <th class="num">retries</th><th class="num">spawned</th><th>tags</th></tr></thead>
          <tbody>${data.jobs.map(
            (job) => html`<tr><td class="mono"><a href=${jobLink(job.jid)}>${job.jid}</a></td>
            <td><a href=${queueLink(job.queue)}>${job.queue}</a></td><td class="mono">${job.klass}</td>
            <td class="num">${duration(job.interval)}</td><td class="num">${job.priority}</td>
            <td class="num">${job.retries}</td><td class="num">${num(job.count)}</td><td><${Tags} tags=${job.tags} />
            </td></tr>`,
          )}</tbody>
        </table></div>`
    }
  </div>`;
}
