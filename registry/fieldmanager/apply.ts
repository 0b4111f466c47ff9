// Server-side apply (`application/apply-patch+yaml`): merging a manager's configuration into the
// live object and removing what the manager applied before but no longer does (structured-merge-diff
// `Updater.Apply`: `Merge` then `prune`). Ownership and conflicts are settled afterwards, on the
// final object, by `trackManagedFields`.
import type { KubeObject } from '../meta.js';
import type { PatchMeta } from '../patch/meta.js';
import { FieldSet, keyElement, type FieldPath } from './fieldset.js';
import { appliedFieldSet, decodeManagers, scopeFilter } from './managed-fields.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * `live` merged with `config` by the schema's list semantics: objects merge field by field, map
 * lists item by key, set lists as a union, atomic lists and scalars are replaced; `null` removes.
 */
export function mergeApplied(live: unknown, config: unknown, meta: PatchMeta): unknown {
  if (config === undefined) return live;
  if (isObj(config)) {
    const out: Obj = isObj(live) ? { ...live } : {};
    for (const [k, v] of Object.entries(config)) {
      if (v === null) delete out[k];
      else out[k] = mergeApplied(out[k], v, meta.field(k));
    }
    return out;
  }
  if (Array.isArray(config) && Array.isArray(live)) {
    const type = meta.listType;
    if (type === 'set') {
      const out = [...live];
      for (const v of config) if (!out.some((x) => JSON.stringify(x) === JSON.stringify(v))) out.push(v);
      return out;
    }
    if (type === 'map') {
      const keys = meta.listMapKeys;
      const out = [...live];
      for (const item of config) {
        const key = keyElement(item, keys);
        const index = key === undefined ? -1 : out.findIndex((x) => keyElement(x, keys) === key);
        if (index >= 0) out[index] = mergeApplied(out[index], item, meta.items());
        else out.push(mergeApplied(undefined, item, meta.items()));
      }
      return out;
    }
  }
  return structuredClone(config);
}

/** Removes the value at `path` from `obj` (in place); missing paths are ignored. */
export function removePath(obj: unknown, path: FieldPath): void {
  if (path.length === 0) return;
  const [head, ...rest] = path;
  const kind = head[0];
  const value = head.slice(2);
  if (kind === 'f' && isObj(obj)) {
    if (rest.length === 0) delete obj[value];
    else removePath(obj[value], rest);
    return;
  }
  if (!Array.isArray(obj)) return;
  let index = -1;
  if (kind === 'k') {
    const fields = JSON.parse(value) as Obj;
    index = obj.findIndex((item) => keyElement(item, Object.keys(fields)) === head);
  } else if (kind === 'v') {
    index = obj.findIndex((item) => JSON.stringify(item) === value);
  } else if (kind === 'i') {
    index = Number(value);
  }
  if (index < 0 || index >= obj.length) return;
  if (rest.length === 0) obj.splice(index, 1);
  else removePath(obj[index], rest);
}

/** A key field of a map-list item (`k:{"name":"a"}` then `f:name`): it goes only with its item. */
function isKeyField(path: FieldPath): boolean {
  const parent = path[path.length - 2];
  const last = path[path.length - 1];
  if (!parent?.startsWith('k:') || !last.startsWith('f:')) return false;
  return last.slice(2) in (JSON.parse(parent.slice(2)) as Obj);
}

export interface ApplyResult {
  /** The merged and pruned object, still to be decoded (defaults, validation). */
  object: KubeObject;
  /** The fields the configuration sets, for the manager's Apply entry. */
  applied: FieldSet;
}

/**
 * Applies `config` for `manager` (the Apply entry of `subresource`) to `live`; `live` undefined
 * means create-on-apply. Fields the manager's previous Apply owned that the new configuration
 * omits are removed unless another manager also owns them (or something below them).
 */
export function applyConfiguration(
  live: KubeObject | undefined,
  config: KubeObject,
  manager: string,
  subresource: string | undefined,
  meta: PatchMeta,
): ApplyResult {
  const inScope = scopeFilter(subresource);
  const cleanConfig = structuredClone(config);
  if (cleanConfig.metadata) delete cleanConfig.metadata.managedFields;
  const applied = appliedFieldSet(cleanConfig, meta).filter(inScope);
  const merged = mergeApplied(live ? structuredClone(live) : {}, cleanConfig, meta) as KubeObject;
  if (!live) return { object: merged, applied };

  const managers = decodeManagers(live.metadata.managedFields);
  const self = managers.find((m) => m.entry.manager === manager && m.entry.operation === 'Apply' && (m.entry.subresource ?? undefined) === subresource);
  if (!self) return { object: merged, applied };
  let others = applied;
  for (const m of managers) if (m !== self) others = others.union(m.set);
  const dropped = self.set
    .difference(applied)
    .list()
    .filter((path) => !others.hasPrefix(path) && !isKeyField(path))
    .sort((a, b) => b.length - a.length);
  for (const path of dropped) removePath(merged, path);
  return { object: merged, applied };
}
