/**
 * The HTTP face of errors: each jobwing error code maps to one status, and every error
 * response has the same body `{ error: { code, message, issues?, existingJobId? } }`.
 * Anything unexpected is `500 INTERNAL` with a generic message: no stack, SQL or driver text
 * reaches the client (the real error goes to the `onError` hook).
 */
import type { ValidationIssue } from '../errors.js';

/** Codes only the HTTP layer produces. */
export type HttpOnlyErrorCode = 'UNAUTHENTICATED' | 'ROUTE_NOT_FOUND' | 'METHOD_NOT_ALLOWED' | 'UNSUPPORTED_MEDIA_TYPE' | 'INTERNAL';

/** Status of each jobwing error code that clients can cause. */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  VALIDATION: 400,
  UNKNOWN_JOB_TYPE: 400,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  DUPLICATE: 409,
  INVALID_STATE: 409,
  JOB_TYPE_DISABLED: 409,
  PAYLOAD_TOO_LARGE: 413,
};

/** The JSON body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; issues?: ValidationIssue[]; existingJobId?: string };
}

/** An error the HTTP layer raises itself (not from the engine). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: HttpOnlyErrorCode | 'VALIDATION' | 'PAYLOAD_TOO_LARGE',
    message: string,
    readonly issues?: ValidationIssue[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** A JSON response with the usual headers. */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });
}

/**
 * The response for `error`, and whether it was unexpected (to be reported). Engine errors are
 * recognised by their stable `code`, not `instanceof`: the CJS build bundles each entry
 * point separately, so the class an engine threw may not be the class this module sees.
 */
export function errorResponse(error: unknown): { response: Response; unexpected: boolean } {
  if (error instanceof HttpError) {
    const body: ErrorBody = { error: { code: error.code, message: error.message } };
    if (error.issues) body.error.issues = error.issues;
    return { response: jsonResponse(error.status, body, error.headers), unexpected: error.status >= 500 };
  }
  const e = error as { code?: unknown; message?: unknown; issues?: unknown; existingJobId?: unknown } | null;
  const code = e && typeof e === 'object' && typeof e.code === 'string' ? e.code : undefined;
  const status = code !== undefined && error instanceof Error ? STATUS_BY_CODE[code] : undefined;
  if (code === undefined || status === undefined) {
    const body: ErrorBody = { error: { code: 'INTERNAL', message: 'Internal server error' } };
    return { response: jsonResponse(500, body), unexpected: true };
  }
  const body: ErrorBody = { error: { code, message: String(e!.message) } };
  if (code === 'VALIDATION' && Array.isArray(e!.issues)) body.error.issues = e!.issues as ValidationIssue[];
  if (code === 'DUPLICATE' && typeof e!.existingJobId === 'string') body.error.existingJobId = e!.existingJobId;
  return { response: jsonResponse(status, body), unexpected: false };
}
