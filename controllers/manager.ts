// The controller manager: runs the enabled controllers inside the server process.
//
// Only the leader reconciles; the API serves on every replica. With leader election on, the
// manager competes for the lease (on the host cluster when there is one, else in our own
// storage) and runs a *term* while it leads: one informer per resource the enabled controllers
// need (shared between them, with the union of their indexes), a queue and workers per
// controller. Workers start only once every informer has synced. When leadership is lost, or on
// `stop()`, the term ends: workers finish the reconcile in progress, queues and informers stop;
// on regaining the lease a fresh term relists from the watch cache. Without leader election a
// single term runs from `start()` to `stop()`.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { Store } from '../registry/store.js';
import type { Backend } from '../registry/storage/index.js';
import { realClock, type Clock } from './clock.js';
import { RunningController, type ControllerDeclaration, type ControllerContext, type ControllerLogger } from './controller.js';
import { HostEventRecorder, LogEventRecorder, type EventRecorder } from './events.js';
import { podNamespace, type HostClient } from './host-client.js';
import { Informer, type IndexFunc } from './informer.js';
import {
  DEFAULT_LEASE_DURATION_MS,
  DEFAULT_RENEW_DEADLINE_MS,
  DEFAULT_RETRY_PERIOD_MS,
  HostLeaseLock,
  LeaderElector,
  StorageLeaseLock,
  type LeaseLock,
} from './leader-election.js';
import { ControllerMetrics } from './metrics.js';
import { controllerGroup, isControllerEnabled, RESERVED_CONTROLLER_NAMES } from './enable.js';
import type { Upstreams } from './upstreams.js';

export interface LeaderElectionConfig {
  enabled: boolean;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** This replica's identity (default `<hostname>_<uuid>`). */
  identity?: string;
  /** The lease's name (default `operators-apiserver-controllers`). */
  leaseName?: string;
  /** The host Lease's namespace (default: this pod's namespace, else `default`). */
  leaseNamespace?: string;
}

export interface ManagerOptions {
  /** The server's stores by `plural.group`. */
  stores: ReadonlyMap<string, Store>;
  /** Our storage, for the standalone lease. */
  backend: Backend;
  controllers: ControllerDeclaration[];
  /** `--controllers` entries: `*`, `name`, `-name`. */
  enabled: readonly string[];
  host?: HostClient;
  /** Shared upstream clients (Nimbus, kubelet metrics, performer gRPC); none when absent. */
  upstreams?: Upstreams;
  leaderElection: LeaderElectionConfig;
  metrics: Registry;
  clock?: Clock;
  log: ControllerLogger & { child?(bindings: object): ControllerLogger };
}

export const DEFAULT_LEASE_NAME = 'operators-apiserver-controllers';

type LeadershipListener = (leading: boolean) => void;

/** The work of one leadership term. */
class Term {
  readonly informers = new Map<string, Informer>();
  readonly controllers: RunningController[] = [];
  private stopped = false;

  constructor(
    private readonly manager: ControllerManager,
    private readonly declarations: ControllerDeclaration[],
  ) {}

  async start(): Promise<void> {
    const m = this.manager;
    const indexers = new Map<string, Record<string, IndexFunc>>();
    for (const decl of this.declarations) {
      for (const resource of [decl.resource, ...(decl.watches ?? []).map((w) => w.resource)]) {
        indexers.set(resource, { ...(indexers.get(resource) ?? {}), ...(decl.indexers?.[resource] ?? {}) });
      }
    }
    for (const [resource, resourceIndexers] of indexers) {
      const resync = Math.min(...this.declarations.filter((d) => d.resource === resource).map((d) => d.resyncPeriodMs ?? 0).filter((p) => p > 0));
      this.informers.set(
        resource,
        new Informer({
          source: m.store(resource),
          indexers: resourceIndexers,
          resyncPeriodMs: Number.isFinite(resync) ? resync : 0,
          clock: m.clock,
          log: m.log,
        }),
      );
    }
    for (const decl of this.declarations) {
      const log = m.childLog({ controller: decl.name });
      const controller = new RunningController(decl, m.clock, m.metrics, log);
      controller.wire(this.informers);
      const declared = new Set([decl.resource, ...(decl.watches ?? []).map((w) => w.resource)]);
      const context: ControllerContext = {
        name: decl.name,
        store: (resource) => m.store(resource),
        informer: (resource) => {
          if (!declared.has(resource)) throw new Error(`controller ${decl.name} did not declare ${resource}`);
          return this.informers.get(resource)!;
        },
        host: m.host,
        recorder: m.recorder(decl.name),
        clock: m.clock,
        log,
        queue: controller.queue,
        upstream: (key) => m.upstreams?.get(key),
      };
      await controller.setup(context);
      if (this.stopped) return;
      this.controllers.push(controller);
    }
    for (const informer of this.informers.values()) informer.start();
    try {
      await Promise.all([...this.informers.values()].map((i) => i.synced));
    } catch (err) {
      if (this.stopped) return; // stop() ends the informers before their first list
      throw err;
    }
    if (this.stopped) return;
    for (const controller of this.controllers) controller.startWorkers();
    m.log.info({ controllers: this.controllers.map((c) => c.decl.name) }, 'controllers started');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.controllers.map((c) => c.stop()));
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}

