/**
 * JSON payloads: serialization with size limits, canonical JSON and the dedup hash.
 */
import { createHash } from 'node:crypto';
import { PayloadTooLargeError, ValidationError } from './errors.js';
import { findUnfaithful, toStorableText } from './json-faithful.js';

/** Default limit for input, output and checkpoint: 256 KiB each. */
export const DEFAULT_PAYLOAD_LIMIT_BYTES = 256 * 1024;
/** Progress messages longer than this are rejected. */
export const MAX_MESSAGE_BYTES = 1024;
/** Stored error messages are truncated to this many characters. */
export const MAX_ERROR_MESSAGE_CHARS = 4096;

/**
 * Serializes `value` to JSON and enforces `limitBytes`.
 * @param where `path`: where the value sits, for error paths (default: `[field]`); `jobType`:
 *   named in the size error
 * @throws ValidationError naming the path when JSON would not carry the value unchanged
 *   (a Date, Set, Map, NaN, BigInt, class instance, cycle, NUL character: see json-faithful.ts)
 * @throws PayloadTooLargeError naming `field` (and `jobType`) when too large
 */
export function serializePayload(field: string, value: unknown, limitBytes: number, where: { path?: (string | number)[]; jobType?: string } = {}): string {
  const unfaithful = findUnfaithful(value);
  if (unfaithful) {
    const at = [...(where.path ?? [field]), ...unfaithful.path];
    throw new ValidationError(`Invalid ${field}: ${at.join('.')} ${unfaithful.message}`, [{ path: at, message: unfaithful.message }]);
  }
  const jobType = where.jobType;
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    throw new ValidationError(`${field} is not JSON-serializable: ${(err as Error).message}`, [
      { path: [field], message: 'not JSON-serializable' },
    ]);
  }
  if (json === undefined) {
    throw new ValidationError(`${field} is not JSON-serializable`, [{ path: [field], message: 'not JSON-serializable' }]);
  }
  // Cheap upper bound first: a UTF-16 length of n encodes to at most 3n bytes.
  if (json.length * 3 > limitBytes) {
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > limitBytes) throw new PayloadTooLargeError(field, bytes, limitBytes, jobType ?? null);
  }
  return json;
}

/** JSON with object keys sorted at every level, so key order never changes a hash. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v as object).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}

/**
 * SHA-256 dedup hash of type + canonical input + org, or of type + `dedupKey` + org.
 * The org is always part of it, so different orgs never collide.
 */
export function dedupHash(type: string, orgId: string, input: unknown, dedupKey?: string): string {
  const material = dedupKey !== undefined ? ['key', type, orgId, dedupKey] : ['input', type, orgId, input];
  return createHash('sha256').update(canonicalJson(material)).digest('hex');
}

/** Truncates a message to `max` characters, marking the cut, and replaces what no store keeps (a NUL). */
export function truncate(message: string, max = MAX_ERROR_MESSAGE_CHARS): string {
  const cut = message.length <= max ? message : `${message.slice(0, max - 1)}…`;
  return toStorableText(cut);
}
