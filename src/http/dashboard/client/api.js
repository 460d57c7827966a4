// The dashboard's only door to the server: the handler's own JSON routes, resolved against
// the page's URL so the page works under any basePath (and behind a path-rewriting proxy).
const base = new URL('./', document.baseURI);

/** An API error carrying the contract's `{ error: { code, message } }`. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `Request failed with status ${status}`);
    this.status = status;
    this.code = body?.error?.code ?? 'HTTP_' + status;
  }
}

/** Builds a URL of a route, e.g. `url('jobs', { status: ['queued'] })`; empty values are left out. */
export function url(path, query = {}) {
  const u = new URL(path, base);
  for (const [key, value] of Object.entries(query)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v !== undefined && v !== null && v !== '') u.searchParams.append(key, String(v));
    }
  }
  return u;
}

async function request(method, path, { query, body, signal } = {}) {
  const init = { method, credentials: 'same-origin', signal, headers: { accept: 'application/json' } };
  // Every state-changing call is JSON: the handler refuses anything else (no cross-site forms).
  if (method !== 'GET') {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
  }
  const res = await fetch(url(path, query), init);
  const text = await res.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!res.ok) throw new ApiError(res.status, parsed);
  return parsed;
}

export const api = {
  listJobs: (query, signal) => request('GET', 'jobs', { query, signal }),
  getJob: (id, signal) => request('GET', `jobs/${encodeURIComponent(id)}`, { signal }),
  history: (id, signal) => request('GET', `jobs/${encodeURIComponent(id)}/history`, { signal }),
  explain: (id, signal) => request('GET', `jobs/${encodeURIComponent(id)}/explain`, { signal }),
  cancel: (id) => request('POST', `jobs/${encodeURIComponent(id)}/cancel`),
  retry: (id) => request('POST', `jobs/${encodeURIComponent(id)}/retry`),
  metrics: (query, signal) => request('GET', 'metrics', { query, signal }),
  jobTypes: (signal) => request('GET', 'job-types', { signal }),
  updateJobType: (name, changes) => request('PATCH', `job-types/${encodeURIComponent(name)}`, { body: changes }),
};

/**
 * Whether the signed-in actor is an admin. No route says so directly; listing with an
 * `orgId` filter is the cheapest admin-only read (an empty, indexed page for admins,
 * 403 for everyone else).
 */
export async function probeAdmin() {
  try {
    await api.listJobs({ orgId: '__jobwing_admin_probe__', limit: 1 });
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) throw err;
    return false;
  }
}
