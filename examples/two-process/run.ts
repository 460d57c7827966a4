/**
 * Runs the two-process example end to end, for CI and for a quick look:
 *
 *   npx tsx examples/two-process/run.ts [jobs=5]
 *
 * Starts the worker, waits until it is ready, starts the web process that submits the jobs and
 * waits for them to complete (through events from the worker), then stops the worker with
 * SIGTERM. Exits 0 only if both processes exited 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const jobs = Number(process.argv[2] ?? 5);
const dbPath = process.env.JOBWING_DB ?? 'jobwing-two-process.sqlite';
for (const suffix of ['', '-wal', '-shm']) rmSync(dbPath + suffix, { force: true });

// `--import tsx` by absolute URL, so the children run from any working directory.
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const children: ChildProcess[] = [];

function start(name: string, file: string, args: string[], onLine?: (line: string) => void): { child: ChildProcess; exited: Promise<number> } {
  const child = spawn(process.execPath, ['--import', tsx, here(file), ...args], {
    env: { ...process.env, JOBWING_DB: dbPath },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const prefix = `[${name}]`.padEnd(9);
  createInterface({ input: child.stdout! }).on('line', (line) => {
    console.log(`${prefix}${line}`);
    onLine?.(line);
  });
  createInterface({ input: child.stderr! }).on('line', (line) => console.error(`${prefix}${line}`));
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  return { child, exited };
}

const fail = (message: string): never => {
  console.error(`two-process: ${message}`);
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  process.exit(1);
};
const deadline = setTimeout(() => fail('did not finish within 60 s'), 60_000);
deadline.unref();
const forward = (signal: NodeJS.Signals) => {
  for (const c of children) if (c.exitCode === null) c.kill(signal);
};
process.on('SIGINT', forward);
process.on('SIGTERM', forward);

// 1. The worker first: it creates the schema and then waits for jobs.
let ready: () => void = () => undefined;
const workerReady = new Promise<void>((resolve) => (ready = resolve));
const worker = start('worker', './worker.ts', [], (line) => {
  if (line.startsWith('worker ready')) ready();
});
let started = false;
void worker.exited.then((code) => {
  if (!started) fail(`worker exited before it was ready, with code ${code}`);
});
await workerReady;
started = true;

// 2. The web process submits the jobs and exits once it heard every one complete.
const web = start('web', './web.ts', ['--jobs', String(jobs)]);
const webCode = await web.exited;

// 3. Stop the worker gracefully.
if (worker.child.exitCode === null) worker.child.kill('SIGTERM');
const workerCode = await worker.exited;

clearTimeout(deadline);
process.off('SIGINT', forward);
process.off('SIGTERM', forward);
if (webCode !== 0 || workerCode !== 0) fail(`web exited with ${webCode}, worker with ${workerCode}`);
console.log(`two-process: ${jobs} jobs submitted by web, run by worker; both processes exited 0`);
