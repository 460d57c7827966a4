// The job table: one row per job, the first cell a link whose text is the job's full id.
import { html } from './html.js';
import { ProgressBar, StatusBadge } from './components.js';
import { href } from './router.js';
import { formatAgo, formatDate, LIVE_STATUSES, RETRYABLE_STATUSES } from './format.js';

/** Shows the bar while a job runs and keeps it once it has progress, so 100% stays visible. */
export function showsProgress(job) {
  return job.status === 'running' || job.progress > 0;
}

export function JobActions({ job, isAdmin, busy, onAction }) {
  return html`<div class="actions">
    ${LIVE_STATUSES.includes(job.status) &&
    html`<button type="button" disabled=${busy} onClick=${() => onAction(job, 'cancel')}
      aria-describedby=${'job-' + job.id}>Cancel</button>`}
    ${isAdmin && RETRYABLE_STATUSES.includes(job.status) &&
    html`<button type="button" disabled=${busy} onClick=${() => onAction(job, 'retry')}
      aria-describedby=${'job-' + job.id}>Retry</button>`}
  </div>`;
}

export function JobTable({ items, caption, isAdmin, busyIds, onAction, now }) {
  if (items.length === 0) return html`<p class="empty">No jobs match.</p>`;
  return html`<div class="table-scroll">
    <table class="jobs">
      <caption>${caption}</caption>
      <thead>
        <tr>
          <th scope="col">Job</th>
          <th scope="col">Type</th>
          <th scope="col">Status</th>
          <th scope="col">Progress</th>
          <th scope="col" class="wide col-priority">Priority</th>
          <th scope="col" class="wide">Owner</th>
          ${isAdmin && html`<th scope="col" class="wide">Organization</th>`}
          <th scope="col" class="wide">Created</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>
        ${items.map(
          (job) => html`<tr key=${job.id} data-job-id=${job.id}>
            <td class="id-cell"><a id=${'job-' + job.id} href=${href(['jobs', job.id])}>${job.id}</a></td>
            <td>${job.type}</td>
            <td>
              <${StatusBadge} status=${job.status} />
              ${job.error && html`<span class="error-type" title=${job.error.message}> (${job.error.type})</span>`}
            </td>
            <td class="progress-cell">
              ${showsProgress(job) &&
              html`<${ProgressBar} value=${job.progress} message=${job.progressMessage} label=${'Progress of job ' + job.id} />`}
            </td>
            <td class="wide col-priority">${job.priority}</td>
            <td class="wide">${job.ownerId}</td>
            ${isAdmin && html`<td class="wide">${job.orgId}</td>`}
            <td class="wide"><time datetime=${job.createdAt} title=${formatDate(job.createdAt)}>${formatAgo(job.createdAt, now)}</time></td>
            <td><${JobActions} job=${job} isAdmin=${isAdmin} busy=${busyIds.has(job.id)} onAction=${onAction} /></td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}
