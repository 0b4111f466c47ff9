// The watch cache of ONE resource (one key prefix), in the manner of k8s.io/apiserver's cacher:
// one upstream `backend.watch(prefix)` feeds an in-memory copy of the prefix, a bounded event
// history, and every client watch of the resource. LISTs at RV "0" / NotOlderThan and consistent
// LISTs (after `waitUntilFresh`) are answered from memory; WATCHes are fanned out from here.
//
// State
// - `objects`: key → { object, revision (modRevision) }, plus `sortedKeys` (byte order) so lists
//   come out sorted and a namespace list is a key range (`<prefix><namespace>/…`, the Store's key
//   layout), not a scan of everything.
// - `rev`: every event of the prefix with revision ≤ rev has been applied. It moves with events,
//   and past them when freshness is proven (see below). It is the `resourceVersion` of lists.
// - `history`: the events applied, oldest first, bounded by time (`historyWindowMs`, 75 s as the
//   k8s cacher's DefaultEventsHistoryWindow) and count (`maxHistoryEvents`). It vouches for every
//   revision ≥ `history.startRevision`: a watch from N replays exactly the events > N when
//   N ≥ startRevision, and fails with Expired (410 "too old resource version: N (M)") otherwise.
//
// Objects are SHARED: the same object reference is in the state, the history, every list result
// and every watch event. Nobody may mutate them (copy first: `structuredClone`, or spread the
// parts you change). `freezeObjects: true` deep-freezes them on entry to catch offenders in tests.
//
// Upstream recovery: the upstream watch is re-opened from `rev` when it breaks (Unavailable, an
// unexpected end, WatchOverflow), with backoff 100 ms → 5 s while it keeps failing. When the
// store answers Compacted (the revisions after `rev` are gone), the prefix is relisted at a
// revision L and the state converges to it by applying the difference as synthetic
// ADDED/MODIFIED/DELETED changes at revision L; the events in between are unknown, so the history
// restarts at L and EVERY cache watcher ends with Expired (as k8s' cacher terminates all watchers
// when it reinitialises); their clients relist. `ready` is false until the first list and during
// such a relist.
//
// Freshness (`waitUntilFresh(R)`): revisions are global, so a write to another resource moves the
// store's revision without an event here. The cache may only claim `rev = C` beyond its last event
// when it KNOWS the upstream watch has delivered every event ≤ C of the prefix; merely seeing the
// store at C is not enough (an event ≤ C may still be in flight), and no Backend read can prove the
// absence of events in (rev, C]: a key created and deleted in between is invisible to list and get
// at both ends. So the proof depends on how the driver delivers events:
// - 'sync-delivery' (memory, sqlite): the driver pushes each event into every open watch queue
//   synchronously inside the write call, before the write resolves and before `currentRevision()`
//   can report it (sqlite also replays synchronously on `watch()`). Hence: with the upstream watch
//   open throughout, read C = currentRevision(), then let one macrotask pass; if the consumption
//   loop is then parked on the upstream iterator (its queue is empty: everything pushed was
//   consumed, as the hand-over from WatchQueue to this loop is microtasks only), every event ≤ C is
//   applied, and `rev = C` is exact. Caveat: with SEVERAL PROCESSES sharing one sqlite file, the
//   other processes' writes are published by the driver's 1 s poll, so a claim can run ahead of
//   them; such an event then arrives "late" (revision ≤ rev) and forces a relist (below).
// - 'list-compare' (etcd3, whose driver exposes no RequestProgress yet): read C, list the prefix at
//   C and compare (key, modRevision) with the state; when equal, the state IS the store's state at
//   C and `rev = C` is claimed. Lists served at C are then exact. What it cannot see is a key
//   created and deleted within (rev, C] whose events are still in flight; if they arrive later
//   (revision ≤ rev) the cache relists and expires its watchers, and if the upstream watch breaks
//   first they are skipped. An etcd `RequestProgress` on the upstream watch would make this exact
//   and cheap; it needs a progress item in the Backend watch contract.
// Probes run only while someone waits: at once, then every `probeIntervalMs` (100 ms, as k8s'
// progress requester). A waiter not satisfied within its timeout (3 s, as KEP-2340) gets
// CacheError('TooLargeResourceVersion') (or 'NotReady' before the first sync).
// Safety net for both: an upstream event with revision ≤ rev that is not a duplicate means a claim
// was wrong; the cache relists and expires its watchers instead of serving a wrong history.
//
// Watchers. A watcher reads in up to three phases, all in one global order (history order), so
// two watchers see the events of one revision in the same order:
//   initial  (initialEvents) synthetic ADDED for the snapshot taken at revision S, then a
//            BOOKMARK { revision: S, initialEventsEnd: true } (the handler sends it as the
//            `k8s.io/initial-events-end` bookmark);
//   history  a cursor into the shared history: events after its position, read lazily, so a
//            replay costs no per-watcher memory; if the history drops events it has not read yet,
//            it ends with Expired;
//   live     once caught up: events are pushed into its own buffer of at most
//            `watcherBufferEvents` events. A watcher that lets the buffer fill up is SLOW: its
//            buffer is dropped and the stream ends normally (`endReason === 'slow'`), as k8s'
//            cacher closes a watcher it cannot feed within its budget; the client re-watches from
//            the last revision it processed and is replayed from the history (or gets 410 if it
//            is further behind than the history). Nothing waits for a watcher, so one slow watcher
//            never blocks the others, and its memory is bounded. To give consumers that await I/O
//            a chance to drain, the upstream loop yields a macrotask every
//            `watcherBufferEvents / 2` events.
// With a predicate, a MODIFIED whose old version matched and new one does not is delivered as
// DELETED (object = the new version), one that newly matches as ADDED, and one matching neither is
// skipped. A DELETED event carries the last state with `resourceVersion` = the delete revision.
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import type { KubeObject } from './meta.js';
import { isStorageError, StorageError, type Backend, type KeyValue, type Watch, type WatchEvent } from './storage/index.js';
import { lowerBound } from './sorted.js';

