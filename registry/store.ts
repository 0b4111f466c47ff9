// The generic Store: REST semantics for one resource of one kind over a storage Backend.
// It implements the verb interfaces of `rest.ts`, runs the kind's Strategy in its documented
// order, and is the one place where storage errors become API errors.
import { randomUUID } from 'node:crypto';
import {
  alreadyExists,
  badRequest,
  conflict,
  expired,
  internalError,
  invalid,
  notFound,
  resourceVersionTooLarge,
  serviceUnavailable,
  STALE_OBJECT_MESSAGE,
  StatusError,
  timeout,
  type FieldError,
} from '../apiserver/errors.js';
import { isCacheError, type CacheEvent, type Cacher, type CacheWatch, type CacheWatchOptions } from './cacher.js';
import type { Decoded } from './codec.js';
import { groupVersionOf, type KindDeclaration } from './kind.js';
import { trackManagedFields, type ManagerRequest } from './fieldmanager/managed-fields.js';
import { validateObjectMeta, type KubeObject } from './meta.js';
import { patchMetaOf } from './patch/meta.js';
import type {
  CollectionDeleter,
  Creater,
  DeleteOptions,
  DeleteResult,
  Getter,
  GracefulDeleter,
  ListOptions,
  Lister,
  ListResult,
  RequestScope,
  UpdateBuilder,
  Updater,
  WatchEvent,
  Watcher,
  WatchOptions,
  WatchStream,
  WriteOptions,
  WriteResult,
} from './rest.js';
import { parseFieldSelector, parseLabelSelector, selectorPredicate, SelectorError } from './selectors.js';
import { isStorageError, type Backend, type KeyValue } from './storage/index.js';
import { mainStrategy, statusStrategy, type Strategy } from './strategy.js';

/** How many keys one storage read fetches while filling a page through a selector. */
const LIST_CHUNK = 500;
const GENERATE_NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export interface StoreOptions {
  decl: KindDeclaration;
  backend: Backend;
  /** The watch cache of this resource; lists at RV "0"/NotOlderThan and watches are served from it. */
  cacher?: Cacher;
  now?: () => Date;
  /** The subresource this Store writes through (`status`); recorded in managedFields. */
  subresource?: string;
}

/** Write options of the Store: who writes, for `metadata.managedFields` (absent: not tracked). */
export interface ManagedWriteOptions extends WriteOptions {
  managedFields?: ManagerRequest;
}

export type Predicate = (obj: KubeObject) => boolean;

/** Storage key layout: `/registry/<group>/<plural>/<namespace>/<name>`; the core group is `core`. */
export function resourcePrefix(decl: KindDeclaration): string {
  return `/registry/${decl.group || 'core'}/${decl.plural}/`;
}

/** Decodes a stored value; `metadata.resourceVersion` is the key's modRevision, never stored. */
export function decodeStored(kv: KeyValue): KubeObject {
  const obj = JSON.parse(kv.value.toString('utf8')) as KubeObject;
  obj.metadata.resourceVersion = String(kv.modRevision);
  return obj;
}

function encodeStored(obj: KubeObject): Buffer {
  const { resourceVersion: _rv, ...metadata } = obj.metadata;
  return Buffer.from(JSON.stringify({ ...obj, metadata }));
}

/** Opaque continue token, as k8s.io/apiserver's storage/continue.go encodes it. */
export function encodeContinue(revision: number, startKeyAfterPrefix: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: revision, start: startKeyAfterPrefix })).toString('base64url');
}

function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: string; rv?: number; start?: string };
    if (parsed.v !== 'meta.k8s.io/v1' || typeof parsed.rv !== 'number' || typeof parsed.start !== 'string') throw new Error();
    if (parsed.start.includes('/..') || parsed.start.startsWith('/')) throw new Error();
    return { rv: parsed.rv, start: parsed.start };
  } catch {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
}

