// Conversion between the served versions of a kind and its storage version (the first of
// `versions`). Objects are stored, cached, selected, validated by the kind's rules and printed as
// Table rows in the storage version; a request in another version is converted at the API
// boundary: its body after validation against that version's schema (`codec.ts`), and every
// object the response carries (get, list, watch, writes). The per-kind conversions live next to
// the kind (`registry/<group>/<kind>/<version>.ts`, a `VersionSchema`); this module applies them,
// and holds the path and annotation helpers they are written with.
import { isDeepStrictEqual } from 'node:util';
import type { z } from 'zod';
import { badRequest } from '../apiserver/errors.js';
import { groupVersionOf, type KindDeclaration, type VersionSchema } from './kind.js';
import type { KubeObject } from './meta.js';
import { parseFieldSelector, SelectorError } from './selectors.js';

/** The version objects of `decl` are stored in. */
export function storageVersion(decl: KindDeclaration): string {
  return decl.versions[0];
}

export function isStorageVersion(decl: KindDeclaration, version: string): boolean {
  return version === storageVersion(decl);
}

/** The version's own schema and conversions; undefined for the storage version and versions that share its schema. */
export function versionSchemaOf(decl: KindDeclaration, version: string): VersionSchema | undefined {
  return isStorageVersion(decl, version) ? undefined : decl.versionSchemas?.[version];
}

/** The `spec` and `status` schemas requests in `version` are validated against. */
export function schemasOf(decl: KindDeclaration, version: string): { spec: z.ZodType; status: z.ZodType } {
  const own = versionSchemaOf(decl, version);
  return own ? { spec: own.spec, status: own.status } : { spec: decl.spec, status: decl.status };
}

/**
 * A storage-version object as `version` shows it. The storage version gets the object itself
 * (callers must not mutate it: watch-cache objects are shared); any other version a new object.
 */
export function convertToVersion(decl: KindDeclaration, obj: KubeObject, version: string): KubeObject {
  if (isStorageVersion(decl, version)) return obj;
  const own = versionSchemaOf(decl, version);
  const out = own ? own.fromStorage(obj) : { ...obj };
  if (own) dropDefaultedFields(decl, own, out);
  out.apiVersion = groupVersionOf(decl.group, version);
  return out;
}

/**
 * Removes from the storage-fields annotation of `shown` (see `fieldsAnnotation`) every value the
 * storage schema's defaults give back anyway when the object is written in its version: a seed-
 * style object read back carries no annotation of defaults (`lifecycle.killWaitSeconds: 30`).
 * Only values equal to what defaulting the converted object yields go, so writing `shown` back
 * still stores the same object.
 */
function dropDefaultedFields(decl: KindDeclaration, own: VersionSchema, shown: KubeObject): void {
  const name = fieldsAnnotation(decl.group, storageVersion(decl));
  const kept = readJsonAnnotation(shown, name);
  if (!isPlainObject(kept?.spec)) return;
  const bare: KubeObject = { ...shown, metadata: { ...shown.metadata } };
  writeJsonAnnotation(bare, name, undefined);
  const defaulted = decl.spec.safeParse(own.toStorage(bare).spec ?? {});
  if (!defaulted.success) return;
  const spec = structuredClone(kept.spec);
  // Steps, not dotted paths: map keys may contain dots (`kubernetes.io/os`).
  const visit = (value: unknown, steps: string[]): void => {
    if (isPlainObject(value) && Object.keys(value).length > 0) {
      for (const [key, child] of Object.entries(value)) visit(child, [...steps, key]);
    } else if (steps.length > 0 && isDeepStrictEqual(value, valueAtSteps(defaulted.data, steps))) {
      deleteAtSteps(spec, steps);
    }
  };
  visit(kept.spec, []);
  writeJsonAnnotation(shown, name, Object.keys(spec).length > 0 ? { ...kept, spec } : undefined);
}

/** An object of `version` as it is stored. The storage version gets the object itself. */
export function convertFromVersion(decl: KindDeclaration, obj: KubeObject, version: string): KubeObject {
  if (isStorageVersion(decl, version)) return obj;
  const own = versionSchemaOf(decl, version);
  const out = own ? own.toStorage(obj) : { ...obj };
  out.apiVersion = groupVersionOf(decl.group, storageVersion(decl));
  return out;
}

