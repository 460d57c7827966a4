import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'testing/index': 'src/testing/index.ts',
    'postgres/index': 'src/postgres.ts',
    'http/index': 'src/http/index.ts',
    'otel/index': 'src/otel/index.ts',
    // Loaded by `new Worker()` for isolated job types (isolation: { kind: 'worker-thread' }).
    'isolation/thread-entry': 'src/isolation/thread-entry.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  external: ['pg', 'better-sqlite3', '@opentelemetry/api', 'tsx'],
});
