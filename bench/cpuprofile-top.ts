/**
 * Summarizes a V8 `.cpuprofile` (from `node --cpu-prof`): top functions by self time, and
 * self time grouped by source file (our files vs. dependencies vs. native/GC).
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/jobwing-prof --import tsx bench/run.ts --only drain
 *   npx tsx bench/cpuprofile-top.ts /tmp/jobwing-prof/*.cpuprofile [--top 30] [--window A:B]
 *
 * `--callers K` also lists, for the top K functions, the call paths (3 frames up) their self
 * time comes from: e.g. which query a `get` of sqlite-connection.ts runs for.
 * `--window A:B` keeps only samples taken between A and B (µs, monotonic clock): use the
 * `windowUs` of a result in the bench's JSON line to look at one measured section only.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function shortUrl(url: string): string {
  if (!url) return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const src = url.search(/\/(src|bench|test)\//);
  if (src >= 0) return url.slice(src + 1);
  return url.replace(/^file:\/\//, '');
}

function group(url: string): string {
  const u = shortUrl(url);
  if (u === '(native)') return '(native)';
  if (u.startsWith('node:')) return u.split('/')[0]!;
  const m = /^(@[^/]+\/[^/]+|[^/]+)\//.exec(u);
  if (u.startsWith('src/') || u.startsWith('bench/')) return u;
  return m ? `dep:${m[1]}` : u;
}

function main(): void {
  process.stdout.on('error', () => process.exit(0)); // e.g. piped into `head`
  const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '30' }, window: { type: 'string' }, callers: { type: 'string', default: '0' } }, allowPositionals: true });
  const top = Number(values.top);
  for (const file of positionals) {
    const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const [from, to] = values.window ? values.window.split(':').map(Number) : [-Infinity, Infinity];
    const self = new Map<number, number>();
    let t = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      t += p.timeDeltas[i] ?? 0;
      if (t < from! || t > to!) continue;
      self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
    }
    const total = [...self.values()].reduce((a, b) => a + b, 0);
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const frameName = (id: number) => {
      const f = byId.get(id)!.callFrame;
      return `${f.functionName || '(anonymous)'}  ${shortUrl(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    };
    const byFn = new Map<string, number>();
    const paths = new Map<string, Map<string, number>>();
    const byFile = new Map<string, number>();
    for (const [id, us] of self) {
      const f = byId.get(id)!.callFrame;
      const name = `${f.functionName || '(anonymous)'}  ${shortUrl(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
      byFn.set(name, (byFn.get(name) ?? 0) + us);
      const chain: string[] = [];
      for (let q = parent.get(id); q !== undefined && chain.length < 3; q = parent.get(q)) chain.push(frameName(q).replace(/\s+/, ' '));
      const m = paths.get(name) ?? new Map<string, number>();
      m.set(chain.join(' ← '), (m.get(chain.join(' ← ')) ?? 0) + us);
      paths.set(name, m);
      const g = group(f.url) === '(native)' ? (f.functionName || '(native)') : group(f.url);
      byFile.set(g, (byFile.get(g) ?? 0) + us);
    }
    const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms`;
    console.log(`\n${file}: ${(total / 1000).toFixed(0)} ms sampled`);
    console.log(`\nTop ${top} functions by self time:`);
    const sorted = [...byFn].sort((a, b) => b[1] - a[1]);
    for (const [name, us] of sorted.slice(0, top)) console.log(`  ${pct(us)}  ${name}`);
    for (const [name] of sorted.slice(0, Number(values.callers))) {
      console.log(`\n  ${name} ← called from:`);
      for (const [chain, us] of [...paths.get(name)!].sort((a, b) => b[1] - a[1]).slice(0, 6)) console.log(`    ${pct(us)}  ← ${chain}`);
    }
    console.log(`\nSelf time by file / package (top ${top}):`);
    for (const [name, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${name}`);
  }
}

main();
