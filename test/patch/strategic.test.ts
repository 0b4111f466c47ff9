// Strategic merge patch, table-driven; cases modelled on apimachinery's strategicpatch tests
// (merging lists by key, primitive lists, nulls, $patch replace/delete, $retainKeys,
// $deleteFromPrimitiveList, $setElementOrder), over a schema declared like the kinds' schemas.
import test from 'ava';
import { z } from 'zod';
import { atomicList, listMap, listSet } from '../../registry/schema.js';
import { PatchMeta } from '../../registry/patch/meta.js';
import { strategicMergePatch, StrategicPatchError } from '../../registry/patch/strategic.js';
import { fromZod, type JsonSchema } from '../../openapi/schema.js';

const item = z.looseObject({ name: z.string(), value: z.number().optional(), other: z.string().optional() });
const schema = z.object({
  mergingList: listMap(item, ['name']),
  mergingIntList: listSet(z.number()),
  nonMergingList: atomicList(item),
  nonMergingIntList: atomicList(z.number()),
  undeclaredList: z.array(item),
  mergeItemPtr: listMap(z.looseObject({ name: z.string(), nested: listMap(item, ['name']).optional() }), ['name']),
  retained: z.looseObject({}).meta({ 'x-kubernetes-patch-strategy': 'retainKeys' }),
  replaced: z.looseObject({}).meta({ 'x-kubernetes-patch-strategy': 'replace' }),
  simpleMap: z.record(z.string(), z.string()),
});
const definitions: Record<string, JsonSchema> = {};
const meta = new PatchMeta(fromZod(schema, { definitionPrefix: 't', definitions }), definitions);

interface Case {
  name: string;
  original: unknown;
  patch: unknown;
  result?: unknown;
  error?: RegExp;
}

