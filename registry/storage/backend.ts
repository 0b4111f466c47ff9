// The storage contract every driver implements: an etcd-shaped MVCC key-value store.
//
// Revisions are one global, strictly increasing integer per store. Every successful write
// (create, update, delete) gets the next revision; that number becomes the object's
// `metadata.resourceVersion`. Reads at a past revision see the store as it was then, until the
// revision is compacted away.
//
// Errors are always `StorageError` with a `code`; the API layer translates them to a
// `metav1.Status` at one boundary and never inspects driver-specific errors.

export interface KeyValue {
  key: string;
  value: Buffer;
  /** Revision of the write that created this key (survives updates; reset by delete + create). */
  createRevision: number;
  /** Revision of the write that produced this value. */
  modRevision: number;
}

export interface GetOptions {
  /** Read the key as it was at this revision. 0 or absent: the current value. */
  revision?: number;
}

export interface ListOptions {
  /** Read at this revision. 0 or absent: the current revision. */
  revision?: number;
  /** At most this many items. 0 or absent: no limit. */
  limit?: number;
  /** First key to return (inclusive); must lie under the prefix. Absent: from the prefix itself. */
  startKey?: string;
}

export interface ListResult {
  /** Sorted by key (byte order). */
  items: KeyValue[];
  /** The revision the list was read at; pass it back as `revision` to read the next page. */
  revision: number;
  /** More keys follow the last returned item at that revision. */
  more: boolean;
  /** How many keys follow the last returned item at that revision (0 when `more` is false). */
  remaining: number;
}

export type WatchEvent =
  | { type: 'put'; kv: KeyValue; prevKv?: KeyValue }
  /**
   * `kv.value` of a delete is empty, `kv.createRevision` is 0 (as etcd reports it), and
   * `kv.modRevision` is the revision of the delete.
   */
  | { type: 'delete'; kv: KeyValue; prevKv?: KeyValue };

export interface WatchOptions {
  /**
   * Largest number of undelivered events the driver keeps for this watcher. A consumer that falls
   * further behind is cut off with `StorageError('WatchOverflow')` instead of being buffered
   * without bound. Default 10,000.
   */
  maxPendingEvents?: number;
}

/**
 * A watch stream. Batches come in revision order, with no gap and no duplicate. The iterator ends
 * normally after `close()`, and throws a StorageError when the stream breaks: `Compacted` (the
 * start revision is gone), `WatchOverflow` (slow consumer), `Unavailable` (the store connection
 * was lost; re-watch from the last revision seen to miss nothing).
 */
export interface Watch extends AsyncIterable<WatchEvent[]> {
  close(): void;
}

/**
 * Every driver also honours these:
 * - Returned `value` Buffers may be the stored ones: callers must not write into them.
 * - `update`/`delete` with an expected modRevision ≤ 0 never match (NotFound or Conflict).
 * - After `close()`, calls and new watches fail with `Closed`, and open watches end with `Closed`.
 * - Compaction may itself use a revision (etcd writes `compact_rev_key`), so callers must not
 *   assume one revision per object write.
 */
export interface Backend {
  /** Driver name as in the `--storage` URL scheme: `memory`, `sqlite`, `etcd3`. */
  readonly name: string;

  get(key: string, options?: GetOptions): Promise<KeyValue | undefined>;
  list(prefix: string, options?: ListOptions): Promise<ListResult>;

  /** Fails with `AlreadyExists` when the key is present. */
  create(key: string, value: Buffer): Promise<KeyValue>;
  /**
   * Replaces the value if the key's current modRevision equals `expectedModRevision`.
   * Fails with `NotFound` when the key is absent, `Conflict` (carrying `current`) otherwise.
   */
  update(key: string, value: Buffer, expectedModRevision: number): Promise<KeyValue>;
  /**
   * Deletes the key, only if its modRevision equals `expectedModRevision` when that is given.
   * Returns the deleted value, with `modRevision` the revision of the delete.
   * Fails with `NotFound` when absent, `Conflict` (carrying `current`) on a precondition mismatch.
   */
  delete(key: string, expectedModRevision?: number): Promise<KeyValue>;

  /** Every event on keys under `prefix` with a revision strictly greater than `afterRevision`. */
  watch(prefix: string, afterRevision: number, options?: WatchOptions): Watch;

  /** Forgets history at and below `revision` (current values stay readable). */
  compact(revision: number): Promise<void>;
  /** Highest compacted revision (0 when never compacted). */
  compactedRevision(): Promise<number>;
  currentRevision(): Promise<number>;

  /** Resolves when the store answers a trivial read; used by `/readyz`. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type StorageErrorCode =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Compacted'
  | 'FutureRevision'
  | 'WatchOverflow'
  | 'Unavailable'
  | 'InvalidArgument'
  | 'Closed';

export class StorageError extends Error {
  readonly code: StorageErrorCode;
  readonly key?: string;
  /** For `Conflict`: the key's current value. */
  readonly current?: KeyValue;
  /** For `Compacted`: the store's compacted revision. For `FutureRevision`: the current revision. */
  readonly revision?: number;

  constructor(
    code: StorageErrorCode,
    message: string,
    extra: { key?: string; current?: KeyValue; revision?: number; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'StorageError';
    this.code = code;
    this.key = extra.key;
    this.current = extra.current;
    this.revision = extra.revision;
  }
}

export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  return err instanceof StorageError && (code === undefined || err.code === code);
}

/**
 * The first key after every key that starts with `prefix` (etcd's range_end for a prefix).
 * Keys are ASCII (the registry builds them from DNS names), so string order equals the byte order
 * that etcd and SQLite use.
 */
export function prefixEnd(prefix: string): string {
  if (prefix === '') return '\0';
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
