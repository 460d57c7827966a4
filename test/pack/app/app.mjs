// A scratch app that installed jobwing (ESM): `node app.mjs <db>` is the web process
// (worker: false); it forks `node app.mjs <db> worker`, submits a job and waits for it.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { defineJobType, JobEngine, sqliteStorage } from 'jobwing';

const [db, role = 'web'] = process.argv.slice(2);
const greet = defineJobType({ name: 'greet', input: z.object({ name: z.string() }), output: z.object({ text: z.string() }) });

if (role === 'worker') {
  const engine = new JobEngine({
    jobTypes: [greet.implement(async ({ name }) => ({ text: `hello ${name} from ${process.pid}` }))],
    storage: sqliteStorage({ path: db }),
    pollIntervalMs: 50,
  });
  process.on('message', () => void engine.stop().then(() => process.disconnect()));
  await engine.start();
  process.send('ready');
} else {
  const web = new JobEngine({ jobTypes: [greet], worker: false, storage: sqliteStorage({ path: db }), pollIntervalMs: 50 });
  await web.start();
  const worker = fork(fileURLToPath(import.meta.url), [db, 'worker']);
  await new Promise((resolve) => worker.once('message', resolve));
  const job = await web.system.submit('greet', { name: 'esm' });
  const done = await web.system.waitFor(job.id, { timeoutMs: 20_000 });
  worker.send('stop');
  await new Promise((resolve) => worker.once('exit', resolve));
  await web.stop();
  console.log(`${done.status}: ${done.output.text} (worker ${worker.pid})`);
}
