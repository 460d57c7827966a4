/**
 * `@opentelemetry/api` stays optional: only the jobwing/otel entry imports it. The entries'
 * import graphs are bundled (dependencies left external) and their external imports listed.
 */
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

async function externalImports(entry: string): Promise<string[]> {
  const r = await build({ entryPoints: [entry], bundle: true, write: false, platform: 'node', format: 'esm', packages: 'external', metafile: true, logLevel: 'silent' });
  const out = Object.values(r.metafile.outputs)[0]!;
  return [...new Set(out.imports.filter((i) => i.external).map((i) => i.path))].sort();
}

describe('optional peer dependency', () => {
  it.each(['src/index.ts', 'src/testing/index.ts', 'src/postgres.ts'])('%s does not import @opentelemetry/*', async (entry) => {
    const imports = await externalImports(entry);
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((i) => i.startsWith('@opentelemetry/'))).toEqual([]);
  });

  it('jobwing/otel imports @opentelemetry/api only', async () => {
    expect((await externalImports('src/otel/index.ts')).filter((i) => i.startsWith('@opentelemetry/'))).toEqual(['@opentelemetry/api']);
  });
});
