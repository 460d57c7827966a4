/**
 * Writes a run's outputs from its data alone: results/latest.md (printed too),
 * results/latest.json and docs/performance.svg (or results/<name>.* for a named run). `render.ts` calls it on a saved JSON, so the
 * table and the chart can be redrawn without measuring again.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chartSvg } from './chart.js';
import { figuresTable, medians, ratioTable, ROWS, type Measurement } from './report.js';
import { JOBWING, SYSTEMS } from './systems/index.js';
import type { Workload } from './workloads.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = join(here, '..', '..');

export interface RunData {
  at: string;
  machine: { cpus: number; cpuModel: string; memGiB: number; node: string; git: string };
  load1: number;
  minutes: number;
  settings: { jobs: number; reps: number; samples: number; workloads: Workload[] };
  versions: Record<string, string>;
  skipped: string[];
  measurements: Measurement[];
}

/** `name` picks results/<name>.md and .json; only the `latest` run redraws docs/performance.svg. */
export function writeResults(d: RunData, name = 'latest'): string {
  const med = medians(d.measurements);
  const columns = SYSTEMS.filter((s) => med[s.name]).map((s) => ({ name: s.name, label: s.label }));
  const jobwingCols = columns.filter((c) => JOBWING.includes(c.name));
  const peerCols = columns.filter((c) => !JOBWING.includes(c.name));
  const rows = ROWS.filter((r) => d.settings.workloads.includes(r.workload));
  const { machine: m, settings: s } = d;
  const label = (name: string) => SYSTEMS.find((x) => x.name === name)?.label ?? name;
  // One note per system and workload (repetitions say much the same), every error.
  const notes = new Map<string, string>();
  for (const x of d.measurements) {
    if (x.error) notes.set(`${x.system} ${x.workload} ${x.rep}`, `${label(x.system)}, ${x.workload} (rep ${x.rep}): ERROR ${x.error}`);
    else if (x.output?.note && !notes.has(`${x.system} ${x.workload}`)) notes.set(`${x.system} ${x.workload}`, `${label(x.system)}, ${x.workload}: ${x.output.note}`);
  }
  const header = [
    `Run ${d.at} · ${m.cpus} × ${m.cpuModel} · ${m.memGiB} GiB · node ${m.node} · jobwing src ${m.git}`,
    `${s.jobs.toLocaleString('en-US')} no-op jobs per throughput measurement · ${s.reps} repetition(s), medians · ${s.samples} latency samples (20 s cap) · one child process per measurement · ${d.minutes.toFixed(1)} min · load ${d.load1.toFixed(2)} at the end`,
    `Peers: ${Object.entries(d.versions).map(([p, ver]) => `${p} ${ver}`).join(', ')}`,
  ];
  const md = [
    '# bench:compare results',
    '',
    ...header.map((h) => `${h}  `),
    '',
    figuresTable(med, columns, rows),
    '',
    'Ratios, jobwing ÷ peer, oriented so that > 1× means jobwing is better (F = SQLite FULL, N = SQLite NORMAL, PG = Postgres):',
    '',
    ratioTable(med, jobwingCols, peerCols, rows),
    '',
    ...(d.skipped.length || notes.size ? ['Notes:', '', ...d.skipped.map((x) => `- ${x}`), ...[...notes.values()].map((n) => `- ${n}`), ''] : []),
  ].join('\n');
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'results', `${name}.md`), md);
  writeFileSync(join(here, 'results', `${name}.json`), `${JSON.stringify({ ...d, medians: med }, null, 2)}\n`);
  if (name !== 'latest') return md;
  const chartRows = rows.filter((r) => ['perSec', 'p50Ms'].includes(r.metric) && r.workload !== 'depth-1m');
  writeFileSync(join(repoRoot, 'docs', 'performance.svg'), chartSvg(med, columns, chartRows, JOBWING, `${header[0]} · ${s.jobs} jobs · medians of ${s.reps}`));
  return md;
}
