// A kind is data: declared once, and discovery, OpenAPI, routes, RBAC resource names, Table output,
// field selectors and the conformance harness are all derived from this declaration.
// Adding a kind means adding a folder `registry/<group>/<kind>/` and listing it in
// `registry/kinds.ts`; nothing in `apiserver/` changes.
import type { z } from 'zod';
import type { KubeObject } from './meta.js';
import type { KindRules } from './strategy.js';
import type { SubresourceDeclaration } from './subresource.js';

export type ColumnType = 'string' | 'integer' | 'number' | 'boolean' | 'date';

/** One server-side printer column (`kubectl get`); priority 1 columns show only with `-o wide`. */
export interface TableColumn {
  name: string;
  type: ColumnType;
  /** `name` for the object-name column, `date` for timestamps; otherwise empty. */
  format?: string;
  description: string;
  priority: 0 | 1;
  /** The cell for an object; `undefined` prints as `<none>`-style empty. `now` drives ages. */
  cell(obj: KubeObject, now: Date): string | number | boolean | undefined;
}

/** How `autoscaling/v1` Scale maps onto the kind (for kinds with a `scale` subresource). */
export interface ScaleMapping {
  /** Dotted path of the desired replicas, e.g. `spec.replicas`. */
  specReplicasPath: string;
  /** Dotted path of the observed replicas, e.g. `status.replicas`. */
  statusReplicasPath: string;
  /** The label selector (string form) of the pods the object scales. */
  labelSelector(obj: KubeObject): string;
}

/**
 * A served version other than the storage version, with its own schemas and the conversions to
 * and from the storage version (`registry/conversion.ts` applies them at the API boundary). Both
 * conversions are pure and total: they never throw, never mutate their argument, and work on
 * partial objects (a body that failed its schema). What one version cannot express travels in an
 * annotation, so a read-modify-write in either version loses nothing.
 */
export interface VersionSchema {
  /** `spec` and `status` of this version; requests in this version are validated against them. */
  spec: z.ZodType;
  status: z.ZodType;
  /** An object of this version → the storage version (the caller sets `apiVersion`). */
  toStorage(obj: KubeObject): KubeObject;
  /** An object of the storage version → this version (the caller sets `apiVersion`). */
  fromStorage(obj: KubeObject): KubeObject;
  /**
   * Field-selector labels of this version → the storage version's label they are evaluated as
   * (selectors run on the storage object). Absent: this version uses the storage version's labels.
   */
  fieldLabels?: Record<string, string>;
  /** Maps a field path of the storage version to this version's, for error causes; identity when absent. */
  fieldPathFromStorage?(path: string): string;
}

export interface KindDeclaration {
  group: string;
  /** Served versions; the first is preferred and is the storage version. */
  versions: string[];
  /**
   * Versions (other than the first) with their own schema and conversions. A served version
   * without an entry shares the storage version's schema and converts by apiVersion alone.
   */
  versionSchemas?: Record<string, VersionSchema>;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
  /** One or two sentences; becomes the OpenAPI description `kubectl explain` prints. */
  description: string;
  /**
   * Schemas of `spec` and `status`, with defaults (`.default()`), enums and descriptions. Objects
   * are strict (unknown fields are reported under fieldValidation); opaque Kubernetes structures
   * (resources, affinity, pod templates) may be loose records.
   */
  spec: z.ZodType;
  status: z.ZodType;
  /** Rules beyond the schema: cross-field validation, immutable fields, warnings. */
  rules?: KindRules;
  columns: TableColumn[];
  /**
   * Field selectors beyond `metadata.name` and `metadata.namespace`: label → value of the object
   * (e.g. `spec.clusterRef`, `status.phase`). A missing value selects as the empty string.
   */
  selectableFields: Record<string, (obj: KubeObject) => string | undefined>;
  /** Present for kinds with a `scale` subresource. */
  scale?: ScaleMapping;
  /**
   * Computed subresources and custom verbs (`metrics`, `promote`, …), one file each in the kind's
   * folder; installed, discovered and published like `status` (see `subresource.ts`).
   */
  subresources?: SubresourceDeclaration[];
  /**
   * Top-level fields besides apiVersion, kind, metadata, spec and status, with their schemas: the
   * core group's kinds keep their data there (ConfigMap `data`, Event `involvedObject`,
   * StorageClass `provisioner`). Absent for this project's own kinds.
   */
  topLevel?: Record<string, z.ZodType>;
  /** `false` for a kind with no `spec` (ConfigMap, Secret, Event); `spec` is then an unknown field. */
  hasSpec?: boolean;
  /**
   * `false` for a kind with no `status` and so no `/status` subresource (ConfigMap, Lease); `status`
   * is then an unknown field. Every other kind writes `status` only through `/status`.
   */
  hasStatus?: boolean;
  /**
   * Runs on every decoded object (create, update, patch) before the strategy: a kind's
   * write-only conveniences, e.g. a Secret's `stringData` merged into `data`.
   */
  normalize?(obj: KubeObject): void;
}

/** The core (legacy) group is the empty string; its objects say `apiVersion: v1`. */
export function isCoreGroup(group: string): boolean {
  return group === '';
}

/** `apiVersion` of a group version: `storm.apache.org/v1beta1`, or `v1` for the core group. */
export function groupVersionOf(group: string, version: string): string {
  return isCoreGroup(group) ? version : `${group}/${version}`;
}

/** The URL path of a group version: `/apis/storm.apache.org/v1beta1`, or `/api/v1` for core. */
export function groupVersionPath(group: string, version: string): string {
  return isCoreGroup(group) ? `/api/${version}` : `/apis/${group}/${version}`;
}

/** Whether the kind has a `status` field and a `/status` subresource (true unless declared otherwise). */
export function hasStatus(decl: KindDeclaration): boolean {
  return decl.hasStatus !== false;
}

/** Whether the kind has a `spec` field (true unless declared otherwise). */
export function hasSpec(decl: KindDeclaration): boolean {
  return decl.hasSpec !== false;
}

/** Reads a dotted path (`spec.replicas`) from an object; undefined when any step is missing. */
export function fieldAt(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const step of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[step];
  }
  return cur;
}

/** Age as kubectl prints it: `45s`, `3m12s`, `5h`, `12d`, `2y34d` (k8s duration.HumanDuration). */
export function humanAge(since: string | undefined, now: Date): string | undefined {
  if (!since) return undefined;
  const seconds = Math.max(0, Math.floor((now.getTime() - Date.parse(since)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (days < 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (days < 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (years < 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}