const cases: Case[] = [
  { name: 'scalars replace, new keys are added', original: { a: 1, b: 'x' }, patch: { b: 'y', c: true }, result: { a: 1, b: 'y', c: true } },
  { name: 'null deletes a key', original: { a: 1, b: 2 }, patch: { a: null }, result: { b: 2 } },
  { name: 'null for a missing key is ignored', original: { a: 1 }, patch: { z: null }, result: { a: 1 } },
  { name: 'maps merge recursively', original: { simpleMap: { k1: 'a', k2: 'b' } }, patch: { simpleMap: { k2: 'c', k3: 'd' } }, result: { simpleMap: { k1: 'a', k2: 'c', k3: 'd' } } },
  { name: '$patch: replace on a map replaces it', original: { simpleMap: { k1: 'a', k2: 'b' } }, patch: { simpleMap: { $patch: 'replace', k3: 'd' } }, result: { simpleMap: { k3: 'd' } } },
  { name: '$patch: delete on a map empties it', original: { simpleMap: { k1: 'a' }, x: 1 }, patch: { simpleMap: { $patch: 'delete' } }, result: { simpleMap: {}, x: 1 } },
  { name: '$patch: delete at the top empties the object', original: { a: 1, b: 2 }, patch: { $patch: 'delete' }, result: {} },
  {
    name: 'list of maps merges by key: existing item merged, new item added before (patch order first)',
    original: { mergingList: [{ name: '1', value: 1 }, { name: '2', value: 2 }] },
    patch: { mergingList: [{ name: '2', other: 'b' }, { name: '3', value: 3 }] },
    result: { mergingList: [{ name: '1', value: 1 }, { name: '2', value: 2, other: 'b' }, { name: '3', value: 3 }] },
  },
  {
    name: 'a new item with no server position goes first without $setElementOrder',
    original: { mergingList: [{ name: '1' }, { name: '2' }] },
    patch: { mergingList: [{ name: '3' }] },
    result: { mergingList: [{ name: '3' }, { name: '1' }, { name: '2' }] },
  },
  {
    name: '$setElementOrder orders the merged list',
    original: { mergingList: [{ name: '1' }, { name: '2' }] },
    patch: { '$setElementOrder/mergingList': [{ name: '1' }, { name: '2' }, { name: '3' }], mergingList: [{ name: '3' }] },
    result: { mergingList: [{ name: '1' }, { name: '2' }, { name: '3' }] },
  },
  {
    name: '$setElementOrder alone reorders a list',
    original: { mergingList: [{ name: '1', value: 1 }, { name: '2', value: 2 }] },
    patch: { '$setElementOrder/mergingList': [{ name: '2' }, { name: '1' }] },
    result: { mergingList: [{ name: '2', value: 2 }, { name: '1', value: 1 }] },
  },
  {
    name: '$patch: delete removes a list item by key',
    original: { mergingList: [{ name: '1', value: 1 }, { name: '2', value: 2 }] },
    patch: { mergingList: [{ name: '1', $patch: 'delete' }] },
    result: { mergingList: [{ name: '2', value: 2 }] },
  },
  {
    name: '$patch: replace in a list replaces the list',
    original: { mergingList: [{ name: '1', value: 1 }, { name: '2', value: 2 }] },
    patch: { mergingList: [{ name: '3' }, { $patch: 'replace' }] },
    result: { mergingList: [{ name: '3' }] },
  },
  {
    name: 'nested merge lists merge by key at every level',
    original: { mergeItemPtr: [{ name: 'a', nested: [{ name: 'x', value: 1 }] }] },
    patch: { mergeItemPtr: [{ name: 'a', nested: [{ name: 'x', other: 'o' }, { name: 'y' }] }] },
    result: { mergeItemPtr: [{ name: 'a', nested: [{ name: 'x', value: 1, other: 'o' }, { name: 'y' }] }] },
  },
  {
    name: 'primitive merge lists are a union',
    original: { mergingIntList: [1, 2] },
    patch: { mergingIntList: [2, 3] },
    result: { mergingIntList: [1, 2, 3] },
  },
  {
    name: '$deleteFromPrimitiveList removes values',
    original: { mergingIntList: [1, 2, 3] },
    patch: { '$deleteFromPrimitiveList/mergingIntList': [2] },
    result: { mergingIntList: [1, 3] },
  },
  {
    name: '$setElementOrder on a primitive list',
    original: { mergingIntList: [1, 2] },
    patch: { '$setElementOrder/mergingIntList': [3, 2, 1], mergingIntList: [3] },
    result: { mergingIntList: [3, 2, 1] },
  },
  {
    name: 'atomic lists of maps are replaced',
    original: { nonMergingList: [{ name: '1' }, { name: '2' }] },
    patch: { nonMergingList: [{ name: '3' }] },
    result: { nonMergingList: [{ name: '3' }] },
  },
  { name: 'atomic primitive lists are replaced', original: { nonMergingIntList: [1, 2] }, patch: { nonMergingIntList: [3] }, result: { nonMergingIntList: [3] } },
  {
    name: 'undeclared lists are atomic (as for CRDs)',
    original: { undeclaredList: [{ name: '1' }] },
    patch: { undeclaredList: [{ name: '2' }] },
    result: { undeclaredList: [{ name: '2' }] },
  },
  {
    name: 'a merge list the original lacks is taken from the patch, directives removed',
    original: {},
    patch: { mergingList: [{ name: '1' }, { name: '2', $patch: 'delete' }] },
    result: { mergingList: [{ name: '1' }] },
  },
  {
    name: '$retainKeys drops keys of the original that are not listed',
    original: { retained: { a: 1, b: 2, c: 3 } },
    patch: { retained: { $retainKeys: ['a', 'c'], c: 4 } },
    result: { retained: { a: 1, c: 4 } },
  },
  {
    name: '$retainKeys must list every field of the patch',
    original: { retained: { a: 1 } },
    patch: { retained: { $retainKeys: ['a'], b: 2 } },
    error: /must be listed in \$retainKeys/,
  },
  {
    name: 'patch strategy replace replaces a map',
    original: { replaced: { a: 1, b: 2 } },
    patch: { replaced: { c: 3 } },
    result: { replaced: { c: 3 } },
  },
  { name: 'an item without the merge key is an error', original: { mergingList: [{ name: '1' }] }, patch: { mergingList: [{ value: 1 }] }, error: /does not contain declared merge key: name/ },
  { name: 'an unknown $patch value is an error', original: { simpleMap: {} }, patch: { simpleMap: { $patch: 'frobnicate' } }, error: /Unknown patch type: frobnicate/ },
  { name: 'an unknown directive is an error', original: {}, patch: { $bogus: 1 }, error: /unknown directive \$bogus/ },
];

for (const c of cases) {
  test(`strategic merge patch: ${c.name}`, (t) => {
    const patch = JSON.parse(JSON.stringify(c.patch));
    const original = structuredClone(c.original);
    if (c.error) {
      const err = t.throws(() => strategicMergePatch(original, patch, meta));
      t.true(err instanceof StrategicPatchError);
      t.regex(err!.message, c.error);
      return;
    }
    t.deepEqual(strategicMergePatch(original, patch, meta), c.result);
    t.deepEqual(original, c.original, 'the original is not modified');
  });
}