export class ControllerManager {
  readonly clock: Clock;
  readonly log: ManagerOptions['log'];
  readonly metrics: ControllerMetrics;
  readonly host: HostClient | undefined;
  readonly upstreams: Upstreams | undefined;
  /** The controllers that run (enabled ones), in declaration order. */
  readonly controllers: ControllerDeclaration[];
  readonly identity: string;
  private readonly elector: LeaderElector | undefined;
  private term: Term | undefined;
  private termStarting: Promise<void> | undefined;
  private readonly listeners: LeadershipListener[] = [];
  private leading = false;
  private started = false;

  constructor(private readonly options: ManagerOptions) {
    this.clock = options.clock ?? realClock;
    this.log = options.log;
    this.host = options.host;
    this.upstreams = options.upstreams;
    this.metrics = new ControllerMetrics(options.metrics);
    const known = new Set([...options.controllers.flatMap((c) => [c.name, controllerGroup(c.name)]), ...RESERVED_CONTROLLER_NAMES]);
    for (const entry of options.enabled) {
      const name = entry.startsWith('-') ? entry.slice(1) : entry;
      if (name !== '*' && !known.has(name)) throw new Error(`--controllers: unknown controller "${name}" (known: ${[...known].join(', ')})`);
    }
    this.controllers = options.controllers.filter((c) => isControllerEnabled(c.name, options.enabled));
    for (const decl of this.controllers) {
      for (const resource of [decl.resource, ...(decl.watches ?? []).map((w) => w.resource)]) {
        if (!options.stores.has(resource)) throw new Error(`controller ${decl.name}: no resource ${resource} in this server`);
      }
    }
    const le = options.leaderElection;
    this.identity = le.identity || `${hostname()}_${randomUUID()}`;
    if (le.enabled && this.controllers.length > 0) {
      this.elector = new LeaderElector({
        lock: this.leaseLock(le),
        identity: this.identity,
        leaseDurationMs: le.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS,
        renewDeadlineMs: le.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS,
        retryPeriodMs: le.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS,
        clock: this.clock,
        log: this.log,
        onStartedLeading: () => this.startTerm(),
        onStoppedLeading: () => this.stopTerm(),
      });
    }
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Called with true when this replica starts reconciling, false when it stops. */
  onLeadershipChange(listener: LeadershipListener): void {
    this.listeners.push(listener);
  }

  start(): void {
    if (this.started) throw new Error('controller manager already started');
    this.started = true;
    if (this.controllers.length === 0) return;
    if (this.elector) this.elector.start();
    else this.startTerm();
  }

  /** Stops reconciling (releasing the lease) and waits for reconciles in progress. */
  async stop(): Promise<void> {
    if (this.elector) await this.elector.stop();
    else await this.stopTerm();
  }

  store(resource: string): Store {
    const store = this.options.stores.get(resource);
    if (!store) throw new Error(`no resource ${resource} in this server`);
    return store;
  }

  childLog(bindings: object): ControllerLogger {
    return this.log.child?.(bindings) ?? this.log;
  }

  recorder(controller: string): EventRecorder {
    const component = `operators-apiserver/${controller}`;
    if (!this.host) return new LogEventRecorder(this.log, component);
    return new HostEventRecorder({ core: this.host.core, component, instance: this.identity, clock: this.clock, log: this.log });
  }

  private leaseLock(le: LeaderElectionConfig): LeaseLock {
    const name = le.leaseName || DEFAULT_LEASE_NAME;
    if (this.host) return new HostLeaseLock(this.host.kubeConfig, le.leaseNamespace || podNamespace() || 'default', name);
    return new StorageLeaseLock(this.options.backend, name);
  }

  private startTerm(): void {
    const term = new Term(this, this.controllers);
    this.term = term;
    this.setLeading(true);
    this.termStarting = term.start().catch((err) => {
      this.log.error({ err }, 'controllers failed to start');
    });
  }

  private async stopTerm(): Promise<void> {
    const term = this.term;
    this.term = undefined;
    if (!term) return;
    await term.stop();
    await this.termStarting;
    this.setLeading(false);
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    for (const listener of this.listeners) listener(leading);
  }
}
