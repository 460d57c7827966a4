/**
 * Redraws results/latest.md and docs/performance.svg from a saved run, without measuring:
 *   npx --prefix bench/compare tsx bench/compare/render.ts [results/latest.json]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeResults, type RunData } from './write-results.js';

const file = process.argv[2] ?? fileURLToPath(new URL('./results/latest.json', import.meta.url));
const data = JSON.parse(readFileSync(file, 'utf8')) as RunData & { medians?: unknown };
delete data.medians; // recomputed from the measurements
data.minutes ??= 0;
console.log(writeResults(data));
