// Leader election, as client-go's tools/leaderelection: candidates race to hold one lease record
// written with optimistic concurrency; the holder renews it every `retryPeriod`, and gives up
// leading when it has not renewed for `renewDeadline`. Another candidate takes the lease once it
// has seen the same record unchanged for the record's `leaseDurationSeconds` (measured on its own
// clock from when it first saw that record, so clocks of different machines need not agree).
// The defaults are controller-runtime's: 15 s duration, 10 s renew deadline, 2 s retry.
//
// Two lock implementations: `StorageLeaseLock` keeps the record in our own Backend (one key,
// `/registry/_leases/<name>`, compare-and-swap on its modRevision); `HostLeaseLock` is a
// `coordination.k8s.io/v1` Lease on the host cluster.
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { isStorageError, type Backend } from '../registry/storage/index.js';
import { realClock, type Clock } from './clock.js';
import { httpCode } from './http-errors.js';

/** The part of a Lease's spec leader election uses; times in ms since the epoch. */
export interface LeaderElectionRecord {
  /** '' when released. */
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: number;
  renewTime: number;
  leaseTransitions: number;
}

/** A record another candidate wrote first (create of an existing, update of a changed record). */
export class LeaseConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeaseConflictError';
  }
}

export interface LeaseLock {
  /** For logs: `storage lease /registry/_leases/x`, `host lease ns/x`. */
  readonly description: string;
  /** The current record and its version (opaque, for `update`); undefined when there is none. */
  get(): Promise<{ record: LeaderElectionRecord; version: string } | undefined>;
  /** Fails with LeaseConflictError when a record exists. */
  create(record: LeaderElectionRecord): Promise<void>;
  /** Fails with LeaseConflictError when the record is no longer at `version`. */
  update(record: LeaderElectionRecord, version: string): Promise<void>;
}

/** `2006-01-02T15:04:05.000000Z`, metav1.MicroTime's form. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function leaseObject(name: string, namespace: string | undefined, record: LeaderElectionRecord, resourceVersion?: string): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, ...(namespace ? { namespace } : {}), ...(resourceVersion ? { resourceVersion } : {}) },
    spec: {
      holderIdentity: record.holderIdentity,
      leaseDurationSeconds: record.leaseDurationSeconds,
      acquireTime: new V1MicroTime(record.acquireTime),
      renewTime: new V1MicroTime(record.renewTime),
      leaseTransitions: record.leaseTransitions,
    },
  };
}

function recordOf(spec: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: unknown; renewTime?: unknown; leaseTransitions?: number } | undefined): LeaderElectionRecord {
  const time = (v: unknown) => (v instanceof Date ? v.getTime() : typeof v === 'string' ? Date.parse(v) : 0);
  return {
    holderIdentity: spec?.holderIdentity ?? '',
    leaseDurationSeconds: spec?.leaseDurationSeconds ?? 0,
    acquireTime: time(spec?.acquireTime),
    renewTime: time(spec?.renewTime),
    leaseTransitions: spec?.leaseTransitions ?? 0,
  };
}

/** The record in our own storage, at `/registry/_leases/<name>`, as a Lease object. */
export class StorageLeaseLock implements LeaseLock {
  readonly key: string;
  readonly description: string;

  constructor(
    private readonly backend: Backend,
    private readonly name: string,
  ) {
    this.key = `/registry/_leases/${name}`;
    this.description = `storage lease ${this.key}`;
  }

  async get(): Promise<{ record: LeaderElectionRecord; version: string } | undefined> {
    const kv = await this.backend.get(this.key);
    if (!kv) return undefined;
    const lease = JSON.parse(kv.value.toString('utf8')) as { spec?: Record<string, unknown> };
    return { record: recordOf(lease.spec), version: String(kv.modRevision) };
  }

  async create(record: LeaderElectionRecord): Promise<void> {
    try {
      await this.backend.create(this.key, this.encode(record));
    } catch (err) {
      if (isStorageError(err, 'AlreadyExists')) throw new LeaseConflictError(`${this.description} exists`);
      throw err;
    }
  }

  async update(record: LeaderElectionRecord, version: string): Promise<void> {
    try {
      await this.backend.update(this.key, this.encode(record), Number(version));
    } catch (err) {
      if (isStorageError(err, 'Conflict') || isStorageError(err, 'NotFound')) {
        throw new LeaseConflictError(`${this.description} changed since version ${version}`);
      }
      throw err;
    }
  }

