// The memo of cache objects' JSON (apiserver/encoded-objects.ts): bodies assembled from it are
// byte for byte JSON.stringify of the same body (objects, lists, Tables, odd values), it serves
// repeated encodings of the same cache object from memory, and it stays within its byte budget.
import test from 'ava';
import { EncodedObjects, stringifyWithArray } from '../../apiserver/encoded-objects.js';
import { encode, listBody, objectBody, toTable } from '../../apiserver/response.js';
import { Cacher } from '../../registry/cacher.js';
import type { KubeObject } from '../../registry/meta.js';
import { openBackend } from '../../registry/storage/index.js';
import { decodeStored, resourcePrefix } from '../../registry/store.js';
import { declaration as pvcPolicy } from '../../registry/pvc-chonker.io/pvcpolicy/index.js';

const decl = pvcPolicy;
const PREFIX = resourcePrefix(decl);

function policy(name: string, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'pvc-chonker.io/v1alpha1',
    kind: 'PVCPolicy',
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, creationTimestamp: '2026-01-01T00:00:00Z', labels: { app: 'db', 'é': 'ü' }, annotations: { note: 'a "quoted" \n line' } },
    spec: { selector: { matchLabels: { app: 'db' } }, template: { threshold: '80%', increase: '10Gi' } },
    ...extra,
  } as KubeObject;
}

/** Cache objects (shared, as the memo requires) from a real watch cache over the memory driver. */
async function cachedPolicies(count: number): Promise<{ items: KubeObject[]; close: () => Promise<void> }> {
  const backend = await openBackend({ url: 'memory' });
  for (let i = 0; i < count; i++) {
    const obj = policy(`p-${i}`, i % 2 ? { status: { matchedPVCs: i, lastUpdated: '2026-01-02T00:00:00Z' } } : {});
    const { resourceVersion: _rv, ...metadata } = obj.metadata;
    await backend.create(`${PREFIX}ns/p-${i}`, Buffer.from(JSON.stringify({ ...obj, metadata })));
  }
  const cacher = new Cacher({ backend, prefix: PREFIX, decode: decodeStored, freezeObjects: true });
  await cacher.start();
  const { items } = cacher.list();
  return {
    items,
    close: async () => {
      await cacher.stop();
      await backend.close();
    },
  };
}

test('encoded bodies are byte for byte JSON.stringify: object, list, Table, PartialObjectMetadataList', async (t) => {
  const { items, close } = await cachedPolicies(7);
  try {
    const json = { representation: 'object', encoding: 'json' } as const;
    const table = { representation: 'Table', encoding: 'json', groupVersion: 'meta.k8s.io/v1' } as const;
    const pom = { representation: 'PartialObjectMetadata', encoding: 'json', groupVersion: 'meta.k8s.io/v1' } as const;
    const meta = { resourceVersion: '42', continue: 'token', remainingItemCount: 3 };
    const bodies: Array<[string, unknown]> = [
      ['object', objectBody(decl, items[0], json, 'Metadata')],
      ['list', listBody(decl, 'v1alpha1', items, meta, json, 'Metadata')],
      ['empty list', listBody(decl, 'v1alpha1', [], { resourceVersion: '1' }, json, 'Metadata')],
      ['Table, rows with metadata', listBody(decl, 'v1alpha1', items, meta, table, 'Metadata')],
      ['Table, rows with objects', listBody(decl, 'v1alpha1', items, meta, table, 'Object')],
      ['Table, rows without objects', listBody(decl, 'v1alpha1', items, meta, table, 'None')],
      ['Table of one', toTable(decl, [items[1]], { includeObject: 'Metadata', groupVersion: 'meta.k8s.io/v1', withHeaders: true })],
      ['PartialObjectMetadataList', listBody(decl, 'v1alpha1', items, meta, pom, 'Metadata')],
    ];
    for (const [what, body] of bodies) {
      const expected = JSON.stringify(body);
      t.is(encode(body, 'json'), expected, `${what} (first encoding)`);
      t.is(encode(body, 'json'), expected, `${what} (from the memo)`);
    }
  } finally {
    await close();
  }
});

const oddCases: Array<[string, Record<string, unknown>]> = [
  ['undefined, function and symbol members are left out', { a: 1, b: undefined, c: () => 1, d: Symbol('x'), items: [{ x: undefined, y: [undefined, () => 1] }] }],
  ['non-object elements', { items: [1, 'two', null, undefined, true, [3], NaN] }],
  ['dates and toJSON', { items: [new Date(0), { toJSON: () => 'custom' }, { when: new Date(1000) }, { gone: { toJSON: () => undefined }, kept: 1 }, { toJSON: () => undefined }] }],
  ['members left out first and last', { items: [{ a: undefined, b: 1, c: () => 2 }, { only: undefined }, { nested: { deeper: { x: undefined, y: 2 } } }] }],
  ['items not last', { items: [{ a: 1 }], after: true }],
  ['nested plain objects', { rows: [{ cells: ['a', 1, null], object: { kind: 'K', metadata: { name: 'n', labels: { a: 'b' } } } }] }],
];
for (const [what, body] of oddCases) {
  test(`stringifyWithArray matches JSON.stringify: ${what}`, (t) => {
    const key = 'rows' in body ? 'rows' : 'items';
    t.is(stringifyWithArray(body, key), JSON.stringify(body));
  });
}

test('a cache object is encoded once and then served from memory; other objects never are', async (t) => {
  const { items, close } = await cachedPolicies(2);
  try {
    const memo = new EncodedObjects(1024 * 1024);
    const first = memo.stringify(items[0]);
    t.is(memo.stringify(items[0]), first, 'same text');
    t.is(memo.heldBytes, first.length, 'held once');
    const fresh = structuredClone(items[0]);
    t.is(memo.stringify(fresh), first, 'a copy encodes the same');
    t.is(memo.heldBytes, first.length, 'a copy is not a cache object: not held');
  } finally {
    await close();
  }
});

test('the memo stays within its byte budget, dropping the oldest encodings', async (t) => {
  const { items, close } = await cachedPolicies(20);
  try {
    const one = JSON.stringify(items[0]).length;
    const memo = new EncodedObjects(one * 5);
    for (const item of items) t.is(memo.stringify(item), JSON.stringify(item));
    t.true(memo.heldBytes <= one * 5 + 16, `held ${memo.heldBytes} bytes, budget ${one * 5}`);
    t.true(memo.heldBytes > 0);
  } finally {
    await close();
  }
});
