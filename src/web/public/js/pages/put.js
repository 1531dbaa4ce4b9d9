// Put a job: queue, klass, data (checked as JSON while typing), priority, delay, tags, depends, retries.
import { html, useState } from '../../vendor/preact-htm.js';
import { post, readOnly } from '../api.js';
import { jobLink, toast } from '../ui.js';

function jsonProblem(text) {
  if (text.trim() === '') return null;
  try {
    const value = JSON.parse(text);
    return typeof value === 'object' && value !== null ? null : 'data must be a JSON object or array';
  } catch (error) {
    return error.message;
  }
}

export function PutPage() {
  const [form, setForm] = useState({
    queue: '',
    klass: '',
    data: '{}',
    priority: '',
    delay: '',
    tags: '',
    depends: '',
    retries: '',
  });
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState(null);
  if (readOnly())
    return html`<div class="page"><h1>Put a job</h1><p class="muted">The dashboard is read-only.</p></div>`;
  const problem = jsonProblem(form.data);
  const field = (name, label, extra = {}) =>
    html`<label>${label}
      <input name=${name} value=${form[name]}
        onInput=${(event) => setForm({ ...form, [name]: event.target.value })} ...${extra} />
      </label>`;
  const list = (text) =>
    text
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    try {
      const body = {
        queue: form.queue,
        klass: form.klass,
        data: form.data || '{}',
        tags: list(form.tags),
        depends: list(form.depends),
      };
      for (const name of ['priority', 'delay', 'retries']) if (form[name] !== '') body[name] = Number(form[name]);
      const job = await post('jobs', body);
      setCreated(job);
      toast(`Put ${job.jid} into ${job.queue}`);
    } catch (error) {
      toast(error.message, 'error');
    } finally {
      setBusy(false);
    }
  };
  return html`<div class="page put">
    <header class="page-head"><h1>Put a job</h1></header>
    <form class="put-form" onSubmit=${submit}>
      ${field('queue', 'Queue', { required: true, placeholder: 'images' })}
      ${field('klass', 'Klass', { required: true, placeholder: 'resize.Thumbnail' })}
      <label class="wide">Data (JSON)<textarea name="data" rows="6" class=${problem ? 'invalid' : ''}
        onInput=${(event) => setForm({ ...form, data: event.target.value })}>${form.data}
        </textarea>
        ${problem ? html`<span class="error">${problem}</span>` : null}</label>
      ${field('priority', 'Priority', { type: 'number', step: 'any', placeholder: '0' })}
      ${field('delay', 'Delay (s)', { type: 'number', min: '0', step: 'any', placeholder: '0' })}
      ${field('retries', 'Retries', { type: 'number', min: '0', step: '1', placeholder: '5' })}
      ${field('tags', 'Tags', { placeholder: 'comma-separated' })}
      ${field('depends', 'Depends on', { placeholder: 'jids, comma-separated' })}
      <div class="wide"><button class="action" type="submit" disabled=${busy || problem !== null}>Put</button></div>
    </form>
    ${
      created
        ? html`<p class="created">Put <a class="mono" href=${jobLink(created.jid)}>${created.jid}
      </a> (${created.state}).</p>`
        : null
    }
  </div>`;
}
