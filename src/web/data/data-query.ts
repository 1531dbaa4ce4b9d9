// The search inside job data: `data.user.id = 123` (a path, `=`, `!=` or `~` for "contains", and
// a JSON value or bare text), or free text found anywhere in the data.
import type { JsonValue } from '../../client/types.ts';
import { badRequest } from '../api/http-error.ts';

export type DataQuery =
  | { kind: 'path'; path: string[]; op: '=' | '!=' | '~'; value: JsonValue }
  | { kind: 'text'; text: string };

const PATH_QUERY = /^\s*((?:[A-Za-z_$][\w$-]*|\d+)(?:\.(?:[A-Za-z_$][\w$-]*|\d+)|\[\d+\])*)\s*(!=|=|~)\s*(.*?)\s*$/s;

export function parseDataQuery(text: string): DataQuery {
  if (text.length > 500) throw badRequest('the data search is limited to 500 characters');
  const match = PATH_QUERY.exec(text);
  if (!match) return { kind: 'text', text: text.toLowerCase() };
  const path = match[1]
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((part) => part !== '');
  if (path[0] === 'data') path.shift();
  let value: JsonValue;
  try {
    value = JSON.parse(match[3]) as JsonValue;
  } catch {
    value = match[3].replace(/^(['"])(.*)\1$/s, '$2');
  }
  return { kind: 'path', path, op: match[2] as '=' | '!=' | '~', value };
}

function at(data: JsonValue, path: readonly string[]): JsonValue | undefined {
  let here: JsonValue | undefined = data;
  for (const key of path) {
    if (here === null || typeof here !== 'object') return undefined;
    here = Array.isArray(here) ? here[Number(key)] : here[key];
  }
  return here;
}

function equal(a: JsonValue | undefined, b: JsonValue): boolean {
  if (a === undefined) return false;
  // 123 matches "123" too: people type ids without knowing how the producer encoded them.
  if (typeof a !== 'object' && typeof b !== 'object') return String(a) === String(b);
  return JSON.stringify(a) === JSON.stringify(b);
}

export function matchesData(query: DataQuery, data: JsonValue): boolean {
  if (query.kind === 'text') return JSON.stringify(data).toLowerCase().includes(query.text);
  const found = at(data, query.path);
  if (query.op === '=') return equal(found, query.value);
  if (query.op === '!=') return !equal(found, query.value);
  if (found === undefined) return false;
  const haystack = typeof found === 'string' ? found : JSON.stringify(found);
  const needle = typeof query.value === 'string' ? query.value : JSON.stringify(query.value);
  return haystack.toLowerCase().includes(needle.toLowerCase());
}
