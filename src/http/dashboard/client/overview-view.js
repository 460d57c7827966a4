// Overview: counts by status, queue depth by priority, per-type processing time and failure
// rate, and small charts across time windows. Every figure comes from GET /metrics (SQL in
// the store), so it costs the same with 100 jobs or 100,000.
import { html } from './html.js';
import { useEffect, useRef, useState } from './hooks.js';
import { api } from './api.js';
import { ErrorMessage, StatusBadge } from './components.js';
import { BarList, Columns, Sparkline } from './charts.js';
import { formatCount, formatMs, formatPercent, PRIORITIES, STATUSES } from './format.js';
import { href } from './router.js';

export const WINDOWS = [
  { id: '15m', label: '15 min', ms: 15 * 60_000 },
  { id: '1h', label: '1 h', ms: 3_600_000 },
  { id: '24h', label: '24 h', ms: 86_400_000 },
  { id: '7d', label: '7 days', ms: 7 * 86_400_000 },
];
const REFRESH_MS = 5000;
const SAMPLES = 60;

function totals(m) {
  let completed = 0;
  let failed = 0;
  for (const r of Object.values(m.failureRateByType)) {
    completed += r.completed;
    failed += r.failed;
  }
  return { completed, failed, rate: completed + failed === 0 ? 0 : failed / (completed + failed) };
}

