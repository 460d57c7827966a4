/**
 * Output for humans (aligned tables, key/value blocks) and for scripts (`--json`: the same
 * shapes the HTTP API returns, instants as ISO-8601 strings).
 */
import type { CliIo } from './cli-errors.js';

/** Writes `value` as indented JSON and a newline. */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** An instant as `2026-01-31 12:00:05Z`; `-` for none. */
export function formatInstant(d: Date | null | undefined): string {
  return d ? d.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z') : '-';
}

/** A number of milliseconds for humans: `850ms`, `12.3s`, `4m 05s`, `2h 10m`, `3d 4h`. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)}s`;
  const s = Math.floor(ms / 1_000);
  if (s < 3_600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3_600)}h ${String(Math.floor((s % 3_600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3_600)}h`;
}

/** One line of a cell: newlines and tabs become spaces, long text is cut with an ellipsis. */
function cell(value: unknown, max: number): string {
  const s = value === null || value === undefined || value === '' ? '-' : String(value);
  const flat = s.replace(/[\r\n\t]+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * Columns padded to their widest cell, headers in capitals. The last column is not padded,
 * so lines carry no trailing spaces. Cells longer than `maxCell` are cut (ids never are:
 * keep them under the limit).
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly unknown[])[], maxCell = 60): string {
  const text = [headers.map((h) => h.toUpperCase()), ...rows.map((r) => headers.map((_, i) => cell(r[i], maxCell)))];
  const widths = headers.map((_, i) => Math.max(...text.map((r) => r[i]!.length)));
  return text.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

/** `label: value` lines, labels aligned; values that are objects print as compact JSON. */
export function formatFields(fields: readonly (readonly [string, unknown])[]): string {
  const width = Math.max(...fields.map(([k]) => k.length)) + 1;
  return fields
    .map(([k, v]) => {
      const value = v === null || v === undefined ? '-' : v instanceof Date ? formatInstant(v) : typeof v === 'object' ? JSON.stringify(v) : String(v);
      return `${`${k}:`.padEnd(width)} ${value}`;
    })
    .join('\n') + '\n';
}
