// The dead-letter queue, and retry of every job matching the filter (admin, after a confirmation).
import { html } from './html.js';
import { useRef, useState } from './hooks.js';
import { api } from './api.js';
import { Announcer, Failure, ConfirmDialog, ErrorMessage, errorText, useAsync, useNow } from './components.js';
import { apiQuery, Filters, filtersFromQuery } from './filters.js';
import { JobTable } from './job-table.js';
import { navigate } from './router.js';
import { useJobPage } from './use-job-page.js';
import { useJobActions } from './use-job-actions.js';
import { Pager } from './jobs-view.js';
import { formatCount } from './format.js';

const BULK_PAGE = 500; // the list route's maximum page size
const BULK_PARALLEL = 4;

/** Walks every page of dead-letter jobs matching `query` (cursor order, so none twice) and retries each. */
async function retryAllMatching(query, signal, onProgress) {
  let cursor = null;
  let done = 0;
  let failed = 0;
  do {
    const page = await api.listJobs({ ...query, status: 'dead_letter', limit: BULK_PAGE, cursor }, signal);
    const queue = [...page.items];
    await Promise.all(
      Array.from({ length: BULK_PARALLEL }, async () => {
        while (queue.length > 0 && !signal.aborted) {
          const job = queue.shift();
          try {
            await api.retry(job.id);
            done++;
          } catch {
            failed++; // e.g. retried by someone else meanwhile
          }
          onProgress(done, failed);
        }
      }),
    );
    cursor = page.nextCursor;
  } while (cursor && !signal.aborted);
  return { done, failed };
}

export function DeadLetterView({ query, jobTypes, isAdmin }) {
  const filters = filtersFromQuery(query);
  const listQuery = { ...apiQuery({ ...filters, status: '' }), status: 'dead_letter' };
  const page = useJobPage(listQuery);
  const actions = useJobActions((job) => page.patch(job));
  const [confirming, setConfirming] = useState(false);
  const [bulk, setBulk] = useState(null); // { done, failed, running }
  const [bulkError, setBulkError] = useState(null);
  const ctl = useRef(null);
  const now = useNow();

  const describe = [filters.type && `type ${filters.type}`, filters.orgId && `organization ${filters.orgId}`, filters.ownerId && `owner ${filters.ownerId}`, filters.createdAfter && `created after ${new Date(filters.createdAfter).toLocaleString()}`, filters.createdBefore && `created before ${new Date(filters.createdBefore).toLocaleString()}`].filter(Boolean);
  // The total comes from metrics (a COUNT in the store); the filtered count is never loaded.
  const metrics = useAsync((signal) => api.metrics({ orgId: filters.orgId || undefined }, signal), [filters.orgId, bulk?.running]);
  const total = metrics.data?.countsByStatus?.dead_letter;

  const start = async () => {
    setConfirming(false);
    setBulkError(null);
    ctl.current = new AbortController();
    setBulk({ done: 0, failed: 0, running: true });
    try {
      const { done, failed } = await retryAllMatching(apiQuery({ ...filters, status: '', limit: '' }), ctl.current.signal, (done, failed) =>
        setBulk({ done, failed, running: true }),
      );
      setBulk({ done, failed, running: false });
    } catch (err) {
      setBulkError(err);
      setBulk((b) => ({ ...b, running: false }));
    }
    page.reload();
  };

  return html`<section aria-labelledby="view-title">
    <h2 id="view-title" tabindex="-1">Dead letter</h2>
    <p class="muted">Jobs that failed permanently or ran out of retries${total !== undefined ? html` (${formatCount(total)} in total)` : ''}.</p>
    <${Filters} values=${filters} jobTypes=${jobTypes} isAdmin=${isAdmin} showStatus=${false} idPrefix="dl"
      onChange=${(f) => navigate(['dead-letter'], { ...f, status: '' })} />
    ${isAdmin &&
    html`<div class="bulk">
      <button type="button" class="danger" disabled=${bulk?.running || page.items.length === 0} onClick=${() => setConfirming(true)}>
        Retry all matching…
      </button>
      ${bulk?.running && html`<button type="button" onClick=${() => ctl.current?.abort()}>Stop</button>`}
      ${bulk &&
      html`<span role="status" aria-live="polite">
        ${bulk.running ? 'Retrying: ' : 'Done: '}${formatCount(bulk.done)} retried${bulk.failed ? `, ${formatCount(bulk.failed)} failed` : ''}.
      </span>`}
      ${bulkError && html`<p class="error" role="alert">${errorText(bulkError)}</p>`}
    </div>`}
    <${ConfirmDialog} open=${confirming} title="Retry all matching jobs?" confirmLabel="Retry all"
      onConfirm=${start} onCancel=${() => setConfirming(false)}>
      <p>
        Every dead-letter job ${describe.length ? 'with ' + describe.join(', ') : 'in every organization you can see'}
        will be queued again with its retry count reset${!describe.length && total !== undefined ? ` (${formatCount(total)} jobs)` : ''}.
      </p>
    </${ConfirmDialog}>
    <${ErrorMessage} error=${page.error} />
    <${Announcer} message=${actions.message} />
    <${Failure} text=${actions.failure} />
    <${JobTable} items=${page.items} isAdmin=${isAdmin} busyIds=${actions.busyIds} onAction=${actions.run} now=${now}
      caption=${`Dead-letter jobs, page ${page.page}`} />
    <${Pager} page=${page} />
  </section>`;
}
