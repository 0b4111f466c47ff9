// The StormCluster controller.
// - `managementMode: create`: keeps the cluster's host objects as cluster-resources.ts builds them
//   (ConfigMap storm.yaml, Nimbus StatefulSet + Services, Supervisor Deployment or DaemonSet, UI
//   Deployment + Service), prunes the ones the spec no longer asks for, and deletes them all behind
//   the finalizer `storm.apache.org/stormcluster-finalizer`.
// - `managementMode: reference`: only reads the resources named in spec.resourceNames.
// Either way it polls Nimbus (`getClusterInfo`, through the shared NIMBUS pool) and reports:
// nimbusReady/supervisorReady/uiReady from the workloads, nimbusLeader/nimbusNodes, slots
// (total/used/free, slotsInfo "used/total") and topologyCount from Nimbus, endpoints, phase, and
// condition Available (reason = the internal state: Running, Creating, NimbusUnavailable,
// NimbusTLSError (spec.nimbus.thrift.useTLS: handshake or Secret failure), ResourcesNotFound, HostError). Numbers that come from Nimbus are removed while Nimbus cannot be
// reached rather than left stale. A host cluster that does not answer (isHostUnavailable) is
// reported as Available=Unknown, reason HostClusterUnavailable: the phase and the workload numbers
// stay the last observed, Nimbus is still polled, nothing is created, pruned or deleted, the
// finalizer stays, and the cluster is polled again at `notReadyPollMs` (not the per-key backoff).
// Host objects of StormClusters that no longer exist are swept (`controllers/orphan-sweep.ts`).
import type { KubernetesObject, V1ConfigMap, V1DaemonSet, V1Deployment, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import type { KubeObject } from '../../registry/meta.js';
import type { StormClusterSpec } from '../../registry/storm.apache.org/stormcluster/types.js';
import { isNimbusError, NIMBUS, nimbusAddressOf, type ClusterSummary } from '../../registry/storm.apache.org/upstreams.js';
import type { ControllerContext, ControllerDeclaration, ReconcileResult } from '../controller.js';
import { addFinalizer, hasFinalizer, isBeingDeleted, removeFinalizer } from '../finalizers.js';
import type { HostClient, ManagedType } from '../host-client.js';
import { DEFAULT_SWEEP_INTERVAL_MS, sweepOrphans, SWEEP_KEY } from '../orphan-sweep.js';
import { findCondition, updateStatus, type Condition } from '../status.js';
import {
  configMap,
  endpoints,
  nimbusHeadlessService,
  nimbusService,
  nimbusStatefulSet,
  supervisorDaemonSet,
  supervisorDeployment,
  uiDeployment,
  uiService,
} from './cluster-resources.js';
import { isHostUnavailable, readOrUndefined } from '../http-errors.js';
import { HOST_CLUSTER_UNAVAILABLE, reportHostUnavailable } from '../host-unavailable.js';
import { applyHostObject, containsFields, type HostResourceApi } from './workerpool.js';

export const STORM_CLUSTER_FINALIZER = 'storm.apache.org/stormcluster-finalizer';
export const STORM_CLUSTERS = 'stormclusters.storm.apache.org';
export const STORM_CLUSTER_CONTROLLER = 'storm-cluster';
const STORM_CLUSTER_KIND = { group: 'storm.apache.org', kind: 'StormCluster' };

export interface ClusterControllerOptions {
  /** Poll interval of Nimbus and the workloads while the cluster is Available (default 30 s). */
  pollMs?: number;
  /** Poll interval while it is not (default 5 s). */
  notReadyPollMs?: number;
  /** Time between sweeps for the host objects of StormClusters that no longer exist (default 10 min; one more at each leadership term's start). */
  sweepIntervalMs?: number;
}

export function stormClusterController(options: ClusterControllerOptions = {}): ControllerDeclaration {
  const o = { pollMs: options.pollMs ?? 30_000, notReadyPollMs: options.notReadyPollMs ?? 5_000 };
  const sweepIntervalMs = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
  return {
    name: STORM_CLUSTER_CONTROLLER,
    resource: STORM_CLUSTERS,
    workers: 2,
    setup(ctx) {
      if (ctx.host) ctx.queue.add(SWEEP_KEY);
      return {
        reconcile: (key) =>
          key === SWEEP_KEY
            ? sweepOrphans(ctx, STORM_CLUSTER_KIND, managedTypes(ctx.host!), ctx.informer(STORM_CLUSTERS).cache, ctx.store(STORM_CLUSTERS), sweepIntervalMs)
            : reconcileCluster(ctx, key, o),
      };
    },
  };
}

/** The workload and service kinds the controller creates, for pruning, deletion and the orphan sweep. */
function managedTypes(host: HostClient): ManagedType[] {
  const apps = host.apps;
  const ignore404 = async (call: () => Promise<unknown>) => {
    try {
      await call();
    } catch (err) {
      if ((err as { code?: unknown }).code !== 404) throw err;
    }
  };
  const statefulSets: ManagedType = {
    kind: 'StatefulSet',
    list: async (labelSelector) => (await apps.listStatefulSetForAllNamespaces({ labelSelector })).items,
    delete: (namespace, name) => ignore404(() => apps.deleteNamespacedStatefulSet({ namespace, name })),
  };
  const daemonSets: ManagedType = {
    kind: 'DaemonSet',
    // A host that does not serve DaemonSets has none of ours.
    list: async (labelSelector) => (await readOrUndefined(() => apps.listDaemonSetForAllNamespaces({ labelSelector })))?.items ?? [],
    delete: (namespace, name) => ignore404(() => apps.deleteNamespacedDaemonSet({ namespace, name })),
  };
  return [statefulSets, host.types.deployments, daemonSets, host.types.services, host.types.configMaps];
}

function apis(host: HostClient) {
  const { apps, core } = host;
  return {
    statefulSets: {
      read: (namespace, name) => apps.readNamespacedStatefulSet({ namespace, name }),
      create: (namespace, body) => apps.createNamespacedStatefulSet({ namespace, body }),
      replace: (namespace, name, body) => apps.replaceNamespacedStatefulSet({ namespace, name, body }),
    } satisfies HostResourceApi<V1StatefulSet>,
    deployments: {
      read: (namespace, name) => apps.readNamespacedDeployment({ namespace, name }),
      create: (namespace, body) => apps.createNamespacedDeployment({ namespace, body }),
      replace: (namespace, name, body) => apps.replaceNamespacedDeployment({ namespace, name, body }),
    } satisfies HostResourceApi<V1Deployment>,
    daemonSets: {
      read: (namespace, name) => apps.readNamespacedDaemonSet({ namespace, name }),
      create: (namespace, body) => apps.createNamespacedDaemonSet({ namespace, body }),
      replace: (namespace, name, body) => apps.replaceNamespacedDaemonSet({ namespace, name, body }),
    } satisfies HostResourceApi<V1DaemonSet>,
    services: {
      read: (namespace, name) => core.readNamespacedService({ namespace, name }),
      create: (namespace, body) => core.createNamespacedService({ namespace, body }),
      replace: (namespace, name, body) => core.replaceNamespacedService({ namespace, name, body }),
    } satisfies HostResourceApi<V1Service>,
    configMaps: {
      read: (namespace, name) => core.readNamespacedConfigMap({ namespace, name }),
      create: (namespace, body) => core.createNamespacedConfigMap({ namespace, body }),
      replace: (namespace, name, body) => core.replaceNamespacedConfigMap({ namespace, name, body }),
    } satisfies HostResourceApi<V1ConfigMap>,
  };
}

/** Ready replicas of the three components; undefined for one that does not run (UI disabled). */
interface Workloads {
  nimbusReady?: number;
  nimbusDesired?: number;
  supervisorReady?: number;
  supervisorDesired?: number;
  uiReady?: number;
  uiDesired?: number;
  /** Reference mode: named resources that do not exist. */
  missing: string[];
}

/** Create mode: applies every host object and prunes the managed ones the spec no longer asks for. */
async function applyCreateMode(host: HostClient, cluster: KubeObject, prune: boolean): Promise<Workloads> {
  const spec = cluster.spec as unknown as StormClusterSpec;
  const api = apis(host);
  const ns = cluster.metadata.namespace!;
  // Kept objects by kind: the supervisor Deployment and DaemonSet share a name, and switching
  // deploymentMode must prune the other one.
  const keep = new Map<string, Set<string>>();
  const keepObject = (obj: KubernetesObject) => {
    const names = keep.get(obj.kind!) ?? new Set<string>();
    names.add(`${ns}/${obj.metadata!.name}`);
    keep.set(obj.kind!, names);
  };
  const apply = async <T extends KubernetesObject & { spec?: unknown }>(resourceApi: HostResourceApi<T>, desired: T): Promise<T> => {
    keepObject(desired);
    return applyHostObject(resourceApi, desired);
  };
  const config = configMap(cluster);
  keepObject(config);
  await applyConfigMap(api.configMaps, config);
  await apply(api.services, nimbusService(cluster));
  await apply(api.services, nimbusHeadlessService(cluster));
  const nimbus = await apply(api.statefulSets, nimbusStatefulSet(cluster));
  const out: Workloads = { missing: [], nimbusReady: nimbus.status?.readyReplicas ?? 0, nimbusDesired: spec.nimbus.replicas };
  if (spec.supervisor.deploymentMode === 'daemonset') {
    const ds = await apply(api.daemonSets, supervisorDaemonSet(cluster));
    out.supervisorReady = ds.status?.numberReady ?? 0;
    out.supervisorDesired = ds.status?.desiredNumberScheduled ?? 0;
  } else {
    const deployment = await apply(api.deployments, supervisorDeployment(cluster));
    out.supervisorReady = deployment.status?.readyReplicas ?? 0;
    out.supervisorDesired = spec.supervisor.replicas;
  }
  if (spec.ui.enabled) {
    const ui = await apply(api.deployments, uiDeployment(cluster));
    await apply(api.services, uiService(cluster));
    out.uiReady = ui.status?.readyReplicas ?? 0;
    out.uiDesired = spec.ui.replicas;
  }
  if (prune) for (const type of managedTypes(host)) await host.deleteManaged(cluster, [type], keep.get(type.kind) ?? new Set());
  return out;
}

/** Creates the ConfigMap, or replaces it when its labels or data differ (applyHostObject compares `spec`, which ConfigMaps lack). */
async function applyConfigMap(api: HostResourceApi<V1ConfigMap>, desired: V1ConfigMap): Promise<void> {
  const { namespace, name } = desired.metadata as { namespace: string; name: string };
  const live = await readOrUndefined(() => api.read(namespace, name));
  if (!live) {
    await api.create(namespace, desired);
    return;
  }
  if (containsFields(live.metadata?.labels, desired.metadata?.labels) && JSON.stringify(live.data ?? {}) === JSON.stringify(desired.data ?? {})) return;
  await api.replace(namespace, name, { ...desired, metadata: { ...desired.metadata, resourceVersion: live.metadata?.resourceVersion } });
}

/** Reference mode: reads the named resources; creates nothing. */
async function observeReferenceMode(host: HostClient, cluster: KubeObject): Promise<Workloads> {
  const spec = cluster.spec as unknown as StormClusterSpec;
  const refs = spec.resourceNames ?? {};
  const api = apis(host);
  const ns = cluster.metadata.namespace!;
  const out: Workloads = { missing: [] };
  const read = async <T>(kind: string, name: string | undefined, reader: HostResourceApi<T & KubernetesObject>): Promise<T | undefined> => {
    if (!name) return undefined;
    const obj = await readOrUndefined(() => reader.read(ns, name));
    if (!obj) out.missing.push(`${kind} ${name}`);
    return obj;
  };
  const nimbus = await read<V1StatefulSet>('StatefulSet', refs.nimbusStatefulSet, api.statefulSets);
  if (nimbus) Object.assign(out, { nimbusReady: nimbus.status?.readyReplicas ?? 0, nimbusDesired: nimbus.spec?.replicas ?? 1 });
  if (refs.supervisorDeployment) {
    const deployment = await readOrUndefined(() => api.deployments.read(ns, refs.supervisorDeployment!));
    // A host without DaemonSets has none; a host that is away is not read as "missing".
    const ds = deployment
      ? undefined
      : await readOrUndefined(() => api.daemonSets.read(ns, refs.supervisorDeployment!)).catch((err: unknown) => {
          if (isHostUnavailable(err)) throw err;
          return undefined;
        });
    if (deployment) Object.assign(out, { supervisorReady: deployment.status?.readyReplicas ?? 0, supervisorDesired: deployment.spec?.replicas ?? 1 });
    else if (ds) Object.assign(out, { supervisorReady: ds.status?.numberReady ?? 0, supervisorDesired: ds.status?.desiredNumberScheduled ?? 0 });
    else out.missing.push(`Deployment or DaemonSet ${refs.supervisorDeployment}`);
  }
  const ui = await read<V1Deployment>('Deployment', refs.uiDeployment, api.deployments);
  if (ui) Object.assign(out, { uiReady: ui.status?.readyReplicas ?? 0, uiDesired: ui.spec?.replicas ?? 1 });
  await read('Service', refs.nimbusService, api.services);
  await read('Service', refs.uiService, api.services);
  await read('ConfigMap', refs.configMap, api.configMaps);
  return out;
}

type NimbusObservation = { summary: ClusterSummary; error?: undefined; tls?: undefined } | { summary?: undefined; error: string; /** TLS could not be set up (NimbusError code TLS). */ tls: boolean };

async function observeNimbus(ctx: ControllerContext, cluster: KubeObject): Promise<NimbusObservation> {
  const pool = ctx.upstream(NIMBUS);
  if (!pool) return { error: 'the server has no Nimbus client', tls: false };
  try {
    return { summary: await pool.forCluster(nimbusAddressOf(cluster)).getClusterInfo() };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err), tls: isNimbusError(err, 'TLS') };
  }
}

