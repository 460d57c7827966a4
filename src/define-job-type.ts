/**
 * `defineJobType`: a job type as code (handler, schemas) plus default settings that an
 * admin may override at run time. Also the inference helpers that give call sites
 * end-to-end types without generics.
 */
import { z } from 'zod';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './retry/backoff.js';
import type { ClassifyError } from './retry/classify.js';
import { jobTypeSettingRules as rule, type RateLimitSetting } from './job-type-settings.js';
import type { AbortReason, Priority } from './states.js';
import { normalizeIsolation, type IsolationOptions, type NormalizedIsolation } from './isolation/isolation-options.js';
import { sharedIsolationPool } from './isolation/isolation-pool.js';

/** What a handler knows about the job it runs. */
export interface JobContextInfo {
  id: string;
  type: string;
  orgId: string;
  ownerId: string;
  /** 1 for the first attempt, 2 for the first retry… */
  attempt: number;
  retryCount: number;
  maxRetries: number;
}

/** The second argument of every handler. */
export interface JobContext<Checkpoint = unknown> {
  job: JobContextInfo;
  /** Last checkpoint saved by an earlier attempt (or earlier in this one), or `undefined`. */
  readonly checkpoint: Checkpoint | undefined;
  /** Reports progress 0..100 with an optional message. Throttled; the last value is always stored. */
  progress(percent: number, message?: string): Promise<void>;
  /** Saves a checkpoint; durable when the promise resolves. The next attempt sees it. */
  saveCheckpoint(checkpoint: Checkpoint): Promise<void>;
  /** Aborts on cancel, timeout, shutdown or lease loss; `signal.reason` says which. */
  signal: AbortSignal & { reason?: AbortReason };
}

type AnySchema = z.ZodType;

/** A job type's handler: validated input in, output out. */
export type JobHandler<InSchema extends AnySchema, OutSchema extends AnySchema, CpSchema extends AnySchema> = (
  input: z.output<InSchema>,
  ctx: JobContext<z.output<CpSchema>>,
) => Promise<z.input<OutSchema>>;

/** What `defineJobType` takes. Without `handler` it declares the type; `.implement()` adds it. */
export interface JobTypeDefinition<
  Name extends string,
  InSchema extends AnySchema,
  OutSchema extends AnySchema,
  CpSchema extends AnySchema,
> {
  /** Unique per engine; matches /^[a-z0-9][a-z0-9._:-]{0,99}$/. */
  name: Name;
  /** (Default: name) */
  displayName?: string;
  input: InSchema;
  /** Validated before completion; a mismatch is a permanent error. */
  output?: OutSchema;
  /** Type of saved checkpoints, validated on save. */
  checkpoint?: CpSchema;
  /** (Default: 'normal') */
  priority?: Priority;
  /** Per-attempt timeout. (Default: 300_000) */
  timeoutMs?: number;
  /** Retries after the first attempt. (Default: 3) */
  maxRetries?: number;
  /** (Defaults: baseMs 1_000, factor 2, maxMs 3_600_000, jitter 'full') */
  backoff?: Partial<BackoffPolicy>;
  /** (Default: true) */
  enabled?: boolean;
  /** Permission an actor must hold to submit. (Default: none) */
  requiresPermission?: string | null;
  /**
   * Identical submits (same type, input and org) within this window are rejected with
   * `DuplicateJobError`, even when the earlier job already completed; 0 turns dedup off.
   * (Default: 300_000)
   */
  dedupWindowMs?: number;
  /** (runtime) Attempts of this type running at once, across every process on the store. (Default: unlimited) */
  concurrency?: number | null;
  /** (runtime) Attempts of this type running at once per org, across every process. (Default: unlimited) */
  concurrencyPerOrg?: number | null;
  /** (runtime) Paused: submits are accepted, nothing new is claimed. (Default: false) */
  paused?: boolean;
  /** (runtime) At most `max` attempts START in any `perMs` (sliding), for the type or per org. (Default: none) */
  rateLimit?: { max: number; perMs: number; scope?: 'type' | 'org' } | null;
  /** Override of the default transient/permanent rules for other thrown errors. */
  classifyError?: ClassifyError;
  handler(input: z.output<InSchema>, ctx: JobContext<z.output<CpSchema>>): Promise<z.input<OutSchema>>;
  /** Only with {@link JobTypeIsolatedDefinition} (instead of `handler`). */
  isolation?: undefined;
}

/** What `defineJobType` takes to run the handler in a worker thread: `isolation` takes the place of `handler`. */
export type JobTypeIsolatedDefinition<
  Name extends string,
  InSchema extends AnySchema,
  OutSchema extends AnySchema,
  CpSchema extends AnySchema,
> = Omit<JobTypeDefinition<Name, InSchema, OutSchema, CpSchema>, 'handler' | 'isolation'> & { handler?: undefined; isolation: IsolationOptions };

/** What `defineJobType` takes to declare a type without its handler (e.g. in a web process). */
export type JobTypeDeclarationDefinition<
  Name extends string,
  InSchema extends AnySchema,
  OutSchema extends AnySchema,
  CpSchema extends AnySchema,
