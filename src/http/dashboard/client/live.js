// One EventSource for the whole page. Events are batched per animation frame so a burst of
// progress updates (thousands of running jobs) costs one render, not one per event.
import { url } from './api.js';

const listeners = new Set();
const connectionListeners = new Set();
let pending = [];
let scheduled = false;
let source = null;
let connection = 'connecting';

function flush() {
  scheduled = false;
  const batch = pending;
  pending = [];
  for (const listener of listeners) listener(batch);
}

function enqueue(kind, message) {
  let event;
  try {
    event = JSON.parse(message.data);
  } catch {
    return;
  }
  pending.push({ kind, ...event });
  if (!scheduled) {
    scheduled = true;
    // rAF does not run in a hidden tab; a timeout keeps state fresh there too.
    if (document.hidden) setTimeout(flush, 250);
    else requestAnimationFrame(flush);
  }
}

function setConnection(state) {
  connection = state;
  for (const listener of connectionListeners) listener(state);
}

/** Opens the stream once; the browser reconnects by itself with `Last-Event-ID`. */
export function connectLive() {
  if (source) return;
  source = new EventSource(url('events'), { withCredentials: true });
  source.addEventListener('open', () => setConnection('live'));
  source.addEventListener('error', () => setConnection(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting'));
  source.addEventListener('job:status', (m) => enqueue('status', m));
  source.addEventListener('job:progress', (m) => enqueue('progress', m));
}

/** Subscribes to batches of `{ kind: 'status' | 'progress', jobId, … }`; returns the unsubscribe. */
export function onLive(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Subscribes to the connection state: 'connecting' | 'live' | 'reconnecting' | 'closed'. */
export function onConnection(listener) {
  connectionListeners.add(listener);
  listener(connection);
  return () => connectionListeners.delete(listener);
}

/** Applies a batch of live events to a job, returning a new object when anything changed. */
export function applyLive(job, batch) {
  let next = job;
  for (const e of batch) {
    if (e.jobId !== job.id) continue;
    if (e.kind === 'progress') {
      next = { ...next, progress: e.progress, progressMessage: e.message };
    } else {
      next = { ...next, status: e.to, error: e.error ?? next.error, updatedAt: e.at };
      if (e.to === 'running') next.startedAt = e.at;
    }
  }
  return next;
}
