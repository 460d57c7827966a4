/**
 * Transient vs permanent: decides whether a failed attempt is retried.
 */
import { PermanentError, TransientError } from '../errors.js';

/** How a thrown error is treated: retried (`transient`) or dead-lettered (`permanent`). */
export type ErrorClass = 'transient' | 'permanent';

/** A job type's optional override of the default rules. */
export type ClassifyError = (err: unknown) => ErrorClass;

/**
 * Default rules: `PermanentError` → permanent; `TransientError` → transient; anything
 * else → the type's `classifyError` when given, otherwise transient.
 * An explicit `TransientError`/`PermanentError` always wins over `classifyError`, so a handler
 * can be certain of what it throws. A throwing `classifyError` counts as transient.
 */
export function classifyError(err: unknown, custom?: ClassifyError): ErrorClass {
  if (err instanceof PermanentError) return 'permanent';
  if (err instanceof TransientError) return 'transient';
  if (custom) {
    try {
      return custom(err) === 'permanent' ? 'permanent' : 'transient';
    } catch {
      return 'transient';
    }
  }
  return 'transient';
}
