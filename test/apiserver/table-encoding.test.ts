// The Table encoder (apiserver/table-encoding.ts) writes exactly `JSON.stringify(toTable(...))`:
// for every kind, includeObject, requested version, cache objects and plain copies, kept row
// texts cold and warm; and the cell plans it relies on (registry/columns.ts) say the truth about
// every kind's columns.
import test from 'ava';
import { stringify as yamlStringify } from 'yaml';
import { BoundedWeakMemo } from '../../apiserver/encoded-objects.js';
import { encode, listBody, TableBody, toTable, type IncludeObject } from '../../apiserver/response.js';
import { encodeTableJson } from '../../apiserver/table-encoding.js';
import { Cacher } from '../../registry/cacher.js';
import { cellPlan } from '../../registry/columns.js';
import { humanAge, type KindDeclaration } from '../../registry/kind.js';
import { allKinds } from '../../registry/kinds.js';
import type { KubeObject } from '../../registry/meta.js';
import { declaration as performer } from '../../registry/hourglass.eigenlayer.io/performer/index.js';
import { declaration as pvcPolicy } from '../../registry/pvc-chonker.io/pvcpolicy/index.js';
import { declaration as stormCluster } from '../../registry/storm.apache.org/stormcluster/index.js';
import { openBackend } from '../../registry/storage/index.js';
import { decodeStored, resourcePrefix } from '../../registry/store.js';

const NOW = new Date('2026-03-04T05:06:07Z');
const LATER = new Date('2026-03-04T07:06:08Z');
const MUCH_LATER = new Date('2029-01-01T00:00:00Z');

/** Objects of `decl` with the shapes a Table meets: missing, odd and unicode values, dates or none. */
function sampleObjects(decl: KindDeclaration): KubeObject[] {
  const apiVersion = `${decl.group}/${decl.versions[0]}`;
  const base = (name: string, extra: Record<string, unknown>): KubeObject =>
    ({ apiVersion, kind: decl.kind, metadata: { name, namespace: 'ns', uid: `uid-${name}`, creationTimestamp: '2026-03-01T00:00:00Z' }, ...extra }) as KubeObject;
  return [
    base('plain', { spec: {} }),
    base('full', {
      metadata: { name: 'full', namespace: 'ns', uid: 'u', creationTimestamp: '2026-03-04T04:59:00Z', labels: { 'é': 'ü "q"' }, annotations: { note: 'a\nb' } },
      spec: { image: 'img:1', replicas: 3, avsAddress: '0xabc', version: 'v1', template: { threshold: '80%', increase: '10Gi', maxSize: '1Ti', cooldown: '5m' }, hardwareRequirements: { gpuCount: 2, gpuType: 'a100' }, managementMode: 'create', config: { performerMode: 'docker' } },
      status: { phase: 'Running', matchedPVCs: 7, readyReplicas: 1, ready: true, lastUpdated: '2026-03-04T05:00:00Z', lastExpansion: '2020-01-01T00:00:00Z', usedSlots: 2, totalSlots: 8, nimbusReady: 1, memberCount: 4, currentSize: '20Gi' },
    }),
    base('odd', {
      spec: { replicas: 1.5, image: '', template: { threshold: 80 } },
      status: { phase: 'Péndïng ✓', matchedPVCs: '7', ready: 'yes', lastUpdated: 12, slotsInfo: '3/9', totalSlots: 4 },
    }),
    { apiVersion, kind: decl.kind, metadata: { name: 'no-timestamp', namespace: 'ns' }, spec: {} } as KubeObject,
    base('same-age', { spec: {} }),
  ];
}

/** The same objects as a watch cache holds them (shared and frozen), from a cache over the memory driver. */
async function cached(decl: KindDeclaration, objects: KubeObject[]): Promise<{ items: KubeObject[]; close: () => Promise<void> }> {
  const backend = await openBackend({ url: 'memory' });
  const prefix = resourcePrefix(decl);
  for (const obj of objects) await backend.create(`${prefix}ns/${obj.metadata.name}`, Buffer.from(JSON.stringify(obj)));
  const cacher = new Cacher({ backend, prefix, decode: decodeStored, freezeObjects: true });
  await cacher.start();
  return {
    items: cacher.list().items,
    close: async () => {
      await cacher.stop();
      await backend.close();
    },
  };
}