export function parseResourceVersion(rv: string | undefined, what = 'resourceVersion'): number | undefined {
  if (rv === undefined || rv === '') return undefined;
  // Revisions are JavaScript numbers: one beyond 2^53 cannot name a revision exactly.
  if (!/^\d+$/.test(rv) || !Number.isSafeInteger(Number(rv))) throw badRequest(`invalid ${what}: ${rv}`);
  return Number(rv);
}

function nowTimestamp(now: Date): string {
  return `${now.toISOString().slice(0, 19)}Z`;
}

export class Store implements Getter, Lister, Creater, Updater, GracefulDeleter, CollectionDeleter, Watcher {
  readonly decl: KindDeclaration;
  readonly backend: Backend;
  readonly cacher?: Cacher;
  readonly strategy: Strategy;
  readonly prefix: string;
  readonly subresource?: string;
  private readonly now: () => Date;

  constructor(options: StoreOptions, strategy?: Strategy) {
    this.decl = options.decl;
    this.backend = options.backend;
    this.cacher = options.cacher;
    this.now = options.now ?? (() => new Date());
    this.strategy = strategy ?? mainStrategy(options.decl.namespaced, options.decl.rules);
    this.prefix = resourcePrefix(options.decl);
    this.subresource = options.subresource;
  }

  /** The same resource seen through its `/status` subresource: only status changes. */
  statusStore(): Store {
    return new Store({ decl: this.decl, backend: this.backend, cacher: this.cacher, now: this.now, subresource: 'status' }, statusStrategy(this.strategy));
  }

  keyFor(namespace: string | undefined, name: string): string {
    return this.decl.namespaced ? `${this.prefix}${namespace}/${name}` : `${this.prefix}${name}`;
  }

  private ref(name: string) {
    return { group: this.decl.group, resource: this.decl.plural, kind: this.decl.kind, name };
  }

  async get(scope: RequestScope & { name: string }, options: { resourceVersion?: string } = {}): Promise<KubeObject> {
    const minRevision = parseResourceVersion(options.resourceVersion);
    if (minRevision === 0 && this.cacher?.ready) {
      const cached = this.cacher.getByKey(this.keyFor(scope.namespace, scope.name)).object;
      if (!cached) throw notFound(this.ref(scope.name));
      return cached;
    }
    const kv = await this.storage(() => this.backend.get(this.keyFor(scope.namespace, scope.name)));
    if (minRevision !== undefined && minRevision > 0) {
      const current = await this.storage(() => this.backend.currentRevision());
      if (minRevision > current) throw resourceVersionTooLarge(minRevision, current);
    }
    if (!kv) throw notFound(this.ref(scope.name));
    return decodeStored(kv);
  }

  /** The value of a field selector label for an object; unsupported labels are rejected earlier. */
  fieldValue = (obj: KubeObject, field: string): string => {
    if (field === 'metadata.name') return obj.metadata.name ?? '';
    if (field === 'metadata.namespace') return obj.metadata.namespace ?? '';
    return this.decl.selectableFields[field]?.(obj) ?? '';
  };

  /** Parses both selectors into one predicate; 400 BadRequest for a bad or unsupported selector. */
  predicate(labelSelector?: string, fieldSelector?: string): Predicate | undefined {
    try {
      const labels = parseLabelSelector(labelSelector ?? '');
      const fields = parseFieldSelector(fieldSelector ?? '');
      for (const f of fields) {
        if (f.field !== 'metadata.name' && f.field !== 'metadata.namespace' && !(f.field in this.decl.selectableFields)) {
          throw new SelectorError(
            `field label not supported: ${f.field} (supported: ${['metadata.name', 'metadata.namespace', ...Object.keys(this.decl.selectableFields)].join(', ')})`,
          );
        }
      }
      return selectorPredicate(labels, fields, this.fieldValue);
    } catch (err) {
      if (err instanceof SelectorError) throw badRequest(`unable to parse selector: ${err.message}`);
      throw err;
    }
  }

