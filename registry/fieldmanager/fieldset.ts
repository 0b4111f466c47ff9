// Field sets: which fields of an object a manager owns, as server-side apply tracks them
// (sigs.k8s.io/structured-merge-diff `fieldpath.Set`), and their `FieldsV1` wire form.
//
// A path is a list of elements: `f:<field>` (a field of an object), `k:{"name":"x"}` (the item of a
// map-type list with those key values, keys sorted), `v:<json>` (a value of a set-type list),
// `i:<n>` (an item of an atomic list; never produced here, accepted on decode). A set holds paths;
// FieldsV1 nests them as JSON objects where `{}` is a member leaf and `".": {}` marks a member that
// also has members below it (a granular map, a list item).
import type { PatchMeta } from '../patch/meta.js';

export type PathElement = string;
export type FieldPath = PathElement[];

const SEP = '\n';

/** A set of field paths; immutable operations return new sets. */
export class FieldSet {
  private readonly paths: Set<string>;

  constructor(paths: Iterable<FieldPath | string> = []) {
    this.paths = new Set();
    for (const p of paths) this.paths.add(typeof p === 'string' ? p : p.join(SEP));
  }

  get size(): number {
    return this.paths.size;
  }

  get empty(): boolean {
    return this.paths.size === 0;
  }

  has(path: FieldPath): boolean {
    return this.paths.has(path.join(SEP));
  }

  /** `has` for a path given as its key (its elements joined with the separator, as `keys()` lists them). */
  hasKey(key: string): boolean {
    return this.paths.has(key);
  }

  keys(): string[] {
    return [...this.paths];
  }

  /** Every path, in sorted order. */
  list(): FieldPath[] {
    return [...this.paths].sort().map((k) => k.split(SEP));
  }

  union(other: FieldSet): FieldSet {
    return new FieldSet([...this.paths, ...other.paths]);
  }

  intersection(other: FieldSet): FieldSet {
    return new FieldSet([...this.paths].filter((p) => other.paths.has(p)));
  }

  difference(other: FieldSet): FieldSet {
    return new FieldSet([...this.paths].filter((p) => !other.paths.has(p)));
  }

  /** Paths that are `path` or below it. */
  hasPrefix(path: FieldPath): boolean {
    const key = path.join(SEP);
    for (const p of this.paths) if (p === key || p.startsWith(key + SEP)) return true;
    return false;
  }

  /** Only the paths for which `keep` holds. */
  filter(keep: (path: FieldPath) => boolean): FieldSet {
    return new FieldSet([...this.paths].filter((p) => keep(p.split(SEP))));
  }

  /** Only the paths whose key (as `keys()` lists them) `keep` accepts; `filter` without splitting paths. */
  filterKeys(keep: (key: string) => boolean): FieldSet {
    return new FieldSet([...this.paths].filter(keep));
  }

  equals(other: FieldSet): boolean {
    return this.size === other.size && [...this.paths].every((p) => other.paths.has(p));
  }
}

/** The first element of a path given as its key: `f:spec` of `f:spec` + SEP + `f:replicas`. */
export function firstElement(key: string): string {
  const end = key.indexOf(SEP);
  return end < 0 ? key : key.slice(0, end);
}

// ---- FieldsV1 ---------------------------------------------------------------------------------

export type FieldsV1 = { [element: string]: FieldsV1 };

/**
 * The FieldsV1 form of a set: keys sorted, and `".": {}` first in a member that has members below.
 * Built in one pass over the sorted paths: a path sorts after its ancestors (the separator sorts
 * below every character of an element), and the paths under one element come before the next
 * element's, so every object receives its keys in sorted order, and a member receives its "."
 * before its first child.
 */
export function toFieldsV1(set: FieldSet): FieldsV1 {
  const root: FieldsV1 = {};
  const members = new Set<FieldsV1>();
  for (const key of set.keys().sort()) {
    let node = root;
    for (let start = 0; start <= key.length; ) {
      let end = key.indexOf(SEP, start);
      if (end < 0) end = key.length;
      const element = key.slice(start, end);
      let child = node[element];
      if (child === undefined) {
        if (members.has(node) && !('.' in node)) node['.'] = {};
        child = node[element] = {};
      }
      node = child;
      start = end + 1;
    }
    members.add(node);
  }
  return root;
}

