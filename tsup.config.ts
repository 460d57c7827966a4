import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      'testing/index': 'src/testing/index.ts',
      'testing/conformance/index': 'src/testing/conformance/index.ts',
      'postgres/index': 'src/postgres.ts',
      'http/index': 'src/http/index.ts',
      'otel/index': 'src/otel/index.ts',
      // Loaded by `new Worker()` for isolated job types (isolation: { kind: 'worker-thread' }).
      'isolation/thread-entry': 'src/isolation/thread-entry.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    // dist/cli/ is the other build's output: builds run side by side.
    clean: ['!cli/**'],
    target: 'node20',
    external: ['pg', 'better-sqlite3', '@opentelemetry/api', 'vitest', 'tsx'],
  },
  {
    // The `jobwing` binary: ESM only, no types; tsup marks it executable (it starts with #!).
    entry: { index: 'src/cli/index.ts' },
    outDir: 'dist/cli',
    format: ['esm'],
    dts: false,
    sourcemap: true,
    clean: true,
    target: 'node20',
    external: ['pg', 'better-sqlite3', 'tsx'],
  },
]);
