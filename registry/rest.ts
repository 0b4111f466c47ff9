// One small interface per verb, as k8s.io/apiserver's pkg/registry/rest. The route installer in
// `apiserver/` registers a verb for a resource only when its storage implements the interface,
// so a read-only computed subresource simply has no Creater.
import type { Decoded } from './codec.js';
import type { KubeObject } from './meta.js';

export interface RequestScope {
  namespace?: string;
  name?: string;
}

export interface WriteOptions {
  dryRun: boolean;
}

export interface WriteResult {
  object: KubeObject;
  warnings: string[];
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'NotOlderThan' | 'Exact';
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Absent or "0": start with the current state as ADDED events. "N": events after N only. */
  resourceVersion?: string;
  /** Send the initial state, then a BOOKMARK annotated `k8s.io/initial-events-end`. */
  sendInitialEvents?: boolean;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject;
}

/** A stream of watch events; ends by `close()`, or throws a StatusError (e.g. 410 Expired). */
export interface WatchStream extends AsyncIterable<WatchEvent[]> {
  close(): void;
  /** Asks for a BOOKMARK at the current revision, delivered in order with the events. */
  requestBookmark(): void;
}

export interface DeleteOptions {
  dryRun: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  gracePeriodSeconds?: number;
}

export interface DeleteResult {
  object: KubeObject;
  /** False when finalizers keep the object (it now carries a deletionTimestamp). */
  deleted: boolean;
}

/** Builds the new object from the current one (PUT ignores `current`; PATCH applies to it). */
export type UpdateBuilder = (current: KubeObject | undefined) => Decoded;

export interface Getter {
  get(scope: RequestScope & { name: string }, options: { resourceVersion?: string }): Promise<KubeObject>;
}
export interface Lister {
  list(options: ListOptions): Promise<ListResult>;
}
export interface Creater {
  create(namespace: string | undefined, decoded: Decoded, options: WriteOptions): Promise<WriteResult>;
}
export interface Updater {
  update(
    scope: RequestScope & { name: string },
    build: UpdateBuilder,
    options: WriteOptions & { forceAllowCreate?: boolean },
  ): Promise<WriteResult & { created: boolean }>;
}
export interface GracefulDeleter {
  delete(scope: RequestScope & { name: string }, options: DeleteOptions): Promise<DeleteResult>;
}
export interface CollectionDeleter {
  deleteCollection(list: ListOptions, options: DeleteOptions): Promise<KubeObject[]>;
}
export interface Watcher {
  watch(options: WatchOptions): Promise<WatchStream>;
}