async function reconcileCluster(ctx: ControllerContext, key: string, o: { pollMs: number; notReadyPollMs: number }): Promise<ReconcileResult | void> {
  const store = ctx.store(STORM_CLUSTERS);
  const cluster = ctx.informer(STORM_CLUSTERS).cache.get(key);
  if (!cluster) return;
  const host = ctx.host;
  if (isBeingDeleted(cluster)) {
    if (!hasFinalizer(cluster, STORM_CLUSTER_FINALIZER)) return;
    if (host) {
      let deleted: string[];
      try {
        deleted = await host.deleteManaged(cluster, managedTypes(host));
      } catch (err) {
        if (isHostUnavailable(err)) return hostUnavailable(ctx, cluster, err, 'deleting its host objects', o.notReadyPollMs);
        throw err;
      }
      if (deleted.length > 0) ctx.recorder.event(cluster, 'Normal', 'Deleted', `deleted ${deleted.join(', ')}`);
    }
    await removeFinalizer(store, cluster, STORM_CLUSTER_FINALIZER);
    return;
  }
  const spec = cluster.spec as unknown as StormClusterSpec;
  const createMode = spec.managementMode === 'create';
  // Pruning lists every managed type across namespaces: only when the spec changed, or after a
  // failed apply or a host outage (whose status already claimed the generation).
  const lastReason = findCondition(cluster.status?.conditions as Condition[] | undefined, 'Available')?.reason;
  const specChanged =
    (cluster.status as { observedGeneration?: number } | undefined)?.observedGeneration !== cluster.metadata.generation ||
    lastReason === 'HostError' ||
    lastReason === HOST_CLUSTER_UNAVAILABLE;

  let current = cluster;
  let workloads: Workloads = { missing: [] };
  if (host) {
    if (createMode) current = await addFinalizer(store, cluster, STORM_CLUSTER_FINALIZER);
    try {
      if (createMode) {
        workloads = await applyCreateMode(host, current, specChanged);
      } else {
        workloads = await observeReferenceMode(host, current);
        // Objects made while the cluster was in create mode.
        if (specChanged && hasFinalizer(current, STORM_CLUSTER_FINALIZER)) await host.deleteManaged(current, managedTypes(host));
      }
    } catch (err) {
      if (isHostUnavailable(err)) return hostUnavailable(ctx, current, err, `${createMode ? 'applying' : 'reading'} its host objects`, o.notReadyPollMs);
      const message = `${createMode ? 'applying' : 'reading'} the host objects failed: ${(err as Error).message ?? String(err)}`;
      await updateStatus(store, current, {
        mutate: (s) => Object.assign(s, { phase: 'Failed', lastUpdateTime: now(ctx) }),
        conditions: [{ type: 'Available', status: 'False', reason: 'HostError', message }],
      });
      throw err;
    }
  }

  const nimbus = await observeNimbus(ctx, current);
  const address = nimbusAddressOf(current);
  const wasAvailable = findCondition(current.status?.conditions as Condition[] | undefined, 'Available')?.status === 'True';
  const nimbusPodsReady = !host || (workloads.nimbusReady ?? 0) >= 1;

  let reason: string;
  let message: string;
  if (workloads.missing.length > 0) {
    reason = 'ResourcesNotFound';
    message = `referenced resources not found: ${workloads.missing.join(', ')}`;
  } else if (!nimbusPodsReady) {
    reason = 'Creating';
    message = `${workloads.nimbusReady ?? 0} of ${workloads.nimbusDesired ?? spec.nimbus.replicas} Nimbus replica(s) ready`;
  } else if (nimbus.error !== undefined && nimbus.tls) {
    reason = 'NimbusTLSError';
    message = `Nimbus at ${address.host}:${address.port} cannot be reached over TLS: ${nimbus.error}`;
  } else if (nimbus.error !== undefined) {
    reason = 'NimbusUnavailable';
    message = `Nimbus at ${address.host}:${address.port} cannot be reached: ${nimbus.error}`;
  } else {
    reason = 'Running';
    const leader = nimbus.summary.nimbuses.find((n) => n.isLeader);
    message = `Nimbus ${leader ? `leader ${leader.host} ` : ''}answers; ${nimbus.summary.supervisors.length} supervisor(s), ${nimbus.summary.topologies.length} topology(ies)`;
    if (!host) message += ' (no host cluster: workloads not observed)';
  }
  const available = reason === 'Running';
  // Running = Available; Creating while the Nimbus pods come up; Failed when they run but Nimbus
  // does not answer (a brief Failed is possible while Nimbus starts behind a ready pod).
  const phase = available ? 'Running' : reason === 'ResourcesNotFound' ? 'Pending' : reason === 'NimbusUnavailable' || reason === 'NimbusTLSError' ? 'Failed' : 'Creating';

  await updateStatus(store, current, {
    mutate: (s) => {
      const before = JSON.stringify({ ...s, lastUpdateTime: undefined, conditions: undefined });
      s.phase = phase;
      for (const field of ['nimbusReady', 'supervisorReady', 'uiReady'] as const) {
        if (workloads[field] === undefined) delete s[field];
        else s[field] = workloads[field];
      }
      s.endpoints = endpoints(current, address);
      setNimbusNumbers(s, nimbus.summary);
      if (JSON.stringify({ ...s, lastUpdateTime: undefined, conditions: undefined }) !== before || s.lastUpdateTime === undefined) s.lastUpdateTime = now(ctx);
    },
    conditions: [{ type: 'Available', status: available ? 'True' : 'False', reason, message }],
  });
  if (available && !wasAvailable) ctx.recorder.event(current, 'Normal', 'Available', message);
  if (!available && wasAvailable) ctx.recorder.event(current, 'Warning', reason, message);
  return { requeueAfter: available ? o.pollMs : o.notReadyPollMs };
}

