/**
 * The opaque cursor of `listJobs`: the `(createdAt, seq)` key of the last row of a page,
 * as base64url JSON. Keyset pagination on that key stays stable while jobs are inserted.
 */
import { ValidationError } from '../../errors.js';

/** Position after which the next page starts (order: createdAt desc, seq desc). */
export interface ListCursor {
  /** `created_at` of the last row returned (epoch ms). */
  createdAt: number;
  /** `seq` of the last row returned. */
  seq: number;
}

/**
 * Encodes a list cursor.
 * @example encodeListCursor({ createdAt: 1_700_000_000_000, seq: 42 }) // 'eyJjIjox…'
 */
export function encodeListCursor(cursor: ListCursor): string {
  return Buffer.from(JSON.stringify({ c: cursor.createdAt, s: cursor.seq }), 'utf8').toString('base64url');
}

function invalid(reason: string): ValidationError {
  return new ValidationError(`Invalid cursor: ${reason}`, [{ path: ['cursor'], message: reason }]);
}

/**
 * Decodes a cursor made by {@link encodeListCursor}.
 * @throws ValidationError naming `cursor` when it is malformed (never a raw parse error).
 */
export function decodeListCursor(cursor: string): ListCursor {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw invalid('not a cursor returned by list()');
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('not a cursor returned by list()');
  }
  if (typeof value !== 'object' || value === null) throw invalid('not a cursor returned by list()');
  const { c, s } = value as { c?: unknown; s?: unknown };
  if (!Number.isSafeInteger(c) || !Number.isSafeInteger(s) || (s as number) < 0) {
    throw invalid('not a cursor returned by list()');
  }
  return { createdAt: c as number, seq: s as number };
}
