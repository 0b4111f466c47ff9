// Passes ava's TAP output through and ends it with `tests: N passed, N failed` (plus skipped).
// Exits 1 when a test failed, when TAP reports a failure we did not count (a crashed file,
// an uncaught exception), or when no test ran at all.
import { createInterface } from 'node:readline';

let passed = 0;
let failed = 0;
let skipped = 0;
let reportedFail = 0;
for await (const line of createInterface({ input: process.stdin })) {
  process.stdout.write(`${line}\n`);
  if (/^ok \d+/.test(line)) {
    if (/# SKIP/i.test(line)) skipped++;
    else passed++;
  } else if (/^not ok \d+/.test(line)) {
    if (/# TODO/i.test(line)) skipped++;
    else failed++;
  } else {
    const m = /^# fail (\d+)/.exec(line);
    if (m) reportedFail = Number(m[1]);
  }
}
failed = Math.max(failed, reportedFail);
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
