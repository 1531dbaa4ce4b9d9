// qless configuration: every key with its default; edit and unset (refusals are shown as given).
import { html, useState } from '../../vendor/preact-htm.js';
import { del, enc, post, readOnly } from '../api.js';
import { useResource } from '../resource.js';
import { Action, ErrorNote, Loading } from '../ui.js';

function Row({ item }) {
  const [value, setValue] = useState(String(item.value ?? ''));
  return html`<tr class=${item.stored ? 'stored' : ''}>
    <td class="mono">${item.key}</td>
    <td>${
      readOnly()
        ? html`<span class="mono">${String(item.value ?? '')}
      </span>`
        : html`<input class="mono" aria-label=${item.key} value=${value}
          onInput=${(event) => setValue(event.target.value)} />`
    }
      </td>
    <td class="mono muted">${item.default === null ? '–' : String(item.default)}</td>
    <td>${item.stored ? 'set' : html`<span class="muted">default</span>`}</td>
    ${
      readOnly()
        ? null
        : html`<td class="action-row">
          <${Action} small=${true} label="Save" run=${() => post(`config/${enc(item.key)}`, { value })}
            done=${`${item.key} = ${value}`} />
          ${
            item.stored
              ? html`<${Action} small=${true} label="Unset" run=${() => del(`config/${enc(item.key)}`)}
            done=${`${item.key} back to its default`} />`
              : null
          }
        </td>`
    }
  </tr>`;
}

export function ConfigPage() {
  const { data, error, loading, reload } = useResource('config', (changes) => changes.config);
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  if (loading && !data) return html`<${Loading} />`;
  if (!data) return html`<${ErrorNote} error=${error} />`;
  return html`<div class="page">
    <header class="page-head"><h1>Configuration</h1></header>
    <div class="table-wrap"><table class="config">
      <thead><tr><th>key</th><th>value</th><th>default</th><th></th>${readOnly() ? null : html`<th></th>`}</tr></thead>
      <tbody>${data.config.map((item) => html`<${Row} key=${`${item.key}=${item.value}`} item=${item} />`)}</tbody>
    </table></div>
    ${
      readOnly()
        ? null
        : html`<form class="inline" onSubmit=${(event) => event.preventDefault()}>
          <label>Key <input class="mono" placeholder="e.g. images-heartbeat" value=${key}
            onInput=${(event) => setKey(event.target.value)} />
            </label>
          <label>Value <input class="mono" value=${value} onInput=${(event) => setValue(event.target.value)} /></label>
          <${Action} label="Set" disabled=${key === ''} run=${async () => {
            await post(`config/${enc(key)}`, { value });
            await reload();
          }} done=${`${key} set`} />
        </form>`
    }
  </div>`;
}
