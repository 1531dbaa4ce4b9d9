// Job lists with checkboxes, and bulk actions on the selected jobs or on all N matching the
// list's filter: run by the server in batches, with progress and a per-job result report.
import { html, useEffect, useState } from '../vendor/preact-htm.js';
import { get, post, readOnly } from './api.js';
import { firstLine, num } from './format.js';
import { useLive } from './live.js';
import { jobLink, queueLink, State, Tags, Time, toast, workerLink } from './ui.js';

const ACTIONS = [
  { action: 'retry', label: 'Retry', danger: false },
  { action: 'cancel', label: 'Cancel', danger: true },
  { action: 'move', label: 'Move…', danger: true, ask: 'queue' },
  { action: 'priority', label: 'Priority…', ask: 'priority' },
  { action: 'tag', label: 'Tag…', ask: 'tags' },
  { action: 'untag', label: 'Untag…', ask: 'tags' },
  { action: 'track', label: 'Track' },
  { action: 'untrack', label: 'Untrack' },
];

function askArgs(spec) {
  if (!spec.ask) return {};
  const answer = window.prompt(
    spec.ask === 'queue'
      ? 'Move to which queue?'
      : spec.ask === 'priority'
        ? 'New priority (higher pops first):'
        : 'Tags (comma-separated):',
  );
  if (answer === null || answer.trim() === '') return null;
  if (spec.ask === 'priority') return { priority: Number(answer) };
  if (spec.ask === 'tags')
    return {
      tags: answer
        .split(',')
        .map((tag) => tag.trim())
        .filter(Boolean),
    };
  return { queue: answer.trim() };
}

/** Progress and result of one operation, updated from the live stream (and by polling as a fallback). */
export function OperationReport({ operation, onClose }) {
  const [status, setStatus] = useState(operation);
  useLive((event, data) => {
    if (event === 'operation' && data.id === operation.id) setStatus(data);
  });
  useEffect(() => {
    if (status.phase === 'done' || status.phase === 'failed') return;
    const timer = setInterval(async () => {
      try {
        setStatus(await get(`operations/${operation.id}`));
      } catch {
        // The next tick tries again.
      }
    }, 1500);
    return () => clearInterval(timer);
  }, [status.phase]);
  const finished = status.phase === 'done' || status.phase === 'failed';
  const percent = status.total > 0 ? Math.round((100 * status.done) / status.total) : finished ? 100 : 0;
  const failures = (status.results ?? []).filter((result) => !result.ok);
  return html`<div class="operation" data-phase=${status.phase}>
    <div class="operation-line">
      <strong>${status.action}</strong> ${status.target}:
      ${
        status.phase === 'collecting'
          ? html`<span>finding jobs… ${num(status.examined)} looked at, ${num(status.total)} match</span>`
          : html`<span class="op-count">${num(status.done)} of ${num(status.total)} done</span>`
      }
      ${
        finished
          ? html` — <span
        class="op-result">${num(status.succeeded)} succeeded, ${num(status.failed)} failed</span>`
          : null
      }
      ${status.error ? html` — <span class="error">${status.error}</span>` : null}
      ${finished && onClose ? html` <button class="small" onClick=${onClose}>Close</button>` : null}
    </div>
    <progress max="100" value=${percent}></progress>
    ${
      failures.length > 0
        ? html`<details><summary>${num(failures.length)} job(s) not changed</summary>
          <ul class="failures">${failures.slice(0, 200).map(
            (result) => html`<li>
            <a href=${jobLink(result.jid)}>${result.jid}</a>: ${result.error}</li>`,
          )}</ul>
        </details>`
        : null
    }
  </div>`;
}

/**
 * The bulk bar: actions on the selected jids, or on every job of `target` (a filter or a failure
 * group) when "all N" is chosen. `total` is N for the confirmation.
 */