  async list(options: ListOptions): Promise<ListResult> {
    const predicate = this.predicate(options.labelSelector, options.fieldSelector);
    const rv = parseResourceVersion(options.resourceVersion);
    const paged = (options.limit ?? 0) > 0 || !!options.continue;
    const exact = options.resourceVersionMatch === 'Exact';
    if (this.cacher && !paged && !exact) {
      // Consistent reads (no RV) wait until the cache has caught up with the store's revision.
      const target = rv ?? (await this.storage(() => this.backend.currentRevision()));
      if (target > 0) await this.waitForCache(target);
      const { items, revision } = this.cacher.list({ namespace: options.namespace, predicate });
      return { items, resourceVersion: String(revision) };
    }
    if (this.cacher && paged && !exact) {
      const page = await this.pageFromCache(this.cacher, options, predicate, rv);
      if (page) return page;
    }
    return this.listFromStorage(options, predicate, rv, exact);
  }

  /**
   * A page of a paged LIST from the watch cache, where it answers exactly what storage would: a
   * first page without resourceVersion (a consistent read, after the cache caught up), or a
   * continued page whose snapshot revision is still the cache's state and not compacted in
   * storage. Undefined otherwise (the page is read from storage).
   */
  private async pageFromCache(cacher: Cacher, options: ListOptions, predicate: Predicate | undefined, rv: number | undefined): Promise<ListResult | undefined> {
    if (!cacher.ready) return undefined;
    const scopePrefix = options.namespace && this.decl.namespaced ? `${this.prefix}${options.namespace}/` : this.prefix;
    let startKey = scopePrefix;
    let atRevision: number | undefined;
    if (options.continue) {
      const token = decodeContinue(options.continue);
      startKey = this.prefix + token.start;
      if (!startKey.startsWith(scopePrefix)) throw badRequest('continue key is not valid: it does not belong to this list');
      if (token.rv === -1) return undefined;
      if (token.rv < (await this.storage(() => this.backend.compactedRevision()))) return undefined;
      atRevision = token.rv;
    } else {
      if (rv !== undefined) return undefined;
      const target = await this.storage(() => this.backend.currentRevision());
      if (target > 0) await this.waitForCache(target);
    }
    const limit = options.limit && options.limit > 0 ? options.limit : 0;
    const page = cacher.listPage({ namespace: options.namespace, predicate, startKey, limit, atRevision });
    if (!page) return undefined;
    const result: ListResult = { items: page.items, resourceVersion: String(page.revision) };
    if (limit && page.remaining > 0 && page.lastKey !== undefined) {
      result.continue = encodeContinue(page.revision, `${page.lastKey.slice(this.prefix.length)}\x00`);
      if (!predicate) result.remainingItemCount = page.remaining;
    }
    return result;
  }

