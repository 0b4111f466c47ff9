// Strategic merge patch (`application/strategic-merge-patch+json`), as apimachinery's
// `strategicpatch.StrategicMergePatch` applies it: maps merge recursively and `null` deletes a key;
// lists whose schema says `x-kubernetes-patch-strategy: merge` merge — lists of objects by their
// `x-kubernetes-patch-merge-key`, lists of scalars as a union — and every other list is replaced.
//
// Directives:
//   `$patch: replace` in a map: the map becomes the patch (minus the directive);
//   `$patch: delete` in a map: the map becomes empty;
//   `{"$patch": "replace"}` as a list item: the list becomes the patch's other items;
//   `{"$patch": "delete", "<mergeKey>": v}` as a list item: that item is removed;
//   `$retainKeys: [k...]`: keys of the original map not listed are dropped;
//   `$deleteFromPrimitiveList/<field>: [v...]`: those values are removed from a merged scalar list;
//   `$setElementOrder/<field>: [...]`: the order of the merged list (items by merge key, or scalars).
// Without `$setElementOrder`, the merged list has the patch's items in patch order, with the items
// only the original has interleaved at their original relative positions (`mergeSortedSlice`).
import { PatchMeta } from './meta.js';

export class StrategicPatchError extends Error {}

type Obj = Record<string, unknown>;

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList/';
const SET_ELEMENT_ORDER = '$setElementOrder/';

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Applies `patch` to `original` (neither is modified) and returns the result. */
export function strategicMergePatch(original: unknown, patch: unknown, meta: PatchMeta = new PatchMeta(undefined)): Obj {
  if (!isObj(patch)) throw new StrategicPatchError('strategic merge patch must be a JSON object');
  const base = isObj(original) ? structuredClone(original) : {};
  return mergeMap(base, structuredClone(patch), meta);
}

function mergeMap(original: Obj, patch: Obj, meta: PatchMeta): Obj {
  if (DIRECTIVE in patch) {
    const directive = patch[DIRECTIVE];
    delete patch[DIRECTIVE];
    if (directive === 'replace') return stripDirectives(patch, meta) as Obj;
    if (directive === 'delete') return {};
    if (directive !== 'merge') throw new StrategicPatchError(`Unknown patch type: ${String(directive)} in map: ${JSON.stringify(patch)}`);
  }
  if (RETAIN_KEYS in patch) {
    const retain = patch[RETAIN_KEYS];
    delete patch[RETAIN_KEYS];
    if (!Array.isArray(retain)) throw new StrategicPatchError('$retainKeys must be a list of field names');
    const keep = new Set(retain.map(String));
    for (const key of Object.keys(patch)) {
      if (!key.startsWith('$') && !keep.has(key)) {
        throw new StrategicPatchError(`all fields of the patch must be listed in $retainKeys: ${key} is not`);
      }
    }
    for (const key of Object.keys(original)) if (!keep.has(key)) delete original[key];
  }

  // Lists with $deleteFromPrimitiveList / $setElementOrder are handled with their field.
  const deletions = new Map<string, unknown[]>();
  const orders = new Map<string, unknown[]>();
  for (const key of Object.keys(patch)) {
    if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      const list = patch[key];
      if (!Array.isArray(list)) throw new StrategicPatchError(`${key} must be a list`);
      deletions.set(key.slice(DELETE_FROM_PRIMITIVE_LIST.length), list);
      delete patch[key];
    } else if (key.startsWith(SET_ELEMENT_ORDER)) {
      const list = patch[key];
      if (!Array.isArray(list)) throw new StrategicPatchError(`${key} must be a list`);
      orders.set(key.slice(SET_ELEMENT_ORDER.length), list);
      delete patch[key];
    }
  }
  for (const [field, values] of deletions) {
    const current = original[field];
    if (Array.isArray(current)) original[field] = current.filter((v) => !values.some((d) => scalarEqual(d, v)));
  }

  for (const [key, patchValue] of Object.entries(patch)) {
    if (key.startsWith('$')) throw new StrategicPatchError(`unknown directive ${key}`);
    const fieldMeta = meta.field(key);
    if (patchValue === null) {
      delete original[key];
      continue;
    }
    const current = original[key];
    const strategies = fieldMeta.patchStrategies;
    if (current === undefined || current === null) {
      // Nothing to merge with: the patch value, directives removed and unmatched nulls dropped.
      const value =
        Array.isArray(patchValue) && strategies.includes('merge')
          ? mergeList([], patchValue, fieldMeta, orders.get(key))
          : Array.isArray(patchValue)
            ? replacedList(patchValue, fieldMeta)
            : stripDirectives(patchValue, fieldMeta);
      if (value !== undefined) original[key] = value;
      continue;
    }
    if (strategies.includes('replace')) {
      original[key] = stripDirectives(patchValue, fieldMeta);
    } else if (isObj(current) && isObj(patchValue)) {
      original[key] = mergeMap(current, patchValue, fieldMeta);
    } else if (Array.isArray(current) && Array.isArray(patchValue)) {
      original[key] = strategies.includes('merge')
        ? mergeList(current, patchValue, fieldMeta, orders.get(key))
        : replacedList(patchValue, fieldMeta);
    } else {
      original[key] = stripDirectives(patchValue, fieldMeta);
    }
  }
  // A $setElementOrder for a list the patch does not otherwise touch still reorders it.
  for (const [field, order] of orders) {
    if (field in patch) continue;
    const current = original[field];
    if (Array.isArray(current)) original[field] = sortByOrder(current, order, meta.field(field).patchMergeKey);
  }
  return original;
}

