// One job: every field, its history as a timeline, its failure in full, and what can be done to
// it (retry, cancel, move, priority, track, tags, dependencies, timeout, run now).
import { html, useState } from '../../vendor/preact-htm.js';
import { enc, post, readOnly } from '../api.js';
import { absolute, duration, num } from '../format.js';
import { useResource } from '../resource.js';
import {
  Action,
  ErrorNote,
  groupLink,
  jobLink,
  Json,
  link,
  Loading,
  queueLink,
  Section,
  State,
  Tags,
  Time,
  workerLink,
} from '../ui.js';
import { RecurringEditor } from './recurring.js';

const PRESETS = [
  ['high', 100],
  ['normal', 0],
  ['low', -100],
];

function historyText(entry) {
  switch (entry.what) {
    case 'put':
      return html`put into <a href=${queueLink(entry.q)}>${entry.q}</a>`;
    case 'popped':
      return html`popped by <a href=${workerLink(entry.worker)}>${entry.worker}</a>`;
    case 'done':
      return 'completed';
    case 'failed':
      return html`failed into <a href=${groupLink(entry.group)}>${entry.group}
        </a>${entry.worker ? html` by <a href=${workerLink(entry.worker)}>${entry.worker}</a>` : ''}`;
    case 'timed-out':
      return 'timed out (lock lost)';
    default: {
      const extra = Object.fromEntries(Object.entries(entry).filter(([key]) => key !== 'what' && key !== 'when'));
      return html`${entry.what}${Object.keys(extra).length > 0 ? html` <code>${JSON.stringify(extra)}</code>` : ''}`;
    }
  }
}

function Timeline({ history }) {
  return html`<ol class="timeline">
    ${history.map(
      (entry, index) => html`<li class=${`what-${entry.what}`}>
        <span class="when" title=${absolute(entry.when)}>${absolute(entry.when)}</span>
        ${
          index > 0
            ? html`<span class="gap">+${duration(entry.when - history[index - 1].when)}
          </span>`
            : html`<span class="gap"></span>`
        }
        <span class="what">${historyText(entry)}</span>
      </li>`,
    )}
  </ol>`;
}

function JobActions({ job }) {
  const [queue, setQueue] = useState('');
  const [priority, setPriority] = useState('');
  const [tag, setTag] = useState('');
  const jid = enc(job.jid);
  const act = (action, body) => () => post(`jobs/${jid}/${action}`, body);
  return html`<div class="actions">
    <div class="action-row">
      ${
        job.state === 'failed' || job.state === 'stalled'
          ? html`<${Action} label="Retry" run=${act('retry')}
        done="Retried: back in its queue" />`
          : null
      }
      ${job.state === 'scheduled' ? html`<${Action} label="Run now" run=${act('run-now')} done="Waiting now" />` : null}
      ${
        job.state === 'running'
          ? html`<${Action} label="Force timeout" danger=${true}
        confirm=${`Time out job ${job.jid}? Its worker loses the lock and the job is handed to another.`}
        run=${act('timeout')} done="Timed out" />`
          : null
      }
      ${
        job.state === 'depends'
          ? html`<${Action} label="Undepend all" run=${act('undepend', { all: true })}
        done="No longer waits for its dependencies" />`
          : null
      }
      ${
        job.tracked
          ? html`<${Action} label="Untrack" run=${act('untrack')} done="Untracked" />`
          : html`<${Action}
        label="Track" run=${act('track')} done="Tracked" />`
      }
      ${
        job.state !== 'complete'
          ? html`<${Action} label="Cancel" danger=${true}
        confirm=${`Cancel job ${job.jid}? It is deleted.`} run=${act('cancel')} done="Canceled" />`
          : null
      }
    </div>
    <form class="inline" onSubmit=${(event) => event.preventDefault()}>
      <label>Move to <input name="queue" placeholder="queue" value=${queue}
        onInput=${(event) => setQueue(event.target.value)} />
        </label>
      <${Action} label="Move" small=${true} disabled=${queue === ''} run=${act('move', { queue })}
        done=${`Moved to ${queue}`} />
    </form>
    <form class="inline" onSubmit=${(event) => event.preventDefault()}>
      <label>Priority <input name="priority" type="number" step="any" placeholder=${String(job.priority)}
        value=${priority} onInput=${(event) => setPriority(event.target.value)} />
        </label>
      <${Action} label="Set" small=${true} disabled=${priority === ''}
        run=${act('priority', { priority: Number(priority) })} done="Priority set" />
      ${PRESETS.map(
        ([name, value]) => html`<${Action} label=${`${name} (${value})`} small=${true}
        run=${act('priority', { priority: value })} done=${`Priority ${value}`} />`,
      )}
    </form>
    <form class="inline" onSubmit=${(event) => event.preventDefault()}>
      <label>Tag <input name="tag" placeholder="tag" value=${tag} onInput=${(event) => setTag(event.target.value)} />
        </label>
      <${Action} label="Add" small=${true} disabled=${tag === ''} run=${act('tag', { tags: [tag] })} done="Tag added" />
      <${Action} label="Remove" small=${true} disabled=${tag === ''} run=${act('untag', { tags: [tag] })}
        done="Tag removed" />
    </form>
    ${
      job.state === 'depends' && job.dependencies.length > 0
        ? html`<div class="action-row">${job.dependencies.map(
            (dep) => html`<${Action} small=${true}
          label=${`Undepend ${dep.slice(0, 8)}…`} run=${act('undepend', { jids: [dep] })}
          done="Dependency removed" />`,
          )}
          </div>`
        : null
    }
  </div>`;
}

