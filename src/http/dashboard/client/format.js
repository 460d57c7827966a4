// Small formatting helpers shared by the views.
export const STATUSES = ['waiting', 'scheduled', 'queued', 'running', 'retrying', 'completed', 'canceled', 'dead_letter'];
export const PRIORITIES = ['critical', 'high', 'normal', 'low'];
export const LIVE_STATUSES = ['waiting', 'scheduled', 'queued', 'retrying', 'running'];
export const RETRYABLE_STATUSES = ['dead_letter', 'canceled'];

/** 1234 → "1.2 s", 90_000 → "1.5 min". */
export function formatMs(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

/** An ISO instant as local date and time, or "–". */
export function formatDate(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

/** "3 min ago" style, for the list. */
export function formatAgo(iso, now = Date.now()) {
  if (!iso) return '–';
  const diff = now - new Date(iso).getTime();
  if (diff < 1000) return 'just now'; // also a server clock slightly ahead of this one
  return formatMs(diff) + ' ago';
}

export function formatPercent(rate) {
  return rate === null || rate === undefined ? '–' : `${(rate * 100).toFixed(1)}%`;
}

export function formatCount(n) {
  return typeof n === 'number' ? n.toLocaleString() : '–';
}
