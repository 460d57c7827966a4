// Job types and their settings in force; admins switch `enabled` and edit runtime settings.
import { html } from './html.js';
import { useEffect, useState } from './hooks.js';
import { api } from './api.js';
import { Announcer, ErrorMessage, errorText } from './components.js';
import { formatMs, PRIORITIES } from './format.js';

const KNOWN = ['displayName', 'priority', 'timeoutMs', 'maxRetries', 'enabled', 'requiresPermission', 'dedupWindowMs'];
const LABELS = {
  displayName: 'Display name',
  priority: 'Priority',
  timeoutMs: 'Timeout (ms)',
  maxRetries: 'Max retries',
  requiresPermission: 'Required permission',
  dedupWindowMs: 'Dedup window (ms)',
  concurrency: 'Concurrency',
  concurrencyPerOrg: 'Concurrency per org',
  rateLimit: 'Rate limit (JSON)',
  paused: 'Paused',
};

/** Settings beyond the base ones (flow control adds them): edited by their value's kind. */
function extraKeys(type) {
  return Object.keys(type).filter((k) => k !== 'name' && !KNOWN.includes(k));
}

function show(key, value) {
  if (value === null || value === undefined) return 'none';
  if (key.endsWith('Ms') && typeof value === 'number') return `${formatMs(value)} (${value} ms)`;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function JobTypesView({ jobTypes, isAdmin, onChanged }) {
  const [message, setMessage] = useState('');
  if (!jobTypes) return html`<p>Loading…</p>`;
  const changed = (info, what) => {
    setMessage(`${info.name}: ${what} saved.`);
    onChanged();
  };
  return html`<section aria-labelledby="view-title">
    <h2 id="view-title" tabindex="-1">Job types</h2>
    <${Announcer} message=${message} />
    ${jobTypes.length === 0 && html`<p class="empty">No job types are registered.</p>`}
    <ul class="cards">
      ${jobTypes.map((t) => html`<li key=${t.name}><${JobTypeCard} type=${t} isAdmin=${isAdmin} onChanged=${changed} /></li>`)}
    </ul>
  </section>`;
}

function JobTypeCard({ type, isAdmin, onChanged }) {
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const headingId = `type-${type.name}`;
  // Shown at once on click (optimistic); put back if the server refuses.
  const [enabled, setEnabled] = useState(type.enabled);
  useEffect(() => setEnabled(type.enabled), [type.enabled]);

  const save = async (changes, what) => {
    setBusy(true);
    setError(null);
    try {
      const info = await api.updateJobType(type.name, changes);
      setEditing(false);
      onChanged(info, what);
    } catch (err) {
      setError(err);
      setEnabled(type.enabled);
    } finally {
      setBusy(false);
    }
  };

  return html`<article class="card" aria-labelledby=${headingId}>
    <h3 id=${headingId}>${type.displayName}${type.displayName !== type.name && html` <span class="muted mono">${type.name}</span>`}</h3>
    ${isAdmin
      ? html`<label class="toggle">
          <input type="checkbox" checked=${enabled} disabled=${busy}
            onChange=${(e) => {
              const on = e.currentTarget.checked;
              setEnabled(on);
              save({ enabled: on }, on ? 'enabled' : 'disabled');
            }} />
          Enabled
        </label>`
      : html`<p>${type.enabled ? 'Enabled' : 'Disabled'}</p>`}
    <dl class="facts">
      ${[...KNOWN.filter((k) => k !== 'enabled' && k !== 'displayName'), ...extraKeys(type)].map(
        (k) => html`<dt>${LABELS[k] ?? k}</dt><dd>${show(k, type[k])}</dd>`,
      )}
    </dl>
    <${ErrorMessage} error=${error} />
    ${isAdmin && !editing && html`<button type="button" onClick=${() => setEditing(true)} aria-label=${'Edit settings of ' + type.name}>Edit settings</button>`}
    ${isAdmin && editing && html`<${SettingsForm} type=${type} busy=${busy} onSave=${(c) => save(c, 'settings')} onCancel=${() => setEditing(false)} onError=${setError} />`}
  </article>`;
}

function SettingsForm({ type, busy, onSave, onCancel, onError }) {
  const keys = [...KNOWN.filter((k) => k !== 'enabled'), ...extraKeys(type)];
  const id = (k) => `set-${type.name}-${k}`;
  const submit = (e) => {
    e.preventDefault();
    const form = e.currentTarget.elements;
    const changes = {};
    try {
      for (const k of keys) {
        const el = form[k];
        const old = type[k];
        let value;
        if (el.type === 'checkbox') value = el.checked;
        else if (el.dataset.kind === 'json') value = el.value.trim() === '' ? null : JSON.parse(el.value);
        else if (el.type === 'number') value = el.value === '' ? null : Number(el.value);
        else if (k === 'requiresPermission') value = el.value.trim() === '' ? null : el.value.trim();
        else value = el.value;
        if (JSON.stringify(value) !== JSON.stringify(old ?? null)) changes[k] = value;
      }
    } catch (err) {
      onError(new Error(`Rate limit must be JSON such as {"max":10,"perMs":1000}: ${errorText(err)}`));
      return;
    }
    if (Object.keys(changes).length === 0) onCancel(); // nothing to write, nothing to audit
    else onSave(changes);
  };
  const field = (k) => {
    const v = type[k];
    const label = html`<label for=${id(k)}>${LABELS[k] ?? k}</label>`;
    if (k === 'priority') {
      return html`<div class="field">${label}<select id=${id(k)} name=${k} value=${v}>${PRIORITIES.map((p) => html`<option value=${p}>${p}</option>`)}</select></div>`;
    }
    if (typeof v === 'boolean') return html`<div class="field field-check"><input id=${id(k)} name=${k} type="checkbox" checked=${v} />${label}</div>`;
    if (typeof v === 'number' || (v === null && k !== 'requiresPermission' && k !== 'rateLimit')) {
      return html`<div class="field">${label}<input id=${id(k)} name=${k} type="number" min="0" step="1" value=${v ?? ''} placeholder="none" /></div>`;
    }
    if (typeof v === 'object' && v !== null || k === 'rateLimit') {
      return html`<div class="field">${label}<input id=${id(k)} name=${k} data-kind="json" type="text" value=${v ? JSON.stringify(v) : ''} placeholder="none" /></div>`;
    }
    return html`<div class="field">${label}<input id=${id(k)} name=${k} type="text" value=${v ?? ''} placeholder="none" /></div>`;
  };
  return html`<form class="settings" onSubmit=${submit} aria-label=${'Settings of ' + type.name}>
    ${keys.map(field)}
    <div class="dialog-actions">
      <button type="button" onClick=${onCancel}>Discard</button>
      <button type="submit" disabled=${busy}>Save</button>
    </div>
  </form>`;
}
