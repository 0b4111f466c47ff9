// The storage backends on their own (no HTTP, no Store): creates, gets, 1,000-key lists and watch
// throughput of each driver (memory, sqlite, etcd3), against the raw `etcd3` client doing the same
// work against the same etcd in the same run. Bounded in count: a few seconds per backend.
//
// The issue sets no target for this layer; the targets here are the ones the server-level figures
// imply: the etcd3 driver should cost little over the raw client (≥ 0.70 of its throughput, as the
// create figure asks of the whole server), and the embedded stores should keep up with it (≥ 0.50,
// as the sqlite create figure asks).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Etcd3 } from 'etcd3';
import { openBackend, type Backend } from '../../../registry/storage/index.js';
import { startEtcd } from '../../lib/etcd.js';
import { figure, round, type Figure } from '../lib/figures.js';
import type { BenchPart } from '../lib/part.js';
import { knob, runPool } from '../lib/stats.js';

const CONCURRENCY = 50;
const LIST_KEYS = 1000;
/** About the size of a small stored object. */
const VALUE = Buffer.from(JSON.stringify({ spec: { payload: 'x'.repeat(900) } }));

interface Sizes {
  creates: number;
  gets: number;
  lists: number;
  watchEvents: number;
}

interface Measured {
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
  /** Subscribes to `prefix`; `done` resolves once `count` events arrived. */
  watchFor(prefix: string, count: number): Promise<{ done: Promise<void> }>;
}

const keyOf = (prefix: string, i: number) => `${prefix}${String(i).padStart(6, '0')}`;

/** Creates and gets before the measured ones: the first subject would otherwise pay for a cold etcd and JIT. */
const WARMUP_OPS = 500;

async function measure(subject: Subject, prefix: string, sizes: Sizes): Promise<Measured> {
  await runPool(WARMUP_OPS, CONCURRENCY, (i) => subject.create(keyOf(`${prefix}warm/`, i), VALUE));
  await runPool(WARMUP_OPS, CONCURRENCY, (i) => subject.get(keyOf(`${prefix}warm/`, i)));
  const createMs = await runPool(sizes.creates, CONCURRENCY, (i) => subject.create(keyOf(`${prefix}c/`, i), VALUE));
  const getMs = await runPool(sizes.gets, CONCURRENCY, (i) => subject.get(keyOf(`${prefix}c/`, i % sizes.creates)));
  await runPool(LIST_KEYS, CONCURRENCY, (i) => subject.create(keyOf(`${prefix}l/`, i), VALUE));
  let listed = 0;
  const listMs = await runPool(sizes.lists, 1, async () => {
    listed = await subject.list(`${prefix}l/`);
  });
  if (listed !== LIST_KEYS) throw new Error(`list returned ${listed} keys, expected ${LIST_KEYS}`);
  const watch = await subject.watchFor(`${prefix}w/`, sizes.watchEvents);
  const watchStart = performance.now();
  await runPool(sizes.watchEvents, CONCURRENCY, (i) => subject.create(keyOf(`${prefix}w/`, i), VALUE));
  await watch.done;
  const watchMs = performance.now() - watchStart;
  return {
    createsPerSec: (sizes.creates / createMs) * 1000,
    getsPerSec: (sizes.gets / getMs) * 1000,
    listMs: listMs / sizes.lists,
    watchEventsPerSec: (sizes.watchEvents / watchMs) * 1000,
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
      return { done };
    },
  };
}

function rawEtcdSubject(client: Etcd3): Subject {
  return {
    // The create transaction the etcd3 driver sends: compare mod_revision == 0, then put.
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
      return { done: done.then(() => watcher.cancel()) };
    },
  };
}

/** The four figures of one backend against the raw client's. */
function figuresOf(backend: string, m: Measured, raw: Measured, sizes: Sizes): Figure[] {
  const minimum = backend === 'etcd3' ? 0.7 : 0.5;
  const listMaximum = backend === 'etcd3' ? 1.5 : 2;
  const rawName = (what: string) => `raw etcd3 client, ${what}, same etcd`;
  const throughput = (label: string, unit: string, measured: number, baseline: number, what: string): Figure =>
    figure({
      part: 'storage',
      figure: `storage ${backend}: ${label}`,
      measured: { value: measured, unit },
      baseline: { name: rawName(what), value: baseline, unit },
      target: `ratio ≥ ${minimum.toFixed(2)}`,
      pass: measured / baseline >= minimum,
      details: { sizes, concurrency: CONCURRENCY },
    });
  return [
    throughput(`creates/s (${CONCURRENCY} in flight)`, 'ops/s', m.createsPerSec, raw.createsPerSec, 'create txns'),
    throughput(`gets/s (${CONCURRENCY} in flight)`, 'ops/s', m.getsPerSec, raw.getsPerSec, 'gets'),
    figure({
      part: 'storage',
      figure: `storage ${backend}: list of ${LIST_KEYS} keys, mean`,
      measured: { value: m.listMs, unit: 'ms' },
      baseline: { name: rawName('prefix range'), value: raw.listMs, unit: 'ms' },
      target: `ratio ≤ ${listMaximum.toFixed(2)}`,
      pass: m.listMs / raw.listMs <= listMaximum,
      details: { lists: sizes.lists },
    }),
    throughput('watch events/s', 'events/s', m.watchEventsPerSec, raw.watchEventsPerSec, 'watch'),
  ];
}

export const storagePart: BenchPart = {
  name: 'storage',
  description: 'storage drivers (memory, sqlite, etcd3): creates, gets, lists, watch vs the raw etcd3 client on the same etcd',
  async run({ log }) {
    const sizes: Sizes = {
      creates: knob('STORAGE_CREATES', 2000),
      gets: knob('STORAGE_GETS', 5000),
      lists: knob('STORAGE_LISTS', 50),
      watchEvents: knob('STORAGE_WATCH_EVENTS', 2000),
    };
    const etcd = await startEtcd();
    const dir = mkdtempSync(join(tmpdir(), 'bench-storage-'));
    const measured: Record<string, Measured> = {};
    try {
      log('raw etcd3 client');
      const raw = new Etcd3({ hosts: etcd.endpoint });
      try {
        measured.raw = await measure(rawEtcdSubject(raw), '/bench/raw/', sizes);
      } finally {
        raw.close();
      }
      const backends: Array<[string, string]> = [
        ['memory', 'memory'],
        ['sqlite', `sqlite://${join(dir, 'state.db')}`],
        ['etcd3', etcd.url],
      ];
      for (const [name, url] of backends) {
        log(`${name} backend`);
        const backend = await openBackend({ url });
        try {
          measured[name] = await measure(backendSubject(backend), `/bench/${name}/`, sizes);
        } finally {
          await backend.close();
        }
      }
    } finally {
      await etcd.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    log(`raw etcd3: ${Object.entries(measured.raw).map(([k, v]) => `${k}=${round(v)}`).join(' ')}`);
    return ['memory', 'sqlite', 'etcd3'].flatMap((name) => figuresOf(name, measured[name], measured.raw, sizes));
  },
};
