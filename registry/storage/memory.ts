// The `memory` driver: the full Backend contract (MVCC history, compaction, watch replay) in
// process memory. Gone on exit; used by tests and by `--storage=memory`.
//
// Layout:
// - `histories`: per key, every version still readable (ascending modRevision). A delete appends a
//   tombstone version, so reads at a past revision find what was there then.
// - `sortedKeys`: every key that has a history, in byte order, for prefix scans by binary search.
// - `eventLog`: one event per revision from `compactedRev + 1` to the current revision, so a watch
//   from a past revision replays exactly what happened after it.
// Every method runs synchronously to completion (no await inside), so each one is atomic and
// the order of revisions is the order of calls.
import {
  prefixEnd,
  StorageError,
  type Backend,
  type GetOptions,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Watch,
  type WatchEvent,
  type WatchOptions,
} from './backend.js';
import { WatchQueue } from './watch-queue.js';
import { lowerBound } from '../sorted.js';

export async function openMemoryBackend(): Promise<Backend> {
  return new MemoryBackend();
}

/** One value of a key (or its deletion) as written at `modRevision`. */
interface Version {
  modRevision: number;
  /** For a tombstone: the createRevision of the value it deleted. */
  createRevision: number;
  value: Buffer;
  tombstone: boolean;
}

interface Watcher {
  prefix: string;
  afterRevision: number;
  queue: WatchQueue;
}

/** Events are pushed to a replaying watcher in batches of at most this many. */
const REPLAY_BATCH_SIZE = 500;

class MemoryBackend implements Backend {
  readonly name = 'memory';

  private revision = 0;
  private compactedRev = 0;
  private readonly histories = new Map<string, Version[]>();
  private sortedKeys: string[] = [];
  /** How many keys in `sortedKeys` are currently deleted (their history ends in a tombstone). */
  private deletedKeyCount = 0;
  /** eventLog[i] is the event of revision `compactedRev + 1 + i`. */
  private eventLog: WatchEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private closed = false;

  // ---- reads ----

  async get(key: string, options: GetOptions = {}): Promise<KeyValue | undefined> {
    this.ensureOpen();
    const revision = this.readRevision(options.revision, key);
    const history = this.histories.get(key);
    const version = history && visibleAt(history, revision);
    return version && toKeyValue(key, version);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    this.ensureOpen();
    const startKey = options.startKey ?? prefix;
    if (!startKey.startsWith(prefix)) {
      throw new StorageError('InvalidArgument', `list ${prefix}: startKey ${startKey} is not under the prefix`, {
        key: startKey,
      });
    }
    const revision = this.readRevision(options.revision, prefix);
    const limit = options.limit && options.limit > 0 ? options.limit : Infinity;
    const endIndex = prefix === '' ? this.sortedKeys.length : lowerBound(this.sortedKeys, prefixEnd(prefix));
    const items: KeyValue[] = [];
    let next = lowerBound(this.sortedKeys, startKey);
    for (; next < endIndex && items.length < limit; next++) {
      const key = this.sortedKeys[next];
      const version = visibleAt(this.histories.get(key)!, revision);
      if (version) items.push(toKeyValue(key, version));
    }
    // At the current revision with no deleted keys pending compaction, every key is live: count
    // by index. Otherwise look at each remaining key's history.
    let remaining = 0;
    if (revision === this.revision && this.deletedKeyCount === 0) remaining = endIndex - next;
    else for (; next < endIndex; next++) if (visibleAt(this.histories.get(this.sortedKeys[next])!, revision)) remaining++;
    return { items, revision, more: remaining > 0, remaining };
  }

  async currentRevision(): Promise<number> {
    this.ensureOpen();
    return this.revision;
  }

  async compactedRevision(): Promise<number> {
    this.ensureOpen();
    return this.compactedRev;
  }

  async ping(): Promise<void> {
    this.ensureOpen();
  }

  // ---- writes ----

  async create(key: string, value: Buffer): Promise<KeyValue> {
    this.ensureOpen();
    const history = this.histories.get(key);
    const current = history && live(history);
    if (current) throw new StorageError('AlreadyExists', `${key} already exists`, { key });
    if (history) this.deletedKeyCount--;
    const revision = this.revision + 1;
    const version: Version = { modRevision: revision, createRevision: revision, value: Buffer.from(value), tombstone: false };
    this.append(key, history, version);
    this.record({ type: 'put', kv: toKeyValue(key, version) });
    return toKeyValue(key, version);
  }

  async update(key: string, value: Buffer, expectedModRevision: number): Promise<KeyValue> {
    this.ensureOpen();
    const history = this.histories.get(key);
    const current = this.checkPrecondition(key, history, expectedModRevision);
    const version: Version = {
      modRevision: this.revision + 1,
      createRevision: current.createRevision,
      value: Buffer.from(value),
      tombstone: false,
    };
    this.append(key, history, version);
    this.record({ type: 'put', kv: toKeyValue(key, version), prevKv: toKeyValue(key, current) });
    return toKeyValue(key, version);
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    this.ensureOpen();
    const history = this.histories.get(key);
    const current = this.checkPrecondition(key, history, expectedModRevision);
    const revision = this.revision + 1;
    const tombstone: Version = {
      modRevision: revision,
      createRevision: current.createRevision,
      value: Buffer.alloc(0),
      tombstone: true,
    };
    this.append(key, history, tombstone);
    this.deletedKeyCount++;
    this.record({
      type: 'delete',
      // As etcd reports a delete event: no value, no creation revision, modRevision = the delete.
      kv: { key, value: Buffer.alloc(0), createRevision: 0, modRevision: revision },
      prevKv: toKeyValue(key, current),
    });
    return { key, value: current.value, createRevision: current.createRevision, modRevision: revision };
  }

