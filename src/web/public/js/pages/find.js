// Find: a jid (or its beginning), filters, and a search inside job data, all kept in the URL so a
// view can be bookmarked and shared. The server looks at a bounded number of jobs per step; more
// are looked at with "continue".
import { html, useEffect, useState } from '../../vendor/preact-htm.js';
import { get, query } from '../api.js';
import { JobTable } from '../bulk.js';
import { num } from '../format.js';
import { ErrorNote, toast } from '../ui.js';

const FIELDS = ['jid', 'queue', 'state', 'klass', 'tag', 'worker', 'group', 'q'];
const STATES = ['', 'waiting', 'running', 'stalled', 'scheduled', 'depends', 'failed', 'complete'];

export function FindPage({ search, navigate }) {
  const filter = Object.fromEntries(FIELDS.map((name) => [name, search.get(name) ?? '']));
  const key = JSON.stringify(filter);
  const [form, setForm] = useState(filter);
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [count, setCount] = useState(null);
  const active = FIELDS.some((name) => filter[name] !== '');

  const step = async (cursor, previous) => {
    setBusy(true);
    try {
      const page = await get(`find${query({ ...filter, cursor })}`);
      setResult({
        ...page,
        jobs: [...(previous?.jobs ?? []), ...page.jobs],
        examined: (previous?.examined ?? 0) + page.examined,
      });
      setError(null);
    } catch (problem) {
      setError(problem);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    setForm(filter);
    setResult(null);
    setCount(null);
    if (active) void step(undefined, null);
  }, [key]);

  const submit = (event) => {
    event.preventDefault();
    navigate(Object.fromEntries(FIELDS.map((name) => [name, form[name].trim()])));
  };
  const countAll = async () => {
    setBusy(true);
    try {
      setCount((await get(`find/count${query(filter)}`)).matching);
    } catch (problem) {
      toast(problem.message, 'error');
    } finally {
      setBusy(false);
    }
  };
  const input = (name, label, placeholder) =>
    html`<label>${label}
      <input name=${name} placeholder=${placeholder} value=${form[name]}
        onInput=${(event) => setForm({ ...form, [name]: event.target.value })} />
      </label>`;
  const filterOnly = Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== ''));
  return html`<div class="page find">
    <header class="page-head"><h1>Find jobs</h1></header>
    <form class="find-form" onSubmit=${submit}>
      ${input('jid', 'Jid', 'whole jid or its beginning')}
      <label class="wide">In the data<input name="q" placeholder="data.user.id = 123, or free text" value=${form.q}
        onInput=${(event) => setForm({ ...form, q: event.target.value })} />
        </label>
      ${input('queue', 'Queue', '')}
      <label>State<select name="state" value=${form.state}
        onChange=${(event) => setForm({ ...form, state: event.target.value })}>${STATES.map(
          (state) => html`<option value=${state}>${state || 'any'}
        </option>`,
        )}</select></label>
      ${input('klass', 'Klass', '')} ${input('tag', 'Tag', '')}
      ${input('worker', 'Worker', '')} ${input('group', 'Failure group', '')}
      <div class="wide"><button class="action" type="submit">Find</button></div>
    </form>
    <${ErrorNote} error=${error} />
    ${
      result
        ? html`<div class="find-result">
          <p class="muted find-summary">
            ${`${num(result.jobs.length)} found among ${num(result.examined)} jobs looked at`}
            ${` (${result.source})${result.done ? ' — every candidate looked at.' : '.'}`}
            ${
              result.done
                ? null
                : html` <button class="small" disabled=${busy}
              onClick=${() => step(result.cursor, result)}>Continue</button>`
            }
            ${
              count === null
                ? html` <button class="small" disabled=${busy} onClick=${countAll}>Count all matching</button>`
                : html` <strong>${num(count)}
              </strong> match in all.`
            }
          </p>
          <${JobTable} jobs=${result.jobs} total=${count ?? 0}
            target=${count === null ? null : { filter: filterOnly }}
            columns=${['jid', 'klass', 'queue', 'state', 'tags', 'failure', 'updated']} empty="No job found yet." />
        </div>`
        : busy
          ? html`<p class="muted">Searching…</p>`
          : null
    }
  </div>`;
}
