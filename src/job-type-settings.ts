/**
 * The rule of each job-type setting, in one place. Every boundary that takes a setting uses
 * these: `defineJobType` (the defaults in code), `updateJobType` and the HTTP PATCH body (admin
 * overrides), the registry when it reloads stored overrides, and the submit options that
 * override a type's `priority`, `timeoutMs` and `maxRetries` for one job.
 */
import { z } from 'zod';
import { PRIORITIES } from './states.js';

/** Starts per sliding window, as a type setting. */
export interface RateLimitSetting {
  max: number;
  perMs: number;
  scope: 'type' | 'org';
}

/** A rate limit as written in a definition or an admin change (`scope` defaults to 'type'). */
export const rateLimitSchema = z
  .object({ max: z.number().int().min(1).max(1_000_000), perMs: z.number().int().min(1).max(86_400_000), scope: z.enum(['type', 'org']).default('type') })
  .strict();

/** Attempts at once (a type's `concurrency`, `concurrencyPerOrg`); null: unlimited. */
const concurrencyLimit = z.number().int().min(1).max(1_000_000).nullable();

/** Each setting's rule, required and without defaults: callers add `.optional()` or `.partial()`. */
export const jobTypeSettingRules = {
  displayName: z.string().min(1).max(200),
  priority: z.enum(PRIORITIES),
  // setTimeout's largest delay (a 32-bit signed int of ms)
  timeoutMs: z.number().int().positive().max(2_147_483_647),
  maxRetries: z.number().int().min(0).max(1000),
  enabled: z.boolean(),
  requiresPermission: z.string().min(1).max(200).nullable(),
  dedupWindowMs: z.number().int().min(0),
  concurrency: concurrencyLimit,
  concurrencyPerOrg: concurrencyLimit,
  paused: z.boolean(),
  rateLimit: rateLimitSchema.nullable(),
};

/** Schema of an admin change (`updateJobType`, `PATCH /job-types/:name`): only these fields, each validated. */
export const jobTypeSettingsSchema = z.object(jobTypeSettingRules).partial().strict();