  private async listFromStorage(options: ListOptions, predicate: Predicate | undefined, rv: number | undefined, exact: boolean): Promise<ListResult> {
    const scopePrefix = options.namespace && this.decl.namespaced ? `${this.prefix}${options.namespace}/` : this.prefix;
    let revision = 0;
    let startKey = scopePrefix;
    let inconsistent = false;
    if (options.continue) {
      const token = decodeContinue(options.continue);
      startKey = this.prefix + token.start;
      if (!startKey.startsWith(scopePrefix)) throw badRequest('continue key is not valid: it does not belong to this list');
      if (token.rv === -1) inconsistent = true;
      else revision = token.rv;
    } else if (rv !== undefined && rv > 0) {
      const current = await this.storage(() => this.backend.currentRevision());
      if (rv > current) throw resourceVersionTooLarge(rv, current);
      // NotOlderThan may read newer data; Exact must read at that revision.
      if (exact) revision = rv;
    }
    const limit = options.limit && options.limit > 0 ? options.limit : 0;
    const items: KubeObject[] = [];
    let more = false;
    let remaining = 0;
    let lastKey: string | undefined;
    for (;;) {
      const want = limit ? Math.max(limit - items.length, predicate ? LIST_CHUNK : 0) : 0;
      let page;
      try {
        page = await this.backend.list(scopePrefix, { revision, limit: want, startKey });
      } catch (err) {
        if (isStorageError(err, 'Compacted')) {
          if (options.continue) {
            const start = startKey.slice(this.prefix.length);
            throw expired(
              'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
              encodeContinue(-1, start),
            );
          }
          throw expired('The resourceVersion for the provided list is too old.');
        }
        throw this.translate(err);
      }
      revision = page.revision;
      let taken = 0;
      for (const kv of page.items) {
        taken++;
        lastKey = kv.key;
        const obj = decodeStored(kv);
        if (predicate && !predicate(obj)) continue;
        items.push(obj);
        if (limit && items.length >= limit) break;
      }
      const leftInPage = page.items.length - taken;
      more = page.more || leftInPage > 0;
      remaining = page.remaining + leftInPage;
      if (!more || (limit && items.length >= limit) || !limit) break;
      startKey = `${lastKey}\x00`;
    }
    const result: ListResult = { items, resourceVersion: String(revision) };
    if (limit && more && lastKey !== undefined) {
      result.continue = encodeContinue(inconsistent ? -1 : revision, `${lastKey.slice(this.prefix.length)}\x00`);
      if (!predicate) result.remainingItemCount = remaining;
    }
    return result;
  }

