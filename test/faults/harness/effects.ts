/** The side effects the fixture handlers log (one JSON line each), read back for the invariant checks. */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import type { EffectLine } from '../fixtures/effect-log.js';

/** Every effect line of a cluster's logs, indexed by job; read incrementally. */
export class EffectIndex {
  readonly byJob = new Map<string, EffectLine[]>();
  readonly all: EffectLine[] = [];
  readonly #offsets = new Map<string, number>();

  /** Reads what was appended to `paths` since the last call. */
  refresh(paths: Iterable<string>): void {
    for (const path of paths) {
      if (!existsSync(path)) continue;
      const from = this.#offsets.get(path) ?? 0;
      const size = statSync(path).size;
      if (size <= from) continue;
      const fd = openSync(path, 'r');
      const buf = Buffer.alloc(size - from);
      try {
        readSync(fd, buf, 0, buf.length, from);
      } finally {
        closeSync(fd);
      }
      const text = buf.toString('utf8');
      const end = text.lastIndexOf('\n');
      if (end < 0) continue;
      this.#offsets.set(path, from + Buffer.byteLength(text.slice(0, end + 1)));
      for (const line of text.slice(0, end).split('\n')) {
        if (line.trim() === '') continue;
        let e: EffectLine;
        try {
          e = JSON.parse(line) as EffectLine;
        } catch {
          continue; // a line torn by SIGKILL mid-write (never observed with appendFileSync, but harmless)
        }
        this.all.push(e);
        if (typeof e.job === 'string') {
          let list = this.byJob.get(e.job);
          if (!list) this.byJob.set(e.job, (list = []));
          list.push(e);
        }
      }
    }
  }

  of(jobId: string, kind?: string): EffectLine[] {
    const list = this.byJob.get(jobId) ?? [];
    return kind === undefined ? list : list.filter((e) => e.k === kind);
  }
}
