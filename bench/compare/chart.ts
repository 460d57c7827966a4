/**
 * The SVG chart of a run (docs/performance.svg), drawn by hand: no dependency, no service.
 * One panel per headline workload, one horizontal bar per system on a log scale (figures span
 * four decades: a raw loop next to a poll-bound queue); jobwing bars are blue, peers grey.
 * Latency panels say "lower is better".
 */
import { fmt, value, type Column, type Medians, type Row } from './report.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function chartSvg(med: Medians, columns: Column[], rows: Row[], jobwing: string[], subtitle: string): string {
  const width = 860;
  const labelW = 210;
  const barMax = width - labelW - 110;
  const barH = 14;
  const gap = 4;
  const panelHead = 26;
  const panelGap = 14;
  const parts: string[] = [];
  let y = 52;
  for (const r of rows) {
    const vals = columns.map((c) => ({ c, v: value(med, c.name, r) }));
    const present = vals.map((x) => x.v).filter((v): v is number => v !== undefined && v > 0);
    const max = Math.max(...present);
    const lo = Math.log10(10 ** Math.floor(Math.log10(Math.min(...present))) / 2);
    const span = Math.log10(max) - lo;
    parts.push(`<text x="10" y="${y + 16}" class="h">${esc(r.label)}${r.better === 'lower' ? ' — lower is better' : ''} <tspan class="s">(log scale)</tspan></text>`);
    y += panelHead;
    for (const { c, v } of vals) {
      const w = v === undefined || v <= 0 || span <= 0 ? (v ? barMax : 0) : Math.max(2, ((Math.log10(v) - lo) / span) * barMax);
      const fill = jobwing.includes(c.name) ? '#2563eb' : '#9ca3af';
      parts.push(`<text x="${labelW - 8}" y="${y + barH - 3}" class="l" text-anchor="end">${esc(c.label)}</text>`);
      if (v !== undefined) parts.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${fill}"/>`);
      parts.push(`<text x="${(labelW + w + 6).toFixed(1)}" y="${y + barH - 3}" class="v">${v === undefined ? 'not measured' : fmt(v)}</text>`);
      y += barH + gap;
    }
    y += panelGap;
  }
  const height = y + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif">`,
    '<style>.t{font-size:16px;font-weight:600}.s{font-size:11px;fill:#4b5563}.h{font-size:13px;font-weight:600}.l{font-size:11px;fill:#111827}.v{font-size:11px;fill:#374151}</style>',
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="22" class="t">jobwing vs peers — npm run bench:compare</text>`,
    `<text x="10" y="40" class="s">${esc(subtitle)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