  private encode(record: LeaderElectionRecord): Buffer {
    const lease = leaseObject(this.name, undefined, record);
    const spec = { ...lease.spec, acquireTime: microTime(record.acquireTime), renewTime: microTime(record.renewTime) };
    return Buffer.from(JSON.stringify({ ...lease, spec }));
  }
}


/** A `coordination.k8s.io/v1` Lease on the host cluster. */
export class HostLeaseLock implements LeaseLock {
  readonly description: string;
  private readonly api: CoordinationV1Api;

  constructor(
    kubeConfig: KubeConfig,
    private readonly namespace: string,
    private readonly name: string,
  ) {
    this.api = kubeConfig.makeApiClient(CoordinationV1Api);
    this.description = `host lease ${namespace}/${name}`;
  }

  async get(): Promise<{ record: LeaderElectionRecord; version: string } | undefined> {
    try {
      const lease = await this.api.readNamespacedLease({ name: this.name, namespace: this.namespace });
      return { record: recordOf(lease.spec), version: lease.metadata?.resourceVersion ?? '' };
    } catch (err) {
      if (httpCode(err) === 404) return undefined;
      throw err;
    }
  }

  async create(record: LeaderElectionRecord): Promise<void> {
    try {
      await this.api.createNamespacedLease({ namespace: this.namespace, body: leaseObject(this.name, this.namespace, record) });
    } catch (err) {
      if (httpCode(err) === 409) throw new LeaseConflictError(`${this.description} exists`);
      throw err;
    }
  }

  async update(record: LeaderElectionRecord, version: string): Promise<void> {
    try {
      await this.api.replaceNamespacedLease({
        name: this.name,
        namespace: this.namespace,
        body: leaseObject(this.name, this.namespace, record, version),
      });
    } catch (err) {
      const code = httpCode(err);
      if (code === 409 || code === 404) throw new LeaseConflictError(`${this.description} changed since version ${version}`);
      throw err;
    }
  }
}

export interface LeaderElectionLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface LeaderElectorOptions {
  lock: LeaseLock;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Clear the holder on `stop()` so another candidate takes over at once. Default true. */
  releaseOnStop?: boolean;
  clock?: Clock;
  log?: LeaderElectionLogger;
  /** Called when this candidate becomes the leader. */
  onStartedLeading(): void;
  /**
   * Called when it stops leading (lost the lease, or `stop()`); the caller stops all leader-only
   * work. Awaited before the candidate tries to acquire the lease again.
   */
  onStoppedLeading(): Promise<void> | void;
}

export const DEFAULT_LEASE_DURATION_MS = 15_000;
export const DEFAULT_RENEW_DEADLINE_MS = 10_000;
export const DEFAULT_RETRY_PERIOD_MS = 2_000;

export class LeaderElector {
  private readonly lock: LeaseLock;
  private readonly clock: Clock;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private observedRaw = '';
  private observedTime = 0;
  private observedVersion = '';
  private leading = false;
  private stopped = false;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;

  constructor(private readonly options: LeaderElectorOptions) {
    this.lock = options.lock;
    this.clock = options.clock ?? realClock;
    this.leaseDurationMs = options.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS;
    this.renewDeadlineMs = options.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS;
    this.retryPeriodMs = options.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS;
    if (!(this.leaseDurationMs > this.renewDeadlineMs)) throw new Error('leader election: lease duration must be greater than the renew deadline');
    if (!(this.renewDeadlineMs > this.retryPeriodMs)) throw new Error('leader election: renew deadline must be greater than the retry period');
  }

  get isLeader(): boolean {
    return this.leading;
  }

  get identity(): string {
    return this.options.identity;
  }

  start(): void {
    if (this.running) throw new Error('leader elector already started');
    this.running = this.run();
  }

