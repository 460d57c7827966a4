// The dashboard's root: navigation, who is signed in (admin or not), the live connection,
// and one view per route.
import { render } from './preact.js';
import { useEffect, useState } from './hooks.js';
import { html } from './html.js';
import { api, probeAdmin } from './api.js';
import { ErrorMessage } from './components.js';
import { connectLive, onConnection } from './live.js';
import { href, useRoute } from './router.js';
import { OverviewView } from './overview-view.js';
import { JobsView } from './jobs-view.js';
import { JobDetailView } from './job-detail-view.js';
import { DeadLetterView } from './dead-letter-view.js';
import { JobTypesView } from './job-types-view.js';

const NAV = [
  { path: '', label: 'Overview' },
  { path: 'jobs', label: 'Jobs' },
  { path: 'dead-letter', label: 'Dead letter' },
  { path: 'types', label: 'Job types' },
];

function ConnectionState() {
  const [state, setState] = useState('connecting');
  useEffect(() => onConnection(setState), []);
  const text = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', closed: 'Offline' }[state];
  return html`<span class=${'conn conn-' + state} role="status" aria-label=${'Live updates: ' + text}>${text}</span>`;
}

function App() {
  const route = useRoute();
  const [isAdmin, setAdmin] = useState(false);
  const [jobTypes, setJobTypes] = useState(null);
  const [fatal, setFatal] = useState(null);
  const loadTypes = () => api.jobTypes().then((r) => setJobTypes(r.items), setFatal);

  useEffect(() => {
    probeAdmin().then(setAdmin, setFatal);
    loadTypes();
    connectLive();
  }, []);

  const section = route.path[0] ?? '';
  // Move focus to the new view's heading, as a page load would.
  useEffect(() => {
    const title = document.getElementById('view-title');
    if (title && document.activeElement === document.body) title.focus({ preventScroll: true });
  }, [section, route.path[1]]);

  let view;
  if (section === 'jobs' && route.path[1]) view = html`<${JobDetailView} id=${route.path[1]} isAdmin=${isAdmin} />`;
  else if (section === 'jobs') view = html`<${JobsView} query=${route.query} jobTypes=${jobTypes} isAdmin=${isAdmin} />`;
  else if (section === 'dead-letter') view = html`<${DeadLetterView} query=${route.query} jobTypes=${jobTypes} isAdmin=${isAdmin} />`;
  else if (section === 'types') view = html`<${JobTypesView} jobTypes=${jobTypes} isAdmin=${isAdmin} onChanged=${loadTypes} />`;
  else view = html`<${OverviewView} isAdmin=${isAdmin} />`;

  return html`
    <a class="skip" href="#main" onClick=${(e) => (e.preventDefault(), document.getElementById('main').focus())}>Skip to content</a>
    <header class="top">
      <h1>jobwing</h1>
      <nav aria-label="Sections">
        <ul>
          ${NAV.map(
            (n) => html`<li><a href=${href(n.path ? [n.path] : [])} aria-current=${section === n.path ? 'page' : undefined}>${n.label}</a></li>`,
          )}
        </ul>
      </nav>
      <div class="who">${isAdmin && html`<span class="admin-badge">admin</span>`}<${ConnectionState} /></div>
    </header>
    <main id="main" tabindex="-1">
      <${ErrorMessage} error=${fatal} />
      ${view}
    </main>`;
}

const root = document.getElementById('app');
root.textContent = ''; // drop the "Loading…" placeholder: render() appends to what is there
render(html`<${App} />`, root);
