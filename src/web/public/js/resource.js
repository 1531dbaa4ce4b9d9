// Data a page shows: fetched when the page opens, refetched (at most once a second) when the
// live stream says something relevant changed, so counts and lists update without a reload.
import { get } from './api.js';
import { useLive } from './live.js';
import { useCallback, useEffect, useRef, useState } from '../vendor/preact-htm.js';

const MIN_GAP_MS = 1000;
/** Live pages also refresh this often without news: figures derived from samples move on their own. */
const REFRESH_MS = 15000;

/**
 * `path` is fetched with GET api/<path>. `relevant(changes)` decides whether a `changes` message
 * concerns this data (default: any change); null turns live updates off.
 */
export function useResource(path, relevant = () => true) {
  const [state, setState] = useState({ data: null, error: null, loading: true, updatedAt: 0 });
  const inFlight = useRef(false);
  const pending = useRef(false);
  const lastAt = useRef(0);
  const timer = useRef(null);
  const current = useRef(path);
  current.current = path;

  const load = useCallback(async () => {
    if (inFlight.current) {
      pending.current = true;
      return;
    }
    inFlight.current = true;
    lastAt.current = Date.now();
    const asked = current.current;
    try {
      const data = await get(asked);
      if (asked === current.current) setState({ data, error: null, loading: false, updatedAt: Date.now() });
    } catch (error) {
      if (asked === current.current) setState((old) => ({ ...old, error, loading: false }));
    } finally {
      inFlight.current = false;
      if (pending.current) {
        pending.current = false;
        schedule();
      }
    }
  }, []);

  const schedule = useCallback(() => {
    if (timer.current !== null) return;
    const wait = Math.max(0, MIN_GAP_MS - (Date.now() - lastAt.current));
    timer.current = setTimeout(() => {
      timer.current = null;
      void load();
    }, wait);
  }, [load]);

  useEffect(() => {
    setState({ data: null, error: null, loading: true, updatedAt: 0 });
    void load();
    const refresh =
      relevant === null
        ? null
        : setInterval(() => {
            if (document.visibilityState === 'visible') schedule();
          }, REFRESH_MS);
    return () => {
      clearTimeout(timer.current);
      clearInterval(refresh);
    };
  }, [path]);

  useLive((event, data) => {
    if (relevant === null) return;
    if (event === 'changes' && (data.all || relevant(data))) schedule();
    if (event === 'operation' && (data.phase === 'done' || data.phase === 'failed')) schedule();
  });

  return { ...state, reload: load };
}
