// The live stream (server-sent events from api/events). Pages subscribe to "something changed"
// and refetch what they show. The stream closes while the tab is hidden and catches up when it is
// shown again; if it breaks, the page polls every few seconds and says so until it is back.
import { useEffect, useRef, useState } from '../vendor/preact-htm.js';

const POLL_MS = 5000;
const RETRY_MS = 10000;

const listeners = new Set();
const statusListeners = new Set();
let status = { mode: 'connecting', since: Date.now() };
let source = null;
let pollTimer = null;
let retryTimer = null;
let errors = 0;

function setStatus(mode) {
  if (status.mode === mode) return;
  status = { mode, since: Date.now() };
  for (const listener of statusListeners) listener(status);
}

function emit(event, data) {
  for (const listener of listeners) listener(event, data);
}

function startPolling() {
  setStatus('polling');
  if (pollTimer === null) pollTimer = setInterval(() => emit('changes', { all: true, polled: true }), POLL_MS);
  if (retryTimer === null)
    retryTimer = setInterval(() => {
      if (document.visibilityState === 'visible') connect();
    }, RETRY_MS);
}

function stopPolling() {
  clearInterval(pollTimer);
  clearInterval(retryTimer);
  pollTimer = null;
  retryTimer = null;
}

function close() {
  if (source) source.close();
  source = null;
}

function connect() {
  close();
  if (status.mode !== 'polling') setStatus('connecting');
  const stream = new EventSource('api/events');
  source = stream;
  stream.addEventListener('hello', () => {
    errors = 0;
    const wasDown = status.mode !== 'live';
    stopPolling();
    setStatus('live');
    // What happened while the stream was down or the tab hidden.
    if (wasDown) emit('changes', { all: true });
  });
  for (const name of ['changes', 'pools', 'operation', 'status']) {
    stream.addEventListener(name, (event) => {
      try {
        emit(name, JSON.parse(event.data));
      } catch {
        // A message we cannot read is skipped; the next one carries the news.
      }
    });
  }
  stream.onerror = () => {
    errors += 1;
    // EventSource retries by itself; after two failures in a row, fall back to polling.
    if (errors >= 2 || stream.readyState === EventSource.CLOSED) {
      close();
      startPolling();
    }
  };
}

export function startLive() {
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') {
      close();
      stopPolling();
      setStatus('paused');
    } else {
      connect();
    }
  });
  connect();
}

/** Calls `listener(event, data)` for every live message while the component is mounted. */
export function useLive(listener) {
  const ref = useRef(listener);
  ref.current = listener;
  useEffect(() => {
    const call = (event, data) => ref.current(event, data);
    listeners.add(call);
    return () => listeners.delete(call);
  }, []);
}

export function useLiveStatus() {
  const [value, setValue] = useState(status);
  useEffect(() => {
    statusListeners.add(setValue);
    setValue(status);
    return () => statusListeners.delete(setValue);
  }, []);
  return value;
}
