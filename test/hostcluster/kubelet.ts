// The simulated kubelet of the stand-in host cluster, with the bits of scheduler and workload
// controllers tests need: it watches the stores directly and writes status through
// `store.statusStore()`, one object at a time from a deduplicated queue. Pods are scheduled and
// become Running/Ready (or stay Pending and Unschedulable while held); Deployments and
// StatefulSets report their replicas ready, DaemonSets a ready pod on every eligible node; Jobs run until a test scripts their outcome; PVCs are
// Bound and follow a growing storage request; HorizontalPodAutoscalers keep their target within
// min/max (there is no metrics API; a test may recommend a count); nodes register Ready;
// namespaces are Active and their contents go with them. Node metrics are whatever volume stats
// the test set.
import { notFound, StatusError } from '../../apiserver/errors.js';
import type { KubeObject } from '../../registry/meta.js';
import type { WatchStream } from '../../registry/rest.js';
import { matchesLabels, parseLabelSelector } from '../../registry/selectors.js';
import type { Store } from '../../registry/store.js';
import type { VolumeStats, VolumeStatsEntry } from './metrics.js';
import {
  autoscalerDecision,
  daemonSetStatus,
  deploymentStatus,
  jobStatus,
  nodeInternalIP,
  nodeSchedulable,
  nodeStatus,
  pvcStatus,
  runningPodStatus,
  statefulSetStatus,
  unschedulablePodStatus,
  type JobOutcome,
  type ResizeMode,
} from './workloads.js';

export interface KubeletOptions {
  /** Nodes registered (created, Ready) when the cluster starts. */
  nodes: string[];
  /** The outcome of a Job no test scripted; undefined keeps such Jobs active. */
  defaultJobOutcome?: JobOutcome;
  /** Whether a growing PVC request is granted at once or stays in progress. */
  resizeMode: ResizeMode;
}

export const DEFAULT_KUBELET_OPTIONS: KubeletOptions = { nodes: ['node-1'], resizeMode: 'immediate' };

/** The node a pod runs on when no Node object exists. */
export const FALLBACK_NODE = 'node-1';

/** Which pods to keep Pending and Unschedulable: all, none, a label selector, or a predicate. */
export type PodHold = boolean | string | ((pod: KubeObject) => boolean);

type Resource = 'pods' | 'deployments' | 'statefulsets' | 'daemonsets' | 'jobs' | 'persistentvolumeclaims' | 'nodes' | 'namespaces' | 'horizontalpodautoscalers';

const STORE_KEYS: Record<Resource, string> = {
  pods: 'pods.core',
  deployments: 'deployments.apps',
  statefulsets: 'statefulsets.apps',
  daemonsets: 'daemonsets.apps',
  jobs: 'jobs.batch',
  persistentvolumeclaims: 'persistentvolumeclaims.core',
  nodes: 'nodes.core',
  namespaces: 'namespaces.core',
  horizontalpodautoscalers: 'horizontalpodautoscalers.autoscaling',
};

/** The workloads an HPA can scale here, by `scaleTargetRef.kind`. */
const SCALABLE: Record<string, Resource> = { Deployment: 'deployments', StatefulSet: 'statefulsets' };

const MAX_ATTEMPTS = 5;

interface Work {
  resource: Resource;
  namespace?: string;
  name: string;
  attempts: number;
}

function workKey(resource: Resource, namespace: string | undefined, name: string): string {
  return `${resource}\u0000${namespace ?? ''}\u0000${name}`;
}

export class SimulatedKubelet {
  private readonly stores: Record<Resource, Store>;
  /** Every store of the cluster, for what the namespace controller deletes. */
  private readonly allStores: Store[];
  /** Work started outside the queue (namespace clean-ups); `settled()` waits for it too. */
  private readonly pending = new Set<Promise<void>>();
  private readonly options: KubeletOptions;
  private readonly now: () => Date;
  private readonly volumeStats = new Map<string, Map<string, VolumeStatsEntry>>();
  private readonly unreachable = new Set<string>();
  private readonly hung = new Set<string>();
  private readonly jobScripts = new Map<string, JobOutcome>();
  private readonly readyOverrides = new Map<string, number>();
  private readonly recommendations = new Map<string, number>();
  private hold: PodHold = false;
  private resizeMode: ResizeMode;

