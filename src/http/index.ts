/**
 * jobwing/http: the engine over HTTP. REST routes, Server-Sent Events, an OpenAPI document
 * and the dashboard, as one web-standard `(Request) => Promise<Response>` handler.
 * @module jobwing/http
 */
export { createJobsHandler, type AuthenticateResult, type JobsHandler, type JobsHandlerOptions } from './create-jobs-handler.js';
export { toNodeHandler, type NodeRequestListener } from './to-node-handler.js';
export { SlowClientError } from './event-stream.js';
export type { ErrorBody } from './http-errors.js';
