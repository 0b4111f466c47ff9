// Keeps the benchmark parts from rotting: each part runs end to end at the smallest sizes its
// knobs allow and must return well-formed figures (a measurement, a same-run baseline, a finite
// ratio, a target and a verdict). Nothing here looks at speed: whether a target is met is the
// benchmark's business (`npm run bench`), never a test's.
import test from 'ava';
import { allParts } from '../../hack/bench/parts/index.js';
import { requireEtcd } from '../helpers/etcd.js';

/** The smallest sizes that still exercise every code path of every part. */
const SMOKE_SIZES: Record<string, string> = {
  BENCH_SECONDS: '1',
  BENCH_LIST_OBJECTS: '200',
  BENCH_OBJECTS: '1000',
  BENCH_LIST_TIMES: '2',
  BENCH_PROMOTES: '10',
  BENCH_STORAGE_CREATES: '100',
  BENCH_STORAGE_GETS: '100',
  BENCH_STORAGE_LISTS: '2',
  BENCH_STORAGE_WATCH_EVENTS: '100',
  BENCH_WATCHERS: '10',
  BENCH_WATCH_WORKERS: '1',
  BENCH_WRITES_PER_SECOND: '20',
  BENCH_WATCH_SECONDS: '2',
};
Object.assign(process.env, SMOKE_SIZES);

const NEEDS_ETCD = new Set(['create', 'storage']);

test('every part named in package.json exists and every part has a bench:<name> script', async (t) => {
  const { readFileSync } = await import('node:fs');
  const scripts = Object.keys(JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).scripts as Record<string, string>)
    .filter((s) => s.startsWith('bench:'))
    .map((s) => s.slice('bench:'.length));
  t.deepEqual([...scripts].sort(), allParts.map((p) => p.name).sort());
});

const etcdOk = requireEtcd(test, 'bench parts that need etcd');
for (const part of allParts) {
  if (NEEDS_ETCD.has(part.name) && !etcdOk) continue;
  test.serial(`bench part ${part.name} runs at smoke sizes and returns well-formed figures`, async (t) => {
    t.timeout(180_000);
    const figures = await part.run({ log: (m) => t.log(m) });
    t.true(figures.length > 0, 'at least one figure');
    for (const f of figures) {
      t.is(f.part, part.name);
      t.true(f.figure.length > 0);
      for (const [what, value] of [['measured', f.measured.value], ['baseline', f.baseline.value], ['ratio', f.ratio]] as const) {
        t.true(Number.isFinite(value) && value >= 0, `${f.figure}: ${what} = ${value}`);
      }
      t.true(f.baseline.name.length > 0 && f.measured.unit.length > 0 && f.baseline.unit.length > 0, `${f.figure}: units and baseline name`);
      t.true(f.target.length > 0, `${f.figure}: target text`);
      t.is(typeof f.pass, 'boolean');
    }
  });
}