// ---- public types ----

export type CacheErrorCode = 'TooLargeResourceVersion' | 'Expired' | 'NotReady';

/**
 * Why the cache cannot answer. `Expired` → 410 (`too old resource version: N (M)`),
 * `TooLargeResourceVersion` → 504 with cause ResourceVersionTooLarge, `NotReady` → 503/429.
 */
export class CacheError extends Error {
  readonly code: CacheErrorCode;
  /** The revision asked for (Expired, TooLargeResourceVersion). */
  readonly requested?: number;
  /** Expired: the oldest revision the cache can serve. TooLarge: the cache's revision. */
  readonly current?: number;

  constructor(code: CacheErrorCode, message: string, extra: { requested?: number; current?: number } = {}) {
    super(message);
    this.name = 'CacheError';
    this.code = code;
    this.requested = extra.requested;
    this.current = extra.current;
  }
}

export function isCacheError(err: unknown, code?: CacheErrorCode): err is CacheError {
  return err instanceof CacheError && (code === undefined || err.code === code);
}

export type CacheEvent =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject; revision: number }
  /**
   * The watcher has been given every matching event ≤ `revision`. `initialEventsEnd`: the end of
   * the synthetic initial events (send the `k8s.io/initial-events-end` bookmark).
   */
  | { type: 'BOOKMARK'; revision: number; initialEventsEnd: boolean };

export type CacheWatchEndReason = 'closed' | 'slow' | 'expired' | 'stopped' | 'failed';

/**
 * A watch served by the cache. Iterate it for event batches; the iteration ends normally after
 * `close()`, when the watcher was too slow (`endReason: 'slow'`: re-watch from the last revision
 * processed) or when the cache stops, and throws CacheError('Expired') when its position can no
 * longer be served (the handler sends an ERROR event with a 410 Status).
 */
export interface CacheWatch extends AsyncIterable<CacheEvent[]> {
  close(): void;
  /**
   * The revision up to which this watcher has been handed every matching event, for periodic
   * BOOKMARKs sent beside the stream. 0 while synthetic initial events are still being sent.
   */
  currentRevision(): number;
  /** Queues a BOOKMARK at the current revision, in order with the events (none during the initial events). */
  requestBookmark(): void;
  /** Undefined while the watch is open. */
  readonly endReason: CacheWatchEndReason | undefined;
}

export interface CacheWatchOptions {
  /**
   * Deliver exactly the events with revision > afterRevision (replayed from history, then live).
   * With `initialEvents`: the snapshot is at least this fresh (resourceVersionMatch=NotOlderThan).
   * Absent (and no initialEvents): the events after the cache's current revision.
   */
  afterRevision?: number;
  namespace?: string;
  predicate?: (obj: KubeObject) => boolean;
  /** First ADDED for every current matching object, then BOOKMARK{initialEventsEnd}, then changes. */
  initialEvents?: boolean;
  /** How long to wait for the cache to reach `afterRevision` (default 3,000 ms). */
  timeoutMs?: number;
}

export interface CacheListOptions {
  namespace?: string;
  predicate?: (obj: KubeObject) => boolean;
}

/** A page of `Cacher.listPage`. */
export interface CachePage {
  items: KubeObject[];
  revision: number;
  /** The last key examined (the next page starts after it); undefined when none was. */
  lastKey: string | undefined;
  /** Keys of the range after `lastKey`. */
  remaining: number;
}

/** The subset of a pino / fastify logger the cache uses. */
export interface CacheLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export type FreshnessMode = 'sync-delivery' | 'list-compare';

export interface CacherOptions {
  backend: Backend;
  /** The resource's key prefix, ending in `/`, e.g. `/registry/storm.apache.org/stormtopologies/`. */
  prefix: string;
  /** Decodes a stored value; `metadata.resourceVersion` must be `String(kv.modRevision)`. */
  decode(kv: KeyValue): KubeObject;
  historyWindowMs?: number;
  maxHistoryEvents?: number;
  watcherBufferEvents?: number;
  now?: () => number;
  log?: CacheLogger;
  /** How freshness beyond the last event is proven (see the top of the file). Default by driver. */
  freshness?: FreshnessMode;
  /** Interval of freshness probes while someone waits. Default 100 ms. */
  probeIntervalMs?: number;
  /** Backoff of upstream retries while the store fails. Default 100 ms → 5,000 ms. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Keys per page of the (re)list. Default 10,000. */
  listPageSize?: number;
  /** Deep-freeze cached objects (catches code that mutates shared objects; for tests/dev). */
  freezeObjects?: boolean;
}

// ---- internals ----

interface Stored {
  object: KubeObject;
  revision: number;
}

interface HistoryEntry {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  namespace: string | undefined;
  /** The new version; for DELETED the last version with resourceVersion = the delete revision. */
  object: KubeObject;
  /** The version before (MODIFIED only). */
  prev: KubeObject | undefined;
  revision: number;
  time: number;
  /** The event as most watchers get it (no predicate, or one the object matches before and after): shared, never mutated. */
  event: CacheEvent;
}

/** Events handed out per batch while replaying (initial snapshot or history). */
const REPLAY_CHUNK = 500;
/** Upstream driver queue bound: the cache consumes promptly, a stuck cache re-watches. */
const UPSTREAM_MAX_PENDING = 100_000;
const DEFAULT_WAIT_MS = 3_000;
const SYNC_DELIVERY_DRIVERS = new Set(['memory', 'sqlite']);