> = Omit<JobTypeDefinition<Name, InSchema, OutSchema, CpSchema>, 'handler' | 'isolation'> & { handler?: undefined; isolation?: undefined };

/**
 * A job type with every default filled in, implemented or not. Engines take either kind:
 * a worker runs only the implemented ones; every engine can submit and read all of them.
 */
export interface JobTypeSpec<
  Name extends string = string,
  InSchema extends AnySchema = AnySchema,
  OutSchema extends AnySchema = AnySchema,
  CpSchema extends AnySchema = AnySchema,
> {
  readonly name: Name;
  readonly displayName: string;
  readonly input: InSchema;
  readonly output: OutSchema | undefined;
  readonly checkpoint: CpSchema | undefined;
  readonly priority: Priority;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly backoff: BackoffPolicy;
  readonly enabled: boolean;
  readonly requiresPermission: string | null;
  readonly dedupWindowMs: number;
  readonly concurrency: number | null;
  readonly concurrencyPerOrg: number | null;
  readonly paused: boolean;
  readonly rateLimit: RateLimitSetting | null;
  readonly classifyError: ClassifyError | undefined;
  readonly handler: JobHandler<InSchema, OutSchema, CpSchema> | undefined;
  /** Set when the handler runs in a worker thread (`isolation` option); `handler` then runs it there. */
  readonly isolation: NormalizedIsolation | undefined;
  /**
   * The same type (name, schemas, settings) with `handler`, for the worker process.
   * @throws TypeError when `handler` is not a function
   */
  implement(handler: JobHandler<InSchema, OutSchema, CpSchema>): JobType<Name, InSchema, OutSchema, CpSchema>;
}

/** An implemented job type: a worker engine runs it. */
export interface JobType<
  Name extends string = string,
  InSchema extends AnySchema = AnySchema,
  OutSchema extends AnySchema = AnySchema,
  CpSchema extends AnySchema = AnySchema,
> extends JobTypeSpec<Name, InSchema, OutSchema, CpSchema> {
  readonly handler: JobHandler<InSchema, OutSchema, CpSchema>;
}

/** A job type declared without its handler: submit and read it anywhere, run it after `.implement()`. */
export interface JobTypeDeclaration<
  Name extends string = string,
  InSchema extends AnySchema = AnySchema,
  OutSchema extends AnySchema = AnySchema,
  CpSchema extends AnySchema = AnySchema,
> extends JobTypeSpec<Name, InSchema, OutSchema, CpSchema> {
  readonly handler: undefined;
}

/** Any job type, implemented or declared, for collections. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJobType = JobTypeSpec<string, any, any, any>;
/** Any implemented job type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyImplementedJobType = JobType<string, any, any, any>;

/** The name union of a list of job types. */
export type NameOf<T extends AnyJobType> = T['name'];
/** The job type of a list with a given name. */
export type TypeByName<T extends AnyJobType, N extends string> = string extends T['name'] ? T : Extract<T, { name: N }>;
/** What callers pass to `submit` for a job type (zod input type). */
export type InputOf<T extends AnyJobType> = z.input<T['input']>;
/** The validated input a handler receives (zod output type). */
export type ParsedInputOf<T extends AnyJobType> = z.output<T['input']>;
/** The stored output of a completed job of this type. */
export type OutputOf<T extends AnyJobType> = T extends JobTypeSpec<string, AnySchema, infer O, AnySchema>
  ? z.output<O>
  : unknown;
/** The checkpoint type of a job type. */
export type CheckpointOf<T extends AnyJobType> = T extends JobTypeSpec<string, AnySchema, AnySchema, infer C>
  ? z.output<C>
  : unknown;

/** Valid job type names. */
export const JOB_TYPE_NAME = /^[a-z0-9][a-z0-9._:-]{0,99}$/;

// Each setting's rule is the admin change's (job-type-settings.ts); a definition may leave any out.
const definitionSchema = z.object({
  name: z.string().regex(JOB_TYPE_NAME, 'must match /^[a-z0-9][a-z0-9._:-]{0,99}$/'),
  displayName: rule.displayName.optional(),
  priority: rule.priority.optional(),
  timeoutMs: rule.timeoutMs.optional(),
  maxRetries: rule.maxRetries.optional(),
  backoff: z
    .object({
      baseMs: z.number().nonnegative().optional(),
      factor: z.number().min(1).optional(),
      maxMs: z.number().nonnegative().optional(),
      jitter: z.enum(['full', 'equal', 'none']).optional(),
    })
    .strict()
    .optional(),
  enabled: rule.enabled.optional(),
  requiresPermission: rule.requiresPermission.optional(),
  dedupWindowMs: rule.dedupWindowMs.optional(),
  concurrency: rule.concurrency.optional(),
  concurrencyPerOrg: rule.concurrencyPerOrg.optional(),
  paused: rule.paused.optional(),
  rateLimit: rule.rateLimit.optional(),
});