/**
 * The host cluster is away: the workloads are not known, so Available is Unknown with the cause;
 * the phase and the workload numbers stay the last observed, and nothing on the host is created,
 * pruned or deleted (the finalizer stays). Nimbus does not live behind the host's API: it is
 * polled as usual and its numbers follow it (set when it answers, removed when it does not).
 * Polled again after `pollMs` rather than backed off. No Event: Events live on the host.
 */
async function hostUnavailable(ctx: ControllerContext, cluster: KubeObject, err: unknown, doing: string, pollMs: number): Promise<ReconcileResult> {
  const nimbus = await observeNimbus(ctx, cluster);
  return reportHostUnavailable(ctx, ctx.store(STORM_CLUSTERS), cluster, err, {
    doing,
    pollMs,
    condition: 'Available',
    mutate: (s) => {
      const before = JSON.stringify({ ...s, lastUpdateTime: undefined, conditions: undefined });
      setNimbusNumbers(s, nimbus.summary);
      if (JSON.stringify({ ...s, lastUpdateTime: undefined, conditions: undefined }) !== before || s.lastUpdateTime === undefined) s.lastUpdateTime = now(ctx);
    },
  });
}

/** The numbers that come from Nimbus: from its summary, or removed when it could not be asked. */
function setNimbusNumbers(s: Record<string, unknown>, summary: ClusterSummary | undefined): void {
  if (summary) {
    const { supervisors, topologies, nimbuses } = summary;
    const total = supervisors.reduce((n, sup) => n + sup.numWorkers, 0);
    const used = supervisors.reduce((n, sup) => n + sup.numUsedWorkers, 0);
    const leader = nimbuses.find((n) => n.isLeader);
    Object.assign(s, {
      totalSlots: total,
      usedSlots: used,
      freeSlots: Math.max(0, total - used),
      slotsInfo: `${used}/${total}`,
      topologyCount: topologies.length,
      nimbusNodes: nimbuses.map((n) => n.host),
    });
    if (leader) s.nimbusLeader = leader.host;
    else delete s.nimbusLeader;
  } else {
    for (const field of ['totalSlots', 'usedSlots', 'freeSlots', 'slotsInfo', 'topologyCount', 'nimbusNodes', 'nimbusLeader']) delete s[field];
  }
}

function now(ctx: ControllerContext): string {
  return `${new Date(ctx.clock.now()).toISOString().slice(0, 19)}Z`;
}
