// The job list: server-side filtered and paginated, live over SSE.
import { html } from './html.js';
import { Announcer, Failure, ErrorMessage, useNow } from './components.js';
import { apiQuery, Filters, filtersFromQuery } from './filters.js';
import { JobTable } from './job-table.js';
import { navigate } from './router.js';
import { useJobPage } from './use-job-page.js';
import { useJobActions } from './use-job-actions.js';

export function JobsView({ query, jobTypes, isAdmin }) {
  const filters = filtersFromQuery(query);
  const page = useJobPage(apiQuery(filters));
  const actions = useJobActions((job) => page.patch(job));
  const now = useNow();
  return html`<section aria-labelledby="view-title">
    <h2 id="view-title" tabindex="-1">Jobs</h2>
    <${Filters} values=${filters} jobTypes=${jobTypes} isAdmin=${isAdmin} onChange=${(f) => navigate(['jobs'], f)} />
    <${ErrorMessage} error=${page.error} />
    <${Announcer} message=${actions.message} />
    <${Failure} text=${actions.failure} />
    <div aria-busy=${page.loading ? 'true' : 'false'}>
      <${JobTable} items=${page.items} isAdmin=${isAdmin} busyIds=${actions.busyIds} onAction=${actions.run} now=${now}
        caption=${`Jobs, page ${page.page}${filters.status ? ', status ' + filters.status : ''}`} />
    </div>
    <${Pager} page=${page} />
  </section>`;
}

export function Pager({ page }) {
  return html`<nav class="pager" aria-label="Pages">
    <button type="button" onClick=${page.previous} disabled=${!page.hasPrevious}>Previous page</button>
    <span>Page ${page.page}</span>
    <button type="button" onClick=${page.next} disabled=${!page.nextCursor}>Next page</button>
  </nav>`;
}
