// Hash routing: the document URL never changes, so every API path stays relative to it.
import { useEffect, useState } from './hooks.js';

/** Parses `#/jobs/abc?status=queued` into `{ path: ['jobs', 'abc'], query: URLSearchParams }`. */
export function parseHash(hash = location.hash) {
  const raw = hash.replace(/^#\/?/, '');
  const [pathPart, queryPart = ''] = raw.split('?');
  const path = pathPart.split('/').filter(Boolean).map(decodeURIComponent);
  return { path, query: new URLSearchParams(queryPart) };
}

/** Builds a hash link; empty query values are dropped. */
export function href(path, query = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v !== undefined && v !== null && v !== '') params.append(key, String(v));
    }
  }
  const q = params.toString();
  return '#/' + path.map(encodeURIComponent).join('/') + (q ? '?' + q : '');
}

export function navigate(path, query) {
  location.hash = href(path, query);
}

/** The current route; re-renders on hash changes. */
export function useRoute() {
  const [route, setRoute] = useState(() => parseHash());
  useEffect(() => {
    const update = () => setRoute(parseHash());
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}
