/**
 * The OpenAPI 3.1 document, generated from the route table and the very zod schemas that
 * validate requests (zod's own `toJSONSchema`): there is no second, hand-written copy.
 */
import { z } from 'zod';
import { ROUTES, type RouteDef } from './routes.js';
import { errorSchema, wireRegistry } from './wire-schemas.js';

const COMPONENT = '#/components/schemas/';

type JsonSchema = Record<string, unknown>;

/** JSON Schema of `schema` (request side: what a client sends), refs into components. */
function jsonSchema(schema: z.ZodType): JsonSchema {
  const id = wireRegistry.get(schema)?.id;
  if (id) return { $ref: COMPONENT + id };
  const out = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return strip(out);
}

function strip(s: JsonSchema): JsonSchema {
  const { $schema: _s, $id: _i, ...rest } = s;
  return rest;
}

function components(): Record<string, JsonSchema> {
  const all = z.toJSONSchema(wireRegistry, { io: 'input', unrepresentable: 'any', uri: (i) => COMPONENT + i }) as { schemas: Record<string, JsonSchema> };
  return Object.fromEntries(Object.entries(all.schemas).map(([k, v]) => [k, strip(v)]));
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid request (VALIDATION, UNKNOWN_JOB_TYPE)',
  401: 'No actor (UNAUTHENTICATED)',
  403: 'Not allowed (PERMISSION_DENIED)',
  404: 'No such job, also another org’s (NOT_FOUND)',
  409: 'Conflict (DUPLICATE with existingJobId, INVALID_STATE, JOB_TYPE_DISABLED)',
  413: 'Body or payload too large (PAYLOAD_TOO_LARGE)',
  415: 'Not application/json (UNSUPPORTED_MEDIA_TYPE)',
  500: 'Unexpected error (INTERNAL)',
};

function operation(def: RouteDef): JsonSchema {
  const parameters: JsonSchema[] = [];
  for (const m of def.path.matchAll(/:([A-Za-z]+)/g)) {
    parameters.push({ name: m[1], in: 'path', required: true, schema: { type: 'string' } });
  }
  if (def.query instanceof z.ZodObject) {
    const shape = def.query.shape as Record<string, z.ZodType>;
    for (const [name, field] of Object.entries(shape)) {
      const schema = jsonSchema(field);
      const p: JsonSchema = { name, in: 'query', required: false, schema };
      if (schema.type === 'array') Object.assign(p, { style: 'form', explode: true });
      if (typeof schema.description === 'string') p.description = schema.description;
      parameters.push(p);
    }
  }
  if (def.stream) {
    parameters.push({ name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' }, description: 'Resume after this event id' });
  }
  const okContent = def.response.contentType
    ? { [def.response.contentType]: { schema: { type: 'string' } } }
    : { 'application/json': { schema: def.response.schema ? jsonSchema(def.response.schema) : {} } };
  const responses: Record<string, JsonSchema> = { [String(def.response.status)]: { description: def.response.description, content: okContent } };
  const errorContent = { 'application/json': { schema: jsonSchema(errorSchema) } };
  const codes = new Set([400, 401, 500, ...(def.errors ?? [])]);
  if (def.method !== 'get') codes.add(415);
  if (def.body) codes.add(413);
  if (def.adminOnly) codes.add(403);
  for (const code of [...codes].sort()) responses[String(code)] = { description: STATUS_TEXT[code] ?? 'Error', content: errorContent };
  const op: JsonSchema = {
    operationId: def.operationId,
    summary: def.adminOnly ? `${def.summary} (admins only)` : def.summary,
    parameters,
    responses,
  };
  if (def.body) {
    op.requestBody = { required: !def.bodyOptional, content: { 'application/json': { schema: jsonSchema(def.body) } } };
  }
  return op;
}

/** The document; paths are relative to the server URL, which includes `basePath`. */
export function buildOpenApiDocument(options: { basePath: string }): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const def of ROUTES) {
    const path = def.path.replace(/:([A-Za-z]+)/g, '{$1}');
    (paths[path] ??= {})[def.method] = operation(def);
  }
  return {
    openapi: '3.1.0',
    info: { title: 'jobwing jobs API', version: '1', description: 'Scoped to the authenticated actor: non-admins see only their own org.' },
    servers: [{ url: options.basePath || '/' }],
    paths,
    components: { schemas: components() },
  };
}
