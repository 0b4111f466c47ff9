// The host objects of a StormWorkerPool, built from the pool (and its topology and cluster) as plain
// data: the worker Deployment (Storm supervisors dedicated to the pool, one slot per port), the
// headless Service that names the workers, and the autoscaling/v2 HorizontalPodAutoscaler when
// `spec.autoscaling.enabled`. Pure functions; `workerpool.ts` applies them.
import { createHash } from 'node:crypto';
import type { V1Deployment, V1Service, V2HorizontalPodAutoscaler, V2MetricSpec, V2MetricTarget } from '@kubernetes/client-node';
import type { KubeObject } from '../../registry/meta.js';
import type { AutoscalingSpec } from '../../registry/storm.apache.org/common.js';
import { POOL_LABEL } from '../../registry/storm.apache.org/stormworkerpool/strategy.js';
import type { StormWorkerPoolSpec } from '../../registry/storm.apache.org/stormworkerpool/types.js';
import { nimbusAddressOf } from '../../registry/storm.apache.org/upstreams.js';
import { managedByAnnotations, managedByLabels } from '../host-client.js';

export const TOPOLOGY_LABEL = 'storm.apache.org/topology';
/** Digest of the pod template inputs; a change rolls the workers. */
export const CONFIG_HASH_ANNOTATION = 'storm.apache.org/config-hash';
export const WORKER_CONTAINER = 'worker';

export const workerDeploymentName = (pool: string) => `${pool}-workers`;
export const workerServiceName = (pool: string) => `${pool}-workers`;
export const workerHpaName = (pool: string) => `${pool}-hpa`;

interface ImageView {
  registry?: string;
  repository?: string;
  tag?: string;
  pullPolicy?: string;
  pullSecrets?: string[];
}

/** `<registry>/<repository>:<tag>` (docker.io/apache/storm:2.6.0 by default). */
export function imageRef(image: ImageView | undefined): string {
  return `${image?.registry ?? 'docker.io'}/${image?.repository ?? 'apache/storm'}:${image?.tag ?? '2.6.0'}`;
}

/** The ports a pool's workers listen on: start, start+1, …, start+count-1 (supervisor.slots.ports). */
export function slotPorts(spec: Pick<StormWorkerPoolSpec, 'ports'>): number[] {
  const start = spec.ports?.start ?? 6700;
  const count = spec.ports?.count ?? 4;
  return Array.from({ length: count }, (_, i) => start + i);
}

/** A Storm `-c key=value` list value: `["a","b"]`. */
export function stormList(values: Array<string | number>): string {
  return `[${values.map((v) => (typeof v === 'number' ? String(v) : JSON.stringify(v))).join(',')}]`;
}

/** The selector labels of the pool's pods (the scale subresource selects by POOL_LABEL). */
export function poolSelector(pool: KubeObject): Record<string, string> {
  return { [POOL_LABEL]: pool.metadata.name! };
}

function poolLabels(pool: KubeObject, topology: string): Record<string, string> {
  return {
    ...managedByLabels(pool),
    'app.kubernetes.io/name': 'storm',
    'app.kubernetes.io/component': 'worker',
    [POOL_LABEL]: pool.metadata.name!,
    [TOPOLOGY_LABEL]: topology,
  };
}

/**
 * The supervisor command of a worker pod: the slots of the pool's ports, the cluster's ZooKeeper
 * and Nimbus, the pool's workerConfig and JVM options (`worker.childopts`).
 */
export function workerCommand(spec: StormWorkerPoolSpec, cluster: KubeObject): string[] {
  const clusterSpec = (cluster.spec ?? {}) as { zookeeper?: { servers?: string[]; root?: string } };
  const config: Array<[string, string]> = [
    ['supervisor.slots.ports', stormList(slotPorts(spec))],
    ['nimbus.seeds', stormList([nimbusAddressOf(cluster).host])],
  ];
  if (clusterSpec.zookeeper?.servers?.length) config.push(['storm.zookeeper.servers', stormList(clusterSpec.zookeeper.servers)]);
  if (clusterSpec.zookeeper?.root) config.push(['storm.zookeeper.root', JSON.stringify(clusterSpec.zookeeper.root)]);
  if (spec.jvmOpts?.length) config.push(['worker.childopts', JSON.stringify(spec.jvmOpts.join(' '))]);
  for (const [k, v] of Object.entries(spec.workerConfig ?? {}).sort(([a], [b]) => a.localeCompare(b))) config.push([k, v]);
  return ['storm', 'supervisor', ...config.flatMap(([k, v]) => ['-c', `${k}=${v}`])];
}

/**
 * The worker Deployment. `currentReplicas` is the live Deployment's count: while an HPA owns the
 * replica count the controller keeps it instead of writing `spec.replicas` back.
 */