/** A field path of the storage version as `version` names it (for the causes of a 422). */
export function fieldPathToVersion(decl: KindDeclaration, path: string, version: string): string {
  return versionSchemaOf(decl, version)?.fieldPathFromStorage?.(path) ?? path;
}

/** Field-selector labels every version accepts, evaluated as they are. */
const METADATA_LABELS = ['metadata.name', 'metadata.namespace'];

/** The field-selector labels a request in `version` may use. */
export function fieldLabelsOf(decl: KindDeclaration, version: string): string[] {
  const own = versionSchemaOf(decl, version)?.fieldLabels;
  return [...METADATA_LABELS, ...Object.keys(own ?? decl.selectableFields)];
}

function escapeSelectorValue(value: string): string {
  return value.replace(/[\\,=!]/g, (c) => `\\${c}`);
}

/**
 * A field selector of `version` rewritten with the storage version's labels (selectors are
 * evaluated on storage objects). A label the version does not have is a 400, as kube-apiserver's
 * field label conversion answers; the storage version's selector passes through unchanged.
 */
export function fieldSelectorToStorage(decl: KindDeclaration, version: string, selector: string | undefined): string | undefined {
  const labels = versionSchemaOf(decl, version)?.fieldLabels;
  if (!labels || selector === undefined || selector.trim() === '') return selector;
  try {
    return parseFieldSelector(selector)
      .map((r) => {
        const label = METADATA_LABELS.includes(r.field) ? r.field : labels[r.field];
        if (label === undefined) {
          throw new SelectorError(`field label not supported: ${r.field} (supported: ${fieldLabelsOf(decl, version).join(', ')})`);
        }
        return `${label}${r.op}${escapeSelectorValue(r.value)}`;
      })
      .join(',');
  } catch (err) {
    if (err instanceof SelectorError) throw badRequest(`unable to parse selector: ${err.message}`);
    throw err;
  }
}

// ---- helpers for per-kind conversions --------------------------------------------------------

export type Json = Record<string, unknown>;

export function isPlainObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function valueAtSteps(root: unknown, steps: string[]): unknown {
  let cur = root;
  for (const step of steps) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[step];
  }
  return cur;
}

/** Deletes the value at `steps`, and the objects this leaves empty (see `deletePath`). */
function deleteAtSteps(root: Json, steps: string[]): void {
  const chain: Json[] = [root];
  for (const step of steps.slice(0, -1)) {
    const next = chain[chain.length - 1][step];
    if (!isPlainObject(next)) return;
    chain.push(next);
  }
  const leaf = steps[steps.length - 1];
  if (!(leaf in chain[chain.length - 1])) return;
  delete chain[chain.length - 1][leaf];
  for (let i = chain.length - 1; i > 0 && Object.keys(chain[i]).length === 0; i--) delete chain[i - 1][steps[i - 1]];
}

/** Reads a dotted path; undefined when a step is missing or not an object. */
export function getPath(root: unknown, path: string): unknown {
  let cur = root;
  for (const step of path.split('.')) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[step];
  }
  return cur;
}

/** Sets a dotted path, creating (or replacing non-object) intermediate objects. */
export function setPath(root: Json, path: string, value: unknown): void {
  const steps = path.split('.');
  let cur = root;
  for (const step of steps.slice(0, -1)) {
    if (!isPlainObject(cur[step])) cur[step] = {};
    cur = cur[step] as Json;
  }
  cur[steps[steps.length - 1]] = value;
}

/**
 * Deletes a dotted path. Objects on the way that this deletion leaves empty are deleted too
 * (those that were empty before stay: an empty object is data).
 */
export function deletePath(root: Json, path: string): void {
  deleteAtSteps(root, path.split('.'));
}

