/**
 * `GET /openapi.json`: a valid OpenAPI 3.1 document, whose operations are exactly the routes
 * the handler serves, and whose request schemas come from the schemas that validate requests.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { PRIORITIES } from '../../src/index.js';
import { ROUTES } from '../../src/http/routes.js';
import { storeKinds } from '../helpers/stores.js';
import { setupHttp } from './http-helpers.js';

const sqlite = storeKinds()[0]!;

/** The contract's JSON routes, less those whose verbs do not exist yet (explain). */
const CONTRACT = [
  'post /jobs',
  'post /jobs/batch',
  'get /jobs',
  'get /jobs/{id}',
  'get /jobs/{id}/history',
  'get /jobs/{id}/explain',
  'post /jobs/{id}/cancel',
  'post /jobs/{id}/retry',
  'get /metrics',
  'get /metrics/prometheus',
  'get /job-types',
  'patch /job-types/{name}',
  'get /schedules',
  'patch /schedules/{name}',
  'get /events',
];

type Doc = {
  openapi: string;
  servers: { url: string }[];
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { $ref?: string } }> }; parameters: { name: string; in: string; schema: Record<string, unknown> }[] }>>;
  components: { schemas: Record<string, { properties?: Record<string, Record<string, unknown>> }> };
};

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document, served without authentication', async () => {
    const { call } = await setupHttp(sqlite, { basePath: '/jobs-api' }, { worker: false });
    const r = await call('GET', '/openapi.json');
    expect(r.status).toBe(200);
    expect(r.res.headers.get('content-type')).toMatch(/^application\/json/);
    const doc = r.json as Doc;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([{ url: '/jobs-api' }]);
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('documents exactly the routes the handler serves: each one answers (401 without a token), none is 404 or 405', async () => {
    const { call } = await setupHttp(sqlite, {}, { worker: false });
    const doc = (await call('GET', '/openapi.json')).json as Doc;
    const ops = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m} ${path}`));
    expect(ops.sort()).toEqual([...CONTRACT].sort());
    expect(ops).toHaveLength(ROUTES.length);
    for (const op of ops) {
      const [method, path] = op.split(' ') as [string, string];
      const r = await call(method.toUpperCase(), path.replace(/\{\w+\}/g, 'some-id'), { body: method === 'get' ? undefined : {} });
      expect([op, r.status]).toEqual([op, 401]);
    }
  });

  it('request schemas are the validating schemas: enums, bounds and strictness carry over', async () => {
    const { call } = await setupHttp(sqlite, {}, { worker: false });
    const doc = (await call('GET', '/openapi.json')).json as Doc;
    const submit = doc.paths['/jobs']!.post!.requestBody!.content['application/json']!.schema;
    expect(submit.$ref).toBe('#/components/schemas/SubmitRequest');
    const options = doc.components.schemas.SubmitOptions!;
    expect(options.properties!.priority!.enum).toEqual([...PRIORITIES]);
    expect(options.properties!.runAt).toMatchObject({ type: 'string', format: 'date-time' });
    expect(options.properties!.maxRetries).toMatchObject({ type: 'integer', minimum: 0, maximum: 1000 });
    expect((options as { additionalProperties?: unknown }).additionalProperties).toBe(false);
    const list = doc.paths['/jobs']!.get!.parameters;
    const status = list.find((p) => p.name === 'status')!;
    expect(status).toMatchObject({ in: 'query', style: 'form', explode: true, schema: { type: 'array' } });
    expect(list.find((p) => p.name === 'limit')!.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 500 });
    expect(doc.components.schemas.JobTypeSettingsChange!.properties!.enabled).toEqual({ type: 'boolean' });
    // What the document says is rejected, the handler rejects.
    const bad = await call('POST', '/jobs', { token: 'alice', body: { type: 'add', input: { a: 1, b: 1 }, options: { maxRetries: 1001 } } });
    expect(bad.status).toBe(400);
  });
});
