/**
 * `jobwing` usage through the real binary: help exits 0 on stdout, bad usage exits 2 with a
 * message on stderr naming what is wrong, a missing database exits 1 and is not created.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { jobwing, seededSqlite, type SeededStore } from './cli-harness.js';

// `dashboard` lives in its own file, which needs jobwing/http; listed once that file is in the tree.
const hasDashboard = existsSync(new URL('../../src/cli/commands/dashboard.ts', import.meta.url));
const COMMANDS = [...(hasDashboard ? ['dashboard'] : []), 'stats', 'list', 'show', 'history', 'explain', 'retry', 'cancel', 'cleanup'];
let store: SeededStore;
beforeAll(async () => {
  store = await seededSqlite();
});
afterAll(() => store.destroy());

describe.concurrent('jobwing usage', () => {
  it('--help lists every command and the exit statuses, on stdout, exit 0', async ({ expect }) => {
    const r = await jobwing(['--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    expect(r.stdout).toContain('--db');
    expect(r.stdout).toContain('2 bad usage');
  });

  it('<command> --help shows that command\'s flags, exit 0', async ({ expect }) => {
    const [list, cleanup] = await Promise.all([jobwing(['list', '--help']), jobwing(['cleanup', '--help'])]);
    expect(list.code).toBe(0);
    for (const flag of ['--status', '--type', '--org', '--limit', '--json', '--db', '--schema']) expect(list.stdout).toContain(flag);
    expect(cleanup.code).toBe(0);
    expect(cleanup.stdout).toContain('--older-than <duration>');
  });

  it('no command: help on stderr, exit 2', async ({ expect }) => {
    const r = await jobwing([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Usage: jobwing');
  });

  it('an unknown command or flag: exit 2, named on stderr with a suggestion', async ({ expect }) => {
    const [cmd, flag] = await Promise.all([jobwing(['lsit', ...store.flags]), jobwing(['list', '--stauts', 'queued', ...store.flags])]);
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toContain("unknown command 'lsit'");
    expect(cmd.stderr).toContain('list');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("unknown option '--stauts'");
    expect(cmd.stdout + flag.stdout).toBe('');
  });

  it('bad flag values and missing arguments: exit 2, each named on stderr', async ({ expect }) => {
    const cases: [string[], string][] = [
      [['list'], "required option '--db <path|url>'"],
      [['list', ...store.flags, '--limit', '0'], "'--limit <n>' argument '0' is invalid. expected an integer from 1 to 500"],
      [['list', ...store.flags, '--limit', 'ten'], "'--limit <n>' argument 'ten' is invalid"],
      [['list', ...store.flags, '--status', 'done'], '"done" is not a status; use one of waiting, scheduled'],
      [['show', ...store.flags], "missing required argument 'id'"],
      [['show', 'a', 'b', ...store.flags], 'too many arguments'],
      [['cleanup', ...store.flags], "required option '--older-than <duration>'"],
      [['cleanup', ...store.flags, '--older-than', '30'], '"30" is not a duration'],
      [['stats', ...store.flags, '--since', 'yesterday'], "'--since <when>' argument 'yesterday' is invalid"],
      [['list', ...store.flags, '--schema', 'app'], '--schema applies to a Postgres URL only'],
      [['list', '--db', 'mysql://root:hunter2@db/app'], 'only postgres:// URLs and SQLite file paths'],
    ];
    const runs = await Promise.all(cases.map(([args]) => jobwing(args)));
    runs.forEach((r, i) => {
      const [args, message] = cases[i]!;
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(message);
      expect(r.stdout, args.join(' ')).toBe('');
    });
    expect(runs.at(-1)!.stderr).not.toContain('hunter2');
  });

  it('a SQLite file that does not exist: exit 1 naming the path, and no file is created', async ({ expect }) => {
    const dir = mkdtempSync(join(tmpdir(), 'jobwing-cli-'));
    try {
      const path = join(dir, 'typo.sqlite');
      const r = await jobwing(['list', '--db', path]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`No SQLite database at ${path}`);
      expect(r.stdout).toBe('');
      expect(existsSync(path)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--db can come from JOBWING_DB', async ({ expect }) => {
    const r = await jobwing(['list', '--json'], { env: { JOBWING_DB: store.flags[1]! } });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).items).toHaveLength(3);
  });
});