function JobView({ job }) {
  const rows = [
    ['state', html`<${State} state=${job.state} />`],
    ['queue', job.queue ? html`<a href=${queueLink(job.queue)}>${job.queue}</a>` : '–'],
    ['klass', html`<code>${job.klass}</code>`],
    ['worker', job.worker ? html`<a class="mono" href=${workerLink(job.worker)}>${job.worker}</a>` : '–'],
    ['priority', String(job.priority)],
    ['retries left', `${job.remaining} of ${job.retries}`],
    ['tags', job.tags.length ? html`<${Tags} tags=${job.tags} />` : '–'],
    ['tracked', job.tracked ? 'yes' : 'no'],
    ['lock expires', job.expires ? html`<${Time} at=${job.expires} />` : '–'],
    [
      'depends on',
      job.dependencies.length
        ? job.dependencies.map((jid) => html`<a class="mono dep" href=${jobLink(jid)}>${jid}</a> `)
        : '–',
    ],
    [
      'dependents',
      job.dependents.length
        ? job.dependents.map((jid) => html`<a class="mono dep" href=${jobLink(jid)}>${jid}</a> `)
        : '–',
    ],
    ...(job.spawnedFromJid
      ? [['spawned by', html`<a class="mono" href=${jobLink(job.spawnedFromJid)}>${job.spawnedFromJid}</a>`]]
      : []),
  ];
  return html`<div class="page job">
    <header class="page-head"><h1 class="mono">${job.jid}</h1></header>
    ${
      job.failure
        ? html`<section class="card failure">
          <header><h2>Failed in <a href=${groupLink(job.failure.group)}>${job.failure.group}</a></h2>
            <span class="muted">
            <${Time} at=${job.failure.when} />${job.failure.worker ? ` by ${job.failure.worker}` : ''}</span></header>
          <pre class="message">${job.failure.message}</pre>
        </section>`
        : null
    }
    <div class="columns two">
      <${Section} title="Job"><dl class="fields">${rows.map(
        ([name, value]) => html`<div><dt>${name}</dt><dd>${value}
        </dd></div>`,
      )}</dl><//>
      ${readOnly() ? null : html`<${Section} title="Actions"><${JobActions} job=${job} /><//>`}
    </div>
    <${Section} title="Data"><${Json} value=${job.data} /><//>
    <${Section} title=${`History (${num(job.history.length)})`}><${Timeline} history=${job.history} /><//>
  </div>`;
}

export function JobPage({ params }) {
  const jid = params[0];
  const { data, error, loading } = useResource(
    `jobs/${enc(jid)}`,
    (changes) => changes.jids.includes(jid) || changes.moreJids,
  );
  if (loading && !data) return html`<${Loading} />`;
  if (error?.status === 404)
    return html`<div class="page"><h1 class="mono">${jid}</h1>
      <p class="muted">No such job: it may have been canceled, or expired after completing. <a
        href=${link(`/find?jid=${enc(jid)}`)}>Search for jids starting with it</a>.</p>
      </div>`;
  if (!data) return html`<${ErrorNote} error=${error} />`;
  if (data.kind === 'recurring')
    return html`<div class="page job"><header class="page-head"><h1 class="mono">${data.jid}</h1>
      <span class="badge">recurring</span></header><${RecurringEditor} job=${data} /><${Section} title="Data">
      <${Json} value=${data.data} /><//></div>`;
  return html`<div><${ErrorNote} error=${error} /><${JobView} job=${data} /></div>`;
}
