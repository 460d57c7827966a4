// The same scratch app in CommonJS: `node app.cjs <db>` (web) forks `node app.cjs <db> worker`.
const { fork } = require('node:child_process');
const { z } = require('zod');
const { defineJobType, JobEngine, sqliteStorage } = require('jobwing');

const [db, role = 'web'] = process.argv.slice(2);
const greet = defineJobType({ name: 'greet', input: z.object({ name: z.string() }), output: z.object({ text: z.string() }) });

async function main() {
  if (role === 'worker') {
    const engine = new JobEngine({
      jobTypes: [greet.implement(async ({ name }) => ({ text: `hello ${name} from ${process.pid}` }))],
      storage: sqliteStorage({ path: db }),
      pollIntervalMs: 50,
    });
    process.on('message', () => void engine.stop().then(() => process.disconnect()));
    await engine.start();
    process.send('ready');
    return;
  }
  const web = new JobEngine({ jobTypes: [greet], worker: false, storage: sqliteStorage({ path: db }), pollIntervalMs: 50 });
  await web.start();
  const worker = fork(__filename, [db, 'worker']);
  await new Promise((resolve) => worker.once('message', resolve));
  const job = await web.system.submit('greet', { name: 'cjs' });
  const done = await web.system.waitFor(job.id, { timeoutMs: 20_000 });
  worker.send('stop');
  await new Promise((resolve) => worker.once('exit', resolve));
  await web.stop();
  console.log(`${done.status}: ${done.output.text} (worker ${worker.pid})`);
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
