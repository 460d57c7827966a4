// Pieces shared by the views: status text, progress bar, JSON block, messages, confirmation.
import { html } from './html.js';
import { useEffect, useRef, useState } from './hooks.js';
import { ApiError } from './api.js';

/** Status as text (screen readers and tests read the word itself). */
export function StatusBadge({ status }) {
  return html`<span class=${'status status-' + status}>${status}</span>`;
}

/** A live progress bar: role="progressbar" with aria-valuenow 0–100. */
export function ProgressBar({ value, label, message }) {
  const v = Math.max(0, Math.min(100, Math.round(value ?? 0)));
  return html`<div class="progress-wrap">
    <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=${v}
      aria-valuetext=${message ? `${v}% ${message}` : `${v}%`} aria-label=${label}>
      <div class="progress-fill" style=${{ width: v + '%' }}></div>
    </div>
    <span class="progress-text" aria-hidden="true" title=${message ?? undefined}>${v}%${message ? ' · ' + message : ''}</span>
  </div>`;
}

export function JsonBlock({ value, label }) {
  if (value === null || value === undefined) return html`<p class="muted">none</p>`;
  return html`<pre class="json" tabindex="0" aria-label=${label}>${JSON.stringify(value, null, 2)}</pre>`;
}

/** Error text for any failure, naming the contract's code. */
export function errorText(err) {
  if (err instanceof ApiError) {
    if (err.status === 401) return 'You are not signed in (401). Sign in to the application and reload.';
    return `${err.message} (${err.code})`;
  }
  return err?.message ?? String(err);
}

export function ErrorMessage({ error }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${errorText(error)}</p>`;
}

/** Loads data with `load(signal)` whenever `deps` change; aborts stale requests. */
export function useAsync(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    load(ctl.signal).then(
      (data) => !ctl.signal.aborted && setState({ data, error: null, loading: false }),
      (error) => !ctl.signal.aborted && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => ctl.abort();
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1), setData: (f) => setState((s) => ({ ...s, data: f(s.data) })) };
}

/** A modal confirmation (native <dialog>: focus trap and Escape come from the browser). */
export function ConfirmDialog({ open, title, children, confirmLabel, onConfirm, onCancel }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return html`<dialog ref=${ref} aria-labelledby="confirm-title" onClose=${() => open && onCancel()}>
    <h2 id="confirm-title">${title}</h2>
    <div>${children}</div>
    <div class="dialog-actions">
      <button type="button" onClick=${onCancel}>Go back</button>
      <button type="button" class="danger" onClick=${onConfirm}>${confirmLabel}</button>
    </div>
  </dialog>`;
}

/** A failure of an action the user took, shown and announced. */
export function Failure({ text }) {
  return text ? html`<p class="error" role="alert">${text}</p>` : null;
}

/** A polite live region for results of actions ("Job … canceled"). */
export function Announcer({ message }) {
  return html`<p class="sr-announce" role="status" aria-live="polite">${message}</p>`;
}

/** The current time, refreshed every `everyMs`, for "3 min ago" labels. */
export function useNow(everyMs = 15_000) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
