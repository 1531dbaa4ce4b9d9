// Workers: what qless knows (jobs held, stalled) and what their pool publishes (host, pid, memory,
// uptime, restarts, the job each process runs now).
import { html } from '../../vendor/preact-htm.js';
import { enc } from '../api.js';
import { JobTable } from '../bulk.js';
import { bytes, duration, num } from '../format.js';
import { useResource } from '../resource.js';
import { ErrorNote, jobLink, Loading, Section, workerLink } from '../ui.js';

const uptime = (startedAt) => (startedAt ? duration((Date.now() - startedAt) / 1000) : '–');

function ProcessCells({ process }) {
  if (!process) return html`<td colspan="6" class="muted">no pool status</td>`;
  const { slot } = process;
  const job = slot.jobs[0];
  return html`<td>${process.host}</td><td class="num">${slot.pid ?? '–'}</td><td class="num">${bytes(slot.rssBytes)}
    </td><td class="num">${uptime(slot.startedAt)}</td>
    <td class="num ${slot.restarts > 0 ? 'warn' : ''}">${num(slot.restarts)}</td>
    <td>${
      job
        ? html`<a class="mono" href=${jobLink(job.jid)}>${job.klass}
      </a> <span class="muted">${uptime(job.startedAt)}
      </span>${
        slot.jobs.length > 1
          ? html` <span class="muted">+${slot.jobs.length - 1}
      </span>`
          : ''
      }`
        : html`<span class="muted">${slot.state === 'running' ? 'idle' : slot.state}</span>`
    }</td>`;
}

export function WorkersPage() {
  const { data, error, loading } = useResource('workers');
  if (loading && !data) return html`<${Loading} />`;
  if (!data) return html`<${ErrorNote} error=${error} />`;
  return html`<div class="page workers">
    <header class="page-head"><h1>Workers <span class="muted">${num(data.workers.length)}</span></h1></header>
    <${ErrorNote} error=${error} />
    <div class="table-wrap"><table>
      <thead><tr><th>worker</th><th class="num">running</th><th class="num">stalled</th><th>host</th>
        <th class="num">pid</th><th class="num">RSS</th><th class="num">uptime</th><th class="num">restarts</th>
        <th>running now</th></tr></thead>
      <tbody>
        ${data.workers.map(
          (worker) =>
            html`<tr key=${worker.name}><td class="mono"><a href=${workerLink(worker.name)}>${worker.name}</a></td>
              <td class="num">${num(worker.jobs)}</td>
              <td class="num ${worker.stalled > 0 ? 'bad' : ''}">${num(worker.stalled)}</td>
              <${ProcessCells} process=${worker.process} /></tr>`,
        )}
        ${data.idleSlots.map(
          (process) =>
            html`<tr key=${process.slot.worker}><td class="mono">${process.slot.worker}</td><td class="num">0</td>
              <td class="num">0</td><${ProcessCells} process=${process} /></tr>`,
        )}
      </tbody>
    </table></div>
    ${
      data.workers.length + data.idleSlots.length === 0
        ? html`<p
      class="muted empty">No worker has polled recently.</p>`
        : null
    }
    ${
      data.pools.length > 0
        ? html`<${Section} title=${`Pools (${data.pools.length})`}>
          <table class="compact"><thead><tr><th>pool</th><th>host</th><th class="num">pid</th><th>queues</th>
            <th class="num">workers × concurrency</th><th class="num">uptime</th><th>version</th></tr></thead>
          <tbody>${data.pools.map(
            (pool) => html`<tr><td class="mono">${pool.prefix}</td><td>${pool.host}</td>
            <td class="num">${pool.pid}</td><td>${pool.options.queues.join(', ')}</td>
            <td class="num">${pool.options.workers} × ${pool.options.concurrency}</td>
            <td class="num">${uptime(pool.startedAt)}</td><td>${pool.version}</td></tr>`,
          )}</tbody></table>
        <//>`
        : null
    }
  </div>`;
}

export function WorkerPage({ params }) {
  const name = params[0];
  const { data, error, loading } = useResource(`workers/${enc(name)}`);
  if (loading && !data) return html`<${Loading} />`;
  if (!data) return html`<${ErrorNote} error=${error} />`;
  const slot = data.process?.slot;
  return html`<div class="page worker">
    <header class="page-head"><h1 class="mono">${name}</h1></header>
    <${ErrorNote} error=${error} />
    ${
      slot
        ? html`<${Section} title=${`Process (pool ${data.process.pool})`}>
          <dl class="fields inline-fields">
            <div><dt>host</dt><dd>${data.process.host}</dd></div><div><dt>pid</dt><dd>${slot.pid ?? '–'}</dd></div>
            <div><dt>state</dt><dd>${slot.state}</dd></div><div><dt>RSS</dt><dd>${bytes(slot.rssBytes)}</dd></div>
            <div><dt>uptime</dt><dd>${uptime(slot.startedAt)}</dd></div><div><dt>restarts</dt>
              <dd>${num(slot.restarts)}</dd></div>
          </dl>
          ${
            slot.jobs.length > 0
              ? html`<p>Running now: ${slot.jobs.map(
                  (job) => html`<a class="mono" href=${jobLink(job.jid)}>${job.klass} ${job.jid.slice(0, 8)}
            </a> (${uptime(job.startedAt)}) `,
                )}</p>`
              : html`<p class="muted">Idle.</p>`
          }
        <//>`
        : html`<p class="muted">No pool publishes a status for this worker.</p>`
    }
    <${Section} title=${`Running jobs (${data.jobs.length})`}>
      <${JobTable} jobs=${data.jobs} columns=${['jid', 'klass', 'queue', 'priority', 'updated']} /><//>
    <${Section} title=${`Stalled jobs (${data.stalled.length})`}>
      <${JobTable} jobs=${data.stalled} columns=${['jid', 'klass', 'queue', 'priority', 'updated']}
        empty="None stalled." />
      <//>
  </div>`;
}