  /** Stops leading (releasing the lease when configured) and stops competing. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.running;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const acquired = await this.acquire();
      if (this.stopped) {
        // Stopped while an attempt that succeeded was in flight: hand the lease back.
        if (acquired && (this.options.releaseOnStop ?? true)) await this.release();
        break;
      }
      this.leading = true;
      this.options.log?.info({ lock: this.lock.description, identity: this.identity }, 'leader election: became leader');
      this.options.onStartedLeading();
      await this.renew();
      this.leading = false;
      this.options.log?.info({ lock: this.lock.description, identity: this.identity }, 'leader election: stopped leading');
      await this.options.onStoppedLeading();
      if (this.stopped && (this.options.releaseOnStop ?? true)) await this.release();
    }
  }

  /** Tries every retry period until the lease is ours (true) or the elector stops (false). */
  private async acquire(): Promise<boolean> {
    while (!this.stopped) {
      if (await this.withDeadline(this.tryAcquireOrRenew(), this.renewDeadlineMs)) return true;
      await this.clock.sleep(this.retryPeriodMs, this.abort.signal);
    }
    return false;
  }

  /** Renews every retry period; returns when a renewal could not be made within the renew deadline. */
  private async renew(): Promise<void> {
    let lastRenew = this.clock.now();
    while (!this.stopped) {
      await this.clock.sleep(this.retryPeriodMs, this.abort.signal);
      if (this.stopped) return;
      const remaining = lastRenew + this.renewDeadlineMs - this.clock.now();
      const renewed = remaining > 0 ? await this.withDeadline(this.tryAcquireOrRenew(), remaining) : false;
      if (renewed) {
        lastRenew = this.clock.now();
        continue;
      }
      if (this.clock.now() - lastRenew >= this.renewDeadlineMs) {
        this.options.log?.warn({ lock: this.lock.description }, 'leader election: failed to renew the lease within the renew deadline');
        return;
      }
    }
  }

  /**
   * The attempt's result, or false once `ms` have passed without one or the elector stops (a hung
   * store must neither keep a leader believing it leads nor keep `stop()` from returning).
   */
  private async withDeadline(attempt: Promise<boolean>, ms: number): Promise<boolean> {
    let timer: { cancel(): void } | undefined;
    let onAbort: (() => void) | undefined;
    const expired = new Promise<boolean>((resolve) => {
      timer = this.clock.setTimer(ms, () => resolve(false));
      onAbort = () => resolve(false);
      this.abort.signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([attempt, expired]);
    } finally {
      timer?.cancel();
      this.abort.signal.removeEventListener('abort', onAbort!);
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.now();
    const desired: LeaderElectionRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 0,
    };
    try {
      const current = await this.lock.get();
      if (!current) {
        await this.lock.create(desired);
        this.observe(desired, '', this.clock.now());
        return true;
      }
      const raw = JSON.stringify(current.record);
      if (raw !== this.observedRaw || current.version !== this.observedVersion) this.observe(current.record, current.version, now);
      const holder = current.record.holderIdentity;
      const heldByOther = holder !== '' && holder !== this.identity;
      if (heldByOther && this.observedTime + current.record.leaseDurationSeconds * 1000 > now) return false;
      if (holder === this.identity) {
        desired.acquireTime = current.record.acquireTime;
        desired.leaseTransitions = current.record.leaseTransitions;
      } else {
        desired.leaseTransitions = current.record.leaseTransitions + 1;
      }
      await this.lock.update(desired, current.version);
      this.observe(desired, '', this.clock.now());
      return true;
    } catch (err) {
      if (!(err instanceof LeaseConflictError)) this.options.log?.warn({ err, lock: this.lock.description }, 'leader election: lease read or write failed');
      return false;
    }
  }

  private observe(record: LeaderElectionRecord, version: string, at: number): void {
    this.observedRaw = JSON.stringify(record);
    this.observedVersion = version;
    this.observedTime = at;
  }

  /** Clears the holder (duration 1 s) so a waiting candidate acquires at its next try. */
  private async release(): Promise<void> {
    const attempt = async () => {
      const current = await this.lock.get();
      if (!current || current.record.holderIdentity !== this.identity) return;
      const now = this.clock.now();
      await this.lock.update({ ...current.record, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now }, current.version);
    };
    let timer: { cancel(): void } | undefined;
    try {
      // Bounded: a hung store must not keep stop() from returning; the lease then simply expires.
      await Promise.race([attempt(), new Promise<void>((resolve) => (timer = this.clock.setTimer(this.retryPeriodMs, resolve)))]);
    } catch (err) {
      this.options.log?.warn({ err, lock: this.lock.description }, 'leader election: could not release the lease');
    } finally {
      timer?.cancel();
    }
  }
}
