// One queue: tabs per state with counts and numbered pages, pause/unpause, throughput, the wait
// and run time charts from qless's statistics, and its recurring jobs.
import { html } from '../../vendor/preact-htm.js';
import { enc, post, query, readOnly } from '../api.js';
import { JobTable } from '../bulk.js';
import { HistogramChart, ThroughputChart } from '../charts.js';
import { duration, num } from '../format.js';
import { useResource } from '../resource.js';
import { Action, ErrorNote, jobLink, Loading, Pager, Section, Tags } from '../ui.js';

const STATES = ['waiting', 'running', 'stalled', 'scheduled', 'depends', 'recurring'];
const PAGE = 25;
const HELD_COLUMNS = ['jid', 'klass', 'worker', 'priority', 'tags', 'updated'];
const WAITING_COLUMNS = ['jid', 'klass', 'priority', 'tags', 'retries', 'updated'];

function TimeStats({ title, stats }) {
  return html`<div class="timestats">
    <h3>${title}</h3>
    <dl class="figures">
      <div><dt>jobs</dt><dd>${num(stats.count)}</dd></div>
      <div><dt>mean</dt><dd>${stats.count ? duration(stats.mean) : '–'}</dd></div>
      <div><dt>p50</dt><dd>${stats.p50 === null ? '–' : `< ${duration(stats.p50)}`}</dd></div>
      <div><dt>p95</dt><dd>${stats.p95 === null ? '–' : `< ${duration(stats.p95)}`}</dd></div>
      <div><dt>p99</dt><dd>${stats.p99 === null ? '–' : `< ${duration(stats.p99)}`}</dd></div>
      <div><dt>std</dt><dd>${stats.count > 1 ? duration(stats.std) : '–'}</dd></div>
    </dl>
    ${
      stats.buckets.length > 0
        ? html`<${HistogramChart} buckets=${stats.buckets} label=${title} />`
        : html`<p
      class="muted empty">No samples that day.</p>`
    }
  </div>`;
}

function RecurringTable({ jobs }) {
  return html`<div class="table-wrap"><table>
    <thead><tr><th>jid</th><th>klass</th><th class="num">every</th><th class="num">prio</th>
      <th class="num">retries</th><th class="num">spawned</th><th>tags</th></tr></thead>
    <tbody>${jobs.map(
      (job) =>
        html`<tr><td class="mono"><a href=${jobLink(job.jid)}>${job.jid}</a></td><td class="mono">${job.klass}</td>
          <td class="num">${duration(job.interval)}</td><td class="num">${job.priority}</td>
          <td class="num">${job.retries}</td><td class="num">${num(job.count)}</td><td><${Tags} tags=${job.tags} />
          </td></tr>`,
    )}</tbody>
  </table></div>`;
}

function StatePage({ queue, state, offset, go }) {
  const path = `queues/${enc(queue)}/jobs${query({ state, offset, limit: PAGE })}`;
  const { data, error } = useResource(path, (changes) => changes.queues.includes(queue) || changes.moreJids);
  if (!data) return error ? html`<${ErrorNote} error=${error} />` : html`<${Loading} />`;
  const pager = html`<${Pager} total=${data.total} offset=${data.offset} limit=${data.limit} go=${go} />`;
  return html`<div>
    <${ErrorNote} error=${error} />
    ${
      state === 'recurring'
        ? html`<${RecurringTable} jobs=${data.jobs} />`
        : html`<${JobTable}
          jobs=${data.jobs}
          total=${data.total}
          target=${{ filter: { queue, state } }}
          columns=${state === 'running' || state === 'stalled' ? HELD_COLUMNS : WAITING_COLUMNS}
          empty=${`No ${state} jobs.`}
        />`
    }
    ${pager}
  </div>`;
}

export function QueuePage({ params, search, navigate }) {
  const queue = params[0];
  const state = STATES.includes(search.get('state')) ? search.get('state') : 'waiting';
  const offset = Number(search.get('offset')) || 0;
  const { data, error, loading } = useResource(`queues/${enc(queue)}`, (changes) => changes.queues.includes(queue));
  if (loading && !data) return html`<${Loading} />`;
  if (!data) return html`<${ErrorNote} error=${error} />`;
  return html`<div class="page queue">
    <header class="page-head">
      <h1>${queue} ${data.paused ? html`<span class="badge paused">paused</span>` : null} ${
        data.unattended ? html`<span class="badge warn">no worker</span>` : null
      }
        </h1>
      ${
        readOnly()
          ? null
          : data.paused
            ? html`<${Action} label="Unpause" run=${() => post(`queues/${enc(queue)}/unpause`)}
              done="Queue unpaused" />`
            : html`<${Action} label="Pause" run=${() => post(`queues/${enc(queue)}/pause`)}
              done="Queue paused: workers take no more jobs from it" />`
      }
    </header>
    <${ErrorNote} error=${error} />
    ${
      data.pools.length > 0
        ? html`<p
      class="muted">Served by pool${data.pools.length > 1 ? 's' : ''} ${data.pools.join(', ')}.</p>`
        : null
    }
    <nav class="tabs" role="tablist">
      ${STATES.map(
        (name) =>
          html`<a role="tab" aria-selected=${name === state} class=${name === state ? 'tab current' : 'tab'}
            href=${`#/queues/${enc(queue)}?state=${name}`}>${name} <span class="tab-count">${num(data[name])}
            </span></a>`,
      )}
    </nav>
    <${StatePage} queue=${queue} state=${state} offset=${offset} go=${(next) => navigate({ state, offset: next })} />
    <${Section} title="Throughput" extra=${html`<span
      class="muted">completed today ${num(data.throughput.completedToday)},
          failed today ${num(data.throughput.failedToday)}
      </span>`}>
      <${ThroughputChart} completed=${data.throughput.completed} failed=${data.throughput.failed} />
    <//>
    <${Section} title=${`Wait and run times (${data.stats.date}, UTC)`} extra=${html`<span
      class="muted">retries ${num(data.stats.retries)}, failures ${num(data.stats.failures)}
      </span>`}>
      <div class="columns two">
        <${TimeStats} title="wait" stats=${data.stats.wait} />
        <${TimeStats} title="run" stats=${data.stats.run} />
      </div>
    <//>
    ${
      data.recurringJobs.length > 0
        ? html`<${Section} title=${`Recurring jobs (${data.recurringJobs.length})`}>
      <${RecurringTable} jobs=${data.recurringJobs} /><//>`
        : null
    }
  </div>`;
}
