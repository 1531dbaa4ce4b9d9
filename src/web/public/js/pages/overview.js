// The overview: every queue with its counts, throughput and oldest waiting job; failure groups;
// tracked jobs; workers.
import { html } from '../../vendor/preact-htm.js';
import { ThroughputChart } from '../charts.js';
import { duration, num } from '../format.js';
import { useResource } from '../resource.js';
import { Count, ErrorNote, groupLink, link, Loading, queueLink, Section, workerLink } from '../ui.js';

const UNATTENDED_TITLE = 'Waiting work, nothing running, no pop seen for a minute, and no live pool lists this queue';
const sum = (values) => values.reduce((total, value) => total + value, 0);

function QueueRow({ queue }) {
  const completed = sum(queue.throughput.completed);
  const failed = sum(queue.throughput.failed);
  return html`<tr class=${queue.unattended ? 'unattended' : ''}>
    <td>
      <a href=${queueLink(queue.name)}><strong>${queue.name}</strong></a>
      ${queue.paused ? html` <span class="badge paused">paused</span>` : null}
      ${
        queue.unattended
          ? html` <span class="badge warn"
        title=${UNATTENDED_TITLE}>no worker</span>`
          : null
      }
    </td>
    <td class="num"><${Count} value=${queue.waiting} href=${queueLink(queue.name, 'waiting')} /></td>
    <td class="num"><${Count} value=${queue.running} href=${queueLink(queue.name, 'running')} /></td>
    <td class="num"><${Count} value=${queue.stalled} href=${queueLink(queue.name, 'stalled')} warn=${true} /></td>
    <td class="num"><${Count} value=${queue.scheduled} href=${queueLink(queue.name, 'scheduled')} /></td>
    <td class="num"><${Count} value=${queue.depends} href=${queueLink(queue.name, 'depends')} /></td>
    <td class="num"><${Count} value=${queue.recurring} href=${queueLink(queue.name, 'recurring')} /></td>
    <td class="num"
      title="oldest waiting job">${queue.oldestWaitingSeconds === null ? '–' : duration(queue.oldestWaitingSeconds)}
      </td>
    <td class="num" title="completed in the last hour / today">${num(completed)} <span
      class="muted">/ ${num(queue.throughput.completedToday)}
      </span></td>
    <td class="num" title="failed in the last hour / today">${
      failed > 0
        ? html`<span class="bad">${num(failed)}
      </span>`
        : '0'
    } <span class="muted">/ ${num(queue.throughput.failedToday)}</span></td>
  </tr>`;
}

