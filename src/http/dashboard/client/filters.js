// Labelled filter controls. Selects apply at once; text and date fields on Enter or "Apply".
import { html } from './html.js';
import { useEffect, useState } from './hooks.js';
import { STATUSES } from './format.js';

function toLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function fromLocalInput(value) {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

/** `values`: { status, type, orgId, ownerId, createdAfter, createdBefore, limit }. */
export function Filters({ values, onChange, jobTypes, isAdmin, showStatus = true, idPrefix = 'f' }) {
  // Text and date fields are drafts until submitted, so live re-renders never eat typing.
  const fromValues = () => ({
    orgId: values.orgId ?? '',
    ownerId: values.ownerId ?? '',
    createdAfter: toLocalInput(values.createdAfter),
    createdBefore: toLocalInput(values.createdBefore),
  });
  const [draft, setDraft] = useState(fromValues);
  useEffect(() => setDraft(fromValues()), [values.orgId, values.ownerId, values.createdAfter, values.createdBefore]);
  const edit = (key) => (e) => setDraft({ ...draft, [key]: e.currentTarget.value });
  const withDraft = () => ({
    ...values,
    ownerId: draft.ownerId.trim(),
    orgId: isAdmin ? draft.orgId.trim() : '',
    createdAfter: fromLocalInput(draft.createdAfter),
    createdBefore: fromLocalInput(draft.createdBefore),
  });
  const set = (key) => (e) => onChange({ ...withDraft(), [key]: e.currentTarget.value });
  const submit = (e) => {
    e.preventDefault();
    onChange(withDraft());
  };
  const id = (name) => `${idPrefix}-${name}`;
  // On phones the secondary fields fold away behind "More filters" (open while any is set).
  const [more, setMore] = useState(Boolean(values.ownerId || values.createdAfter || values.createdBefore));
  return html`<form class="filters" role="search" aria-label="Filter jobs" onSubmit=${submit}>
    ${showStatus &&
    html`<div class="field">
      <label for=${id('status')}>Status</label>
      <select id=${id('status')} name="status" value=${values.status ?? ''} onChange=${set('status')}>
        <option value="">any</option>
        ${STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}
      </select>
    </div>`}
    <div class="field">
      <label for=${id('type')}>Type</label>
      <select id=${id('type')} name="type" value=${values.type ?? ''} onChange=${set('type')}>
        <option value="">any</option>
        ${(jobTypes ?? []).map((t) => html`<option value=${t.name}>${t.displayName === t.name ? t.name : `${t.displayName} (${t.name})`}</option>`)}
      </select>
    </div>
    ${isAdmin &&
    html`<div class="field">
      <label for=${id('org')}>Organization</label>
      <input id=${id('org')} name="orgId" type="text" placeholder="all" value=${draft.orgId} onInput=${edit('orgId')} autocomplete="off" />
    </div>`}
    <button type="button" class="more-toggle" aria-expanded=${more ? 'true' : 'false'} aria-controls=${id('more')}
      onClick=${() => setMore(!more)}>More filters</button>
    <div class=${more ? 'more open' : 'more'} id=${id('more')}>
    <div class="field">
      <label for=${id('owner')}>Owner</label>
      <input id=${id('owner')} name="ownerId" type="text" placeholder="anyone" value=${draft.ownerId} onInput=${edit('ownerId')} autocomplete="off" />
    </div>
    <div class="field">
      <label for=${id('after')}>Created after</label>
      <input id=${id('after')} name="createdAfter" type="datetime-local" value=${draft.createdAfter} onInput=${edit('createdAfter')} />
    </div>
    <div class="field">
      <label for=${id('before')}>Created before</label>
      <input id=${id('before')} name="createdBefore" type="datetime-local" value=${draft.createdBefore} onInput=${edit('createdBefore')} />
    </div>
    <div class="field">
      <label for=${id('limit')}>Per page</label>
      <select id=${id('limit')} name="limit" value=${String(values.limit ?? 50)} onChange=${set('limit')}>
        ${[25, 50, 100, 250, 500].map((n) => html`<option value=${String(n)}>${n}</option>`)}
      </select>
    </div>
    </div>
    <div class="field field-submit"><button type="submit">Apply</button></div>
  </form>`;
}

/** Filters from the hash query (the view's URL is shareable and survives a reload). */
export function filtersFromQuery(query) {
  const get = (k) => query.get(k) ?? '';
  return {
    status: get('status'),
    type: get('type'),
    orgId: get('orgId'),
    ownerId: get('ownerId'),
    createdAfter: get('createdAfter'),
    createdBefore: get('createdBefore'),
    limit: get('limit') || '50',
  };
}

/** Only the filters that are set, as API query parameters. */
export function apiQuery(filters) {
  const out = {};
  for (const [k, v] of Object.entries(filters)) if (v) out[k] = v;
  return out;
}