/** `over` merged into `base` (both left alone): objects merge recursively, anything else replaces. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return structuredClone(over);
  const out: Json = structuredClone(base);
  for (const [key, value] of Object.entries(over)) out[key] = deepMerge(out[key], value);
  return out;
}

/** The JSON object an annotation of `obj` holds; undefined when absent or not a JSON object. */
export function readJsonAnnotation(obj: KubeObject, name: string): Json | undefined {
  const raw = obj.metadata.annotations?.[name];
  if (raw === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    return isPlainObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Sets (or, for undefined or an empty object, removes) a JSON annotation of `obj` in place;
 * `metadata.annotations` disappears when it becomes empty.
 */
export function writeJsonAnnotation(obj: KubeObject, name: string, value: Json | undefined): void {
  const annotations = { ...(obj.metadata.annotations ?? {}) };
  if (value === undefined || Object.keys(value).length === 0) delete annotations[name];
  else annotations[name] = JSON.stringify(value);
  if (Object.keys(annotations).length > 0) obj.metadata.annotations = annotations;
  else delete obj.metadata.annotations;
}

/**
 * One field that two versions both express, at `version` in the served version and `storage` in
 * the storage version (dotted paths from the object root). `container` pairs map only the
 * presence of an object (an empty `workerPool: {}` stays an empty `workers: {}`); the fields
 * inside map through their own pairs. `toStorage`/`fromStorage` change the value on the way.
 */
export interface FieldPair {
  version: string;
  storage: string;
  container?: boolean;
  toStorage?(value: unknown): unknown;
  fromStorage?(value: unknown): unknown;
}

/**
 * Moves the values of `pairs` from `from` into a new object (the other version's), deleting them
 * from `from` (the remainder, which the caller keeps in an annotation or drops). `direction`
 * says which side `from` is.
 */
export function movePairs(from: Json, pairs: FieldPair[], direction: 'toStorage' | 'fromStorage'): Json {
  const out: Json = {};
  const source = (p: FieldPair) => (direction === 'toStorage' ? p.version : p.storage);
  const target = (p: FieldPair) => (direction === 'toStorage' ? p.storage : p.version);
  // In declared order (containers before their fields), so the result reads in that order.
  const containers = pairs.filter((p) => p.container && isPlainObject(getPath(from, source(p))));
  for (const p of pairs) {
    if (p.container) {
      if (containers.includes(p) && !isPlainObject(getPath(out, target(p)))) setPath(out, target(p), {});
      continue;
    }
    const value = getPath(from, source(p));
    if (value === undefined) continue;
    const convert = direction === 'toStorage' ? p.toStorage : p.fromStorage;
    setPath(out, target(p), convert ? convert(value) : structuredClone(value));
    deletePath(from, source(p));
  }
  // A container the other version now expresses leaves the remainder once it is empty.
  for (const p of [...containers].reverse()) {
    const value = getPath(from, source(p));
    if (isPlainObject(value) && Object.keys(value).length === 0) deletePath(from, source(p));
  }
  return out;
}

/**
 * The annotation that carries, on an object of one version, the fields of `version` it cannot
 * express: `storm.apache.org/v1beta1-fields` on a v1alpha1 object. Its value is a JSON object
 * `{"spec": {...}}` of those fields at their `version` paths.
 */
export function fieldsAnnotation(group: string, version: string): string {
  return `${group}/${version}-fields`;
}

/**
 * `fieldPathFromStorage` for a version converted by `pairs` (plus `extra` storage → version path
 * prefixes): the longest field pair whose storage path is a prefix of `path` (at a `.` or `[`
 * boundary) renames it, a container pair only its own path; other paths are returned as they are.
 */
export function pathMapper(pairs: FieldPair[], extra: Array<[storage: string, version: string]> = []): (path: string) => string {
  const prefixes: Array<[string, string]> = [...pairs.filter((p) => !p.container).map((p): [string, string] => [p.storage, p.version]), ...extra];
  prefixes.sort((a, b) => b[0].length - a[0].length);
  // A container maps only itself: what else it holds may have no counterpart.
  const containers = new Map(pairs.filter((p) => p.container).map((p) => [p.storage, p.version]));
  return (path) => {
    const container = containers.get(path);
    if (container !== undefined) return container;
    for (const [storage, version] of prefixes) {
      if (path === storage || path.startsWith(`${storage}.`) || path.startsWith(`${storage}[`)) return version + path.slice(storage.length);
    }
    return path;
  };
}