export function workerDeployment(pool: KubeObject, topology: string, cluster: KubeObject, currentReplicas?: number): V1Deployment {
  const spec = pool.spec as StormWorkerPoolSpec;
  const name = pool.metadata.name!;
  const image: ImageView | undefined = spec.image ?? ((cluster.spec as { image?: ImageView } | undefined)?.image as ImageView | undefined);
  const template = spec.template ?? {};
  const overrides = new Map((template.spec?.containers ?? []).map((c) => [c.name, c]));
  const worker = overrides.get(WORKER_CONTAINER);
  const ports = slotPorts(spec);
  const container = {
    name: WORKER_CONTAINER,
    image: imageRef(image),
    ...(image?.pullPolicy ? { imagePullPolicy: image.pullPolicy } : {}),
    command: workerCommand(spec, cluster),
    ports: ports.map((port, i) => ({ name: `slot-${i}`, containerPort: port, protocol: 'TCP' })),
    env: [
      { name: 'STORM_WORKER_POOL', value: name },
      { name: 'STORM_TOPOLOGY', value: topology },
      ...((worker?.env ?? []) as object[]),
    ],
    ...(worker?.resources ? { resources: worker.resources } : {}),
    ...(worker?.volumeMounts ? { volumeMounts: worker.volumeMounts } : {}),
  };
  const podSpec: Record<string, unknown> = { containers: [container] };
  const t = template.spec ?? {};
  for (const key of ['volumes', 'affinity', 'tolerations', 'nodeSelector', 'priorityClassName', 'serviceAccountName', 'securityContext', 'hostNetwork', 'hostPID', 'hostIPC', 'dnsPolicy', 'dnsConfig', 'terminationGracePeriodSeconds'] as const) {
    if (t[key] !== undefined) podSpec[key] = t[key];
  }
  if (image?.pullSecrets?.length) podSpec.imagePullSecrets = image.pullSecrets.map((n) => ({ name: n }));

  const labels = poolLabels(pool, topology);
  const podLabels = { ...(template.metadata?.labels ?? {}), ...labels };
  const hash = createHash('sha256').update(JSON.stringify({ podSpec, podLabels, annotations: template.metadata?.annotations ?? {} })).digest('hex').slice(0, 16);
  const autoscaled = spec.autoscaling?.enabled === true;
  const replicas = autoscaled
    ? Math.min(Math.max(currentReplicas ?? spec.replicas ?? 1, spec.autoscaling!.minReplicas ?? 1), spec.autoscaling!.maxReplicas ?? 10)
    : (spec.replicas ?? 1);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: workerDeploymentName(name), namespace: pool.metadata.namespace, labels, annotations: managedByAnnotations(pool) },
    spec: {
      replicas,
      selector: { matchLabels: poolSelector(pool) },
      template: {
        metadata: { labels: podLabels, annotations: { ...(template.metadata?.annotations ?? {}), [CONFIG_HASH_ANNOTATION]: hash } },
        spec: podSpec as never,
      },
    },
  };
}

/** The headless Service naming the pool's workers (one port per slot). */
export function workerService(pool: KubeObject, topology: string): V1Service {
  const spec = pool.spec as StormWorkerPoolSpec;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: workerServiceName(pool.metadata.name!), namespace: pool.metadata.namespace, labels: poolLabels(pool, topology), annotations: managedByAnnotations(pool) },
    spec: {
      clusterIP: 'None',
      selector: poolSelector(pool),
      ports: slotPorts(spec).map((port, i) => ({ name: `slot-${i}`, port, targetPort: port as never, protocol: 'TCP' })),
    },
  };
}

/** Names the deprecated `metrics[].type` values scale on, as pod metrics. */
const LEGACY_POD_METRICS: Record<string, string> = {
  'pending-tuples': 'storm_topology_pending_tuples',
  capacity: 'storm_topology_capacity',
  latency: 'storm_topology_complete_latency_ms',
};

function target(t: { averageUtilization?: number; averageValue?: string | number; value?: string | number }): V2MetricTarget {
  if (t.averageUtilization !== undefined) return { type: 'Utilization', averageUtilization: t.averageUtilization };
  if (t.averageValue !== undefined) return { type: 'AverageValue', averageValue: t.averageValue as never };
  return { type: 'Value', value: t.value as never };
}

/** autoscaling/v2 metrics: CPU, memory, custom metrics (pods/resource/external), deprecated metrics. */
export function hpaMetrics(a: AutoscalingSpec): V2MetricSpec[] {
  const out: V2MetricSpec[] = [];
  if (a.targetCPUUtilizationPercentage !== undefined) {
    out.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: a.targetCPUUtilizationPercentage } } });
  }
  if (a.targetMemoryUtilizationPercentage !== undefined) {
    out.push({ type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: a.targetMemoryUtilizationPercentage } } });
  }
  for (const m of a.customMetrics ?? []) {
    const t = target({ averageValue: m.targetAverageValue, value: m.targetValue });
    if (m.type === 'resource') out.push({ type: 'Resource', resource: { name: m.name, target: t } });
    else if (m.type === 'external') out.push({ type: 'External', external: { metric: { name: m.name }, target: t } });
    else out.push({ type: 'Pods', pods: { metric: { name: m.name }, target: t.type === 'Value' ? { type: 'AverageValue', averageValue: t.value } : t } });
  }
  for (const m of a.metrics ?? []) {
    if (m.type === 'cpu' || m.type === 'memory') {
      out.push({ type: 'Resource', resource: { name: m.type, target: target(m.target) } });
    } else {
      const t = target(m.target);
      out.push({ type: 'Pods', pods: { metric: { name: LEGACY_POD_METRICS[m.type] }, target: t.type === 'Value' ? { type: 'AverageValue', averageValue: t.value } : t } });
    }
  }
  return out;
}

export function workerHpa(pool: KubeObject, topology: string): V2HorizontalPodAutoscaler {
  const a = (pool.spec as StormWorkerPoolSpec).autoscaling!;
  const spec: V2HorizontalPodAutoscaler['spec'] = {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: workerDeploymentName(pool.metadata.name!) },
    minReplicas: a.minReplicas ?? 1,
    maxReplicas: a.maxReplicas ?? 10,
    metrics: hpaMetrics(a),
  };
  if (a.behavior) spec.behavior = structuredClone(a.behavior) as never;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: workerHpaName(pool.metadata.name!), namespace: pool.metadata.namespace, labels: poolLabels(pool, topology), annotations: managedByAnnotations(pool) },
    spec,
  };
}
