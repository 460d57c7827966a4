// One job: its fields, input, output, error, checkpoint and history timeline, live.
import { html } from './html.js';
import { useEffect } from './hooks.js';
import { api, ApiError } from './api.js';
import { Announcer, Failure, ErrorMessage, JsonBlock, ProgressBar, StatusBadge, useAsync } from './components.js';
import { formatDate, formatMs } from './format.js';
import { applyLive, onLive } from './live.js';
import { href } from './router.js';
import { JobActions, showsProgress } from './job-table.js';
import { useJobActions } from './use-job-actions.js';

export function JobDetailView({ id, isAdmin }) {
  const job = useAsync((signal) => api.getJob(id, signal), [id]);
  const history = useAsync((signal) => api.history(id, signal), [id]);
  // explain lands with flow control; a handler without the route answers 404 and we hide it.
  const explain = useAsync((signal) => api.explain(id, signal).catch((err) => (err instanceof ApiError && err.status === 404 ? null : Promise.reject(err))), [id, job.data?.status]);
  const actions = useJobActions((updated) => {
    job.setData(() => updated);
    history.reload();
  });

  useEffect(
    () =>
      onLive((batch) => {
        const mine = batch.filter((e) => e.jobId === id);
        if (mine.length === 0) return;
        job.setData((j) => (j ? applyLive(j, mine) : j));
        // A transition changes output, error, checkpoint and the timeline: read them again.
        if (mine.some((e) => e.kind === 'status')) {
          job.reload();
          history.reload();
        }
      }),
    [id],
  );

  const j = job.data;
  return html`<section aria-labelledby="view-title">
    <p><a href=${href(['jobs'])}>← All jobs</a></p>
    <h2 id="view-title" tabindex="-1">Job <span class="mono">${id}</span></h2>
    <${ErrorMessage} error=${job.error} />
    <${Announcer} message=${actions.message} />
    <${Failure} text=${actions.failure} />
    ${j &&
    html`<div class="detail">
      <div class="detail-head">
        <${StatusBadge} status=${j.status} />
        ${showsProgress(j) && html`<${ProgressBar} value=${j.progress} message=${j.progressMessage} label=${'Progress of job ' + j.id} />`}
        <${JobActions} job=${j} isAdmin=${isAdmin} busy=${actions.busyIds.has(j.id)} onAction=${actions.run} />
      </div>
      <dl class="facts">
        <dt>Type</dt><dd>${j.type}</dd>
        <dt>Organization</dt><dd>${j.orgId}</dd>
        <dt>Owner</dt><dd>${j.ownerId}</dd>
        <dt>Priority</dt><dd>${j.priority}</dd>
        <dt>Retries</dt><dd>${j.retryCount} of ${j.maxRetries}</dd>
        <dt>Timeout</dt><dd>${formatMs(j.timeoutMs)}</dd>
        <dt>Created</dt><dd>${formatDate(j.createdAt)}</dd>
        <dt>Run at</dt><dd>${formatDate(j.runAt)}</dd>
        <dt>Started</dt><dd>${formatDate(j.startedAt)}</dd>
        <dt>Completed</dt><dd>${formatDate(j.completedAt)}</dd>
        ${j.nextRetryAt && html`<dt>Next retry</dt><dd>${formatDate(j.nextRetryAt)}</dd>`}
        ${j.canceledAt && html`<dt>Canceled</dt><dd>${formatDate(j.canceledAt)} by ${j.canceledBy}</dd>`}
        ${j.dependsOn?.length > 0 &&
        html`<dt>Depends on</dt><dd>${j.dependsOn.map((p) => html`<a class="mono" href=${href(['jobs', p])}>${p}</a> `)}</dd>`}
      </dl>
      ${explain.data &&
      html`<p class="explain"><strong>Why: </strong>${explain.data.reason.replace(/_/g, ' ')}: ${explain.data.detail}</p>`}
      ${j.error &&
      html`<div class="error-box" role="group" aria-labelledby="err-title">
        <h3 id="err-title">Error</h3>
        <p><strong>${j.error.type}</strong>${j.error.name ? ` (${j.error.name})` : ''}: ${j.error.message}</p>
      </div>`}
      <div class="panels">
        <div><h3>Input</h3><${JsonBlock} value=${j.input} label="Input" /></div>
        <div><h3>Output</h3><${JsonBlock} value=${j.output} label="Output" /></div>
        <div><h3>Checkpoint</h3><${JsonBlock} value=${j.checkpoint} label="Checkpoint" /></div>
      </div>
    </div>`}
    <h3>History</h3>
    <${ErrorMessage} error=${history.error} />
    ${history.data && html`<${Timeline} items=${history.data.items} />`}
  </section>`;
}

function Timeline({ items }) {
  if (items.length === 0) return html`<p class="muted">No transitions yet.</p>`;
  return html`<ol class="timeline" aria-label="History, oldest first">
    ${items.map(
      (e) => html`<li>
        <time datetime=${e.at}>${formatDate(e.at)}</time>
        <span>${e.from ?? 'new'} → <${StatusBadge} status=${e.to} /></span>
        <span class="muted">attempt ${e.attempt}, by ${e.actorId}</span>
        ${e.message && html`<span>${e.message}</span>`}
        ${e.error && html`<span class="error-text">${e.error.type}: ${e.error.message}</span>`}
      </li>`,
    )}
  </ol>`;
}
