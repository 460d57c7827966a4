// Small dependency-free charts. Each one carries its figures as text too, so a screen reader
// (and a phone user) gets the numbers, not only shapes.
import { html } from './html.js';

/** Horizontal bars: `rows` = [{ label, value, className? }]. */
export function BarList({ rows, label, format = String }) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  return html`<table class="bars" aria-label=${label}>
    <tbody>
      ${rows.map(
        (r) => html`<tr>
          <th scope="row">${r.label}</th>
          <td class="bar-cell"><span class=${'bar ' + (r.className ?? '')} style=${{ width: (r.value / max) * 100 + '%' }}></span></td>
          <td class="num">${format(r.value)}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

/** A sparkline of `points` (numbers, oldest first) as an SVG with a text summary. */
export function Sparkline({ points, label, width = 240, height = 48 }) {
  if (points.length < 2) return html`<p class="muted">${label}: collecting samples…</p>`;
  const max = Math.max(1, ...points);
  const step = width / (points.length - 1);
  const d = points.map((p, i) => `${(i * step).toFixed(1)},${(height - 2 - (p / max) * (height - 4)).toFixed(1)}`).join(' ');
  const summary = `${label}: ${points[0]} to ${points[points.length - 1]}, peak ${Math.max(...points)}`;
  return html`<figure class="spark">
    <svg viewBox=${`0 0 ${width} ${height}`} width=${width} height=${height} role="img" aria-label=${summary} preserveAspectRatio="none">
      <polyline points=${d} fill="none" stroke="currentColor" stroke-width="2" vector-effect="non-scaling-stroke" />
    </svg>
    <figcaption>${summary}</figcaption>
  </figure>`;
}

/** Columns side by side, one per time window: `rows` = [{ label, value }]. */
export function Columns({ rows, label, format = String, height = 80 }) {
  const max = Math.max(1e-9, ...rows.map((r) => r.value ?? 0));
  return html`<figure class="columns">
    <figcaption>${label}</figcaption>
    <ul aria-label=${label}>
      ${rows.map(
        (r) => html`<li>
          <span class="col-bar" aria-hidden="true" style=${{ height: Math.round(((r.value ?? 0) / max) * height) + 'px' }}></span>
          <span class="col-value">${format(r.value)}</span>
          <span class="col-label">${r.label}</span>
        </li>`,
      )}
    </ul>
  </figure>`;
}