  private readonly queue: Work[] = [];
  private readonly queued = new Set<string>();
  private running = false;
  private idleWaiters: Array<() => void> = [];
  private writes = 0;
  private podIPs = 1;
  private readonly nodeIPs = new Map<string, string>();
  private readonly watches = new Map<Resource, WatchStream>();
  private loops: Promise<void>[] = [];
  private stopped = false;
  /** Unexpected errors while reconciling (a test can assert there are none). */
  readonly errors: Error[] = [];

  constructor(stores: Map<string, Store>, options: Partial<KubeletOptions> = {}, now: () => Date = () => new Date()) {
    const resolved = {} as Record<Resource, Store>;
    for (const [resource, key] of Object.entries(STORE_KEYS) as Array<[Resource, string]>) {
      const store = stores.get(key);
      if (!store) throw new Error(`simulated kubelet: the host cluster has no ${key} store`);
      resolved[resource] = store;
    }
    this.stores = resolved;
    this.allStores = [...stores.values()];
    this.options = { ...DEFAULT_KUBELET_OPTIONS, ...options };
    this.resizeMode = this.options.resizeMode;
    this.now = now;
  }

  // ---- what tests set -------------------------------------------------------------------------

  /** The volume stats `node`'s metrics report for the claim `namespace/pvc`. */
  setVolumeStats(node: string, namespace: string, pvc: string, stats: VolumeStats): void {
    let volumes = this.volumeStats.get(node);
    if (!volumes) this.volumeStats.set(node, (volumes = new Map()));
    volumes.set(`${namespace}/${pvc}`, { namespace, persistentvolumeclaim: pvc, stats: { ...stats } });
  }

  /** Forgets the stats of one claim, of every claim in a namespace, or (without both) of the node. */
  clearVolumeStats(node: string, namespace?: string, pvc?: string): void {
    const volumes = this.volumeStats.get(node);
    if (!volumes) return;
    for (const [key, entry] of volumes) {
      if ((namespace === undefined || entry.namespace === namespace) && (pvc === undefined || entry.persistentvolumeclaim === pvc)) volumes.delete(key);
    }
  }

  volumeStatsOf(node: string): VolumeStatsEntry[] {
    return [...(this.volumeStats.get(node)?.values() ?? [])].map((e) => structuredClone(e));
  }

  /** An unreachable node's proxy answers 503, as kube-apiserver does when the kubelet is down. */
  setNodeReachable(node: string, reachable: boolean): void {
    if (reachable) this.unreachable.delete(node);
    else this.unreachable.add(node);
  }

  isNodeReachable(node: string): boolean {
    return !this.unreachable.has(node);
  }

  /** A hung node's proxy requests get no answer until it is released (a kubelet that stopped responding). */
  setNodeHung(node: string, hung: boolean): void {
    if (hung) this.hung.add(node);
    else this.hung.delete(node);
  }

  isNodeHung(node: string): boolean {
    return this.hung.has(node);
  }

  /** The outcome of the Job `namespace/name` (now, or when it is created). A finished Job stays finished. */
  scriptJob(namespace: string, name: string, outcome: JobOutcome): void {
    this.jobScripts.set(`${namespace}/${name}`, outcome);
    this.enqueue('jobs', namespace, name);
  }

  /**
   * Keeps matching pods Pending with `PodScheduled=False, reason Unschedulable` (true: every pod; a
   * string: a label selector; false: none). Pods already running are not evicted.
   */
  holdPods(hold: PodHold): void {
    if (typeof hold === 'string') parseLabelSelector(hold); // fail now on a bad selector
    this.hold = hold;
    this.resyncInBackground('pods');
  }

  /** How many replicas of a Deployment or StatefulSet (pods of a DaemonSet) report ready; undefined: all of them. */
  setReadyReplicas(kind: 'Deployment' | 'StatefulSet' | 'DaemonSet', namespace: string, name: string, ready: number | undefined): void {
    const resource: Resource = kind === 'Deployment' ? 'deployments' : kind === 'StatefulSet' ? 'statefulsets' : 'daemonsets';
    const key = `${resource}/${namespace}/${name}`;
    if (ready === undefined) this.readyOverrides.delete(key);
    else this.readyOverrides.set(key, ready);
    this.enqueue(resource, namespace, name);
  }

