// The StormWorkerPool controller: keeps the pool's worker Deployment, headless Service and (with
// `spec.autoscaling.enabled`) HorizontalPodAutoscaler on the host cluster as `workerpool-resources.ts`
// builds them, reports the Deployment's and HPA's state in `status` (phase, replica counts,
// `deploymentName`, `hpaName`, conditions Ready and Autoscaling) and in the two prom-client gauges,
// and removes the host objects behind the finalizer `storm.apache.org/stormworkerpool-finalizer`.
// Host objects are not watched: the pool is polled (`pollMs`) until its workers are ready, then
// slowly. A host cluster that does not answer (isHostUnavailable) is reported as Ready=Unknown,
// reason HostClusterUnavailable, with the phase and replica counts the last observed; nothing is
// created or deleted, the finalizer stays, and the pool is polled again at `pollMs` (not the
// per-key backoff). Host objects of pools that no longer exist are swept (`controllers/orphan-sweep.ts`).
import { AutoscalingV2Api, type KubernetesObject, type V1Deployment, type V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { isStatusError } from '../../apiserver/errors.js';
import type { KubeObject } from '../../registry/meta.js';
import type { StormWorkerPoolSpec } from '../../registry/storm.apache.org/stormworkerpool/types.js';
import type { ControllerContext, ControllerDeclaration, ReconcileResult } from '../controller.js';
import { addFinalizer, hasFinalizer, isBeingDeleted, removeFinalizer } from '../finalizers.js';
import type { HostClient, ManagedType } from '../host-client.js';
import { NAMESPACE_INDEX, splitKey, type Informer } from '../informer.js';
import { DEFAULT_SWEEP_INTERVAL_MS, sweepOrphans, SWEEP_KEY } from '../orphan-sweep.js';
import { updateStatus, type ConditionInput } from '../status.js';
import { WorkerPoolMetrics } from './metrics.js';
import { workerDeployment, workerDeploymentName, workerHpa, workerHpaName, workerService } from './workerpool-resources.js';
import { httpCode, isHostUnavailable, readOrUndefined } from '../http-errors.js';
import { reportHostUnavailable } from '../host-unavailable.js';

export const WORKER_POOL_FINALIZER = 'storm.apache.org/stormworkerpool-finalizer';
export const STORM_WORKER_POOLS = 'stormworkerpools.storm.apache.org';
export const STORM_TOPOLOGIES = 'stormtopologies.storm.apache.org';
export const STORM_CLUSTERS = 'stormclusters.storm.apache.org';
const WORKER_POOL_KIND = { group: 'storm.apache.org', kind: 'StormWorkerPool' };

export interface WorkerPoolControllerOptions {
  /** Poll interval while the workers are not all ready (default 2 s). */
  pollMs?: number;
  /** Poll interval once they are (default 30 s). */
  steadyPollMs?: number;
  metrics?: WorkerPoolMetrics;
  /** Time between sweeps for the host objects of pools that no longer exist (default 10 min; one more at each leadership term's start). */
  sweepIntervalMs?: number;
}


/** Whether every field of `desired` has the same value in `actual` (server defaults in `actual` are ignored). */
export function containsFields(actual: unknown, desired: unknown): boolean {
  if (desired === undefined) return true;
  if (Array.isArray(desired)) {
    return Array.isArray(actual) && actual.length === desired.length && desired.every((d, i) => containsFields(actual[i], d));
  }
  if (desired !== null && typeof desired === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    return Object.entries(desired).every(([k, v]) => containsFields((actual as Record<string, unknown>)[k], v));
  }
  return actual === desired;
}

export interface HostResourceApi<T extends KubernetesObject> {
  read(namespace: string, name: string): Promise<T>;
  create(namespace: string, body: T): Promise<T>;
  replace(namespace: string, name: string, body: T): Promise<T>;
}

/**
 * Creates `desired`, or replaces the live object when one of the fields `desired` sets differs
 * (labels, annotations and spec; status and server-set fields are left alone). Returns the live object.
 */
export async function applyHostObject<T extends KubernetesObject & { spec?: unknown }>(api: HostResourceApi<T>, desired: T): Promise<T> {
  const namespace = desired.metadata!.namespace!;
  const name = desired.metadata!.name!;
  const live = await readOrUndefined(() => api.read(namespace, name));
  if (!live) return api.create(namespace, desired);
  const same =
    containsFields(live.metadata?.labels, desired.metadata?.labels) &&
    containsFields(live.metadata?.annotations, desired.metadata?.annotations) &&
    containsFields(live.spec, desired.spec);
  if (same) return live;
  const body = structuredClone(desired);
  body.metadata!.resourceVersion = live.metadata?.resourceVersion;
  return api.replace(namespace, name, body);
}

export function hpaApi(host: HostClient): { api: HostResourceApi<V2HorizontalPodAutoscaler>; managed: ManagedType } {
  const autoscaling = host.kubeConfig.makeApiClient(AutoscalingV2Api);
  return {
    api: {
      read: (namespace, name) => autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace, name }),
      create: (namespace, body) => autoscaling.createNamespacedHorizontalPodAutoscaler({ namespace, body }),
      replace: (namespace, name, body) => autoscaling.replaceNamespacedHorizontalPodAutoscaler({ namespace, name, body }),
    },
    managed: {
      kind: 'HorizontalPodAutoscaler',
      list: async (labelSelector) => (await autoscaling.listHorizontalPodAutoscalerForAllNamespaces({ labelSelector })).items,
      delete: async (namespace, name) => {
        try {
          await autoscaling.deleteNamespacedHorizontalPodAutoscaler({ namespace, name });
        } catch (err) {
          if (httpCode(err) !== 404) throw err;
        }
      },
    },
  };
}

