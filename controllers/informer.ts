// An informer over one resource of our own registry: list + watch through the resource's Store
// (both served by its watch cache, in-process: no HTTP hop and no second copy of the objects on
// the wire), a local cache with indexes, and add/update/delete handlers, as client-go's
// SharedIndexInformer.
//
// - Start: a consistent list, then a watch from the list's resourceVersion. The initial objects are
//   reported as adds; `synced` resolves after they have been.
// - A watch that ends normally (the watch cache cut a slow watcher) is re-opened from the last
//   resourceVersion seen. A 410 Expired (the position left the cache's history) relists: the cache
//   converges to the new list, reporting the differences as add/update/delete (no update for an
//   object whose resourceVersion did not change). Other failures are retried with backoff
//   (100 ms → 5 s) from the last resourceVersion.
// - Resync: every `resyncPeriodMs` (0 = never), every cached object is reported as an update with
//   old === new, so level-based controllers re-check everything now and then.
// - Handlers run synchronously, in event order; they must not block (enqueue a key and return).
//
// Cached objects are the watch cache's objects, shared with every other reader: never mutate them
// (copy with `structuredClone` first).
import { StatusError } from '../apiserver/errors.js';
import type { KubeObject } from '../registry/meta.js';
import type { Lister, WatchEvent, Watcher, WatchStream } from '../registry/rest.js';
import { realClock, type Clock, type Timer } from './clock.js';

export type IndexFunc = (obj: KubeObject) => string[];

export interface InformerHandlers {
  add?(obj: KubeObject): void;
  /** `old === obj` on a resync. */
  update?(old: KubeObject, obj: KubeObject): void;
  /** The last state known; after a relist it may be older than the actual delete. */
  delete?(obj: KubeObject): void;
}

export interface InformerLogger {
  warn(obj: object, msg?: string): void;
}

export interface InformerOptions {
  /** The resource's Store (or anything that lists and watches like it). */
  source: Lister & Watcher;
  /** Only objects of this namespace ('' or absent: all). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Named indexes beyond the built-in `namespace` index. */
  indexers?: Record<string, IndexFunc>;
  resyncPeriodMs?: number;
  clock?: Clock;
  log?: InformerLogger;
}

/** The cache key of an object: `namespace/name`, or `name` for a cluster-scoped object. */
export function objectKey(obj: KubeObject): string {
  const { namespace, name } = obj.metadata;
  return namespace ? `${namespace}/${name}` : (name ?? '');
}

/** The inverse of `objectKey`. */
export function splitKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export const NAMESPACE_INDEX = 'namespace';

const RETRY_INITIAL_MS = 100;
const RETRY_MAX_MS = 5_000;

/** Objects by key plus inverted indexes: index name → indexed value → keys. */
export class IndexedCache {
  private readonly objects = new Map<string, KubeObject>();
  private readonly indexes = new Map<string, Map<string, Set<string>>>();
  private readonly indexers: Record<string, IndexFunc>;

  constructor(indexers: Record<string, IndexFunc> = {}) {
    this.indexers = { [NAMESPACE_INDEX]: (obj) => (obj.metadata.namespace ? [obj.metadata.namespace] : []), ...indexers };
    for (const name of Object.keys(this.indexers)) this.indexes.set(name, new Map());
  }

  get(key: string): KubeObject | undefined {
    return this.objects.get(key);
  }

  keys(): string[] {
    return [...this.objects.keys()];
  }

  list(): KubeObject[] {
    return [...this.objects.values()];
  }

  get size(): number {
    return this.objects.size;
  }

  /** The objects whose index `indexName` yields `value`. */
  byIndex(indexName: string, value: string): KubeObject[] {
    const index = this.indexes.get(indexName);
    if (!index) throw new Error(`no index named ${indexName}`);
    return [...(index.get(value) ?? [])].map((key) => this.objects.get(key)!);
  }

  /** The values index `indexName` holds (e.g. every namespace with objects). */
  indexValues(indexName: string): string[] {
    const index = this.indexes.get(indexName);
    if (!index) throw new Error(`no index named ${indexName}`);
    return [...index.keys()];
  }

  put(obj: KubeObject): KubeObject | undefined {
    const key = objectKey(obj);
    const old = this.objects.get(key);
    if (old) this.unindex(key, old);
    this.objects.set(key, obj);
    for (const [name, fn] of Object.entries(this.indexers)) {
      const index = this.indexes.get(name)!;
      for (const value of new Set(fn(obj))) {
        let keys = index.get(value);
        if (!keys) index.set(value, (keys = new Set()));
        keys.add(key);
      }
    }
    return old;
  }

  remove(key: string): KubeObject | undefined {
    const old = this.objects.get(key);
    if (!old) return undefined;
    this.unindex(key, old);
    this.objects.delete(key);
    return old;
  }

