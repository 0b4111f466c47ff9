// What a controller is (a declaration: the resource it reconciles, what else it watches, how many
// workers, and a `setup` that builds its Reconciler) and the loop that runs one: informer events
// → work-queue keys → workers calling `reconcile(key)`.
//
// Reconciler contract: `reconcile(key)` makes the world match the object named by `key`
// (`namespace/name`; the object may be gone: then clean up). It is level-based: it reads the
// current object from the informer cache, never trusts the event that caused it. It resolves with
// `{ requeueAfter: ms }` to be called again later (polling something outside), or nothing when
// done; a rejection is retried with the key's exponential backoff (5 ms → 1000 s). One key is
// never reconciled by two workers at once.
import { performance } from 'node:perf_hooks';
import type { KubeObject } from '../registry/meta.js';
import type { UpstreamKey } from '../registry/subresource.js';
import type { Store } from '../registry/store.js';
import type { Clock } from './clock.js';
import type { EventRecorder } from './events.js';
import type { HostClient } from './host-client.js';
import { objectKey, type IndexFunc, type Informer } from './informer.js';
import type { ControllerMetrics } from './metrics.js';
import { WorkQueue } from './workqueue.js';

export interface ReconcileResult {
  /** Reconcile this key again after this many milliseconds (the error backoff is reset). */
  requeueAfter?: number;
}

export interface Reconciler {
  reconcile(key: string): Promise<ReconcileResult | void>;
}

export interface ControllerLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A secondary registry resource whose changes enqueue keys of the primary resource. */
export interface WatchSpec {
  /** `plural.group`, as the keys of the server's store map. */
  resource: string;
  /** Keys of the primary resource to reconcile when `obj` changes (e.g. from `spec.topologyRef`). */
  keysFor(obj: KubeObject): string[];
}

/** Everything a controller's reconciler gets; built anew for each leadership term. */
export interface ControllerContext {
  readonly name: string;
  /** The registry's Store of a resource (`plural.group`); writes go through it. */
  store(resource: string): Store;
  /** The synced informer of a resource the controller declared (primary or watched). */
  informer(resource: string): Informer;
  /** The host cluster, when the server has one (`--kubeconfig` or in-cluster). */
  readonly host: HostClient | undefined;
  readonly recorder: EventRecorder;
  readonly clock: Clock;
  readonly log: ControllerLogger;
  /** The controller's own queue, to enqueue keys from outside the informers (e.g. a Nimbus poll). */
  readonly queue: WorkQueue;
  /** A shared upstream client (Nimbus, kubelet metrics, performer gRPC); see `upstreams.ts`. */
  upstream<T>(key: UpstreamKey<T>): T | undefined;
}

export interface ControllerDeclaration {
  /** The name in `--controllers` (`storm`, `pvcchonker`, `hourglass` are taken) and the metrics label. */
  name: string;
  /** The resource it reconciles, `plural.group`; a change to an object enqueues the object's key. */
  resource: string;
  watches?: WatchSpec[];
  /** Extra informer indexes per resource (`plural.group` → index name → function). */
  indexers?: Record<string, Record<string, IndexFunc>>;
  /** Concurrent workers (default 1). */
  workers?: number;
  /** Informer resync period in ms (default 0: none). */
  resyncPeriodMs?: number;
  /** Builds the reconciler when the controller starts (on becoming leader). */
  setup(context: ControllerContext): Reconciler | Promise<Reconciler>;
}

/** One controller while it runs: its queue, its workers, its metrics. */
export class RunningController {
  readonly queue: WorkQueue;
  private reconciler: Reconciler | undefined;
  private workers: Promise<void>[] = [];
  private stopping = false;

  constructor(
    readonly decl: ControllerDeclaration,
    private readonly clock: Clock,
    private readonly metrics: ControllerMetrics,
    private readonly log: ControllerLogger,
  ) {
    this.queue = new WorkQueue({ clock, metrics: metrics.queueSink(decl.name) });
  }

  /** Subscribes the queue to the informers: the primary's keys, and the watched resources' mapped keys. */
  wire(informers: ReadonlyMap<string, Informer>): void {
    const enqueue = (keys: string[]) => {
      for (const key of keys) this.queue.add(key);
    };
    const subscribe = (resource: string, keysFor: (obj: KubeObject) => string[]) => {
      informers.get(resource)!.addHandlers({
        add: (obj) => enqueue(keysFor(obj)),
        update: (old, obj) => enqueue(old === obj ? keysFor(obj) : [...new Set([...keysFor(old), ...keysFor(obj)])]),
        delete: (obj) => enqueue(keysFor(obj)),
      });
    };
    subscribe(this.decl.resource, (obj) => [objectKey(obj)]);
    for (const watch of this.decl.watches ?? []) subscribe(watch.resource, watch.keysFor);
  }

  async setup(context: ControllerContext): Promise<void> {
    this.reconciler = await this.decl.setup(context);
  }

  startWorkers(): void {
    const count = Math.max(1, this.decl.workers ?? 1);
    for (let i = 0; i < count; i++) this.workers.push(this.work());
  }

  /** Stops handing out keys and waits for the reconciles in progress. Queued keys are dropped. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.queue.shutDown();
    await Promise.all(this.workers);
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      if (this.stopping) {
        this.queue.done(key);
        return;
      }
      await this.process(key);
    }
  }

  private async process(key: string): Promise<void> {
    const started = performance.now();
    try {
      const result = await this.reconciler!.reconcile(key);
      this.queue.forget(key);
      if (result?.requeueAfter !== undefined && result.requeueAfter > 0) {
        this.queue.addAfter(key, result.requeueAfter);
        this.metrics.reconciled(this.decl.name, 'requeue_after', (performance.now() - started) / 1000);
      } else {
        this.metrics.reconciled(this.decl.name, 'success', (performance.now() - started) / 1000);
      }
    } catch (err) {
      this.metrics.reconciled(this.decl.name, 'error', (performance.now() - started) / 1000);
      this.log.warn({ err, key, retries: this.queue.numRequeues(key) }, 'reconcile failed; retrying with backoff');
      this.queue.addRateLimited(key);
    } finally {
      this.queue.done(key);
    }
  }
}