/** The host kinds a pool's objects are of, for deletion and the orphan sweep. */
function workerPoolTypes(host: HostClient): ManagedType[] {
  return [hpaApi(host).managed, host.types.services, host.types.deployments];
}

/** The topology a pool serves and the cluster it runs on (`spec.clusterRef`, else the topology's). */
function dependencies(ctx: ControllerContext, pool: KubeObject): { topology?: KubeObject; cluster?: KubeObject; clusterName?: string } {
  const spec = pool.spec as StormWorkerPoolSpec;
  const ns = pool.metadata.namespace;
  const topology = ctx.informer(STORM_TOPOLOGIES).cache.get(`${ns}/${spec.topologyRef}`);
  const clusterName = spec.clusterRef ?? (topology?.spec?.clusterRef as string | undefined);
  const cluster = clusterName ? ctx.informer(STORM_CLUSTERS).cache.get(`${ns}/${clusterName}`) : undefined;
  return { topology, cluster, clusterName };
}

export function ignoreNotFound(err: unknown): void {
  if (!isStatusError(err, 'NotFound')) throw err;
}

export function workerPoolController(options: WorkerPoolControllerOptions = {}): ControllerDeclaration {
  const pollMs = options.pollMs ?? 2_000;
  const steadyPollMs = options.steadyPollMs ?? 30_000;
  const metrics = options.metrics ?? new WorkerPoolMetrics();
  const sweepIntervalMs = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
  // Set in `setup`, once this leadership term's informers exist.
  let pools: Informer | undefined;
  const keysBy = (index: string, value: string) => (pools?.cache.byIndex(index, value) ?? []).map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
  return {
    name: 'storm-workerpool',
    resource: STORM_WORKER_POOLS,
    watches: [
      { resource: STORM_TOPOLOGIES, keysFor: (t) => keysBy('topology', `${t.metadata.namespace}/${t.metadata.name}`) },
      // A pool naming no cluster follows its topology's: a cluster change looks at every pool of the namespace.
      { resource: STORM_CLUSTERS, keysFor: (c) => keysBy(NAMESPACE_INDEX, c.metadata.namespace ?? '') },
    ],
    indexers: {
      [STORM_WORKER_POOLS]: { topology: (p) => [`${p.metadata.namespace}/${String(p.spec?.topologyRef ?? '')}`] },
    },
    workers: 2,
    setup(ctx) {
      pools = ctx.informer(STORM_WORKER_POOLS);
      if (!ctx.host) ctx.log.info({}, 'storm-workerpool: no host cluster (--kubeconfig); worker pools are stored but not run');
      if (ctx.host) ctx.queue.add(SWEEP_KEY);
      return {
        reconcile: (key) =>
          key === SWEEP_KEY
            ? sweepOrphans(ctx, WORKER_POOL_KIND, workerPoolTypes(ctx.host!), ctx.informer(STORM_WORKER_POOLS).cache, ctx.store(STORM_WORKER_POOLS), sweepIntervalMs)
            : // A pool deleted while it was reconciled: nothing left to do (its finalizer already ran).
              reconcilePool(ctx, key, { pollMs, steadyPollMs, metrics }).catch(ignoreNotFound),
      };
    },
  };
}