  /**
   * What the (absent) metrics pipeline recommends for the HPA `namespace/name`; undefined: no
   * metrics, so the autoscaler only enforces minReplicas and maxReplicas.
   */
  recommendReplicas(namespace: string, name: string, replicas: number | undefined): void {
    const key = `${namespace}/${name}`;
    if (replicas === undefined) this.recommendations.delete(key);
    else this.recommendations.set(key, replicas);
    this.enqueue('horizontalpodautoscalers', namespace, name);
  }

  setResizeMode(mode: ResizeMode): void {
    this.resizeMode = mode;
    this.resyncInBackground('persistentvolumeclaims');
  }

  /**
   * Resolves once every object present now has been reconciled and the kubelet's own writes have
   * settled: a full pass over the stores that writes nothing, with the queue empty.
   */
  async settled(): Promise<void> {
    for (let pass = 0; pass < 50; pass++) {
      const before = this.writes;
      await this.resync(Object.keys(STORE_KEYS) as Resource[]);
      await this.idle();
      if (this.writes === before) return;
    }
    throw new Error('simulated kubelet: did not settle after 50 passes');
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  async start(): Promise<void> {
    for (const name of this.options.nodes) {
      try {
        await this.stores.nodes.create(undefined, { object: { apiVersion: 'v1', kind: 'Node', metadata: { name } }, errors: [], warnings: [] }, { dryRun: false });
      } catch (err) {
        if (!(err instanceof StatusError && err.status.reason === 'AlreadyExists')) throw err;
      }
    }
    for (const resource of Object.keys(STORE_KEYS) as Resource[]) {
      // The first watch is open before start() returns, so nothing created after it is missed.
      const first = await this.stores[resource].watch({});
      this.loops.push(this.follow(resource, first));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.watches.values()) w.close();
    await Promise.all(this.loops);
    await this.idle();
  }

  /**
   * Follows a resource's watch; when the stream ends or fails (e.g. 410 Expired) a new one starts,
   * whose initial ADDED events requeue every object, as an informer's relist does.
   */
  private async follow(resource: Resource, first: WatchStream): Promise<void> {
    let watch: WatchStream | undefined = first;
    while (!this.stopped) {
      try {
        watch ??= await this.stores[resource].watch({});
        this.watches.set(resource, watch);
        if (this.stopped) watch.close();
        for await (const batch of watch) {
          for (const event of batch) {
            if (event.type === 'BOOKMARK') continue;
            const { namespace, name } = event.object.metadata;
            if (event.type === 'DELETED') {
              if (resource === 'namespaces') this.track(this.deleteNamespaceContents(name!));
              continue;
            }
            this.enqueue(resource, namespace, name!);
            // The autoscalers of a workload look again when it changes.
            if (resource === 'deployments' || resource === 'statefulsets') this.enqueueAutoscalers(namespace!);
            // A node that comes, goes or changes changes where DaemonSets run.
            if (resource === 'nodes') this.resyncInBackground('daemonsets');
          }
        }
      } catch (err) {
        if (this.stopped) return;
        const status = err instanceof StatusError ? err.status.code : 0;
        if (status !== 410) this.errors.push(err as Error);
      }
      watch = undefined;
      if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  // ---- the queue ------------------------------------------------------------------------------

  private enqueue(resource: Resource, namespace: string | undefined, name: string, attempts = 0): void {
    if (this.stopped) return;
    const key = workKey(resource, namespace, name);
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push({ resource, namespace, name, attempts });
    if (!this.running) void this.drain();
  }

  /** Requeues every object of `resource` after a setting changed; `settled()` waits for it. */
  private resyncInBackground(resource: Resource): void {
    if (this.stopped) return;
    this.track(
      this.resync([resource]).catch((err: unknown) => {
        if (!this.stopped) this.errors.push(err as Error);
      }),
    );
  }

  private async resync(resources: Resource[]): Promise<void> {
    for (const resource of resources) {
      const { items } = await this.stores[resource].list({});
      for (const obj of items) this.enqueue(resource, obj.metadata.namespace, obj.metadata.name!);
    }
  }

  private track(work: Promise<void>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  private async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
    if (!this.running && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const work = this.queue.shift()!;
        this.queued.delete(workKey(work.resource, work.namespace, work.name));
        try {
          await this.reconcile(work);
        } catch (err) {
          if (err instanceof StatusError && err.status.reason === 'NotFound') continue;
          if (err instanceof StatusError && err.status.reason === 'Conflict' && work.attempts < MAX_ATTEMPTS) {
            this.enqueue(work.resource, work.namespace, work.name, work.attempts + 1);
            continue;
          }
          if (!this.stopped) this.errors.push(err as Error);
        }
      }
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  // ---- reconciling ----------------------------------------------------------------------------

  private async reconcile(work: Work): Promise<void> {
    const store = this.stores[work.resource];
    const current = await store.get({ namespace: work.namespace, name: work.name });
    if (current.metadata.deletionTimestamp) return;
    const now = this.now();
    const key = `${work.namespace}/${work.name}`;
    switch (work.resource) {
      case 'pods':
        return this.reconcilePod(current, now);
      case 'deployments':
        return this.writeStatus(store, current, () => deploymentStatus(current, this.readyOverrides.get(`deployments/${key}`), now));
      case 'statefulsets':
        return this.writeStatus(store, current, () => statefulSetStatus(current, this.readyOverrides.get(`statefulsets/${key}`)));
      case 'daemonsets': {
        const nodes = (await this.stores.nodes.list({})).items;
        return this.writeStatus(store, current, () => daemonSetStatus(current, nodes, this.readyOverrides.get(`daemonsets/${key}`)));
      }
      case 'jobs':
        return this.writeStatus(store, current, (obj) => jobStatus(obj, this.jobScripts.get(key) ?? this.options.defaultJobOutcome, now));
      case 'persistentvolumeclaims':
        return this.writeStatus(store, current, (obj) => pvcStatus(obj, this.resizeMode, now));
      case 'nodes':
        // A node whose status already has conditions (a test's, or ours) is left as it is.
        if (Array.isArray(current.status?.conditions)) return;
        return this.writeStatus(store, current, (obj) => nodeStatus(obj, this.nodeIP(obj.metadata.name!), now));
      case 'namespaces':
        if (current.status?.phase) return;
        return this.writeStatus(store, current, () => ({ phase: 'Active' }));
      case 'horizontalpodautoscalers':
        return this.reconcileAutoscaler(current, now);
    }
  }

  private enqueueAutoscalers(namespace: string): void {
    this.track(
      this.stores.horizontalpodautoscalers
        .list({ namespace })
        .then(({ items }) => items.forEach((hpa) => this.enqueue('horizontalpodautoscalers', namespace, hpa.metadata.name!)))
        .catch((err: unknown) => {
          if (!this.stopped) this.errors.push(err as Error);
        }),
    );
  }

  /** The HPA controller: scales the target within min/max (and to a test's recommendation). */
  private async reconcileAutoscaler(hpa: KubeObject, now: Date): Promise<void> {
    const ref = (hpa.spec?.scaleTargetRef ?? {}) as { kind?: string; name?: string };
    const resource = ref.kind ? SCALABLE[ref.kind] : undefined;
    let target: KubeObject | undefined;
    if (resource && ref.name) {
      target = await this.stores[resource].get({ namespace: hpa.metadata.namespace, name: ref.name }).catch((err: unknown) => {
        if (err instanceof StatusError && err.status.code === 404) return undefined;
        throw err;
      });
    }
    const current = target ? ((target.spec?.replicas as number | undefined) ?? 1) : undefined;
    const decision = autoscalerDecision(hpa, current, this.recommendations.get(`${hpa.metadata.namespace}/${hpa.metadata.name}`), now);
    if (target && resource && decision.desiredReplicas !== undefined) {
      const replicas = decision.desiredReplicas;
      await this.stores[resource].update(
        { namespace: target.metadata.namespace, name: target.metadata.name! },
        (latest) => {
          if (!latest) throw notFound({ group: 'apps', resource, name: target!.metadata.name! });
          const object = structuredClone(latest);
          object.spec = { ...(object.spec ?? {}), replicas };
          object.metadata.resourceVersion = target!.metadata.resourceVersion;
          return { object, errors: [], warnings: [] };
        },
        { dryRun: false },
      );
      this.writes++;
    }
    await this.writeStatus(this.stores.horizontalpodautoscalers, hpa, () => decision.status);
  }

  private holds(pod: KubeObject): boolean {
    const hold = this.hold;
    if (typeof hold === 'boolean') return hold;
    if (typeof hold === 'function') return hold(pod);
    return matchesLabels(parseLabelSelector(hold), pod.metadata.labels);
  }

  private async reconcilePod(pod: KubeObject, now: Date): Promise<void> {
    const nodes = (await this.stores.nodes.list({})).items;
    const running = pod.status?.phase === 'Running' || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
    let nodeName = pod.spec?.nodeName as string | undefined;
    if (!nodeName) {
      if (!running && this.holds(pod)) {
        return this.writeStatus(this.stores.pods, pod, (obj) => unschedulablePodStatus(obj, nodes.length, now));
      }
      nodeName = this.pickNode(pod, nodes);
      // The scheduler's binding: spec.nodeName is set once, on the main resource.
      const name = nodeName;
      const bound = await this.stores.pods.update(
        { namespace: pod.metadata.namespace, name: pod.metadata.name! },
        (current) => {
          if (!current) throw notFound({ group: '', resource: 'pods', name: pod.metadata.name! });
          const object = structuredClone(current);
          object.spec = { ...(object.spec ?? {}), nodeName: name };
          object.metadata.resourceVersion = pod.metadata.resourceVersion;
          return { object, errors: [], warnings: [] };
        },
        { dryRun: false },
      );
      this.writes++;
      pod = bound.object;
    }
    const node = nodes.find((n) => n.metadata.name === nodeName);
    const hostIP = (node && nodeInternalIP(node)) ?? this.nodeIP(nodeName);
    await this.writeStatus(this.stores.pods, pod, (obj) => runningPodStatus(obj, { nodeName: nodeName!, hostIP, nextPodIP: () => this.nextPodIP() }, now));
  }

  /** A schedulable node, spread by the pod's name; `node-1` when the cluster has no Node at all. */
  private pickNode(pod: KubeObject, nodes: KubeObject[]): string {
    const candidates = nodes.filter(nodeSchedulable).map((n) => n.metadata.name!).sort();
    if (candidates.length === 0) return nodes.length > 0 ? nodes.map((n) => n.metadata.name!).sort()[0] : FALLBACK_NODE;
    let hash = 0;
    for (const ch of `${pod.metadata.namespace}/${pod.metadata.name}`) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
    return candidates[hash % candidates.length];
  }

  private nodeIP(node: string): string {
    let ip = this.nodeIPs.get(node);
    if (!ip) {
      ip = `10.0.0.${this.nodeIPs.size + 1}`;
      this.nodeIPs.set(node, ip);
    }
    return ip;
  }

  private nextPodIP(): string {
    const n = this.podIPs++;
    return `10.244.${Math.floor(n / 250)}.${(n % 250) + 2}`;
  }

  /**
   * Writes `compute(current)` as the status of `obj` through the status subresource, unless it is
   * what the status already is. The write is conditional on the object read: a concurrent change
   * is a Conflict, and the object is reconciled again.
   */
  private async writeStatus(store: Store, obj: KubeObject, compute: (current: KubeObject) => Record<string, unknown>): Promise<void> {
    const status = compute(obj);
    if (JSON.stringify(sortKeys(status)) === JSON.stringify(sortKeys(obj.status ?? {}))) return;
    await store.statusStore().update(
      { namespace: obj.metadata.namespace, name: obj.metadata.name! },
      (current) => {
        if (!current) throw notFound({ group: store.decl.group, resource: store.decl.plural, name: obj.metadata.name! });
        const object = structuredClone(current);
        object.metadata.resourceVersion = obj.metadata.resourceVersion;
        object.status = status;
        return { object, errors: [], warnings: [] };
      },
      { dryRun: false },
    );
    this.writes++;
  }

  /** What the namespace controller does once a namespace is gone: delete everything in it. */
  private async deleteNamespaceContents(namespace: string): Promise<void> {
    for (const store of this.allStores) {
      if (!store.decl.namespaced) continue;
      try {
        await store.deleteCollection({ namespace }, { dryRun: false });
      } catch (err) {
        if (!this.stopped) this.errors.push(err as Error);
      }
    }
  }
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v as object).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
  return out;
}