export function OverviewView({ isAdmin }) {
  const [windowId, setWindowId] = useState('24h');
  const [orgId, setOrgId] = useState('');
  const [orgDraft, setOrgDraft] = useState('');
  const [byWindow, setByWindow] = useState(null);
  const [error, setError] = useState(null);
  const [samples, setSamples] = useState([]);
  const orgRef = useRef(orgId);
  orgRef.current = orgId;

  // Every tick reads all four windows together, so the comparison never mixes old and new
  // figures (four SQL aggregates: about 40 ms each with 100,000 jobs). Hidden tabs skip.
  useEffect(() => {
    setSamples([]);
    let stopped = false;
    let first = true;
    let busy = false; // a slow store never piles up requests
    const ctl = new AbortController();
    const load = async () => {
      if (busy || (document.hidden && !first)) return;
      first = false;
      busy = true;
      const wanted = WINDOWS;
      try {
        const now = Date.now();
        const results = await Promise.all(
          wanted.map((w) => api.metrics({ since: new Date(now - w.ms).toISOString(), orgId: orgRef.current || undefined }, ctl.signal)),
        );
        if (stopped) return;
        const fresh = Object.fromEntries(wanted.map((w, i) => [w.id, results[i]]));
        setByWindow((old) => ({ ...old, ...fresh }));
        setError(null);
        const c = results[0].countsByStatus;
        setSamples((s) => [...s, { queued: c.queued, running: c.running }].slice(-SAMPLES));
      } catch (err) {
        if (!stopped) setError(err);
      } finally {
        busy = false;
      }
    };
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      stopped = true;
      ctl.abort();
      clearInterval(timer);
    };
  }, [orgId]);

  const m = byWindow?.[windowId];
  const types = m ? [...new Set([...Object.keys(m.processingTimeByType), ...Object.keys(m.failureRateByType)])].sort() : [];

  return html`<section aria-labelledby="view-title">
    <h2 id="view-title" tabindex="-1">Overview</h2>
    <form class="filters" onSubmit=${(e) => (e.preventDefault(), setOrgId(orgDraft.trim()))}>
      <div class="field">
        <label for="ov-window">Time window</label>
        <select id="ov-window" value=${windowId} onChange=${(e) => setWindowId(e.currentTarget.value)}>
          ${WINDOWS.map((w) => html`<option value=${w.id}>last ${w.label}</option>`)}
        </select>
      </div>
      ${isAdmin &&
      html`<div class="field">
          <label for="ov-org">Organization</label>
          <input id="ov-org" type="text" placeholder="all" value=${orgDraft} onInput=${(e) => setOrgDraft(e.currentTarget.value)} />
        </div>
        <div class="field field-submit"><button type="submit">Apply</button></div>`}
    </form>
    <${ErrorMessage} error=${error} />
    ${!m && !error && html`<p>Loading…</p>`}
    ${m &&
    html`<div class="grid">
      <article class="card" aria-labelledby="ov-status">
        <h3 id="ov-status">Jobs by status</h3>
        <${BarList} label="Jobs by status" format=${formatCount}
          rows=${STATUSES.map((s) => ({ label: html`<a href=${href(['jobs'], { status: s })}><${StatusBadge} status=${s} /></a>`, value: m.countsByStatus[s] ?? 0, className: 'bar-' + s }))} />
      </article>
      <article class="card" aria-labelledby="ov-depth">
        <h3 id="ov-depth">Queue depth by priority</h3>
        <${BarList} label="Queued jobs by priority" format=${formatCount}
          rows=${PRIORITIES.map((p) => ({ label: p, value: m.queueDepthByPriority[p] ?? 0 }))} />
        <p class="muted">Oldest queued job waits ${m.oldestQueuedAgeMs === null ? '–' : formatMs(m.oldestQueuedAgeMs)}.</p>
      </article>
      <article class="card" aria-labelledby="ov-live">
        <h3 id="ov-live">Backlog, sampled every ${REFRESH_MS / 1000} s</h3>
        <${Sparkline} label="Queued" points=${samples.map((s) => s.queued)} />
        <${Sparkline} label="Running" points=${samples.map((s) => s.running)} />
      </article>
      <article class="card" aria-labelledby="ov-windows">
        <h3 id="ov-windows">Across time windows</h3>
        <div class="columns-row">
          <${Columns} label="Average processing time" format=${formatMs}
            rows=${WINDOWS.map((w) => ({ label: w.label, value: byWindow[w.id].processingTime.avgMs }))} />
          <${Columns} label="Failure rate" format=${formatPercent}
            rows=${WINDOWS.map((w) => ({ label: w.label, value: totals(byWindow[w.id]).rate }))} />
          <${Columns} label="Jobs completed" format=${formatCount}
            rows=${WINDOWS.map((w) => ({ label: w.label, value: byWindow[w.id].processingTime.count }))} />
        </div>
      </article>
    </div>
    <div class="table-scroll">
      <table>
        <caption>Processing time and failure rate by type, last ${WINDOWS.find((w) => w.id === windowId).label}</caption>
        <thead>
          <tr>
            <th scope="col">Type</th><th scope="col" class="num">Completed</th><th scope="col" class="num">Average</th>
            <th scope="col" class="num">p95</th><th scope="col" class="num">Failed</th><th scope="col" class="num">Failure rate</th>
          </tr>
        </thead>
        <tbody>
          ${types.length === 0 && html`<tr><td colspan="6" class="muted">No finished jobs in this window.</td></tr>`}
          ${types.map((t) => {
            const p = m.processingTimeByType[t];
            const f = m.failureRateByType[t];
            return html`<tr key=${t}>
              <th scope="row"><a href=${href(['jobs'], { type: t })}>${t}</a></th>
              <td class="num">${formatCount(p?.count ?? 0)}</td>
              <td class="num">${formatMs(p?.avgMs)}</td>
              <td class="num">${formatMs(p?.p95Ms)}</td>
              <td class="num">${formatCount(f?.failed ?? 0)}</td>
              <td class="num">${formatPercent(f?.rate ?? 0)}</td>
            </tr>`;
          })}
        </tbody>
      </table>
    </div>
    <p class="muted">Overall: ${formatCount(m.processingTime.count)} completed, average ${formatMs(m.processingTime.avgMs)}, p95 ${formatMs(m.processingTime.p95Ms)}.</p>`}
  </section>`;
}
