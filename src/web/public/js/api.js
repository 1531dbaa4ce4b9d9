// Talking to the dashboard's JSON API: relative URLs (so the page works under any prefix), the
// CSRF token on every write, and one error type with the server's message.
let session = { csrfToken: '', readOnly: true, version: '' };

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function request(method, path, body) {
  const init = { method, headers: { accept: 'application/json' }, credentials: 'same-origin' };
  if (method !== 'GET') {
    init.headers['x-qless-csrf'] = session.csrfToken;
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
  }
  let response;
  try {
    response = await fetch(`api/${path}`, init);
  } catch {
    throw new ApiError(0, 'the dashboard server cannot be reached');
  }
  const text = await response.text();
  let json = null;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    json = null;
  }
  if (!response.ok) throw new ApiError(response.status, json?.error ?? `${response.status} ${response.statusText}`);
  return json;
}

export const get = (path) => request('GET', path);
export const post = (path, body) => request('POST', path, body);
export const del = (path) => request('DELETE', path);

export async function loadSession() {
  session = await get('session');
  return session;
}

export const readOnly = () => session.readOnly;
export const version = () => session.version;

/** `a=1&b=x` from an object, leaving out empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

export const enc = encodeURIComponent;
