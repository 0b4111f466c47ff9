// `npm run bench:storage`: creates, gets, 1,000-key lists and watch throughput for each storage
// backend, side by side with the raw `etcd3` client doing the same work against the same etcd in
// the same run. Absolute numbers on these machines are noisy; the ratios are the figures.
// Loopback only, bounded in count: a few seconds per backend.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Etcd3 } from 'etcd3';
import { openBackend, type Backend } from '../../registry/storage/index.js';
import { startEtcd } from '../../test/helpers/etcd.js';

const CREATES = Number(process.env.BENCH_CREATES ?? 2000);
const GETS = Number(process.env.BENCH_GETS ?? 5000);
const LIST_KEYS = 1000;
const LISTS = Number(process.env.BENCH_LISTS ?? 50);
const WATCH_EVENTS = Number(process.env.BENCH_WATCH_EVENTS ?? 2000);
const CONCURRENCY = 50;
/** About the size of a small stored object. */
const VALUE = Buffer.from(JSON.stringify({ spec: { payload: 'x'.repeat(900) } }));

interface Figures {
  createsPerSec: number;
  getsPerSec: number;
  listMs: number;
  watchEventsPerSec: number;
}

/** The operations a subject offers; a Backend and the raw etcd3 client both provide them. */
interface Subject {
  create(key: string, value: Buffer): Promise<unknown>;
  get(key: string): Promise<unknown>;
  list(prefix: string): Promise<number>;
  /** Resolves once `count` events under `prefix` arrived after the subscription is live. */
  watchFor(prefix: string, count: number): Promise<{ ready: Promise<void>; done: Promise<void> }>;
}

async function runPool(total: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await op(next++);
    }),
  );
  return performance.now() - start;
}

async function measure(subject: Subject, prefix: string): Promise<Figures> {
  const createMs = await runPool(CREATES, CONCURRENCY, (i) => subject.create(`${prefix}c/${String(i).padStart(6, '0')}`, VALUE));
  const getMs = await runPool(GETS, CONCURRENCY, (i) => subject.get(`${prefix}c/${String(i % CREATES).padStart(6, '0')}`));
  await runPool(LIST_KEYS, CONCURRENCY, (i) => subject.create(`${prefix}l/${String(i).padStart(6, '0')}`, VALUE));
  let listed = 0;
  const listMs = await runPool(LISTS, 1, async () => {
    listed = await subject.list(`${prefix}l/`);
  });
  if (listed !== LIST_KEYS) throw new Error(`list returned ${listed} keys, expected ${LIST_KEYS}`);
  const watch = await subject.watchFor(`${prefix}w/`, WATCH_EVENTS);
  await watch.ready;
  const watchStart = performance.now();
  await runPool(WATCH_EVENTS, CONCURRENCY, (i) => subject.create(`${prefix}w/${String(i).padStart(6, '0')}`, VALUE));
  await watch.done;
  const watchMs = performance.now() - watchStart;
  return {
    createsPerSec: (CREATES / createMs) * 1000,
    getsPerSec: (GETS / getMs) * 1000,
    listMs: listMs / LISTS,
    watchEventsPerSec: (WATCH_EVENTS / watchMs) * 1000,
  };
}

function backendSubject(backend: Backend): Subject {
  return {
    create: (k, v) => backend.create(k, v),
    get: (k) => backend.get(k),
    list: async (p) => (await backend.list(p)).items.length,
    async watchFor(prefix, count) {
      const watch = backend.watch(prefix, await backend.currentRevision(), { maxPendingEvents: count * 2 });
      const done = (async () => {
        let seen = 0;
        for await (const batch of watch) {
          seen += batch.length;
          if (seen >= count) break;
        }
      })();
      return { ready: Promise.resolve(), done };
    },
  };
}

function rawEtcdSubject(client: Etcd3): Subject {
  return {
    create: (k, v) => client.if(k, 'Mod', '==', 0).then(client.put(k).value(v)).commit(),
    get: (k) => client.get(k).buffer(),
    list: async (p) => Object.keys(await client.getAll().prefix(p).buffers()).length,
    async watchFor(prefix, count) {
      const watcher = await client.watch().prefix(prefix).create();
      let seen = 0;
      const done = new Promise<void>((resolve) => {
        watcher.on('data', (res) => {
          seen += res.events.length;
          if (seen >= count) resolve();
        });
      });
      return { ready: Promise.resolve(), done: done.then(() => watcher.cancel()) };
    },
  };
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

async function main(): Promise<void> {
  const etcd = await startEtcd();
  const dir = mkdtempSync(join(tmpdir(), 'bench-storage-'));
  const results: Record<string, Figures> = {};
  try {
    const raw = new Etcd3({ hosts: etcd.endpoint });
    results['raw etcd3 client'] = await measure(rawEtcdSubject(raw), '/bench/raw/');
    raw.close();
    const backends: Array<[string, string]> = [
      ['memory', 'memory'],
      ['sqlite', `sqlite://${join(dir, 'state.db')}`],
      ['etcd3', etcd.url],
    ];
    for (const [name, url] of backends) {
      const backend = await openBackend({ url });
      try {
        results[name] = await measure(backendSubject(backend), `/bench/${name}/`);
      } finally {
        await backend.close();
      }
    }
  } finally {
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const base = results['raw etcd3 client'];
  const rows: Array<[string, keyof Figures, boolean]> = [
    ['creates/s (50 concurrent)', 'createsPerSec', true],
    ['gets/s (50 concurrent)', 'getsPerSec', true],
    [`list of ${LIST_KEYS} keys, ms`, 'listMs', false],
    ['watch events/s', 'watchEventsPerSec', true],
  ];
  const names = Object.keys(results);
  const lines = [`| figure | ${names.join(' | ')} | ${names.filter((n) => n !== 'raw etcd3 client').map((n) => `${n} ÷ raw`).join(' | ')} |`];
  lines.push(`|${' --- |'.repeat(names.length * 2)}`);
  for (const [label, key, higherIsBetter] of rows) {
    const cells = names.map((n) => fmt(results[n][key], key === 'listMs' ? 2 : 0));
    // Ratios are "how fast compared to raw etcd": above 1 is faster, whichever way the unit runs.
    const ratios = names
      .filter((n) => n !== 'raw etcd3 client')
      .map((n) => fmt(higherIsBetter ? results[n][key] / base[key] : base[key] / results[n][key], 2));
    lines.push(`| ${label} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`);
  }
  const table = lines.join('\n');
  console.log(`\nstorage benchmark (ratios: speed relative to the raw etcd3 client, >1 = faster)\n\n${table}\n`);
  mkdirSync('bench/results', { recursive: true });
  const file = join('bench/results', `${new Date().toISOString().slice(0, 10)}-storage.json`);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2));
  console.log(`written to ${file}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
