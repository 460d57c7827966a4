/**
 * Postgres event tail, found by bench/pg-event-soak.ts (about one drain in 30–85 lost one
 * settle batch's events): the tail's horizon — the highest event seq handed out — was read
 * with `SELECT last_value FROM event_seq`. That reads the sequence's tuple without its buffer
 * lock, and every 32nd nextval() writes a value 32 ahead into that tuple for its WAL record
 * before putting the real one back. A read in that window saw a horizon up to 32 seqs too high;
 * writers that took those seqs a moment later were not waited for, and the cursor moved past
 * their rows before they committed. The horizon is now read with pg_sequence_last_value(),
 * which holds the buffer lock, so it never runs ahead of the sequence.
 *
 * The race window is a few microseconds, so the check drives many reads against a writer
 * that takes seqs in bursts; with the old read it failed within the first few thousand.
 */
import pg from 'pg';
import { describe, expect, it, onTestFinished } from 'vitest';
import { postgresStorage } from '../../src/postgres.js';
import { PG_URL } from '../helpers/stores.js';

const READS = 6_000;
const seqOf = (cursor: string) => (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { s: number }).s;

describe.skipIf(!PG_URL)(`Postgres event horizon under concurrent seq use${PG_URL ? '' : ' (skipped: set JOBWING_TEST_PG_URL to run it)'}`, () => {
  it('never reports a horizon beyond the sequence: each read sees at most the last seq taken, so later reads never go back', async () => {
    const schema = `jobwing_horizon_${Math.random().toString(36).slice(2, 10)}`;
    const store = postgresStorage({ connectionString: PG_URL!, schema, poolSize: 2 });
    await store.migrate();
    const writer = new pg.Client({ connectionString: PG_URL });
    await writer.connect();
    let writing = true;
    // Seqs taken in bursts, as a settle batch's history insert takes them (no rows needed).
    const burst = `SELECT nextval('"${schema}".event_seq') FROM generate_series(1, 200)`;
    const writes = (async () => {
      while (writing) await writer.query(burst);
    })();
    onTestFinished(async () => {
      writing = false;
      await writes.catch(() => undefined);
      await store.close();
      await writer.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await writer.end();
    });
    await writer.query(burst);

    const start = (await store.readEvents({ after: null, limit: 10 })).cursor;
    let lastFresh = 0;
    let lastTail = 0;
    const wentBack: string[] = [];
    for (let i = 0; i < READS; i++) {
      // Both ways a cursor gets its seq: a fresh cursor at the end, and a read from a cursor.
      const fresh = seqOf((await store.readEvents({ after: null, limit: 10 })).cursor);
      if (fresh < lastFresh) wentBack.push(`fresh cursor ${lastFresh} then ${fresh}`);
      lastFresh = Math.max(lastFresh, fresh);
      const tail = seqOf((await store.readEvents({ after: start, limit: 10 })).cursor);
      if (tail < lastTail) wentBack.push(`read from a cursor: horizon ${lastTail} then ${tail}`);
      lastTail = Math.max(lastTail, tail);
    }
    expect(wentBack).toEqual([]);
    expect(lastTail).toBeGreaterThan(seqOf(start)); // the writer was taking seqs throughout
  }, 60_000);
});