const kinds: KindDeclaration[] = [pvcPolicy, stormCluster, performer];
const includeObjects: IncludeObject[] = ['Metadata', 'None', 'Object'];

for (const decl of kinds) {
  const versions: Array<string | undefined> = [undefined, ...decl.versions];
  test(`Table JSON of ${decl.kind} is JSON.stringify(toTable): every includeObject and version, cache objects and copies`, async (t) => {
    const { items, close } = await cached(decl, sampleObjects(decl));
    try {
      const copies = items.map((o) => structuredClone(o));
      for (const [source, objects] of [['cache objects', items], ['plain copies', copies]] as const) {
        for (const includeObject of includeObjects) {
          for (const version of versions) {
            // Kept row texts are made in the first round; the later rounds (other times) reuse them.
            for (const [round, now] of [['cold', NOW], ['warm, later', LATER], ['warm, much later', MUCH_LATER]] as const) {
              const options = { includeObject, groupVersion: 'meta.k8s.io/v1', withHeaders: true, now, version, list: { resourceVersion: '9', continue: 'c' } };
              const expected = JSON.stringify(toTable(decl, objects, options));
              const head = { ...toTable(decl, [], options), rows: [] };
              t.is(encodeTableJson(head, decl, objects, options), expected, `${source}, ${includeObject}, version ${version ?? '(stored)'}, ${round}`);
            }
          }
        }
      }
    } finally {
      await close();
    }
  });
}

test('a TableBody encodes as JSON.stringify of itself, in JSON and YAML, for lists and single objects', async (t) => {
  const { items, close } = await cached(stormCluster, sampleObjects(stormCluster));
  try {
    const table = { representation: 'Table', encoding: 'json', groupVersion: 'meta.k8s.io/v1beta1' } as const;
    for (const version of ['v1beta1', 'v1alpha1']) {
      for (const includeObject of includeObjects) {
        const body = listBody(stormCluster, version, items, { resourceVersion: '5', remainingItemCount: 2 }, table, includeObject);
        t.true(body instanceof TableBody);
        t.is(encode(body, 'json'), JSON.stringify(body), `list, ${version}, ${includeObject}`);
        t.is(encode(body, 'yaml'), yamlStringify(JSON.parse(JSON.stringify(body))), `list as YAML, ${version}, ${includeObject}`);
      }
      const empty = listBody(stormCluster, version, [], { resourceVersion: '5' }, table, 'Metadata');
      t.is(encode(empty, 'json'), JSON.stringify(empty), `empty list, ${version}`);
    }
  } finally {
    await close();
  }
});

// The encoder keeps the cells of `fixed` columns across requests and computes `age` ones as
// humanAge(since); this checks that every kind's columns behave as their plan says.
for (const decl of allKinds) {
  test(`cell plans of ${decl.kind} hold for its columns`, (t) => {
    for (const obj of sampleObjects(decl)) {
      for (const column of decl.columns) {
        const plan = cellPlan(column);
        if (plan.kind === 'fixed') t.deepEqual(column.cell(obj, MUCH_LATER), column.cell(obj, NOW), `${column.name} of ${obj.metadata.name}`);
        if (plan.kind === 'age') {
          for (const now of [NOW, LATER, MUCH_LATER]) t.deepEqual(column.cell(obj, now), humanAge(plan.since(obj), now), `${column.name} of ${obj.metadata.name}`);
        }
      }
    }
  });
}

test('a copy of a planned column is unknown to the encoder (computed per row)', (t) => {
  const [name] = pvcPolicy.columns;
  t.is(cellPlan(name).kind, 'fixed');
  t.is(cellPlan({ ...name }).kind, 'unknown');
});

test('BoundedWeakMemo keeps the newest values within its budget', (t) => {
  const memo = new BoundedWeakMemo<string>(100);
  const keys = Array.from({ length: 10 }, () => ({}));
  keys.forEach((key, i) => memo.set(key, `v${i}`, 30));
  t.true(memo.heldBytes <= 100);
  t.is(memo.get(keys[9]), 'v9');
  t.is(memo.get(keys[0]), undefined, 'oldest dropped');
  memo.set({}, 'too big', 101);
  t.true(memo.heldBytes <= 100, 'a value over the whole budget is not kept');
});
