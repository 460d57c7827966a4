/**
 * Seam between the HTTP handler and the dashboard.
 *
 * The dashboard helper replaces this placeholder: `createJobsHandler` calls
 * `serveDashboard(subpath, request)` for `GET {basePath}/` and
 * `GET {basePath}/assets/*`; returning `null` means "not mine" (404).
 */
export function serveDashboard(_subpath: string, _request: Request): Response | Promise<Response> | null {
  return null;
}