  async create(namespace: string | undefined, decoded: Decoded, options: ManagedWriteOptions): Promise<WriteResult> {
    const obj = decoded.object;
    const meta = obj.metadata;
    if (this.decl.namespaced) {
      if (meta.namespace && namespace && meta.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = namespace ?? meta.namespace;
    }
    const generated = !meta.name && !!meta.generateName;
    for (let attempt = 0; ; attempt++) {
      if (generated) meta.name = generateName(meta.generateName ?? '');
      meta.uid = randomUUID();
      meta.creationTimestamp = nowTimestamp(this.now());
      delete meta.resourceVersion;
      delete meta.deletionTimestamp;
      delete meta.deletionGracePeriodSeconds;
      this.strategy.prepareForCreate(obj);
      this.trackManagedFields(undefined, obj, options.managedFields);
      this.throwIfInvalid(obj, this.validationErrors(decoded, () => this.strategy.validate(obj)));
      const warnings = [...decoded.warnings, ...this.strategy.warningsOnCreate(obj)];
      this.strategy.canonicalize(obj);
      const key = this.keyFor(meta.namespace, meta.name!);
      try {
        if (options.dryRun) {
          if (await this.storage(() => this.backend.get(key))) throw alreadyExists(this.ref(meta.name!));
          return { object: obj, warnings };
        }
        const kv = await this.backend.create(key, encodeStored(obj));
        meta.resourceVersion = String(kv.modRevision);
        return { object: obj, warnings };
      } catch (err) {
        if (isStorageError(err, 'AlreadyExists')) {
          if (generated && attempt < 3) continue;
          throw alreadyExists(this.ref(meta.name!));
        }
        throw this.translate(err);
      }
    }
  }

  async update(
    scope: RequestScope & { name: string },
    build: UpdateBuilder,
    options: ManagedWriteOptions & { forceAllowCreate?: boolean },
  ): Promise<WriteResult & { created: boolean }> {
    const key = this.keyFor(scope.namespace, scope.name);
    for (;;) {
      const kv = await this.storage(() => this.backend.get(key));
      const current = kv ? decodeStored(kv) : undefined;
      const decoded = build(current && structuredClone(current));
      const obj = decoded.object;
      const meta = obj.metadata;
      if (meta.name !== undefined && meta.name !== scope.name) {
        throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${scope.name})`);
      }
      if (this.decl.namespaced && meta.namespace !== undefined && meta.namespace !== scope.namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.name = scope.name;
      if (this.decl.namespaced) meta.namespace = scope.namespace;

      if (!current || !kv) {
        if (!(this.strategy.allowCreateOnUpdate || options.forceAllowCreate)) throw notFound(this.ref(scope.name));
        const created = await this.create(scope.namespace, decoded, options);
        return { ...created, created: true };
      }
      if (meta.uid !== undefined && meta.uid !== '' && meta.uid !== current.metadata.uid) {
        throw conflict(this.ref(scope.name), `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${current.metadata.uid}`);
      }
      const precondition = meta.resourceVersion;
      if (precondition !== undefined && precondition !== '') {
        parseResourceVersion(precondition, 'metadata.resourceVersion');
        if (precondition !== current.metadata.resourceVersion) throw conflict(this.ref(scope.name), STALE_OBJECT_MESSAGE);
      } else if (!this.strategy.allowUnconditionalUpdate) {
        throw invalid(this.ref(scope.name), [
          { type: 'FieldValueInvalid', field: 'metadata.resourceVersion', value: 0, detail: 'must be specified for an update' },
        ]);
      }
      meta.uid = current.metadata.uid;
      meta.creationTimestamp = current.metadata.creationTimestamp;
      meta.deletionTimestamp = current.metadata.deletionTimestamp;
      meta.deletionGracePeriodSeconds = current.metadata.deletionGracePeriodSeconds;
      if (meta.deletionTimestamp === undefined) delete meta.deletionTimestamp;
      if (meta.deletionGracePeriodSeconds === undefined) delete meta.deletionGracePeriodSeconds;
      this.strategy.prepareForUpdate(obj, current);
      this.trackManagedFields(current, obj, options.managedFields);
      // prepareForUpdate may replace the metadata object (the status strategy restores the stored one).
      const updatedMeta = obj.metadata;
      this.throwIfInvalid(obj, this.validationErrors(decoded, () => this.strategy.validateUpdate(obj, current)));
      const warnings = [...decoded.warnings, ...this.strategy.warningsOnUpdate(obj, current)];
      this.strategy.canonicalize(obj);
      updatedMeta.resourceVersion = current.metadata.resourceVersion;

      if (unchanged(obj, current)) return { object: current, warnings, created: false };
      const finalizing = current.metadata.deletionTimestamp !== undefined && (meta.finalizers ?? []).length === 0;
      if (options.dryRun) return { object: obj, warnings, created: false };
      try {
        if (finalizing) {
          // Removing the last finalizer of an object being deleted deletes it.
          await this.backend.delete(key, kv.modRevision);
          return { object: obj, warnings, created: false };
        }
        const written = await this.backend.update(key, encodeStored(obj), kv.modRevision);
        updatedMeta.resourceVersion = String(written.modRevision);
        return { object: obj, warnings, created: false };
      } catch (err) {
        // Someone wrote in between: an unconditional update (or a patch) retries on the new state.
        if (isStorageError(err, 'Conflict') || isStorageError(err, 'NotFound')) {
          if (precondition) throw conflict(this.ref(scope.name), STALE_OBJECT_MESSAGE);
          continue;
        }
        throw this.translate(err);
      }
    }
  }

  async delete(scope: RequestScope & { name: string }, options: DeleteOptions): Promise<DeleteResult> {
    const key = this.keyFor(scope.namespace, scope.name);
    for (;;) {
      const kv = await this.storage(() => this.backend.get(key));
      if (!kv) throw notFound(this.ref(scope.name));
      const current = decodeStored(kv);
      const pre = options.preconditions;
      if (pre?.uid !== undefined && pre.uid !== current.metadata.uid) {
        throw conflict(this.ref(scope.name), `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`);
      }
      if (pre?.resourceVersion !== undefined && pre.resourceVersion !== current.metadata.resourceVersion) {
        throw conflict(
          this.ref(scope.name),
          `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`,
        );
      }
      try {
        if ((current.metadata.finalizers ?? []).length > 0) {
          if (current.metadata.deletionTimestamp) return { object: current, deleted: false };
          const marked = structuredClone(current);
          marked.metadata.deletionTimestamp = nowTimestamp(this.now());
          marked.metadata.deletionGracePeriodSeconds = 0;
          if (options.dryRun) return { object: marked, deleted: false };
          const written = await this.backend.update(key, encodeStored(marked), kv.modRevision);
          marked.metadata.resourceVersion = String(written.modRevision);
          return { object: marked, deleted: false };
        }
        if (options.dryRun) return { object: current, deleted: true };
        await this.backend.delete(key, kv.modRevision);
        return { object: current, deleted: true };
      } catch (err) {
        if (isStorageError(err, 'Conflict')) continue;
        if (isStorageError(err, 'NotFound')) throw notFound(this.ref(scope.name));
        throw this.translate(err);
      }
    }
  }

  async deleteCollection(listOptions: ListOptions, options: DeleteOptions): Promise<KubeObject[]> {
    const { items } = await this.list({ ...listOptions, limit: undefined, continue: undefined });
    const deleted: KubeObject[] = [];
    for (const item of items) {
      try {
        const result = await this.delete({ namespace: item.metadata.namespace, name: item.metadata.name! }, { ...options, preconditions: undefined });
        deleted.push(result.object);
      } catch (err) {
        if (err instanceof StatusError && err.status.reason === 'NotFound') continue;
        throw err;
      }
    }
    return deleted;
  }

  /** Records the write in `metadata.managedFields` (409 for an unforced conflicting Apply). */
  private trackManagedFields(current: KubeObject | undefined, obj: KubeObject, request: ManagerRequest | undefined): void {
    if (request) trackManagedFields(current, obj, request, patchMetaOf(this.decl), this.subresource, nowTimestamp(this.now()));
  }

  /**
   * The errors of a decoded object. With schema errors the kind's rules are not run: they expect
   * a well-typed object, and the part that failed the schema is missing from it. Metadata is
   * still checked so that one response lists every error the client can fix at once.
   */
  private validationErrors(decoded: Decoded, rules: () => FieldError[]): FieldError[] {
    if (decoded.errors.length === 0) return rules();
    return [...validateObjectMeta(decoded.object.metadata, this.decl.namespaced), ...decoded.errors];
  }

  private throwIfInvalid(obj: KubeObject, errors: FieldError[]): void {
    if (errors.length > 0) throw invalid(this.ref(obj.metadata.name ?? obj.metadata.generateName ?? ''), errors);
  }

  private async waitForCache(revision: number): Promise<void> {
    try {
      await this.cacher!.waitUntilFresh(revision);
    } catch (err) {
      throw this.translate(err);
    }
  }

  /**
   * A watch served by the watch cache. Without a resourceVersion it starts with the current state
   * as ADDED events (a consistent read); with "0" from the cache's state as it is; with "N" it
   * sends exactly the events after N. `sendInitialEvents` adds the
   * `k8s.io/initial-events-end` BOOKMARK after the initial state (or, when false, skips it).
   * A resourceVersion too old for the cache's history is reported through the stream as 410.
   */
  async watch(options: WatchOptions): Promise<WatchStream> {
    if (!this.cacher) throw internalError(`${this.decl.plural}: watch needs a watch cache`);
    const predicate = this.predicate(options.labelSelector, options.fieldSelector);
    const rv = parseResourceVersion(options.resourceVersion);
    const namespace = this.decl.namespaced ? options.namespace : undefined;
    const current = async () => this.storage(() => this.backend.currentRevision());
    let cacheOptions: CacheWatchOptions;
    if (options.sendInitialEvents === false) {
      cacheOptions = { afterRevision: rv === 0 ? undefined : (rv ?? (await current())) };
    } else if (options.sendInitialEvents === true || rv === undefined || rv === 0) {
      cacheOptions = { initialEvents: true, afterRevision: rv === undefined ? await current() : rv || undefined };
    } else {
      cacheOptions = { afterRevision: rv };
    }
    // The cache's history may reach further back than the store's; history the store has
    // compacted away is gone for watchers too, as it is for lists at that revision.
    if (cacheOptions.afterRevision !== undefined && !cacheOptions.initialEvents) {
      const compacted = await this.storage(() => this.backend.compactedRevision());
      if (cacheOptions.afterRevision < compacted) {
        return failedWatch(expired(`too old resource version: ${cacheOptions.afterRevision} (${compacted})`));
      }
    }
    let cacheWatch: CacheWatch;
    try {
      cacheWatch = await this.cacher.watch({ ...cacheOptions, namespace, predicate });
    } catch (err) {
      const error = this.translate(err);
      if (error.status.code !== 410) throw error;
      return failedWatch(error);
    }
    return this.adaptWatch(cacheWatch, options.sendInitialEvents === true);
  }

  private adaptWatch(cacheWatch: CacheWatch, markInitialEnd: boolean): WatchStream {
    const apiVersion = groupVersionOf(this.decl.group, this.decl.versions[0]);
    const kind = this.decl.kind;
    const translate = (err: unknown) => this.translate(err);
    const toEvent = (e: CacheEvent): WatchEvent | undefined => {
      if (e.type !== 'BOOKMARK') return { type: e.type, object: e.object };
      if (e.initialEventsEnd && !markInitialEnd) return undefined;
      const metadata: KubeObject['metadata'] = { resourceVersion: String(e.revision) };
      if (e.initialEventsEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
      return { type: 'BOOKMARK', object: { apiVersion, kind, metadata } };
    };
    return {
      close: () => cacheWatch.close(),
      requestBookmark: () => cacheWatch.requestBookmark(),
      async *[Symbol.asyncIterator]() {
        try {
          for await (const batch of cacheWatch) {
            const events = batch.map(toEvent).filter((e): e is WatchEvent => e !== undefined);
            if (events.length > 0) yield events;
          }
        } catch (err) {
          throw translate(err);
        }
      },
    };
  }

  /** Runs a storage call, translating its errors. */
  private async storage<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw this.translate(err);
    }
  }

  /** The one boundary where storage and watch-cache errors become API errors. */
  translate(err: unknown): StatusError {
    if (err instanceof StatusError) return err;
    if (isCacheError(err)) {
      switch (err.code) {
        case 'Expired':
          return expired(err.message);
        case 'TooLargeResourceVersion':
          return resourceVersionTooLarge(err.requested ?? 0, err.current ?? 0);
        default:
          return serviceUnavailable(`the watch cache of ${this.decl.plural} is not ready: ${err.message}`);
      }
    }
    if (isStorageError(err)) {
      switch (err.code) {
        case 'Unavailable':
        case 'Closed':
          return serviceUnavailable(`storage is unavailable: ${err.message}`);
        case 'Compacted':
          return expired('The resourceVersion for the provided list is too old.');
        case 'FutureRevision':
          return timeout(`Too large resource version: ${err.message}`, 1);
        default:
          return internalError(`storage: ${err.code}: ${err.message}`);
      }
    }
    return internalError(err instanceof Error ? err.message : String(err));
  }
}

/** A watch stream whose only content is the error that ended it (sent as an ERROR event). */
function failedWatch(error: StatusError): WatchStream {
  return {
    close() {},
    requestBookmark() {},
    // eslint-disable-next-line require-yield
    async *[Symbol.asyncIterator]() {
      throw error;
    },
  };
}

/** Equal apart from resourceVersion: an update that changes nothing is not written. */
function unchanged(obj: KubeObject, current: KubeObject): boolean {
  return JSON.stringify(sortKeys(obj)) === JSON.stringify(sortKeys(current));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v as object).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
  return out;
}

function generateName(base: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += GENERATE_NAME_ALPHABET[Math.floor(Math.random() * GENERATE_NAME_ALPHABET.length)];
  return `${base.slice(0, 63 - 5)}${suffix}`;
}
