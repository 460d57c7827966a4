/**
 * The dashboard: one HTML page and its assets (Preact + htm, vendored), all served from
 * memory by the jobs handler, so it needs no build step, no CDN and no internet access.
 *
 * The page talks only to the handler's own JSON routes and `GET /events`, with URLs
 * relative to the page, so it works under any `basePath` and behind a proxy that mounts
 * it under a prefix.
 */
import { DASHBOARD_ASSETS, DASHBOARD_PAGE, type DashboardAsset } from './assets.generated.js';

/**
 * Locks the page to its own origin: scripts, styles and connections only from the handler,
 * no framing (clickjacking), no form posts anywhere.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const ASSET_PREFIX = '/assets/';

function respond(asset: DashboardAsset, request: Request, extra: Record<string, string>): Response {
  const headers = new Headers({
    'content-type': asset.contentType,
    etag: asset.etag,
    // Revalidate every time: a new jobwing version must never meet a stale cached module.
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    ...extra,
  });
  const match = request.headers.get('if-none-match');
  if (match !== null && match.split(',').some((t) => t.trim() === asset.etag || t.trim() === '*')) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(request.method === 'HEAD' ? null : asset.body, { status: 200, headers });
}

/**
 * Serves the dashboard for `subpath` (the path after `basePath`): `/` is the page,
 * `/assets/<file>` its files. Returns `null` for anything else (the handler answers 404).
 *
 * @example
 * ```ts
 * const res = serveDashboard('/', new Request('http://localhost/jobs-api/'));
 * ```
 */
export function serveDashboard(subpath: string, request: Request): Response | null {
  if (request.method !== 'GET' && request.method !== 'HEAD') return null;
  const path = subpath === '' ? '/' : subpath.startsWith('/') ? subpath : '/' + subpath;

  if (path === '/' || path === '/index.html') {
    const url = new URL(request.url);
    // Asset and API URLs are relative to the page, which needs the trailing slash.
    if (path === '/' && !url.pathname.endsWith('/')) {
      return new Response(null, { status: 308, headers: { location: url.pathname + '/' + url.search } });
    }
    return respond(DASHBOARD_PAGE, request, {
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    });
  }

  if (path.startsWith(ASSET_PREFIX)) {
    const name = path.slice(ASSET_PREFIX.length);
    // Own-property lookup only: a name such as `__proto__` or `../x` is simply not an asset.
    const asset = Object.hasOwn(DASHBOARD_ASSETS, name) ? DASHBOARD_ASSETS[name] : undefined;
    return asset ? respond(asset, request, {}) : null;
  }
  return null;
}