const noopLogger: CacheLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Thrown inside the upstream loop when an event arrives at or below a claimed revision. */
class LateEventError extends Error {
  constructor(readonly revision: number, readonly claimed: number) {
    super(`upstream event at revision ${revision} arrived after the cache claimed revision ${claimed}`);
  }
}

/**
 * The applied events, oldest first, addressed by a sequence number that never repeats (so a
 * cursor into a reset or trimmed history notices). Vouches for every revision ≥ startRevision.
 */
class History {
  private entries: HistoryEntry[] = [];
  /** entries[offset] has sequence number firstSeq. */
  private offset = 0;
  firstSeq = 0;
  startRevision = 0;

  get headSeq(): number {
    return this.firstSeq + this.entries.length - this.offset;
  }

  get size(): number {
    return this.entries.length - this.offset;
  }

  at(seq: number): HistoryEntry {
    return this.entries[this.offset + seq - this.firstSeq];
  }

  append(entry: HistoryEntry): void {
    this.entries.push(entry);
  }

  /** Drops events older than `minTime` and beyond `maxEvents`, whole revisions at a time. */
  evict(minTime: number, maxEvents: number): void {
    let dropped = 0;
    while (this.offset < this.entries.length) {
      const oldest = this.entries[this.offset];
      if (oldest.time >= minTime && this.entries.length - this.offset <= maxEvents) break;
      this.offset++;
      this.firstSeq++;
      dropped++;
      this.startRevision = oldest.revision;
      // Never split a revision: the history vouches for whole revisions.
      while (this.offset < this.entries.length && this.entries[this.offset].revision === oldest.revision) {
        this.offset++;
        this.firstSeq++;
      }
    }
    if (dropped > 0 && this.offset > 1024 && this.offset * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.offset);
      this.offset = 0;
    }
  }

  /** Empties the history; it then vouches for revisions ≥ startRevision. */
  reset(startRevision: number): void {
    this.firstSeq = this.headSeq;
    this.entries = [];
    this.offset = 0;
    this.startRevision = startRevision;
  }

  /** The sequence number of the first event with revision > `revision`. */
  seqAfter(revision: number): number {
    let low = this.offset;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.entries[mid].revision <= revision) low = mid + 1;
      else high = mid;
    }
    return this.firstSeq + (low - this.offset);
  }
}

/** What a watcher needs from its cache. */
interface WatcherHost {
  readonly history: History;
  readonly rev: number;
  readonly bufferLimit: number;
  goLive(watcher: CacheWatcher): void;
  forget(watcher: CacheWatcher): void;
  /** Wakes the watcher's consumer once the current macrotask is done (see `Cacher.wakeSoon`). */
  wakeSoon(watcher: CacheWatcher): void;
}

class CacheWatcher implements CacheWatch {
  endReason: CacheWatchEndReason | undefined;
  private phase: 'initial' | 'history' | 'live' | 'ended';
  private snapshot: KubeObject[] | undefined;
  private snapshotIndex = 0;
  /** initial: the snapshot revision; history: the revision of the last event read. */
  private position: number;
  private nextSeq: number;
  private buffer: CacheEvent[] = [];
  private failure: CacheError | undefined;
  private wake: (() => void) | undefined;
  private handedOut: number;
  private bookmarkPending = false;
  /** In the host's wake list (see `Cacher.wakeSoon`). */
  wakeQueued = false;

  constructor(
    private readonly host: WatcherHost,
    readonly namespace: string | undefined,
    private readonly predicate: ((obj: KubeObject) => boolean) | undefined,
    start: { snapshot: KubeObject[]; revision: number } | { afterRevision: number },
  ) {
    if ('snapshot' in start) {
      this.phase = 'initial';
      this.snapshot = start.snapshot;
      this.position = start.revision;
      this.nextSeq = host.history.seqAfter(start.revision);
      this.handedOut = 0;
    } else {
      this.phase = 'history';
      this.position = start.afterRevision;
      this.nextSeq = host.history.seqAfter(start.afterRevision);
      this.handedOut = start.afterRevision;
      this.catchUpIfDone();
    }
  }

  /** The revision this watcher is at: all its events ≤ it have been queued or handed out. */
  get at(): number {
    return this.phase === 'live' ? this.host.rev : this.position;
  }

  get isLive(): boolean {
    return this.phase === 'live';
  }

  currentRevision(): number {
    if (this.phase === 'live' && this.buffer.length === 0) return this.host.rev;
    return this.handedOut;
  }

  requestBookmark(): void {
    if (this.phase === 'history') this.bookmarkPending = true;
    else if (this.phase === 'live') this.queue({ type: 'BOOKMARK', revision: this.host.rev, initialEventsEnd: false });
  }

  close(): void {
    this.end('closed');
  }

  /** Ends the stream with an error (thrown to the consumer once it reads). */
  fail(error: CacheError, reason: CacheWatchEndReason = 'expired'): void {
    if (this.phase === 'ended') return;
    this.failure = error;
    this.end(reason);
  }

  end(reason: CacheWatchEndReason): void {
    if (this.phase === 'ended') return;
    this.phase = 'ended';
    this.endReason = reason;
    this.buffer = [];
    this.snapshot = undefined;
    this.host.forget(this);
    this.signal();
  }

  /** A live watcher is offered every new history entry in order. */
  offer(entry: HistoryEntry): void {
    let event: CacheEvent | undefined;
    try {
      event = this.transform(entry);
    } catch (err) {
      this.fail(new CacheError('Expired', `watch predicate failed: ${(err as Error).message}`), 'failed');
      return;
    }
    if (event) this.queue(event);
  }

