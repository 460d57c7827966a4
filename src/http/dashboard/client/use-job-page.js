// One server-side page of jobs, kept live: events patch rows in place, and on the first page
// a status change (a new job, a job leaving the filter) refetches that one page, throttled,
// so the list stays current without ever loading more than `limit` jobs.
import { useCallback, useEffect, useRef, useState } from './hooks.js';
import { api } from './api.js';
import { applyLive, onLive } from './live.js';

const REFRESH_MS = 1000;

export function useJobPage(filters) {
  const key = JSON.stringify(filters);
  const [cursors, setCursors] = useState([null]); // cursor of each page visited, for "Previous"
  const [state, setState] = useState({ items: [], nextCursor: null, loading: true, error: null });
  const refresh = useRef({ timer: null, inFlight: false, again: false });
  const cursor = cursors[cursors.length - 1];

  const seq = useRef(0);
  const load = useCallback(
    async (signal) => {
      // Only the latest request may write: a slow answer for an old filter or page loses.
      const mine = ++seq.current;
      const current = () => mine === seq.current && !signal?.aborted;
      try {
        const page = await api.listJobs({ ...filters, cursor }, signal);
        if (current()) setState({ items: page.items, nextCursor: page.nextCursor, loading: false, error: null });
      } catch (error) {
        if (current()) setState((s) => ({ ...s, loading: false, error }));
      }
    },
    [key, cursor],
  );

  useEffect(() => setCursors([null]), [key]);

  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    load(ctl.signal);
    return () => ctl.abort();
  }, [load]);

  // Throttled refetch: at once when the last one is older than REFRESH_MS, else at the end of
  // that interval; never more than one request in flight.
  const scheduleRefresh = useCallback(() => {
    const r = refresh.current;
    if (r.timer || r.inFlight) {
      r.again = true;
      return;
    }
    const wait = Math.max(0, (r.lastAt ?? 0) + REFRESH_MS - Date.now());
    r.timer = setTimeout(async () => {
      r.timer = null;
      r.inFlight = true;
      r.lastAt = Date.now();
      await load();
      r.inFlight = false;
      if (r.again) {
        r.again = false;
        scheduleRefresh();
      }
    }, wait);
  }, [load]);

  useEffect(() => {
    const firstPage = cursor === null;
    const off = onLive((batch) => {
      const touched = new Set(batch.map((e) => e.jobId));
      setState((s) => ({ ...s, items: s.items.map((j) => (touched.has(j.id) ? applyLive(j, batch) : j)) }));
      if (firstPage && batch.some((e) => e.kind === 'status')) scheduleRefresh();
    });
    return () => {
      off();
      clearTimeout(refresh.current.timer);
      refresh.current.timer = null;
    };
  }, [cursor, scheduleRefresh]);

  return {
    ...state,
    page: cursors.length,
    hasPrevious: cursors.length > 1,
    next: () => state.nextCursor && setCursors((c) => [...c, state.nextCursor]),
    previous: () => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)),
    reload: () => load(),
    patch: (job) => setState((s) => ({ ...s, items: s.items.map((j) => (j.id === job.id ? job : j)) })),
  };
}
