// `metadata.managedFields`: who owns which fields, kept on every write as kube-apiserver's field
// manager does (structured-merge-diff `Updater.Update` / `Updater.Apply`, conflict handling of
// `update`). One entry per (manager, operation, subresource) — and apiVersion for Update entries —
// each with the time it last changed and its fields in FieldsV1.
//
// Update (create, PUT, JSON/merge/strategic patch): the fields the write added or changed move to
// the writing manager, taken from every other manager; removed fields leave every manager.
// Apply: the manager owns exactly the fields of its configuration; fields it changed that others
// own are conflicts (409, one FieldManagerConflict cause per field) unless forced, when they move.
// Managers left with no fields disappear.
import { StatusError, type StatusCause } from '../../apiserver/errors.js';
import type { KubeObject, ManagedFieldsEntry } from '../meta.js';
import type { PatchMeta } from '../patch/meta.js';
import { compareObjects, fieldsOf, FieldSet, firstElement, fromFieldsV1, pathString, toFieldsV1, type FieldPath } from './fieldset.js';

export type Operation = 'Apply' | 'Update';

/** Who writes and how; the Store adds the time and the subresource it serves. */
export interface ManagerRequest {
  manager: string;
  operation: Operation;
  /** `<group>/<version>` the request was made in. */
  apiVersion: string;
  /** Overrides the Store's subresource (e.g. `scale`, which writes through the main resource). */
  subresource?: string;
  /** Apply only: the fields the applied configuration sets (`appliedFieldSet`). */
  applied?: FieldSet;
  /** Fields the server itself changed for this write (kubectl's last-applied annotation): nobody's change. */
  ignored?: FieldSet;
  /** Apply only: take conflicting fields instead of failing. */
  force?: boolean;
}

export interface Manager {
  entry: ManagedFieldsEntry;
  set: FieldSet;
}

/** Metadata fields no manager owns (apimachinery fieldmanager `stripMeta`). */
const SERVER_METADATA = [
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
  'generateName',
];

/** The object as field ownership sees it: no apiVersion/kind, no server-set metadata. */
export function ownableContent(obj: Partial<KubeObject> | undefined): Record<string, unknown> {
  if (!obj) return {};
  const { apiVersion: _a, kind: _k, metadata, ...rest } = obj as Record<string, unknown>;
  const meta = { ...((metadata as Record<string, unknown>) ?? {}) };
  for (const f of SERVER_METADATA) delete meta[f];
  return Object.keys(meta).length > 0 ? { metadata: meta, ...rest } : rest;
}

/** Only the fields a write through `subresource` may own: `status` for `/status`, the rest otherwise. */
export function scopeFilter(subresource: string | undefined): (path: FieldPath) => boolean {
  if (subresource === 'status') return (path) => path[0] === 'f:status';
  return (path) => path[0] !== 'f:status';
}

/** `scopeFilter` for paths given as keys (`FieldSet.filterKeys`). */
function keyScopeFilter(subresource: string | undefined): (key: string) => boolean {
  if (subresource === 'status') return (key) => firstElement(key) === 'f:status';
  return (key) => firstElement(key) !== 'f:status';
}

/** The identity of an entry (apimachinery `BuildManagerIdentifier`): apiVersion only for Update. */
function identity(e: ManagedFieldsEntry): string {
  return JSON.stringify([e.manager ?? '', e.operation ?? '', e.operation === 'Apply' ? '' : (e.apiVersion ?? ''), e.subresource ?? '']);
}

/** Entries with unreadable fields are dropped, as kube-apiserver resets managed fields it cannot decode. */
export function decodeManagers(entries: ManagedFieldsEntry[] | undefined): Manager[] {
  const out: Manager[] = [];
  for (const entry of entries ?? []) {
    if (!entry || typeof entry !== 'object') continue;
    try {
      out.push({ entry, set: fromFieldsV1(entry.fieldsV1 ?? {}) });
    } catch {
      // ignore an entry that is not FieldsV1
    }
  }
  return out;
}