/** The set a FieldsV1 value describes; throws on a value that is not FieldsV1. */
export function fromFieldsV1(value: unknown): FieldSet {
  const out: string[] = [];
  const walk = (node: unknown, prefix: FieldPath) => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) throw new Error(`invalid FieldsV1 at ${prefix.join('')}`);
    const entries = Object.entries(node as Record<string, unknown>);
    if (prefix.length > 0 && (entries.length === 0 || '.' in (node as object))) out.push(prefix.join(SEP));
    for (const [element, child] of entries) {
      if (element === '.') continue;
      if (!/^[fkvi]:/.test(element)) throw new Error(`invalid FieldsV1 path element ${JSON.stringify(element)}`);
      walk(child, [...prefix, element]);
    }
  };
  walk(value ?? {}, []);
  return new FieldSet(out);
}

// ---- paths of objects -------------------------------------------------------------------------

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `k:{"name":"x"}` for an item of a map-type list; undefined if the item lacks a key. */
export function keyElement(item: unknown, keys: string[]): PathElement | undefined {
  if (!isObj(item) || keys.length === 0) return undefined;
  const fields: Record<string, unknown> = {};
  for (const k of [...keys].sort()) {
    if (item[k] === undefined) return undefined;
    fields[k] = item[k];
  }
  return `k:${JSON.stringify(fields)}`;
}

export interface ObjectFields {
  /** Every owned path of the object. */
  set: FieldSet;
  /** The value at each leaf path (scalars, atomic lists, empty objects), for comparisons; empty unless asked for. */
  leaves: Map<string, string>;
}

/**
 * The fields of `value` (an object), as structured-merge-diff's `ToFieldSet` lists them: leaves
 * (scalars, atomic lists, empty objects), granular maps with their keys, map-list items by key
 * with their fields, set-list values. `withLeaves: false` skips recording the leaf values.
 */
export function fieldsOf(value: unknown, meta: PatchMeta, withLeaves = true): ObjectFields {
  // Paths are built as their joined keys (elements separated by SEP), the form FieldSet stores.
  const set: string[] = [];
  const leaves = new Map<string, string>();
  const child = (key: string, element: string) => (key === '' ? element : key + SEP + element);
  const leaf = (key: string, v: unknown) => {
    set.push(key);
    if (withLeaves) leaves.set(key, JSON.stringify(v));
  };
  const walk = (v: unknown, m: PatchMeta, key: string, depth: number) => {
    if (isObj(v)) {
      const keys = Object.keys(v);
      if (depth > 0 && keys.length === 0) return leaf(key, v);
      if (depth > 0 && m.isGranularMap) set.push(key);
      for (const k of keys) if (v[k] !== undefined) walk(v[k], m.field(k), child(key, `f:${k}`), depth + 1);
      return;
    }
    if (Array.isArray(v)) {
      const type = m.listType;
      if (v.length === 0 || type === 'atomic') return leaf(key, v);
      if (type === 'set') {
        for (const item of v) leaf(child(key, `v:${JSON.stringify(item)}`), item);
        return;
      }
      const elements = v.map((item) => keyElement(item, m.listMapKeys));
      if (elements.some((e) => e === undefined) || new Set(elements).size !== elements.length) return leaf(key, v);
      v.forEach((item, i) => {
        const itemKey = child(key, elements[i]!);
        set.push(itemKey);
        walk(item, m.items(), itemKey, depth + 1);
      });
      return;
    }
    leaf(key, v);
  };
  walk(value, meta, '', 0);
  return { set: new FieldSet(set), leaves };
}

export interface Comparison {
  added: FieldSet;
  removed: FieldSet;
  modified: FieldSet;
}

/** What changed between two objects, path by path. */
export function compareObjects(before: unknown, after: unknown, meta: PatchMeta): Comparison {
  const a = fieldsOf(before, meta);
  // With nothing before (a create), no field can be modified: the leaf values are not needed.
  const b = fieldsOf(after, meta, !a.set.empty);
  const modified: string[] = [];
  for (const [key, value] of b.leaves) {
    const old = a.leaves.get(key);
    if (old !== undefined && old !== value) modified.push(key);
  }
  // A container that became a leaf (or back) counts as modified where both have the path.
  if (!a.set.empty) for (const key of b.set.keys()) if (a.set.hasKey(key) && a.leaves.has(key) !== b.leaves.has(key)) modified.push(key);
  return { added: b.set.difference(a.set), removed: a.set.difference(b.set), modified: new FieldSet(modified) };
}

/** `.spec.containers[name="worker"].image`, as apimachinery prints a path in conflicts. */
export function pathString(path: FieldPath): string {
  return path
    .map((element) => {
      const value = element.slice(2);
      switch (element[0]) {
        case 'f':
          return `.${value}`;
        case 'k': {
          const fields = JSON.parse(value) as Record<string, unknown>;
          return `[${Object.entries(fields)
            .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
            .join(',')}]`;
        }
        case 'v':
          return `[=${value}]`;
        default:
          return `[${value}]`;
      }
    })
    .join('');
}