/** A non-merging list patch: `[{$patch: replace}]` markers are dropped, the rest replaces. */
function replacedList(patch: unknown[], meta: PatchMeta): unknown[] {
  return patch.filter((item) => !(isObj(item) && item[DIRECTIVE] === 'replace')).map((item) => stripDirectives(item, meta.items()));
}

function mergeList(original: unknown[], patch: unknown[], meta: PatchMeta, order: unknown[] | undefined): unknown[] {
  const itemMeta = meta.items();
  if (patch.some((item) => isObj(item) && item[DIRECTIVE] === 'replace')) {
    return patch.filter((item) => !(isObj(item) && DIRECTIVE in item)).map((item) => stripDirectives(item, itemMeta));
  }
  const mergeKey = meta.patchMergeKey;
  const objects = [...original, ...patch].some(isObj);
  let merged: unknown[];
  let patchItems: unknown[];
  if (!objects) {
    merged = [...original];
    for (const v of patch) if (!merged.some((m) => scalarEqual(m, v))) merged.push(v);
    patchItems = patch;
  } else {
    if (!mergeKey) throw new StrategicPatchError('cannot merge lists of objects without a merge key');
    const keyOf = (item: unknown) => (isObj(item) ? item[mergeKey] : undefined);
    merged = [...original];
    patchItems = [];
    for (const item of patch) {
      if (!isObj(item)) throw new StrategicPatchError(`the items of a list merged by ${mergeKey} must be objects`);
      const key = keyOf(item);
      if (key === undefined) throw new StrategicPatchError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`);
      const index = merged.findIndex((m) => scalarEqual(keyOf(m), key));
      if (item[DIRECTIVE] === 'delete') {
        if (index >= 0) merged.splice(index, 1);
        continue;
      }
      if (DIRECTIVE in item && item[DIRECTIVE] !== 'merge') {
        throw new StrategicPatchError(`Unknown patch type: ${String(item[DIRECTIVE])} in list item ${JSON.stringify(item)}`);
      }
      const { [DIRECTIVE]: _directive, ...rest } = item;
      if (index >= 0) merged[index] = mergeMap(merged[index] as Obj, rest, itemMeta);
      else merged.push(mergeMap({}, rest, itemMeta));
      patchItems.push(key);
    }
  }
  return orderMerged(merged, patchItems, original, order, objects ? mergeKey : undefined);
}

/**
 * apimachinery's `normalizeElementOrder`: the merged items the patch names, in patch (or
 * `$setElementOrder`) order, and the server-only items in original order, interleaved by their
 * positions in the original.
 */
function orderMerged(merged: unknown[], patchKeys: unknown[], original: unknown[], order: unknown[] | undefined, mergeKey: string | undefined): unknown[] {
  const id = (item: unknown) => (mergeKey !== undefined && isObj(item) ? item[mergeKey] : item);
  // With $setElementOrder, the items it names are the "patch" side (it lists the patch's items too).
  const patchOrder = order ? order.map(id) : patchKeys;
  const inPatch = (item: unknown) => patchOrder.some((k) => scalarEqual(k, id(item)));
  const fromPatch = sortBy(merged.filter(inPatch), patchOrder, id);
  const serverOrder = original.map(id);
  const serverOnly = sortBy(
    merged.filter((item) => !inPatch(item)),
    serverOrder,
    id,
  );
  return mergeSorted(serverOnly, fromPatch, serverOrder, id);
}

function sortByOrder(list: unknown[], order: unknown[], mergeKey: string | undefined): unknown[] {
  const id = (item: unknown) => (mergeKey !== undefined && isObj(item) ? item[mergeKey] : item);
  return sortBy(list, order.map(id), id);
}

/** Stable sort by position in `order`; items not in it come first, as apimachinery sorts them. */
function sortBy(list: unknown[], order: unknown[], id: (item: unknown) => unknown): unknown[] {
  const pos = (item: unknown) => order.findIndex((o) => scalarEqual(o, id(item)));
  return list
    .map((item, i) => ({ item, i, p: pos(item) }))
    .sort((a, b) => a.p - b.p || a.i - b.i)
    .map((e) => e.item);
}

/** apimachinery's `mergeSortedSlice`: inserts `left` items into `right` by their order on the server. */
function mergeSorted(left: unknown[], right: unknown[], serverOrder: unknown[], id: (item: unknown) => unknown): unknown[] {
  const index = (item: unknown) => serverOrder.findIndex((o) => scalarEqual(o, id(item)));
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = index(left[i]);
      const ri = index(right[j]);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

/** A patch value placed where there is nothing to merge with: directives and nulls removed. */
function stripDirectives(value: unknown, meta: PatchMeta): unknown {
  if (Array.isArray(value)) {
    return value.filter((item) => !(isObj(item) && item[DIRECTIVE] !== undefined && item[DIRECTIVE] !== 'merge')).map((item) => stripDirectives(item, meta.items()));
  }
  if (!isObj(value)) return value;
  if (value[DIRECTIVE] === 'delete') return {};
  const out: Obj = {};
  const orders = new Map<string, unknown[]>();
  for (const [k, v] of Object.entries(value)) if (k.startsWith(SET_ELEMENT_ORDER) && Array.isArray(v)) orders.set(k.slice(SET_ELEMENT_ORDER.length), v);
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith('$') || v === null) continue;
    const fieldMeta = meta.field(k);
    const stripped = stripDirectives(v, fieldMeta);
    out[k] = Array.isArray(stripped) && orders.has(k) ? sortByOrder(stripped, orders.get(k)!, fieldMeta.patchMergeKey) : stripped;
  }
  return out;
}

function scalarEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'object' || typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return false;
}
