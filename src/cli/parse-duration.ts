/**
 * Durations on the command line: `30d`, `12h`, `1h30m`, `90s`, `500ms`, `2w`, or `0`.
 * A unit is required so `--older-than 30` can never mean 30 ms by accident.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;

/**
 * Milliseconds in `text`.
 * @throws Error naming the expected form
 */
export function parseDuration(text: string): number {
  const t = text.trim().toLowerCase();
  if (t === '0') return 0;
  PART.lastIndex = 0;
  let total = 0;
  let matched = 0;
  for (let m = PART.exec(t); m; m = PART.exec(t)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    matched = PART.lastIndex;
  }
  if (t.length === 0 || matched !== t.length || !Number.isFinite(total)) {
    throw new Error(`"${text}" is not a duration; use a number with a unit (ms, s, m, h, d, w), e.g. 30d, 12h or 1h30m`);
  }
  return Math.round(total);
}

/** `86_400_000` → `1d`, `5_400_000` → `1h30m`: the reverse, for messages. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  let rest = Math.round(ms);
  let out = '';
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000], ['ms', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}