/** Sorted as apimachinery sorts them: Apply before Update, then by time, manager, apiVersion, subresource. */
export function encodeManagers(managers: Manager[]): ManagedFieldsEntry[] {
  const entries = managers
    .filter((m) => !m.set.empty)
    .map((m) => {
      const e: ManagedFieldsEntry = {
        manager: m.entry.manager,
        operation: m.entry.operation,
        apiVersion: m.entry.apiVersion,
        time: m.entry.time,
        fieldsType: 'FieldsV1',
        fieldsV1: toFieldsV1(m.set),
      };
      if (m.entry.subresource) e.subresource = m.entry.subresource;
      return e;
    });
  const cmp = (a?: string, b?: string) => ((a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0);
  return entries.sort(
    (a, b) =>
      cmp(a.operation, b.operation) || cmp(a.time, b.time) || cmp(a.manager, b.manager) || cmp(a.apiVersion, b.apiVersion) || cmp(a.subresource, b.subresource),
  );
}

export interface Conflict {
  manager: ManagedFieldsEntry;
  path: FieldPath;
}

/** `"kubectl"`, `"m" with subresource "status"`, `"kubectl-edit" using storm.apache.org/v1beta1 at <time>`. */
export function printManager(e: ManagedFieldsEntry): string {
  let out = JSON.stringify(e.manager ?? '');
  if (e.subresource) out += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') out += e.time ? ` using ${e.apiVersion} at ${e.time}` : ` using ${e.apiVersion}`;
  return out;
}

/** 409 Conflict listing every conflicting field, as apimachinery's `NewConflictError`. */
export function conflictError(conflicts: Conflict[]): StatusError {
  const causes: StatusCause[] = conflicts.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${printManager(c.manager)}`,
    field: pathString(c.path),
  }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0].manager)}: ${pathString(conflicts[0].path)}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) {
      const m = printManager(c.manager);
      byManager.set(m, [...(byManager.get(m) ?? []), pathString(c.path)]);
    }
    const lines: string[] = [];
    for (const m of [...byManager.keys()].sort()) {
      lines.push(`conflicts with ${m}:`);
      for (const p of byManager.get(m)!) lines.push(`- ${p}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Conflict', details: { causes }, code: 409 });
}

/** A client resets managed fields by sending exactly `[{}]` (an empty list leaves them as they are). */
function isResetRequest(entries: unknown): boolean {
  return Array.isArray(entries) && entries.length === 1 && entries[0] !== null && typeof entries[0] === 'object' && Object.keys(entries[0]).length === 0;
}

/**
 * Sets `next.metadata.managedFields` for a write that turns `current` (undefined on create) into
 * `next`. `subresource` is the one the Store serves; `now` the entry time. Throws the 409 of an
 * unforced Apply that changes fields other managers own.
 */
export function trackManagedFields(
  current: KubeObject | undefined,
  next: KubeObject,
  request: ManagerRequest,
  meta: PatchMeta,
  subresource: string | undefined,
  now: string,
): void {
  const sent = next.metadata.managedFields;
  if (isResetRequest(sent)) {
    delete next.metadata.managedFields;
    return;
  }
  const base = Array.isArray(sent) && sent.length > 0 ? sent : (current?.metadata.managedFields ?? []);
  const scope = request.subresource ?? subresource;
  const inScope = keyScopeFilter(scope);
  const managers = decodeManagers(base);
  const compare = compareObjects(ownableContent(current), ownableContent(next), meta);
  const ignored = request.ignored ?? new FieldSet();
  const changed = compare.modified.union(compare.added).filterKeys((key) => inScope(key) && !ignored.hasKey(key));
  const removed = compare.removed.difference(ignored);

  const selfEntry: ManagedFieldsEntry = { manager: request.manager, operation: request.operation, apiVersion: request.apiVersion };
  if (scope) selfEntry.subresource = scope;
  const selfId = identity(selfEntry);
  const conflicts: Conflict[] = [];
  for (const m of managers) {
    if (identity(m.entry) === selfId) continue;
    const taken = m.set.intersection(changed);
    if (!taken.empty && request.operation === 'Apply' && !request.force) {
      for (const path of taken.list()) conflicts.push({ manager: m.entry, path });
    }
    m.set = m.set.difference(taken).difference(removed);
  }
  if (conflicts.length > 0) throw conflictError(conflicts);

  const previous = managers.find((m) => identity(m.entry) === selfId);
  let set: FieldSet;
  if (request.operation === 'Apply') {
    set = (request.applied ?? new FieldSet()).filterKeys(inScope);
  } else {
    if (changed.empty && removed.empty) {
      next.metadata.managedFields = encodeManagers(managers);
      if (next.metadata.managedFields.length === 0) delete next.metadata.managedFields;
      return;
    }
    set = (previous?.set ?? new FieldSet()).union(changed).difference(removed);
  }
  // Update entries get the time of every write that changed something; an Apply that changed
  // neither the object nor its fields keeps its time (apimachinery managedFieldsUpdater).
  const objectChanged = !compare.modified.empty || !compare.added.empty || !removed.empty;
  const time = request.operation === 'Apply' && !objectChanged && previous?.set.equals(set) && previous.entry.time ? previous.entry.time : now;
  const self: Manager = { entry: { ...selfEntry, time }, set };
  const others = managers.filter((m) => identity(m.entry) !== selfId);
  const encoded = encodeManagers([...others, self]);
  if (encoded.length > 0) next.metadata.managedFields = encoded;
  else delete next.metadata.managedFields;
}

/** The fields an Apply configuration sets, in the scope of the subresource it is applied to. */
export function appliedFieldSet(config: unknown, meta: PatchMeta): FieldSet {
  return fieldsOf(ownableContent(config as KubeObject), meta).set;
}
