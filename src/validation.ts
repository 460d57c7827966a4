/**
 * Boundary validation: zod schemas for call options and actors, and the conversion of zod
 * failures into {@link ValidationError}s that name every path.
 */
import { z } from 'zod';
import { ValidationError, type ValidationIssue } from './errors.js';
import { checkString } from './json-faithful.js';
import { jobTypeSettingRules as rule } from './job-type-settings.js';
import { JOB_STATUSES } from './states.js';

/** A string every store keeps unchanged (no NUL, well-formed Unicode: see json-faithful.ts). */
const text = () =>
  z.string().superRefine((s, ctx) => {
    const problem = checkString(s);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
const id = text().min(1).max(200);
const date = z.date().refine((d) => !Number.isNaN(d.getTime()), 'must be a valid Date');

/** Schema of {@link Actor}. */
export const actorSchema = z
  .object({
    userId: id,
    orgId: id,
    permissions: z.array(text().max(200)).max(1000).optional(),
    admin: z.boolean().optional(),
  })
  .strict();

/**
 * Schema of submit options; `orgId` is checked separately (only `engine.system` may set it).
 * `priority`, `timeoutMs` and `maxRetries` override the type's for one job: the same rules.
 */
export const submitOptionsSchema = z
  .object({
    priority: rule.priority.optional(),
    runAt: date.optional(),
    delayMs: z.number().int().min(0).max(10 * 365 * 86_400_000).optional(),
    dependsOn: z.array(text().min(1).max(100)).max(1000).optional(),
    timeoutMs: rule.timeoutMs.optional(),
    maxRetries: rule.maxRetries.optional(),
    dedupKey: text().min(1).max(1000).optional(),
    orgId: id.optional(),
  })
  .strict()
  .refine((o) => !(o.runAt && o.delayMs !== undefined), { message: 'give runAt or delayMs, not both', path: ['runAt'] });

const oneOrMany = <T extends z.ZodType>(s: T) => z.union([s, z.array(s).min(1).max(100)]);

/** Schema of list options. */
export const listOptionsSchema = z
  .object({
    status: oneOrMany(z.enum(JOB_STATUSES)).optional(),
    type: oneOrMany(text().min(1).max(100)).optional(),
    createdAfter: date.optional(),
    createdBefore: date.optional(),
    ownerId: id.optional(),
    orgId: id.optional(),
    limit: z.number().int().min(1).max(500).optional(),
    cursor: text().min(1).max(1000).optional(),
  })
  .strict();

/** Schema of metrics options. */
export const metricsOptionsSchema = z.object({ since: date.optional(), orgId: id.optional() }).strict();

/** Schema of readEvents options. */
export const readEventsOptionsSchema = z
  .object({
    after: z.string().min(1).max(1000).nullable().optional(),
    limit: z.number().int().min(1).max(1000).optional(),
    jobId: z.string().min(1).max(100).optional(),
  })
  .strict();

/** Schema of cleanup options. */
export const cleanupOptionsSchema = z.object({ olderThanMs: z.number().int().min(0) }).strict();

/** Schema of stop options. */
export const stopOptionsSchema = z.object({ graceMs: z.number().int().min(0).optional() }).strict();

// toIssues and validationError are the two halves of zodValidationError, the one way out.

/**
 * Converts zod issues into ours, prefixing each path with `prefix`. An unknown key becomes one
 * issue per key, at the key's own path, worded "unknown option": the same everywhere (engine,
 * client verbs, stores).
 */
function toIssues(error: z.ZodError, prefix: (string | number)[] = []): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const i of error.issues) {
    const path = [...prefix, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    if (i.code === 'unrecognized_keys') {
      for (const key of i.keys) out.push({ path: [...path, key], message: 'unknown option', code: i.code });
    } else out.push({ path, message: i.message, code: i.code });
  }
  return out;
}

/** A ValidationError whose message lists each `path: message`. */
function validationError(what: string, issues: ValidationIssue[]): ValidationError {
  const detail = issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  return new ValidationError(`Invalid ${what}: ${detail}`, issues);
}

/**
 * The one conversion of a zod failure into a ValidationError: "Invalid <what>: <path>:
 * <message>; …", each path prefixed with `prefix`. Every caller that parses with zod throws
 * this, so the wording and paths are the same at every boundary.
 */
export function zodValidationError(what: string, error: z.ZodError, prefix: (string | number)[] = []): ValidationError {
  return validationError(what, toIssues(error, prefix));
}

/** Parses `value` with `schema` or throws a ValidationError naming `what` and each path. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, what: string, prefix: (string | number)[] = []): z.output<T> {
  const r = schema.safeParse(value === undefined ? {} : value);
  if (!r.success) throw zodValidationError(what, r.error, prefix);
  return r.data;
}