export function BulkBar({ selected, total, target, clear, onStarted }) {
  const [all, setAll] = useState(false);
  if (readOnly()) return null;
  const count = all ? total : selected.length;
  const start = async (spec) => {
    if (count === 0) return;
    const args = askArgs(spec);
    if (args === null) return;
    const what = `${spec.action} ${num(count)} job${count === 1 ? '' : 's'}`;
    if (spec.danger && !window.confirm(`Really ${what}${args.queue ? ` to ${args.queue}` : ''}?`)) return;
    try {
      const body = { action: spec.action, ...args, ...(all ? target : { jids: selected }) };
      onStarted(await post('operations', body));
      setAll(false);
      clear();
    } catch (error) {
      toast(error.message, 'error');
    }
  };
  return html`<div class="bulk">
    ${
      target && total > 0
        ? html`<label class="all">
          <input type="checkbox" checked=${all}
            onChange=${(event) => setAll(event.target.checked)} /> all ${num(total)} matching</label>`
        : null
    }
    <span class="muted">${all ? `all ${num(total)}` : `${num(selected.length)} selected`}:</span>
    ${ACTIONS.map(
      (spec) =>
        html`<button class=${spec.danger ? 'small danger' : 'small'} disabled=${count === 0}
          onClick=${() => start(spec)}>${spec.label}
          </button>`,
    )}
  </div>`;
}

const COLUMNS = {
  jid: (job) => html`<td class="mono"><a href=${jobLink(job.jid)}>${job.jid}</a></td>`,
  klass: (job) => html`<td class="mono">${job.klass}</td>`,
  queue: (job) => html`<td>${job.queue ? html`<a href=${queueLink(job.queue)}>${job.queue}</a>` : '–'}</td>`,
  state: (job) => html`<td><${State} state=${job.state} /></td>`,
  worker: (job) =>
    html`<td class="mono">${job.worker ? html`<a href=${workerLink(job.worker)}>${job.worker}</a>` : '–'}</td>`,
  priority: (job) => html`<td class="num">${job.priority}</td>`,
  tags: (job) => html`<td><${Tags} tags=${job.tags} /></td>`,
  failure: (job) =>
    html`<td class="message">${job.failure ? `${job.failure.group}: ${firstLine(job.failure.message)}` : ''}</td>`,
  updated: (job) => html`<td><${Time} at=${job.updated} /></td>`,
  retries: (job) => html`<td class="num">${job.remaining}/${job.retries}</td>`,
};

const HEADERS = {
  jid: 'jid',
  klass: 'klass',
  queue: 'queue',
  state: 'state',
  worker: 'worker',
  priority: 'prio',
  tags: 'tags',
  failure: 'failure',
  updated: 'updated',
  retries: 'retries left',
};

/** A table of job summaries with checkboxes (unless read-only) and the bulk bar above it. */
export function JobTable({ jobs, columns, total, target, empty = 'No jobs.' }) {
  const [selected, setSelected] = useState([]);
  // Kept here, not in the bar: the report stays while the jobs it changed leave the list.
  const [operation, setOperation] = useState(null);
  const selectable = !readOnly();
  const jids = jobs.map((job) => job.jid);
  useEffect(() => setSelected((old) => old.filter((jid) => jids.includes(jid))), [jids.join(',')]);
  const report = operation
    ? html`<${OperationReport} key=${operation.id} operation=${operation} onClose=${() => setOperation(null)} />`
    : null;
  if (jobs.length === 0) return html`<div>${report}<p class="muted empty">${empty}</p></div>`;
  const toggle = (jid) => setSelected((old) => (old.includes(jid) ? old.filter((x) => x !== jid) : [...old, jid]));
  const allSelected = selected.length === jobs.length;
  return html`<div>
    ${
      selectable
        ? html`<${BulkBar} selected=${selected} total=${total ?? jobs.length} target=${target}
      clear=${() => setSelected([])} onStarted=${setOperation} />`
        : null
    }
    ${report}
    <div class="table-wrap"><table class="jobs">
      <thead><tr>
        ${
          selectable
            ? html`<th class="check">
          <input type="checkbox" aria-label="select all" checked=${allSelected}
            onChange=${() => setSelected(allSelected ? [] : jids)} />
          </th>`
            : null
        }
        ${columns.map((column) => html`<th>${HEADERS[column]}</th>`)}
      </tr></thead>
      <tbody>${jobs.map(
        (job) => html`<tr key=${job.jid} class=${selected.includes(job.jid) ? 'selected' : ''}>
          ${
            selectable
              ? html`<td class="check">
            <input type="checkbox" aria-label=${`select ${job.jid}`} checked=${selected.includes(job.jid)}
              onChange=${() => toggle(job.jid)} />
            </td>`
              : null
          }
          ${columns.map((column) => COLUMNS[column](job))}
        </tr>`,
      )}</tbody>
    </table></div>
  </div>`;
}
