// The etcd3 driver: the Backend contract on a real etcd v3 cluster (or on kine, which speaks the
// same gRPC API).
//
// Writes use only the four transaction shapes that kine accepts (the shapes k8s.io/apiserver's
// etcd3 store emits), so the same driver runs on etcd and on kine:
//   create   compare mod_revision(key) == 0         success [put]                failure []
//   update   compare mod_revision(key) == expected  success [put]                failure [range key]
//   delete   compare mod_revision(key) == expected  success [deleteRange key]    failure [range key]
//            or, unconditionally, no compare         success [range, deleteRange] failure []
//   compact  compare version(compact_rev_key) == v  success [put compact_rev_key] failure [range compact_rev_key]
// Reads are plain Range calls; watches are one gRPC Watch stream per `watch()`.
//
// The etcd3 npm client supplies the connection pool (channels, TLS, host selection); every call
// goes through its raw generated clients (`client.kv`, `client.watchClient`) so that this file
// controls the exact request shapes and sees every response field (`more`, `count`,
// `compact_revision`). Its own fault handling (retries, circuit breakers, auto-reconnecting
// watchers) is replaced: a storage call fails fast with `Unavailable` and the caller decides.
import { readFileSync } from 'node:fs';
import {
  ClientClosedError,
  Etcd3,
  GRPCInvalidArgumentError,
  type IDuplexStream,
  type IKeyValue,
  type IOptions,
  type IRangeResponse,
  type ITxnResponse,
  type IWatchRequest,
  type IWatchResponse,
} from 'etcd3';
import {
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
import type { StorageOptions } from './index.js';
import { WatchQueue } from './watch-queue.js';

export interface Etcd3BackendOptions extends StorageOptions {
  /** Client URLs, `http://host:port` or `https://host:port` (all of one kind). */
  endpoints: string[];
  /** Deadline for every request, and for a watch to be accepted. Default 5,000 ms. */
  requestTimeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

/**
 * The key kube-apiserver records its compactions under. It is global, not under `etcdPrefix`:
 * compaction is a property of the whole etcd keyspace (every prefix loses the same history), and
 * kine recognises the compaction transaction only on exactly this key.
 */
export const COMPACT_REV_KEY = 'compact_rev_key';

/**
 * Opens the driver. No request is made here: the server may start before etcd is reachable, and
 * `ping()` (readyz) reports when it is not.
 */
export async function openEtcd3Backend(options: Etcd3BackendOptions): Promise<Backend> {
  return new Etcd3Backend(options);
}

class Etcd3Backend implements Backend {
  readonly name = 'etcd3';
  private readonly client: Etcd3;
  /** Prepended to every key on the way in and stripped on the way out; '' for none. */
  private readonly keyPrefix: string;
  private readonly keyPrefixBytes: number;
  private readonly requestTimeoutMs: number;
  private readonly openWatches = new Set<WatchQueue>();
  private closed = false;

  constructor(options: Etcd3BackendOptions) {
    if (options.endpoints.length === 0) throw new Error('etcd3: at least one endpoint is required');
    // `/` (the documented default) and a trailing slash mean the same as no prefix, since keys
    // themselves start with `/`: prefix `/tenant` stores `/registry/x` as `/tenant/registry/x`.
    this.keyPrefix = (options.etcdPrefix ?? '').replace(/\/+$/, '');
    this.keyPrefixBytes = Buffer.byteLength(this.keyPrefix);
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const requestTimeoutMs = this.requestTimeoutMs;
    this.client = new Etcd3({
      hosts: options.endpoints,
      credentials: tlsCredentials(options),
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + requestTimeoutMs }),
      grpcOptions: {
        // List responses can be far larger than gRPC's 4 MiB default (k8s allows 2 GiB).
        'grpc.max_receive_message_length': 2 ** 31 - 1,
        // Notice a silently dead connection (no RST) under a watch. etcd refuses pings more often
        // than every 5 s, and pings without an active call.
        'grpc.keepalive_time_ms': 30_000,
        'grpc.keepalive_timeout_ms': 10_000,
        'grpc.keepalive_permit_without_calls': 0,
        // After etcd comes back, reconnect within a couple of seconds, not gRPC's default 2 minutes.
        'grpc.initial_reconnect_backoff_ms': 200,
        'grpc.max_reconnect_backoff_ms': 2_000,
      },
      faultHandling: {
        host: () => passThroughPolicy(),
        global: retryUnsentOnAnotherHost(options.endpoints.length),
      },
    });
  }

  // ---- reads ----

  async get(key: string, options: GetOptions = {}): Promise<KeyValue | undefined> {
    const res = await this.call('get', key, () =>
      this.client.kv.range({ key: this.etcdKey(key), revision: options.revision ?? 0 }),
    );
    const kv = res.kvs[0];
    return kv ? this.toKeyValue(kv) : undefined;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const startKey = options.startKey ?? prefix;
    if (!startKey.startsWith(prefix)) {
      throw new StorageError('InvalidArgument', `list ${prefix}: startKey ${startKey} is not under the prefix`, {
        key: startKey,
      });
    }
    const res: IRangeResponse = await this.call('list', prefix, () =>
      this.client.kv.range({
        key: this.etcdKey(startKey),
        range_end: rangeEndOfPrefix(this.etcdKey(prefix)),
        revision: options.revision ?? 0,
        limit: options.limit ?? 0,
      }),
    );
    const items = res.kvs.map((kv) => this.toKeyValue(kv));
    // etcd's `count` is every key in [startKey, rangeEnd) at that revision, returned or not.
    const remaining = res.more ? Math.max(0, Number(res.count) - items.length) : 0;
    return {
      items,
      // The header carries the store's current revision, not the one read at.
      revision: options.revision || Number(res.header.revision),
      more: res.more,
      remaining,
    };
  }

  async currentRevision(): Promise<number> {
    // The cheapest read there is: one small (usually absent) key; only its header matters.
    const res = await this.call('currentRevision', COMPACT_REV_KEY, () =>
      this.client.kv.range({ key: Buffer.from(COMPACT_REV_KEY) }),
    );
    return Number(res.header.revision);
  }

  async ping(): Promise<void> {
    await this.currentRevision();
  }

  // ---- writes: the four kine transaction shapes ----

  async create(key: string, value: Buffer): Promise<KeyValue> {
    const etcdKey = this.etcdKey(key);
    const res = await this.txn('create', key, {
      compare: [{ key: etcdKey, target: 'Mod', result: 'Equal', mod_revision: 0 }],
      success: [{ request_put: { key: etcdKey, value } }],
      failure: [],
    });
    if (!res.succeeded) throw new StorageError('AlreadyExists', `${key} already exists`, { key });
    const revision = Number(res.header.revision);
    return { key, value, createRevision: revision, modRevision: revision };
  }

  async update(key: string, value: Buffer, expectedModRevision: number): Promise<KeyValue> {
    // A compare against mod_revision 0 would match an absent key and create it.
    if (expectedModRevision <= 0) throw await this.preconditionFailure(key);
    const etcdKey = this.etcdKey(key);
    const res = await this.txn('update', key, {
      compare: [{ key: etcdKey, target: 'Mod', result: 'Equal', mod_revision: expectedModRevision }],
      success: [{ request_put: { key: etcdKey, value, prev_kv: true } }],
      failure: [{ request_range: { key: etcdKey } }],
    });
    if (!res.succeeded) throw this.conflictOrNotFound(key, currentFromFailure(res));
    const revision = Number(res.header.revision);
    const previous = res.responses[0]?.response_put?.prev_kv;
    if (previous) {
      return { key, value, createRevision: Number(previous.create_revision), modRevision: revision };
    }
    // kine ignores prev_kv; read the creation revision back at the revision just written.
    const written = await this.get(key, { revision });
    return { key, value, createRevision: written?.createRevision ?? revision, modRevision: revision };
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    const etcdKey = this.etcdKey(key);
    if (expectedModRevision === undefined) {
      const res = await this.txn('delete', key, {
        compare: [],
        success: [{ request_range: { key: etcdKey } }, { request_delete_range: { key: etcdKey, prev_kv: true } }],
        failure: [],
      });
      const deleted = deletedFrom(res);
      if (!res.succeeded || !deleted) throw new StorageError('NotFound', `${key} not found`, { key });
      return this.deletedKeyValue(deleted, res);
    }
    if (expectedModRevision <= 0) throw await this.preconditionFailure(key);
    const res = await this.txn('delete', key, {
      compare: [{ key: etcdKey, target: 'Mod', result: 'Equal', mod_revision: expectedModRevision }],
      success: [{ request_delete_range: { key: etcdKey, prev_kv: true } }],
      failure: [{ request_range: { key: etcdKey } }],
    });
    if (!res.succeeded) throw this.conflictOrNotFound(key, currentFromFailure(res));
    const deleted = deletedFrom(res);
    if (!deleted) throw new StorageError('NotFound', `${key} not found`, { key });
    return this.deletedKeyValue(deleted, res);
  }

  // ---- compaction ----

  /**
   * Records `revision` under `compact_rev_key` with kube-apiserver's version-compare transaction
   * (so concurrent compactors, including other API servers on the same etcd, agree on one value),
   * then asks etcd to compact there. Compacting at or below an earlier compaction is a no-op.
   */
  async compact(revision: number): Promise<void> {
    if (revision <= 0) return;
    const compactKey = Buffer.from(COMPACT_REV_KEY);
    let recorded = await this.call('compact', COMPACT_REV_KEY, () => this.client.kv.range({ key: compactKey }));
    let compactAt = revision;
    for (let attempt = 0; ; attempt++) {
      const current = Number(recorded.header.revision);
      if (revision > current) {
        throw new StorageError('FutureRevision', `cannot compact at ${revision}: the current revision is ${current}`, {
          revision: current,
        });
      }
      const kv = recorded.kvs[0];
      if (kv && recordedRevision(kv) >= revision) {
        compactAt = recordedRevision(kv);
        break;
      }
      const res = await this.txn('compact', COMPACT_REV_KEY, {
        compare: [{ key: compactKey, target: 'Version', result: 'Equal', version: kv ? kv.version : 0 }],
        success: [{ request_put: { key: compactKey, value: Buffer.from(String(revision)) } }],
        failure: [{ request_range: { key: compactKey } }],
      });
      if (res.succeeded) break;
      // Another compactor got there first; look again at what it recorded.
      const range = res.responses[0]?.response_range;
      if (!range || attempt >= 5) throw new StorageError('Unavailable', 'compact: compact_rev_key keeps changing');
      recorded = { ...range, header: res.header };
    }
    try {
      // Also when the record was already there: the Compact call after an earlier record may have
      // failed. etcd answers "compacted" when it is already done.
      await this.call('compact', COMPACT_REV_KEY, () => this.client.kv.compact({ revision: compactAt }));
    } catch (err) {
      if (!(err instanceof StorageError && err.code === 'Compacted')) throw err;
    }
  }

  /**
   * The highest revision recorded in `compact_rev_key`: what this server (or another API server
   * sharing the etcd) compacted. etcd 3.4 has no API that reports its compaction point directly.
   */
  async compactedRevision(): Promise<number> {
    const res = await this.call('compactedRevision', COMPACT_REV_KEY, () =>
      this.client.kv.range({ key: Buffer.from(COMPACT_REV_KEY) }),
    );
    const kv = res.kvs[0];
    return kv ? recordedRevision(kv) : 0;
  }

  // ---- watch ----

  /**
   * One gRPC Watch stream per watcher, never resumed: when the stream breaks (etcd restarted,
   * connection lost) the watch fails with `Unavailable` and the consumer re-watches from the
   * last revision it saw. Each etcd WatchResponse becomes one batch.
   *
   * etcd itself refuses only a start revision *below* its compaction point, yet a delete at
   * exactly that revision is gone (compaction drops tombstones), so a watch starting there can
   * miss it silently. The driver therefore also refuses `afterRevision` below the revision in
   * `compact_rev_key`: history at and below a compaction is gone, as in every driver.
   */
  watch(prefix: string, afterRevision: number, options: WatchOptions = {}): Watch {
    let stream: IDuplexStream<IWatchRequest, IWatchResponse> | undefined;
    let acceptTimer: NodeJS.Timeout | undefined;
    const queue: WatchQueue = new WatchQueue({
      maxPendingEvents: options.maxPendingEvents,
      onClose: () => {
        clearTimeout(acceptTimer);
        this.openWatches.delete(queue);
        // end() first: the client library resets the connection when a still-writable stream
        // errors, and cancel() makes the stream error with CANCELLED.
        stream?.end();
        stream?.cancel();
      },
    });
    if (this.closed) {
      queue.fail(new StorageError('Closed', 'the etcd3 store is closed'));
      return queue;
    }
    this.openWatches.add(queue);
    const unavailable = (reason: string, cause?: unknown) =>
      new StorageError('Unavailable', `watch ${prefix}: ${reason}`, { key: prefix, cause });
    acceptTimer = setTimeout(
      () => queue.fail(unavailable(`etcd did not accept the watch within ${this.requestTimeoutMs} ms`)),
      this.requestTimeoutMs,
    );

    const open = async () => {
      const compacted = await this.compactedRevision();
      if (afterRevision < compacted) {
        const message = `watch ${prefix}: revision ${afterRevision} is compacted (compacted revision ${compacted})`;
        throw new StorageError('Compacted', message, { key: prefix, revision: compacted });
      }
      if (queue.done) return;
      const opened = await this.client.watchClient.watch();
      if (queue.done) {
        opened.end();
        opened.cancel();
        return;
      }
      stream = opened;
      opened.on('data', (res) => this.onWatchResponse(queue, res, prefix, () => clearTimeout(acceptTimer)));
      opened.on('error', (err) => queue.fail(unavailable(`connection to etcd lost: ${err.message}`, err)));
      opened.on('end', () => queue.fail(unavailable('etcd ended the watch stream')));
      const etcdPrefix = this.etcdKey(prefix);
      opened.write({
        create_request: {
          key: etcdPrefix,
          range_end: rangeEndOfPrefix(etcdPrefix),
          start_revision: afterRevision + 1,
          prev_kv: true,
        },
      });
    };
    open().catch((err: unknown) => queue.fail(this.translate('watch', prefix, err)));
    return queue;
  }

  private onWatchResponse(queue: WatchQueue, res: IWatchResponse, prefix: string, accepted: () => void): void {
    if (res.created) accepted();
    if (res.canceled) {
      // etcd 3.4 accepts a watch on a compacted revision, then cancels it with compact_revision.
      const compactRevision = Number(res.compact_revision);
      if (compactRevision > 0) {
        queue.fail(
          new StorageError('Compacted', `watch ${prefix}: revision compacted (compacted revision ${compactRevision})`, {
            key: prefix,
            revision: compactRevision,
          }),
        );
      } else {
        const reason = res.cancel_reason || 'no reason given';
        const message = `watch ${prefix}: etcd canceled the watch: ${reason}`;
        queue.fail(new StorageError('Unavailable', message, { key: prefix }));
      }
      return;
    }
    if (res.events.length === 0) return;
    queue.push(
      res.events.map((event): WatchEvent => {
        const kv = this.toKeyValue(event.kv);
        const prevKv = event.prev_kv ? this.toKeyValue(event.prev_kv) : undefined;
        return event.type === 'Delete' ? { type: 'delete', kv, prevKv } : { type: 'put', kv, prevKv };
      }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const watch of [...this.openWatches]) watch.fail(new StorageError('Closed', 'the etcd3 store was closed'));
    this.client.close();
  }

  // ---- helpers ----

  private async txn(op: string, key: string, request: Parameters<Etcd3['kv']['txn']>[0]): Promise<ITxnResponse> {
    return this.call(op, key, () => this.client.kv.txn(request));
  }

  /** Runs one request, turning every failure into a StorageError. */
  private async call<T>(op: string, key: string, request: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StorageError('Closed', 'the etcd3 store is closed', { key });
    let failure: unknown;
    try {
      return await request();
    } catch (err) {
      failure = err;
    }
    const error = this.translate(op, key, failure);
    // Fill in the revision the error code promises, if etcd can still tell it.
    if (error.code === 'Compacted' && error.revision === undefined) {
      const revision = await this.compactedRevision().catch(() => undefined);
      throw new StorageError('Compacted', error.message, { key, revision, cause: failure });
    }
    if (error.code === 'FutureRevision' && error.revision === undefined) {
      const revision = await this.currentRevision().catch(() => undefined);
      throw new StorageError('FutureRevision', error.message, { key, revision, cause: failure });
    }
    throw error;
  }

  private translate(op: string, key: string, err: unknown): StorageError {
    if (err instanceof StorageError) return err;
    const message = err instanceof Error ? err.message : String(err);
    const text = `etcd ${op} ${key}: ${message}`;
    if (message.includes('required revision has been compacted')) {
      return new StorageError('Compacted', text, { key, cause: err });
    }
    if (message.includes('required revision is a future revision')) {
      return new StorageError('FutureRevision', text, { key, cause: err });
    }
    if (this.closed || err instanceof ClientClosedError) return new StorageError('Closed', text, { key, cause: err });
    if (err instanceof GRPCInvalidArgumentError) return new StorageError('InvalidArgument', text, { key, cause: err });
    // Connection refused or lost, deadline exceeded, no leader, request timed out in raft, ...:
    // all transient from the caller's point of view.
    return new StorageError('Unavailable', text, { key, cause: err });
  }

  /** The failure for a precondition that can never hold (expected modRevision <= 0). */
  private async preconditionFailure(key: string): Promise<StorageError> {
    const current = await this.get(key);
    return this.conflictOrNotFound(key, current);
  }

  private conflictOrNotFound(key: string, current: IKeyValue | KeyValue | undefined): StorageError {
    if (!current) return new StorageError('NotFound', `${key} not found`, { key });
    const kv = 'modRevision' in current ? current : this.toKeyValue(current);
    return new StorageError('Conflict', `${key} was modified (modRevision is now ${kv.modRevision})`, {
      key,
      current: kv,
    });
  }

  private deletedKeyValue(deleted: IKeyValue, res: ITxnResponse): KeyValue {
    const kv = this.toKeyValue(deleted);
    return { ...kv, modRevision: Number(res.header.revision) };
  }

  private etcdKey(key: string): Buffer {
    return Buffer.from(this.keyPrefix + key);
  }

  private toKeyValue(kv: IKeyValue): KeyValue {
    return {
      key: kv.key.toString('utf8', this.keyPrefixBytes),
      value: kv.value ?? Buffer.alloc(0),
      createRevision: Number(kv.create_revision),
      modRevision: Number(kv.mod_revision),
    };
  }
}

/** The current value carried by a failed update/delete: etcd puts it in the range; kine may put it in prev_kvs. */
function currentFromFailure(res: ITxnResponse): IKeyValue | undefined {
  for (const op of res.responses) {
    const kv = op.response_range?.kvs[0] ?? op.response_delete_range?.prev_kvs[0];
    if (kv) return kv;
  }
  return undefined;
}

/** The deleted key-value of a delete transaction (etcd: delete's prev_kvs; kine may answer with that op only). */
function deletedFrom(res: ITxnResponse): IKeyValue | undefined {
  let ranged: IKeyValue | undefined;
  for (const op of res.responses) {
    const prev = op.response_delete_range?.prev_kvs[0];
    if (prev) return prev;
    ranged ??= op.response_range?.kvs[0];
  }
  // etcd 3.x always honours prev_kv; the range read in the same transaction is the fallback.
  return ranged;
}

/** The revision recorded in `compact_rev_key` (a decimal string, as kube-apiserver writes it). */
function recordedRevision(kv: IKeyValue): number {
  const revision = Number.parseInt(kv.value.toString('utf8'), 10);
  return Number.isFinite(revision) ? revision : 0;
}

/** etcd's range_end for "every key starting with prefix": the prefix with its last byte incremented. */
function rangeEndOfPrefix(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  // Empty prefix, or all 0xff bytes: "\0" means "to the end of the keyspace".
  return Buffer.from([0]);
}

function tlsCredentials(options: Etcd3BackendOptions): IOptions['credentials'] {
  const { etcdCaFile, etcdCertFile, etcdKeyFile } = options;
  if (!etcdCaFile && !etcdCertFile && !etcdKeyFile) return undefined;
  if (Boolean(etcdCertFile) !== Boolean(etcdKeyFile)) {
    throw new Error('etcd3: --etcd-certfile and --etcd-keyfile must be given together');
  }
  return {
    // Without a CA file, gRPC verifies the server against the system roots (createSsl(null)).
    rootCertificate: etcdCaFile ? readFileSync(etcdCaFile) : (null as unknown as Buffer),
    privateKey: etcdKeyFile ? readFileSync(etcdKeyFile) : undefined,
    certChain: etcdCertFile ? readFileSync(etcdCertFile) : undefined,
  };
}

// ---- fault handling for the etcd3 client's connection pool ----

type FaultPolicy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;
type PolicyExecute = FaultPolicy['execute'];

function faultPolicy(
  execute: (fn: Parameters<PolicyExecute>[0], signal?: AbortSignal) => Promise<unknown>,
): FaultPolicy {
  const noEvents = () => ({ dispose: () => undefined });
  // The pool only ever calls `execute`; the event members exist to satisfy cockatiel's IPolicy.
  return { execute, onSuccess: noEvents, onFailure: noEvents } as unknown as FaultPolicy;
}

/**
 * The signal policies hand to the pool's calls when the pool gives none. The etcd3 pool never
 * aborts or listens to it, so one shared signal serves every call (no AbortController per call).
 */
const NEVER_ABORTED = new AbortController().signal;

/** Per host: no circuit breaker. A request to a dead host fails at once with UNAVAILABLE anyway. */
function passThroughPolicy(): FaultPolicy {
  return faultPolicy(async (fn, signal) => fn({ signal: signal ?? NEVER_ABORTED }));
}

/**
 * Across hosts: retry on the next host only when the request provably never left this process
 * (gRPC had no connection to send it on). Anything else may have been applied, and retrying a
 * transaction whose answer was lost could report e.g. AlreadyExists for our own create.
 */
function retryUnsentOnAnotherHost(hostCount: number): FaultPolicy {
  return faultPolicy(async (fn, signal) => {
    const context = { signal: signal ?? NEVER_ABORTED };
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn(context);
      } catch (err) {
        const unsent = err instanceof Error && err.message.includes('No connection established');
        if (!unsent || attempt >= hostCount) throw err;
      }
    }
  });
}