  private queue(event: CacheEvent): void {
    const last = this.buffer[this.buffer.length - 1];
    if (event.type === 'BOOKMARK' && last?.type === 'BOOKMARK') this.buffer.pop();
    if (this.buffer.length >= this.host.bufferLimit) {
      // Too slow: drop what it has not read and end; it re-watches from its last revision.
      this.end('slow');
      return;
    }
    this.buffer.push(event);
    this.host.wakeSoon(this);
  }

  /** Wakes the consumer if it waits for events (called by the host's batched wake-up). */
  wakeNow(): void {
    this.signal();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<CacheEvent[]> {
    try {
      for (;;) {
        const batch = this.take();
        if (batch.length > 0) {
          yield batch;
          continue;
        }
        if (this.failure) throw this.failure;
        if (this.phase === 'ended') return;
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      this.close();
    }
  }

  /** The next batch to hand out; empty when there is nothing now. */
  private take(): CacheEvent[] {
    const out: CacheEvent[] = [];
    if (this.phase === 'initial') {
      const snapshot = this.snapshot!;
      while (this.snapshotIndex < snapshot.length && out.length < REPLAY_CHUNK) {
        const obj = snapshot[this.snapshotIndex++];
        if (this.matches(obj)) out.push({ type: 'ADDED', object: obj, revision: Number(obj.metadata.resourceVersion) });
      }
      if (this.snapshotIndex < snapshot.length) return out;
      this.snapshot = undefined;
      out.push({ type: 'BOOKMARK', revision: this.position, initialEventsEnd: true });
      this.handedOut = this.position;
      this.phase = 'history';
    }
    if (this.phase === 'history') {
      const history = this.host.history;
      if (this.nextSeq < history.firstSeq) {
        this.fail(tooOld(this.position, history.startRevision));
        return out;
      }
      while (this.nextSeq < history.headSeq && out.length < REPLAY_CHUNK) {
        const entry = history.at(this.nextSeq++);
        this.position = entry.revision;
        let event: CacheEvent | undefined;
        try {
          event = this.transform(entry);
        } catch (err) {
          this.fail(new CacheError('Expired', `watch predicate failed: ${(err as Error).message}`), 'failed');
          return out;
        }
        if (event) out.push(event);
      }
      // Caught up: live from now on; a pending bookmark may already sit in the buffer.
      if (this.catchUpIfDone() && this.buffer.length > 0) out.push(...this.takeBuffer());
    } else if (this.phase === 'live' && this.buffer.length > 0) {
      return this.takeBuffer();
    }
    // Initial ADDED events carry their objects' revisions (all ≤ the snapshot's), so the max is safe.
    for (const event of out) this.handedOut = Math.max(this.handedOut, event.revision);
    return out;
  }

  private takeBuffer(): CacheEvent[] {
    const out = this.buffer;
    this.buffer = [];
    for (const event of out) this.handedOut = Math.max(this.handedOut, event.revision);
    return out;
  }

  /** History phase with nothing left to read → live (synchronously, so no event slips between). */
  private catchUpIfDone(): boolean {
    if (this.phase !== 'history' || this.nextSeq < this.host.history.headSeq) return false;
    this.phase = 'live';
    this.host.goLive(this);
    if (this.bookmarkPending) {
      this.bookmarkPending = false;
      this.queue({ type: 'BOOKMARK', revision: this.host.rev, initialEventsEnd: false });
    }
    return true;
  }

  private matches(obj: KubeObject): boolean {
    if (this.namespace !== undefined && obj.metadata.namespace !== this.namespace) return false;
    return !this.predicate || this.predicate(obj);
  }

  private transform(entry: HistoryEntry): CacheEvent | undefined {
    if (this.namespace !== undefined && entry.namespace !== this.namespace) return undefined;
    const { object, revision } = entry;
    const predicate = this.predicate;
    if (!predicate) return entry.event;
    if (entry.type !== 'MODIFIED') return predicate(object) ? entry.event : undefined;
    const now = predicate(object);
    const before = entry.prev !== undefined && predicate(entry.prev);
    if (now && before) return entry.event;
    if (now) return { type: 'ADDED', object, revision };
    if (before) return { type: 'DELETED', object, revision };
    return undefined;
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

interface Waiter {
  revision: number;
  resolve: () => void;
  reject: (err: CacheError) => void;
  timer: NodeJS.Timeout;
}

export class Cacher implements WatcherHost {
  readonly prefix: string;
  readonly bufferLimit: number;
  readonly history = new History();
  readonly freshness: FreshnessMode;

  private readonly backend: Backend;
  private readonly decode: (kv: KeyValue) => KubeObject;
  private readonly historyWindowMs: number;
  private readonly maxHistoryEvents: number;
  private readonly now: () => number;
  private readonly log: CacheLogger;
  private readonly probeIntervalMs: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly listPageSize: number;
  private readonly freeze: boolean;
  private readonly yieldEvery: number;

  private objects = new Map<string, Stored>();
  private sortedKeys: string[] = [];
  /** See the top of the file. */
  rev = 0;
  /** The revision of the last event applied from the upstream watch (or of the last list). */
  private lastEventRevision = 0;
  private synced = false;
  private resyncing = false;
  private stopped = false;

  private readonly watchers = new Set<CacheWatcher>();
  private readonly liveAll = new Set<CacheWatcher>();
  private readonly liveByNamespace = new Map<string, Set<CacheWatcher>>();
  /** Watchers given events since the last wake-up (see `wakeSoon`). */
  private wakeList: CacheWatcher[] = [];
  private wakeScheduled = false;

  private upstream: Watch | undefined;
  private upstreamGeneration = 0;
  /** The upstream loop is awaiting the upstream iterator (see the freshness notes). */
  private parked = false;
  private failures = 0;

  private waiters: Waiter[] = [];
  private probeTimer: NodeJS.Timeout | undefined;
  private probing = false;

  private running: Promise<void> | undefined;
  private syncedWaiters: Array<{ resolve: () => void; reject: (err: CacheError) => void }> = [];
  private sleepTimer: { timer: NodeJS.Timeout; resolve: () => void } | undefined;

  constructor(options: CacherOptions) {
    this.backend = options.backend;
    this.prefix = options.prefix;
    this.decode = options.decode;
    this.historyWindowMs = options.historyWindowMs ?? 75_000;
    this.maxHistoryEvents = options.maxHistoryEvents ?? 100_000;
    this.bufferLimit = Math.max(1, options.watcherBufferEvents ?? 1_000);
    this.now = options.now ?? Date.now;
    this.log = options.log ?? noopLogger;
    this.freshness = options.freshness ?? (SYNC_DELIVERY_DRIVERS.has(options.backend.name) ? 'sync-delivery' : 'list-compare');
    this.probeIntervalMs = options.probeIntervalMs ?? 100;
    this.retryInitialMs = options.retryInitialMs ?? 100;
    this.retryMaxMs = options.retryMaxMs ?? 5_000;
    this.listPageSize = options.listPageSize ?? 10_000;
    this.freeze = options.freezeObjects ?? false;
    this.yieldEvery = Math.max(1, Math.floor(this.bufferLimit / 2));
  }

  /** Synced and not relisting: for `/readyz`. */
  get ready(): boolean {
    return this.synced && !this.resyncing && !this.stopped;
  }

  /**
   * Lists the prefix and follows it. Resolves after the first list has been applied (retrying
   * with backoff while the store fails); rejects with NotReady if `stop()` comes first.
   */
  start(): Promise<void> {
    if (this.stopped) return Promise.reject(this.notReady());
    this.running ??= this.run().catch((err: unknown) => {
      this.log.error({ err, prefix: this.prefix }, 'watch cache loop failed');
    });
    return this.whenSynced();
  }

  /** Closes the upstream watch, ends every watcher, fails every waiter. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.upstream?.close();
    if (this.sleepTimer) {
      clearTimeout(this.sleepTimer.timer);
      this.sleepTimer.resolve();
    }
    clearTimeout(this.probeTimer);
    for (const w of [...this.watchers]) w.end('stopped');
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(this.notReady());
    }
    for (const s of this.syncedWaiters.splice(0)) s.reject(this.notReady());
    await this.running;
  }

  /** The latest revision the cache is fresh to. */
  revision(): number {
    return this.rev;
  }

  /**
   * A revision safe for a BOOKMARK to a watcher that is caught up (live with an empty buffer).
   * For a particular watch prefer `CacheWatch.currentRevision()` / `requestBookmark()`.
   */
  bookmarkRevision(): number {
    return this.rev;
  }

  stats(): { objects: number; historyEvents: number; watchers: number; revision: number; ready: boolean } {
    return { objects: this.objects.size, historyEvents: this.history.size, watchers: this.watchers.size, revision: this.rev, ready: this.ready };
  }

  /** Resolves once the cache has applied everything up to `revision` (see the freshness notes). */
  waitUntilFresh(revision: number, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    if (this.stopped) return Promise.reject(this.notReady());
    if (this.synced && revision <= this.rev) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        revision,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(
            this.synced
              ? new CacheError('TooLargeResourceVersion', `Too large resource version: ${revision}, current: ${this.rev}`, {
                  requested: revision,
                  current: this.rev,
                })
              : this.notReady(),
          );
        }, timeoutMs),
      };
      this.waiters.push(waiter);
      this.scheduleProbe(0);
    });
  }

  /** The current state, sorted by key, filtered; a snapshot at `revision`. */
  list(options: CacheListOptions = {}): { items: KubeObject[]; revision: number } {
    if (!this.synced || this.stopped) throw this.notReady();
    const { namespace, predicate } = options;
    const [from, to] = this.keyRange(namespace);
    const items: KubeObject[] = [];
    for (let i = from; i < to; i++) {
      const obj = this.objects.get(this.sortedKeys[i])!.object;
      if (namespace !== undefined && obj.metadata.namespace !== namespace) continue;
      if (predicate && !predicate(obj)) continue;
      items.push(obj);
    }
    return { items, revision: this.rev };
  }

  /** One object by storage key, from the cache (GET with resourceVersion "0"). */
  getByKey(key: string): { object: KubeObject | undefined; revision: number } {
    if (!this.synced || this.stopped) throw this.notReady();
    return { object: this.objects.get(key)?.object, revision: this.rev };
  }

  /**
   * One page of a paged LIST (k8s' list-from-cache-snapshot, for the current state only): from
   * `startKey` (inclusive) on, within `namespace`, the objects `predicate` accepts, at most
   * `limit` (0 = all). At `atRevision` (a continue token's revision) only while the state then is
   * the state now: no event of this prefix after it, and the history vouches for it (not older
   * than `history.startRevision`); otherwise undefined, and the caller reads storage at that
   * revision. `remaining` counts the keys of the range after `lastKey` (the last key examined).
   */
  listPage(options: CacheListOptions & { startKey: string; limit: number; atRevision?: number }): CachePage | undefined {
    if (!this.synced || this.stopped) throw this.notReady();
    const revision = options.atRevision ?? this.rev;
    if (options.atRevision !== undefined) {
      if (revision > this.rev || revision < this.history.startRevision) return undefined;
      if (this.history.seqAfter(revision) !== this.history.headSeq) return undefined;
    }
    const { namespace, predicate } = options;
    const limit = options.limit > 0 ? options.limit : Infinity;
    const [from, to] = this.keyRange(namespace);
    const items: KubeObject[] = [];
    let lastKey: string | undefined;
    let i = Math.max(from, lowerBound(this.sortedKeys, options.startKey));
    while (i < to && items.length < limit) {
      lastKey = this.sortedKeys[i++];
      const obj = this.objects.get(lastKey)!.object;
      if (namespace !== undefined && obj.metadata.namespace !== namespace) continue;
      if (predicate && !predicate(obj)) continue;
      items.push(obj);
    }
    return { items, revision, lastKey, remaining: to - i };
  }

  /**
   * Opens a watch (see CacheWatchOptions). Rejects with Expired when `afterRevision` is older than
   * the history, TooLargeResourceVersion when the cache does not reach it in time, NotReady when
   * the cache has not synced.
   */
  async watch(options: CacheWatchOptions = {}): Promise<CacheWatch> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    if (this.stopped) throw this.notReady();
    if (!this.synced) await this.whenSynced(timeoutMs);
    const after = options.afterRevision;
    if (after !== undefined && after > this.rev) await this.waitUntilFresh(after, timeoutMs);
    if (this.stopped) throw this.notReady();
    this.evictHistory();
    // From here on synchronous: the snapshot / history position and the registration see one state.
    let watcher: CacheWatcher;
    if (options.initialEvents) {
      const [from, to] = this.keyRange(options.namespace);
      const snapshot: KubeObject[] = new Array(to - from);
      for (let i = from; i < to; i++) snapshot[i - from] = this.objects.get(this.sortedKeys[i])!.object;
      watcher = new CacheWatcher(this, options.namespace, options.predicate, { snapshot, revision: this.rev });
    } else {
      const start = after ?? this.rev;
      if (start < this.history.startRevision) throw tooOld(start, this.history.startRevision);
      watcher = new CacheWatcher(this, options.namespace, options.predicate, { afterRevision: start });
    }
    if (watcher.endReason === undefined) this.watchers.add(watcher);
    return watcher;
  }

  // ---- WatcherHost ----

  goLive(watcher: CacheWatcher): void {
    if (watcher.namespace === undefined) {
      this.liveAll.add(watcher);
      return;
    }
    let set = this.liveByNamespace.get(watcher.namespace);
    if (!set) this.liveByNamespace.set(watcher.namespace, (set = new Set()));
    set.add(watcher);
  }

  /**
   * Live events are handed to consumers in batches: a watcher given an event is woken once the
   * current macrotask is over (one setImmediate for all watchers), so every event applied
   * meanwhile (say, several writes answered in one poll phase) goes out in one write per watcher
   * instead of one write per event per watcher. The delay is a part of one event-loop turn; under
   * load the batches grow instead of the queue of pending socket writes.
   */
  wakeSoon(watcher: CacheWatcher): void {
    if (watcher.wakeQueued) return;
    watcher.wakeQueued = true;
    this.wakeList.push(watcher);
    if (!this.wakeScheduled) {
      this.wakeScheduled = true;
      setImmediate(this.wakeAll);
    }
  }

  private readonly wakeAll = (): void => {
    this.wakeScheduled = false;
    const woken = this.wakeList;
    this.wakeList = [];
    for (const watcher of woken) {
      watcher.wakeQueued = false;
      watcher.wakeNow();
    }
  };

  forget(watcher: CacheWatcher): void {
    this.watchers.delete(watcher);
    if (watcher.namespace === undefined) {
      this.liveAll.delete(watcher);
      return;
    }
    const set = this.liveByNamespace.get(watcher.namespace);
    if (set?.delete(watcher) && set.size === 0) this.liveByNamespace.delete(watcher.namespace);
  }

  // ---- upstream ----

  private async run(): Promise<void> {
    let needList = true;
    let immediate = false;
    while (!this.stopped) {
      if (this.failures > 0 && !immediate) {
        await this.sleep(Math.min(this.retryMaxMs, this.retryInitialMs * 2 ** (this.failures - 1)));
        if (this.stopped) break;
      }
      immediate = false;
      try {
        if (needList) {
          await this.relist();
          needList = false;
          this.failures = 0;
          if (this.stopped) break;
        }
        await this.follow();
      } catch (err) {
        if (this.stopped) break;
        this.failures++;
        if (err instanceof LateEventError) {
          this.log.warn({ prefix: this.prefix, revision: err.revision, claimed: err.claimed }, 'watch cache: late upstream event, relisting');
          needList = true;
          immediate = this.failures === 1;
        } else if (isStorageError(err, 'Compacted')) {
          this.log.info({ prefix: this.prefix, revision: this.rev }, 'watch cache: upstream revision compacted, relisting');
          needList = true;
          immediate = this.failures === 1;
        } else if (isStorageError(err, 'WatchOverflow')) {
          this.log.warn({ prefix: this.prefix }, 'watch cache: upstream watch overflowed, re-watching');
          immediate = this.failures === 1;
        } else {
          this.log.warn({ prefix: this.prefix, err }, 'watch cache: upstream failed, retrying');
        }
      }
    }
  }

  /** Follows the upstream watch from `rev` until it breaks (throws) or the cache stops. */
  private async follow(): Promise<void> {
    const watch = this.backend.watch(this.prefix, this.rev, { maxPendingEvents: UPSTREAM_MAX_PENDING });
    this.upstream = watch;
    this.upstreamGeneration++;
    const iterator = watch[Symbol.asyncIterator]();
    let sinceYield = 0;
    try {
      for (;;) {
        let result: IteratorResult<WatchEvent[]>;
        this.parked = true;
        try {
          result = await iterator.next();
        } finally {
          this.parked = false;
        }
        if (this.stopped) return;
        if (result.done) throw new StorageError('Unavailable', `watch ${this.prefix}: upstream watch ended`);
        this.failures = 0;
        for (const event of result.value) {
          this.applyUpstream(event);
          if (++sinceYield >= this.yieldEvery) {
            sinceYield = 0;
            await nextMacrotask();
            if (this.stopped) return;
          }
        }
      }
    } finally {
      this.upstream = undefined;
      watch.close();
    }
  }

  private applyUpstream(event: WatchEvent): void {
    const { kv } = event;
    const revision = kv.modRevision;
    if (revision <= this.rev) {
      if (revision <= this.lastEventRevision) {
        this.log.warn({ prefix: this.prefix, revision }, 'watch cache: duplicate upstream event ignored');
        return;
      }
      throw new LateEventError(revision, this.rev);
    }
    this.lastEventRevision = revision;
    if (!kv.key.startsWith(this.prefix)) {
      this.advance(revision);
      return;
    }
    const old = this.objects.get(kv.key);
    let entry: HistoryEntry;
    if (event.type === 'put') {
      let object: KubeObject;
      try {
        object = this.prepare(this.decode(kv));
      } catch (err) {
        this.log.error({ prefix: this.prefix, key: kv.key, revision, err }, 'watch cache: cannot decode object; event skipped');
        this.advance(revision);
        return;
      }
      this.put(kv.key, { object, revision });
      const type = old ? 'MODIFIED' : 'ADDED';
      entry = { type, namespace: object.metadata.namespace, object, prev: old?.object, revision, time: this.now(), event: { type, object, revision } };
    } else {
      if (!old) {
        this.advance(revision);
        return;
      }
      this.remove(kv.key);
      const object = this.deletedVersion(old.object, revision);
      entry = { type: 'DELETED', namespace: object.metadata.namespace, object, prev: undefined, revision, time: this.now(), event: { type: 'DELETED', object, revision } };
    }
    this.rev = revision;
    this.history.append(entry);
    this.evictHistory();
    for (const w of this.liveAll) w.offer(entry);
    if (entry.namespace !== undefined) {
      const set = this.liveByNamespace.get(entry.namespace);
      if (set) for (const w of set) w.offer(entry);
    }
    this.resolveWaiters();
  }

  /** Lists the prefix at one revision and makes it the state (first sync or resync). */
  private async relist(): Promise<void> {
    const first = !this.synced;
    if (!first) this.resyncing = true;
    try {
      const { items, revision } = await this.listAll();
      if (this.stopped) return;
      const fresh = new Map<string, Stored>();
      const keys: string[] = [];
      for (const kv of items) {
        const old = this.objects.get(kv.key);
        if (old && old.revision === kv.modRevision) {
          fresh.set(kv.key, old); // unchanged: keep the shared object
        } else {
          try {
            fresh.set(kv.key, { object: this.prepare(this.decode(kv)), revision: kv.modRevision });
          } catch (err) {
            this.log.error({ prefix: this.prefix, key: kv.key, err }, 'watch cache: cannot decode object; skipped');
            continue;
          }
        }
        keys.push(kv.key);
      }
      if (!first) {
        // The events between the old revision and `revision` are unknown: no watcher can be served
        // exactly any more. The state converges by the difference (synthetic changes at `revision`).
        let added = 0;
        let modified = 0;
        let deleted = 0;
        for (const [key, stored] of fresh) {
          const old = this.objects.get(key);
          if (!old) added++;
          else if (old !== stored) modified++;
        }
        for (const key of this.objects.keys()) if (!fresh.has(key)) deleted++;
        const newRev = Math.max(revision, this.rev);
        for (const w of [...this.watchers]) w.fail(tooOld(w.at, newRev));
        this.log.info({ prefix: this.prefix, revision: newRev, added, modified, deleted }, 'watch cache: relisted; watchers expired');
      }
      this.objects = fresh;
      this.sortedKeys = keys; // the store lists in key order
      this.rev = Math.max(revision, this.rev);
      this.lastEventRevision = this.rev;
      this.history.reset(this.rev);
      if (first) {
        this.synced = true;
        for (const s of this.syncedWaiters.splice(0)) s.resolve();
        this.log.info({ prefix: this.prefix, revision: this.rev, objects: fresh.size }, 'watch cache: synced');
      }
      this.resolveWaiters();
    } finally {
      this.resyncing = false;
    }
  }

  /** Every key of the prefix at one revision, in pages. */
  private async listAll(): Promise<{ items: KeyValue[]; revision: number }> {
    for (;;) {
      const items: KeyValue[] = [];
      let revision = 0;
      let startKey = this.prefix;
      try {
        for (;;) {
          const page = await this.backend.list(this.prefix, { revision, limit: this.listPageSize, startKey });
          revision = page.revision;
          for (const kv of page.items) items.push(kv);
          if (!page.more || page.items.length === 0) return { items, revision };
          startKey = `${page.items[page.items.length - 1].key}\x00`;
        }
      } catch (err) {
        // The revision was compacted between pages: start over at a newer one.
        if (revision > 0 && isStorageError(err, 'Compacted') && !this.stopped) continue;
        throw err;
      }
    }
  }

  // ---- freshness ----

  private scheduleProbe(delayMs: number): void {
    if (this.probeTimer || this.probing || this.waiters.length === 0 || this.stopped) return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      void this.probe();
    }, delayMs);
    this.probeTimer.unref?.();
  }

  private async probe(): Promise<void> {
    this.probing = true;
    try {
      if (this.synced && !this.resyncing) {
        if (this.freshness === 'sync-delivery') await this.probeSyncDelivery();
        else await this.probeListCompare();
      }
    } catch (err) {
      this.log.debug({ prefix: this.prefix, err }, 'watch cache: freshness probe failed');
    } finally {
      this.probing = false;
      this.scheduleProbe(this.probeIntervalMs);
    }
  }

  /** See "sync-delivery" at the top of the file. */
  private async probeSyncDelivery(): Promise<void> {
    if (!this.upstream) return;
    const generation = this.upstreamGeneration;
    const current = await this.backend.currentRevision();
    if (current <= this.rev) return;
    // A few macrotasks at most: the loop is busy only while it works through a burst.
    for (let i = 0; i < 10 && !this.stopped; i++) {
      await nextMacrotask();
      if (!this.upstream || generation !== this.upstreamGeneration || this.resyncing) return;
      if (this.parked) {
        this.claim(current);
        return;
      }
    }
  }

  /** See "list-compare" at the top of the file. */
  private async probeListCompare(): Promise<void> {
    const current = await this.backend.currentRevision();
    if (current <= this.rev) return;
    const items: Array<{ key: string; revision: number }> = [];
    let startKey = this.prefix;
    for (;;) {
      const page = await this.backend.list(this.prefix, { revision: current, limit: this.listPageSize, startKey });
      for (const kv of page.items) items.push({ key: kv.key, revision: kv.modRevision });
      if (!page.more || page.items.length === 0) break;
      startKey = `${page.items[page.items.length - 1].key}\x00`;
    }
    // Synchronous from here: compare with the state as it is now.
    if (this.rev >= current || this.resyncing || this.stopped) return;
    if (items.length !== this.objects.size) return;
    for (const item of items) if (this.objects.get(item.key)?.revision !== item.revision) return;
    this.claim(current);
  }

  private claim(revision: number): void {
    if (revision <= this.rev) return;
    this.rev = revision;
    this.resolveWaiters();
  }

  private advance(revision: number): void {
    if (revision > this.rev) this.rev = revision;
    this.resolveWaiters();
  }

  private resolveWaiters(): void {
    if (this.waiters.length === 0 || !this.synced) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.revision <= this.rev) {
        clearTimeout(w.timer);
        w.resolve();
      } else {
        still.push(w);
      }
    }
    this.waiters = still;
  }

  // ---- helpers ----

  private whenSynced(timeoutMs?: number): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (this.stopped) return Promise.reject(this.notReady());
    return new Promise<void>((resolve, reject) => {
      const entry = { resolve, reject };
      this.syncedWaiters.push(entry);
      if (timeoutMs !== undefined) {
        const timer = setTimeout(() => {
          this.syncedWaiters = this.syncedWaiters.filter((s) => s !== entry);
          reject(this.notReady());
        }, timeoutMs);
        entry.resolve = () => {
          clearTimeout(timer);
          resolve();
        };
        entry.reject = (err) => {
          clearTimeout(timer);
          reject(err);
        };
      }
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.sleepTimer = undefined;
        resolve();
      }, ms);
      this.sleepTimer = { timer, resolve };
    });
  }

  private notReady(): CacheError {
    return new CacheError('NotReady', `the watch cache of ${this.prefix} is ${this.stopped ? 'stopped' : 'not ready'}`);
  }

  private evictHistory(): void {
    this.history.evict(this.now() - this.historyWindowMs, this.maxHistoryEvents);
  }

  /** Index range of `sortedKeys` holding `namespace` (Store layout `<prefix><namespace>/<name>`). */
  private keyRange(namespace: string | undefined): [number, number] {
    if (namespace === undefined) return [0, this.sortedKeys.length];
    const start = `${this.prefix}${namespace}/`;
    return [lowerBound(this.sortedKeys, start), lowerBound(this.sortedKeys, `${this.prefix}${namespace}0`)]; // '0' = '/' + 1
  }

  private put(key: string, stored: Stored): void {
    if (!this.objects.has(key)) this.sortedKeys.splice(lowerBound(this.sortedKeys, key), 0, key);
    this.objects.set(key, stored);
  }

  private remove(key: string): void {
    this.objects.delete(key);
    const i = lowerBound(this.sortedKeys, key);
    if (this.sortedKeys[i] === key) this.sortedKeys.splice(i, 1);
  }

  /** The last state of a deleted object, carrying the delete revision (as the k8s etcd3 watcher does). */
  private deletedVersion(obj: KubeObject, revision: number): KubeObject {
    return this.prepare({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(revision) } });
  }

  private prepare(obj: KubeObject): KubeObject {
    sharedObjects.add(obj);
    if (obj.metadata) sharedObjects.add(obj.metadata);
    return this.freeze ? deepFreeze(obj) : obj;
  }
}

/** Every object a cache holds or held (state, history, events), and its metadata: shared, so never mutated. */
const sharedObjects = new WeakSet<object>();

/**
 * True for objects that came from a watch cache: immutable by contract (see the top of the file),
 * so what is derived from one alone (its JSON encoding) may be kept as long as it lives.
 */
export function isSharedCacheObject(obj: object): boolean {
  return sharedObjects.has(obj);
}

function tooOld(requested: number, oldest: number): CacheError {
  return new CacheError('Expired', `too old resource version: ${requested} (${oldest})`, { requested, current: oldest });
}


function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const child of Object.values(value as object)) deepFreeze(child);
  return value;
}