  // ---- compaction ----

  async compact(revision: number): Promise<void> {
    this.ensureOpen();
    if (revision <= this.compactedRev) return;
    if (revision > this.revision) {
      throw new StorageError('FutureRevision', `cannot compact at ${revision}: the current revision is ${this.revision}`, {
        revision: this.revision,
      });
    }
    let keysRemoved = false;
    for (const [key, history] of this.histories) {
      // Keep the version visible at `revision` (unless it is a tombstone) and everything newer.
      let visible = history.length - 1;
      while (visible >= 0 && history[visible].modRevision > revision) visible--;
      if (visible < 0) continue;
      const dropCount = history[visible].tombstone ? visible + 1 : visible;
      if (dropCount === 0) continue;
      history.splice(0, dropCount);
      if (history.length === 0) {
        this.histories.delete(key);
        this.deletedKeyCount--;
        keysRemoved = true;
      }
    }
    if (keysRemoved) this.sortedKeys = this.sortedKeys.filter((key) => this.histories.has(key));
    this.eventLog.splice(0, revision - this.compactedRev);
    this.compactedRev = revision;
  }

  // ---- watch ----

  watch(prefix: string, afterRevision: number, options: WatchOptions = {}): Watch {
    const watcher: Watcher = {
      prefix,
      afterRevision,
      queue: new WatchQueue({
        maxPendingEvents: options.maxPendingEvents,
        onClose: () => this.watchers.delete(watcher),
      }),
    };
    const { queue } = watcher;
    if (this.closed) {
      queue.fail(closedError());
      return queue;
    }
    if (afterRevision < this.compactedRev) {
      queue.fail(compactedError(`watch ${prefix} after revision ${afterRevision}`, this.compactedRev, prefix));
      return queue;
    }
    // Replay the log, then go live; no write can happen in between (all of this is synchronous).
    let batch: WatchEvent[] = [];
    for (let i = Math.max(0, afterRevision - this.compactedRev); i < this.eventLog.length && !queue.done; i++) {
      const event = this.eventLog[i];
      if (!event.kv.key.startsWith(prefix)) continue;
      batch.push(event);
      if (batch.length >= REPLAY_BATCH_SIZE) {
        queue.push(batch);
        batch = [];
      }
    }
    queue.push(batch);
    if (!queue.done) this.watchers.add(watcher);
    return queue;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const watcher of [...this.watchers]) watcher.queue.fail(closedError());
  }

  // ---- helpers ----

  private ensureOpen(): void {
    if (this.closed) throw closedError();
  }

  /** The revision a read at `requested` sees, or the error for one that cannot be served. */
  private readRevision(requested: number | undefined, key: string): number {
    if (!requested) return this.revision;
    if (requested > this.revision) {
      throw new StorageError('FutureRevision', `revision ${requested} is newer than the current revision ${this.revision}`, {
        key,
        revision: this.revision,
      });
    }
    if (requested < this.compactedRev) throw compactedError(`read ${key} at revision ${requested}`, this.compactedRev, key);
    return requested;
  }

  /** The live current version, if its modRevision is `expected` (or no expectation is given). */
  private checkPrecondition(key: string, history: Version[] | undefined, expected: number | undefined): Version {
    const current = history && live(history);
    if (!current) throw new StorageError('NotFound', `${key} not found`, { key });
    if (expected !== undefined && current.modRevision !== expected) {
      throw new StorageError('Conflict', `${key} was modified (modRevision is now ${current.modRevision})`, {
        key,
        current: toKeyValue(key, current),
      });
    }
    return current;
  }

  /** Appends the version written at the next revision. */
  private append(key: string, history: Version[] | undefined, version: Version): void {
    this.revision = version.modRevision;
    if (history) {
      history.push(version);
      return;
    }
    this.histories.set(key, [version]);
    this.sortedKeys.splice(lowerBound(this.sortedKeys, key), 0, key);
  }

  /** Logs the event of the revision just written and hands it to every matching watcher. */
  private record(event: WatchEvent): void {
    this.eventLog.push(event);
    for (const watcher of this.watchers) {
      if (event.kv.modRevision > watcher.afterRevision && event.kv.key.startsWith(watcher.prefix)) {
        watcher.queue.push([event]);
      }
    }
  }
}

/** The version a read at `revision` sees, or undefined when the key was absent then. */
function visibleAt(history: Version[], revision: number): Version | undefined {
  // Binary search for the last version with modRevision <= revision (usually the last one).
  let low = 0;
  let high = history.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (history[mid].modRevision <= revision) low = mid + 1;
    else high = mid;
  }
  const version = history[low - 1];
  return version && !version.tombstone ? version : undefined;
}

function live(history: Version[]): Version | undefined {
  const last = history[history.length - 1];
  return last && !last.tombstone ? last : undefined;
}


/** A fresh object per call. The value Buffer is the stored one: callers must not write into it. */
function toKeyValue(key: string, version: Version): KeyValue {
  return { key, value: version.value, createRevision: version.createRevision, modRevision: version.modRevision };
}

function closedError(): StorageError {
  return new StorageError('Closed', 'the memory store is closed');
}

function compactedError(what: string, compactedRevision: number, key: string): StorageError {
  return new StorageError('Compacted', `${what}: revision compacted (compacted revision ${compactedRevision})`, {
    key,
    revision: compactedRevision,
  });
}