async function reconcilePool(
  ctx: ControllerContext,
  key: string,
  o: { pollMs: number; steadyPollMs: number; metrics: WorkerPoolMetrics },
): Promise<ReconcileResult | void> {
  const { namespace, name } = splitKey(key);
  const store = ctx.store(STORM_WORKER_POOLS);
  const pool = ctx.informer(STORM_WORKER_POOLS).cache.get(key);
  if (!pool) {
    o.metrics.forget(namespace ?? '', name);
    return;
  }
  const host = ctx.host;
  // Standalone (no host cluster): nothing to run workers on; the objects are left as they are.
  if (!host) return;
  const topologyName = String(pool.spec?.topologyRef ?? '');
  if (isBeingDeleted(pool)) {
    if (!hasFinalizer(pool, WORKER_POOL_FINALIZER)) return;
    let deleted: string[];
    try {
      deleted = await host.deleteManaged(pool, workerPoolTypes(host));
    } catch (err) {
      if (isHostUnavailable(err)) return hostUnavailable(ctx, pool, err, 'deleting its worker objects', o.pollMs);
      throw err;
    }
    if (deleted.length > 0) ctx.recorder.event(pool, 'Normal', 'Deleted', `deleted ${deleted.join(', ')}`);
    o.metrics.forget(namespace ?? '', name);
    await removeFinalizer(store, pool, WORKER_POOL_FINALIZER);
    return;
  }
  const observe = (phase: string, replicas: Partial<Record<'desired' | 'current' | 'ready' | 'available' | 'updated', number>>) =>
    o.metrics.observe({
      pool: name,
      namespace: namespace ?? '',
      topology: topologyName,
      phase,
      replicas: { desired: 0, current: 0, ready: 0, available: 0, updated: 0, ...replicas },
    });

  const { topology, cluster, clusterName } = dependencies(ctx, pool);
  const waiting = !topology
    ? { reason: 'TopologyNotFound', message: `StormTopology "${topologyName}" not found` }
    : !cluster
      ? { reason: 'ClusterNotFound', message: `StormCluster "${clusterName ?? ''}" not found` }
      : undefined;
  if (waiting) {
    await updateStatus(store, pool, {
      mutate: (s) => Object.assign(s, { phase: 'Pending', message: waiting.message, lastUpdateTime: now(ctx) }),
      conditions: [{ type: 'Ready', status: 'False', ...waiting }],
    });
    observe('Pending', { desired: Number(pool.spec?.replicas ?? 0) });
    return { requeueAfter: o.steadyPollMs };
  }

  const withFinalizer = await addFinalizer(store, pool, WORKER_POOL_FINALIZER);
  const spec = withFinalizer.spec as StormWorkerPoolSpec;
  const hpa = hpaApi(host);
  const autoscaled = spec.autoscaling?.enabled === true;
  let deployment: V1Deployment;
  let autoscaler: V2HorizontalPodAutoscaler | undefined;
  try {
    const deploymentName = workerDeploymentName(name);
    const live = await readOrUndefined(() => host.apps.readNamespacedDeployment({ namespace: namespace!, name: deploymentName }));
    deployment = await applyHostObject(
      {
        read: (ns, n) => host.apps.readNamespacedDeployment({ namespace: ns, name: n }),
        create: (ns, body) => host.apps.createNamespacedDeployment({ namespace: ns, body }),
        replace: (ns, n, body) => host.apps.replaceNamespacedDeployment({ namespace: ns, name: n, body }),
      },
      workerDeployment(withFinalizer, topologyName, cluster!, live?.spec?.replicas),
    );
    await applyHostObject(
      {
        read: (ns, n) => host.core.readNamespacedService({ namespace: ns, name: n }),
        create: (ns, body) => host.core.createNamespacedService({ namespace: ns, body }),
        replace: (ns, n, body) => host.core.replaceNamespacedService({ namespace: ns, name: n, body }),
      },
      workerService(withFinalizer, topologyName),
    );
    if (autoscaled) autoscaler = await applyHostObject(hpa.api, workerHpa(withFinalizer, topologyName));
    else await hpa.managed.delete(namespace!, workerHpaName(name));
  } catch (err) {
    if (isHostUnavailable(err)) return hostUnavailable(ctx, withFinalizer, err, 'applying its worker objects', o.pollMs);
    const message = `applying the worker objects failed: ${(err as Error).message ?? String(err)}`;
    await updateStatus(store, withFinalizer, {
      mutate: (s) => Object.assign(s, { phase: 'Failed', message, lastUpdateTime: now(ctx) }),
      conditions: [{ type: 'Ready', status: 'False', reason: 'HostError', message }],
    });
    observe('Failed', {});
    throw err;
  }

  const desired = deployment.spec?.replicas ?? 0;
  const st = deployment.status ?? {};
  const replicas = st.replicas ?? 0;
  const ready = st.readyReplicas ?? 0;
  const available = st.availableReplicas ?? 0;
  const updated = st.updatedReplicas ?? 0;
  const observed = (st.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0);
  const phase = !observed || (replicas === 0 && desired > 0) ? 'Creating' : updated < desired ? 'Updating' : ready >= desired ? 'Running' : 'Creating';
  const allReady = phase === 'Running';
  const message = desired === 0 ? 'scaled to 0 workers' : allReady ? `All ${desired} worker(s) are ready` : `${ready} of ${desired} worker(s) are ready`;
  const conditions: ConditionInput[] = [
    { type: 'Ready', status: allReady ? 'True' : 'False', reason: allReady ? 'WorkersReady' : phase === 'Updating' ? 'WorkersUpdating' : 'WorkersNotReady', message },
  ];
  if (autoscaler) {
    const current = autoscaler.status?.currentReplicas ?? desired;
    conditions.push({
      type: 'Autoscaling',
      status: 'True',
      reason: 'HPAActive',
      message: `HPA is active (current: ${current}, min: ${autoscaler.spec?.minReplicas ?? 1}, max: ${autoscaler.spec?.maxReplicas})`,
    });
  } else {
    conditions.push({ type: 'Autoscaling', status: 'False', reason: 'AutoscalingDisabled', message: 'spec.autoscaling is not enabled' });
  }
  await updateStatus(store, withFinalizer, {
    mutate: (s) => {
      const before = JSON.stringify({ ...s, lastUpdateTime: undefined, conditions: undefined });
      Object.assign(s, {
        phase,
        replicas,
        readyReplicas: ready,
        availableReplicas: available,
        unavailableReplicas: st.unavailableReplicas ?? Math.max(0, replicas - available),
        updatedReplicas: updated,
        deploymentName: deployment.metadata?.name,
        message,
      });
      if (autoscaler) s.hpaName = autoscaler.metadata?.name;
      else delete s.hpaName;
      if (JSON.stringify({ ...s, lastUpdateTime: undefined, conditions: undefined }) !== before || s.lastUpdateTime === undefined) s.lastUpdateTime = now(ctx);
    },
    conditions,
  });
  observe(phase, { desired, current: replicas, ready, available, updated });
  return { requeueAfter: allReady ? o.steadyPollMs : o.pollMs };
}

/**
 * The host cluster is away: the workers' state is not known, so Ready is Unknown with the cause
 * (also in `status.message`); the phase, the replica counts and the gauges stay the last observed,
 * and nothing on the host is created or deleted (the finalizer stays). Polled again after
 * `pollMs` rather than backed off. No Event: Events live on the host.
 */
function hostUnavailable(ctx: ControllerContext, pool: KubeObject, err: unknown, doing: string, pollMs: number): Promise<ReconcileResult> {
  return reportHostUnavailable(ctx, ctx.store(STORM_WORKER_POOLS), pool, err, {
    doing,
    pollMs,
    mutate: (s, message) => {
      if (s.message !== message) Object.assign(s, { message, lastUpdateTime: now(ctx) });
    },
  });
}

function now(ctx: ControllerContext): string {
  return `${new Date(ctx.clock.now()).toISOString().slice(0, 19)}Z`;
}