export function Overview() {
  const { data, error, loading } = useResource('overview');
  if (loading && !data) return html`<${Loading} />`;
  if (!data) return html`<${ErrorNote} error=${error} />`;
  const completed = data.queues.reduce(
    (acc, queue) => acc.map((value, index) => value + queue.throughput.completed[index]),
    new Array(60).fill(0),
  );
  const failed = data.queues.reduce(
    (acc, queue) => acc.map((value, index) => value + queue.throughput.failed[index]),
    new Array(60).fill(0),
  );
  const unattended = data.queues.filter((queue) => queue.unattended);
  const groups = Object.entries(data.failures).sort(([, a], [, b]) => b - a);
  const since = data.throughputSince ? Math.round((Date.now() - data.throughputSince) / 60000) : 0;
  return html`<div class="page overview">
    <${ErrorNote} error=${error} />
    ${
      unattended.length > 0
        ? html`<p class="warning" role="alert">⚠ ${unattended.length === 1 ? 'Queue' : 'Queues'} ${unattended.map(
            (queue, index) => html`${index > 0 ? ', ' : ''}
          <a href=${queueLink(queue.name)}>${queue.name}
          </a>`,
          )} ${unattended.length === 1 ? 'has' : 'have'} waiting work
          ${` but no worker polling ${unattended.length === 1 ? 'it' : 'them'}.`}</p>`
        : null
    }
    <div class="stats-row">
      <div class="stat"><span class="stat-value">${num(sum(data.queues.map((q) => q.waiting)))}</span>
        <span class="stat-label">waiting</span></div>
      <div class="stat"><span class="stat-value">${num(sum(data.queues.map((q) => q.running)))}</span>
        <span class="stat-label">running</span></div>
      <div class="stat"><span class="stat-value ${data.failedTotal > 0 ? 'bad' : ''}">${num(data.failedTotal)}</span>
        <span class="stat-label"><a href=${link('/failed')}>failed</a></span></div>
      <div class="stat"><span class="stat-value">${num(sum(completed))}</span>
        <span class="stat-label">completed, last hour</span></div>
      <div class="stat"><span class="stat-value">${num(data.workers.length)}</span><span class="stat-label">
        <a href=${link('/workers')}>workers</a></span></div>
    </div>
    <${Section} title="Throughput, all queues" extra=${
      since < 60
        ? html`<span
      class="muted">since the dashboard started ${since} min ago</span>`
        : html`<span class="muted">last hour</span>`
    }>
      <${ThroughputChart} completed=${completed} failed=${failed} />
    <//>
    <${Section} title=${`Queues (${data.queues.length})`}>
      ${
        data.queues.length === 0
          ? html`<p class="muted empty">No queues yet: qless knows a queue once a job is put into it. <a
            href=${link('/put')}>Put a job</a>.</p>`
          : html`<div class="table-wrap"><table class="queues">
            <thead><tr><th>queue</th><th class="num">waiting</th><th class="num">running</th>
              <th class="num">stalled</th><th class="num">scheduled</th><th class="num">depends</th>
              <th class="num">recurring</th><th class="num">oldest waiting</th><th class="num">done 1h / today</th>
              <th class="num">failed 1h / today</th></tr></thead>
            <tbody>${data.queues.map((queue) => html`<${QueueRow} key=${queue.name} queue=${queue} />`)}</tbody>
          </table></div>`
      }
    <//>
    <div class="columns">
      <${Section} title=${`Failures (${num(data.failedTotal)})`}>
        ${
          groups.length === 0
            ? html`<p class="muted empty">No failed jobs.</p>`
            : html`<table class="compact"><tbody>${groups.map(
                ([group, count]) => html`<tr><td>
              <a href=${groupLink(group)}>${group}</a></td><td class="num bad">${num(count)}</td></tr>`,
              )}</tbody>
              </table>`
        }
      <//>
      <${Section} title="Tracked jobs">
        ${
          Object.keys(data.tracked.states).length === 0
            ? html`<p class="muted empty">No tracked jobs.</p>`
            : html`<table class="compact">
              <tbody>${Object.entries(data.tracked.states).map(
                ([state, count]) => html`<tr><td>
              <a href=${link('/tracked')}>${state}</a></td><td class="num">${num(count)}</td></tr>`,
              )}</tbody></table>`
        }
      <//>
      <${Section} title=${`Workers (${data.workers.length})`}>
        ${
          data.workers.length === 0
            ? html`<p class="muted empty">No worker has polled recently.</p>`
            : html`<table class="compact"><thead><tr><th>worker</th><th class="num">running</th>
              <th class="num">stalled</th></tr></thead><tbody>${data.workers.slice(0, 20).map(
                (worker) => html`<tr>
              <td class="mono"><a href=${workerLink(worker.name)}>${worker.name}</a></td>
              <td class="num">${num(worker.jobs)}</td>
              <td class="num ${worker.stalled > 0 ? 'bad' : ''}">${num(worker.stalled)}</td></tr>`,
              )}</tbody></table>
            ${
              data.workers.length > 20
                ? html`<p><a href=${link('/workers')}>all ${data.workers.length} workers</a>
              </p>`
                : null
            }`
        }
      <//>
    </div>
  </div>`;
}
