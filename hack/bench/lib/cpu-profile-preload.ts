// Profiles the process it is preloaded into, for servers started by the bench harness, where
// `--cpu-prof` cannot be passed (Node 20 refuses it in NODE_OPTIONS):
//   NODE_OPTIONS="--import=<repo>/dist/hack/bench/lib/cpu-profile-preload.js" CPU_PROF_DIR=/tmp/prof …
// Writes `<CPU_PROF_DIR>/<pid>.cpuprofile` (Chrome DevTools format, as --cpu-prof) when the process exits.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.CPU_PROF_DIR ?? '.';
const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: Number(process.env.CPU_PROF_INTERVAL_US ?? 1000) });
session.post('Profiler.start');
process.on('exit', () => {
  // Same-thread inspector sessions answer synchronously, so this completes inside 'exit'.
  session.post('Profiler.stop', (err, result) => {
    if (err) return;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
  });
});
