/**
 * jobwing/otel: OpenTelemetry traces and metrics for a jobwing engine, following the
 * messaging semantic conventions. Needs `@opentelemetry/api` (an optional peer dependency of
 * jobwing): `npm install @opentelemetry/api`. Nothing else in jobwing loads it.
 * @module jobwing/otel
 */
export { instrumentEngine, INSTRUMENTATION_SCOPE, type InstrumentEngineOptions } from './instrument-engine.js';