  private unindex(key: string, obj: KubeObject): void {
    for (const [name, fn] of Object.entries(this.indexers)) {
      const index = this.indexes.get(name)!;
      for (const value of fn(obj)) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
    }
  }
}

export class Informer {
  readonly cache: IndexedCache;
  private readonly options: InformerOptions;
  private readonly clock: Clock;
  private readonly handlers: InformerHandlers[] = [];
  private lastResourceVersion = '';
  private stream: WatchStream | undefined;
  private stopped = false;
  private started = false;
  private running: Promise<void> | undefined;
  private resyncTimer: Timer | undefined;
  private readonly abort = new AbortController();
  private markSynced!: () => void;
  private failSynced!: (err: unknown) => void;
  /** Resolves once the initial list has been delivered to the handlers. */
  readonly synced: Promise<void>;
  private isSynced = false;

  constructor(options: InformerOptions) {
    this.options = options;
    this.clock = options.clock ?? realClock;
    this.cache = new IndexedCache(options.indexers);
    this.synced = new Promise((resolve, reject) => {
      this.markSynced = () => {
        this.isSynced = true;
        resolve();
      };
      this.failSynced = reject;
    });
    this.synced.catch(() => {});
  }

  /** Handlers added after start see later events only (add them before `start()`). */
  addHandlers(handlers: InformerHandlers): void {
    this.handlers.push(handlers);
  }

  get hasSynced(): boolean {
    return this.isSynced;
  }

  /** The resourceVersion of the last list or event applied. */
  get resourceVersion(): string {
    return this.lastResourceVersion;
  }

  start(): void {
    if (this.started) throw new Error('informer already started');
    this.started = true;
    this.running = this.run();
    this.scheduleResync();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.resyncTimer?.cancel();
    this.stream?.close();
    this.failSynced(new Error('informer stopped'));
    await this.running;
  }

  private async run(): Promise<void> {
    let retryMs = RETRY_INITIAL_MS;
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
          this.markSynced();
        }
        await this.watchOnce();
        retryMs = RETRY_INITIAL_MS;
      } catch (err) {
        if (this.stopped) break;
        if (err instanceof StatusError && err.status.code === 410) {
          needList = true;
          continue;
        }
        this.options.log?.warn({ err }, 'informer: list/watch failed; retrying');
        await this.clock.sleep(retryMs, this.abort.signal);
        retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
      }
    }
  }

  /** Lists, and makes the cache equal the list, reporting the differences. */
  private async relist(): Promise<void> {
    const { namespace, labelSelector, fieldSelector } = this.options;
    const list = await this.options.source.list({ namespace: namespace || undefined, labelSelector, fieldSelector });
    if (this.stopped) return;
    const listed = new Set<string>();
    for (const obj of list.items) {
      listed.add(objectKey(obj));
      this.apply('ADDED', obj);
    }
    for (const key of this.cache.keys()) {
      if (!listed.has(key)) {
        const old = this.cache.remove(key)!;
        this.emit((h) => h.delete?.(old));
      }
    }
    this.lastResourceVersion = list.resourceVersion;
  }

  private async watchOnce(): Promise<void> {
    const { namespace, labelSelector, fieldSelector } = this.options;
    const stream = await this.options.source.watch({
      namespace: namespace || undefined,
      labelSelector,
      fieldSelector,
      resourceVersion: this.lastResourceVersion,
    });
    this.stream = stream;
    try {
      if (this.stopped) return;
      for await (const batch of stream) {
        for (const event of batch) this.handleEvent(event);
        if (this.stopped) return;
      }
    } finally {
      stream.close();
      this.stream = undefined;
    }
  }

  private handleEvent(event: WatchEvent): void {
    if (event.type !== 'BOOKMARK') this.apply(event.type, event.object);
    if (event.object.metadata.resourceVersion) this.lastResourceVersion = event.object.metadata.resourceVersion;
  }

  private apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject): void {
    if (type === 'DELETED') {
      this.cache.remove(objectKey(obj));
      this.emit((h) => h.delete?.(obj));
      return;
    }
    const old = this.cache.put(obj);
    if (!old) this.emit((h) => h.add?.(obj));
    else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit((h) => h.update?.(old, obj));
  }

  private emit(call: (h: InformerHandlers) => void): void {
    for (const h of this.handlers) {
      try {
        call(h);
      } catch (err) {
        this.options.log?.warn({ err }, 'informer: a handler threw');
      }
    }
  }

  private scheduleResync(): void {
    const period = this.options.resyncPeriodMs ?? 0;
    if (period <= 0 || this.stopped) return;
    this.resyncTimer = this.clock.setTimer(period, () => {
      if (this.stopped) return;
      if (this.isSynced) for (const obj of this.cache.list()) this.emit((h) => h.update?.(obj, obj));
      this.scheduleResync();
    });
  }
}
