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

  equals(other: FieldSet): boolean {
    return this.size === other.size && [...this.paths].every((p) => other.paths.has(p));
  }
}

// ---- FieldsV1 ---------------------------------------------------------------------------------

export type FieldsV1 = { [element: string]: FieldsV1 };

/** The FieldsV1 form of a set. */
export function toFieldsV1(set: FieldSet): FieldsV1 {
  const root: FieldsV1 = {};
  const paths = set.list();
  const members = new Set(set.keys());
  for (const path of paths) {
    let node = root;
    path.forEach((element) => {
      node[element] ??= {};
      node = node[element];
    });
  }
  // A member that also has children says so with ".".
  const mark = (node: FieldsV1, prefix: FieldPath) => {
    for (const [element, child] of Object.entries(node)) {
      const path = [...prefix, element];
      if (Object.keys(child).length > 0) {
        if (members.has(path.join(SEP))) child['.'] = {};
        mark(child, path);
      }
    }
  };
  mark(root, []);
  return sortFields(root);
}

function sortFields(node: FieldsV1): FieldsV1 {
  const out: FieldsV1 = {};
  for (const key of Object.keys(node).sort((a, b) => (a === '.' ? -1 : b === '.' ? 1 : a < b ? -1 : a > b ? 1 : 0))) out[key] = sortFields(node[key]);
  return out;
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
  /** The value at each leaf path (scalars, atomic lists, empty objects), for comparisons. */
  leaves: Map<string, string>;
}

/**
 * The fields of `value` (an object), as structured-merge-diff's `ToFieldSet` lists them: leaves
 * (scalars, atomic lists, empty objects), granular maps with their keys, map-list items by key
 * with their fields, set-list values.
 */
export function fieldsOf(value: unknown, meta: PatchMeta): ObjectFields {
  const set: string[] = [];
  const leaves = new Map<string, string>();
  const leaf = (path: FieldPath, v: unknown) => {
    const key = path.join(SEP);
    set.push(key);
    leaves.set(key, JSON.stringify(v));
  };
  const walk = (v: unknown, m: PatchMeta, path: FieldPath) => {
    if (isObj(v)) {
      const keys = Object.keys(v);
      if (path.length > 0 && keys.length === 0) return leaf(path, v);
      if (path.length > 0 && m.isGranularMap) set.push(path.join(SEP));
      for (const k of keys) if (v[k] !== undefined) walk(v[k], m.field(k), [...path, `f:${k}`]);
      return;
    }
    if (Array.isArray(v)) {
      const type = m.listType;
      if (v.length === 0 || type === 'atomic') return leaf(path, v);
      if (type === 'set') {
        for (const item of v) leaf([...path, `v:${JSON.stringify(item)}`], item);
        return;
      }
      const elements = v.map((item) => keyElement(item, m.listMapKeys));
      if (elements.some((e) => e === undefined) || new Set(elements).size !== elements.length) return leaf(path, v);
      v.forEach((item, i) => {
        const itemPath = [...path, elements[i]!];
        set.push(itemPath.join(SEP));
        walk(item, m.items(), itemPath);
      });
      return;
    }
    leaf(path, v);
  };
  walk(value, meta, []);
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
  const b = fieldsOf(after, meta);
  const modified: string[] = [];
  for (const [key, value] of b.leaves) {
    const old = a.leaves.get(key);
    if (old !== undefined && old !== value) modified.push(key);
  }
  // A container that became a leaf (or back) counts as modified where both have the path.
  for (const key of b.set.keys()) if (a.set.has(key.split(SEP)) && a.leaves.has(key) !== b.leaves.has(key)) modified.push(key);
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