/**
 * Defines a job type. The result is passed to `new JobEngine({ jobTypes: [...] })`.
 * Without `handler` it only declares the type (schemas and settings): a web process submits
 * and reads it fully typed without importing the handler; the worker calls
 * `.implement(handler)` on the same declaration.
 *
 * @throws TypeError naming the field when the definition is invalid.
 * @example
 * ```ts
 * const resize = defineJobType({
 *   name: 'resize-image',
 *   input: z.object({ url: z.string().url() }),
 *   output: z.object({ bytes: z.number() }),
 *   async handler(input, ctx) {
 *     await ctx.progress(50, 'Downloading');
 *     return { bytes: 1024 };
 *   },
 * });
 * // Split: jobs/resize.ts declares, worker.ts implements.
 * const declared = defineJobType({ name: 'resize-image', input: z.object({ url: z.string() }) });
 * const runnable = declared.implement(async (input) => ({ bytes: 1024 }));
 * ```
 */
export function defineJobType<
  const Name extends string,
  InSchema extends AnySchema,
  OutSchema extends AnySchema = z.ZodUnknown,
  CpSchema extends AnySchema = z.ZodUnknown,
>(def: JobTypeDefinition<Name, InSchema, OutSchema, CpSchema>): JobType<Name, InSchema, OutSchema, CpSchema>;
export function defineJobType<
  const Name extends string,
  InSchema extends AnySchema,
  OutSchema extends AnySchema = z.ZodUnknown,
  CpSchema extends AnySchema = z.ZodUnknown,
>(def: JobTypeIsolatedDefinition<Name, InSchema, OutSchema, CpSchema>): JobType<Name, InSchema, OutSchema, CpSchema>;
export function defineJobType<
  const Name extends string,
  InSchema extends AnySchema,
  OutSchema extends AnySchema = z.ZodUnknown,
  CpSchema extends AnySchema = z.ZodUnknown,
>(def: JobTypeDeclarationDefinition<Name, InSchema, OutSchema, CpSchema>): JobTypeDeclaration<Name, InSchema, OutSchema, CpSchema>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function defineJobType(def: any): AnyJobType {
  const parsed = definitionSchema.safeParse(def);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new TypeError(`Invalid job type definition ${JSON.stringify(String(def?.name).slice(0, 100))}: ${issue.path.join('.')} ${issue.message}`);
  }
  if (!(def.input instanceof z.ZodType)) throw new TypeError(`Job type "${def.name}": input must be a zod schema`);
  if (def.output !== undefined && !(def.output instanceof z.ZodType)) throw new TypeError(`Job type "${def.name}": output must be a zod schema`);
  if (def.checkpoint !== undefined && !(def.checkpoint instanceof z.ZodType)) throw new TypeError(`Job type "${def.name}": checkpoint must be a zod schema`);
  if (def.handler !== undefined && typeof def.handler !== 'function') throw new TypeError(`Job type "${def.name}": handler must be a function (or left out to declare the type without it)`);
  // Isolation: the handler comes from isolation.module and runs in a worker thread.
  if (def.isolation !== undefined) {
    if (def.handler !== undefined) throw new TypeError(`Job type "${def.name}": give either handler or isolation (isolation.module provides the handler), not both`);
    const iso = normalizeIsolation(def.name, def.isolation);
    return build(def, (input, ctx) => sharedIsolationPool().run(iso, input, ctx as JobContext<unknown>), iso);
  }
  return build(def, def.handler);
}

/** The frozen job type; `implement` builds a sibling with a handler, sharing everything else. */
function build(
  def: Omit<JobTypeDeclarationDefinition<string, AnySchema, AnySchema, AnySchema>, 'isolation'>,
  handler: JobHandler<AnySchema, AnySchema, AnySchema> | undefined,
  isolation?: NormalizedIsolation,
): AnyJobType {
  return Object.freeze({
    name: def.name,
    displayName: def.displayName ?? def.name,
    input: def.input,
    output: def.output,
    checkpoint: def.checkpoint,
    priority: def.priority ?? 'normal',
    timeoutMs: def.timeoutMs ?? 300_000,
    maxRetries: def.maxRetries ?? 3,
    backoff: { ...DEFAULT_BACKOFF, ...def.backoff },
    enabled: def.enabled ?? true,
    requiresPermission: def.requiresPermission ?? null,
    dedupWindowMs: def.dedupWindowMs ?? 300_000,
    concurrency: def.concurrency ?? null,
    concurrencyPerOrg: def.concurrencyPerOrg ?? null,
    paused: def.paused ?? false,
    rateLimit: def.rateLimit ? { scope: 'type' as const, ...def.rateLimit } : null,
    classifyError: def.classifyError,
    handler,
    isolation,
    implement(next: JobHandler<AnySchema, AnySchema, AnySchema>) {
      if (isolation) throw new TypeError(`Job type "${def.name}" is isolated: its handler comes from isolation.module, so implement() does not apply`);
      if (typeof next !== 'function') throw new TypeError(`Job type "${def.name}": implement() takes the handler function`);
      return build(def, next);
    },
  }) as AnyJobType;
}

/** True when `t` has a handler, i.e. a worker engine can run it. */
export function isImplemented(t: AnyJobType): t is AnyImplementedJobType {
  return typeof t.handler === 'function';
}
