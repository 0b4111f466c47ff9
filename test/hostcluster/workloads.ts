// What the simulated kubelet (and the controllers it stands in for) writes into status, as pure
// functions of the object and the kubelet's settings. Each keeps timestamps and allocations the
// current status already has, so computing it again for an unchanged object changes nothing.
import { createHash } from 'node:crypto';
import { fieldAt } from '../../registry/kind.js';
import type { KubeObject } from '../../registry/meta.js';
import { quantityValue } from '../../registry/validation.js';

type Status = Record<string, any>;
type Condition = { type: string; status: string; reason?: string; message?: string; [k: string]: unknown };

/** `2026-01-02T03:04:05Z`, as metav1.Time is written. */
export function timestamp(now: Date): string {
  return `${now.toISOString().slice(0, 19)}Z`;
}

function statusOf(obj: KubeObject): Status {
  return (obj.status ?? {}) as Status;
}

function conditionsOf(status: Status): Condition[] {
  return Array.isArray(status.conditions) ? (status.conditions as Condition[]) : [];
}

/**
 * A condition as it should be: the old one's transition time kept when its status did not change
 * (`lastTransitionTime` moves only on a transition, as every Kubernetes controller does).
 */
function condition(old: Condition[], wanted: Condition, now: Date, timeFields: string[] = ['lastTransitionTime']): Condition {
  const previous = old.find((c) => c.type === wanted.type);
  const out: Condition = { ...wanted };
  for (const field of timeFields) {
    out[field] = previous && previous.status === wanted.status && previous[field] !== undefined ? previous[field] : timestamp(now);
  }
  return out;
}

/** A non-zero count, or undefined: Kubernetes omits zero replica counts (`omitempty`). */
function count(n: number): number | undefined {
  return n > 0 ? n : undefined;
}

function withoutUndefined(status: Status): Status {
  return Object.fromEntries(Object.entries(status).filter(([, v]) => v !== undefined));
}

// ---- pods -------------------------------------------------------------------------------------

export interface PodPlacement {
  nodeName: string;
  hostIP: string;
  /** The IP to give the pod if it has none yet. */
  nextPodIP: () => string;
}

function containersOf(pod: KubeObject, path: string): Array<Record<string, any>> {
  const v = fieldAt(pod, path);
  return Array.isArray(v) ? (v as Array<Record<string, any>>) : [];
}

/** BestEffort, Burstable or Guaranteed, from the containers' requests and limits (cpu and memory). */
export function qosClass(pod: KubeObject): string {
  const containers = containersOf(pod, 'spec.containers');
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const requests = (c.resources?.requests ?? {}) as Record<string, unknown>;
    const limits = (c.resources?.limits ?? {}) as Record<string, unknown>;
    for (const r of ['cpu', 'memory']) {
      if (requests[r] !== undefined || limits[r] !== undefined) any = true;
      const limit = limits[r];
      const request = requests[r] ?? limit;
      if (limit === undefined || quantityValue(limit) !== quantityValue(request)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** A pod the scheduler cannot place: Pending with `PodScheduled=False`, reason Unschedulable. */
export function unschedulablePodStatus(pod: KubeObject, nodeCount: number, now: Date): Status {
  const old = statusOf(pod);
  const nodes = Math.max(nodeCount, 1);
  return {
    phase: 'Pending',
    conditions: [
      condition(
        conditionsOf(old),
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message: `0/${nodes} nodes are available: ${nodes} Insufficient cpu. preemption: 0/${nodes} nodes are available: ${nodes} No preemption victims found for incoming pod.`,
          lastProbeTime: null,
        },
        now,
      ),
    ],
    qosClass: qosClass(pod),
  };
}

/** A pod running on its node with every container started and ready. */
export function runningPodStatus(pod: KubeObject, placement: PodPlacement, now: Date): Status {
  const old = statusOf(pod);
  const conditions = conditionsOf(old);
  const startTime = (old.startTime as string | undefined) ?? timestamp(now);
  const podIP = (old.podIP as string | undefined) ?? placement.nextPodIP();
  const wanted = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];
  const oldStatuses = Array.isArray(old.containerStatuses) ? (old.containerStatuses as Array<Record<string, any>>) : [];
  const containerStatus = (c: Record<string, any>) => {
    const previous = oldStatuses.find((s) => s.name === c.name);
    const startedAt = (previous?.state?.running?.startedAt as string | undefined) ?? startTime;
    const id = createHash('sha256').update(`${pod.metadata.uid}/${String(c.name)}`).digest('hex');
    return {
      name: c.name,
      image: c.image,
      imageID: `${String(c.image)}@sha256:${createHash('sha256').update(String(c.image)).digest('hex')}`,
      containerID: `containerd://${id}`,
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt } },
    };
  };
  const initStatuses = containersOf(pod, 'spec.initContainers').map((c) => ({
    name: c.name,
    image: c.image,
    imageID: '',
    ready: true,
    restartCount: 0,
    state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: startTime, finishedAt: startTime } },
  }));
  return withoutUndefined({
    phase: 'Running',
    conditions: wanted.map((type) => condition(conditions, { type, status: 'True', lastProbeTime: null }, now)),
    hostIP: placement.hostIP,
    hostIPs: [{ ip: placement.hostIP }],
    podIP,
    podIPs: [{ ip: podIP }],
    startTime,
    initContainerStatuses: initStatuses.length > 0 ? initStatuses : undefined,
    containerStatuses: containersOf(pod, 'spec.containers').map(containerStatus),
    qosClass: qosClass(pod),
  });
}

// ---- deployments and statefulsets -------------------------------------------------------------

function desiredReplicas(obj: KubeObject): number {
  const r = fieldAt(obj, 'spec.replicas');
  return typeof r === 'number' ? r : 1;
}

/** `<name>-<10 hex>`: the revision of a pod template, as the controllers name ReplicaSets and revisions. */
export function templateRevision(obj: KubeObject): string {
  const hash = createHash('sha256').update(JSON.stringify(fieldAt(obj, 'spec.template') ?? {})).digest('hex').slice(0, 10);
  return `${obj.metadata.name}-${hash}`;
}

/** A Deployment fully rolled out with `ready` of its replicas ready (all of them unless overridden). */
export function deploymentStatus(obj: KubeObject, readyOverride: number | undefined, now: Date): Status {
  const old = conditionsOf(statusOf(obj));
  const replicas = desiredReplicas(obj);
  const ready = Math.min(readyOverride ?? replicas, replicas);
  const available = ready >= replicas;
  const times = ['lastUpdateTime', 'lastTransitionTime'];
  return withoutUndefined({
    observedGeneration: obj.metadata.generation,
    replicas: count(replicas),
    updatedReplicas: count(replicas),
    readyReplicas: count(ready),
    availableReplicas: count(ready),
    unavailableReplicas: count(replicas - ready),
    conditions: [
      condition(
        old,
        {
          type: 'Available',
          status: available ? 'True' : 'False',
          reason: available ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
          message: available ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.',
        },
        now,
        times,
      ),
      condition(
        old,
        {
          type: 'Progressing',
          status: 'True',
          reason: available ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated',
          message: available
            ? `ReplicaSet "${templateRevision(obj)}" has successfully progressed.`
            : `ReplicaSet "${templateRevision(obj)}" is progressing.`,
        },
        now,
        times,
      ),
    ],
  });
}

/** A StatefulSet fully rolled out to its current template, `ready` of its replicas ready. */
export function statefulSetStatus(obj: KubeObject, readyOverride: number | undefined): Status {
  const replicas = desiredReplicas(obj);
  const ready = Math.min(readyOverride ?? replicas, replicas);
  const revision = templateRevision(obj);
  return withoutUndefined({
    observedGeneration: obj.metadata.generation,
    replicas,
    readyReplicas: count(ready),
    currentReplicas: count(replicas),
    updatedReplicas: count(replicas),
    availableReplicas: ready,
    currentRevision: revision,
    updateRevision: revision,
    collisionCount: 0,
  });
}

/** The nodes a DaemonSet runs on: schedulable ones whose labels match its pods' `nodeSelector`. */
export function daemonSetNodes(obj: KubeObject, nodes: KubeObject[]): string[] {
  const selector = (fieldAt(obj, 'spec.template.spec.nodeSelector') ?? {}) as Record<string, string>;
  return nodes
    .filter((node) => nodeSchedulable(node) && Object.entries(selector).every(([k, v]) => node.metadata.labels?.[k] === v))
    .map((node) => node.metadata.name!)
    .sort();
}

/**
 * A DaemonSet rolled out to its current template on every eligible node (`daemonSetNodes`), with
 * `ready` of those pods ready (all unless overridden). The four scheduling counts are always
 * written, as kube's DaemonSetStatus has no omitempty on them; the others are omitted when zero.
 */
export function daemonSetStatus(obj: KubeObject, nodes: KubeObject[], readyOverride: number | undefined): Status {
  const desired = daemonSetNodes(obj, nodes).length;
  const ready = Math.min(readyOverride ?? desired, desired);
  return withoutUndefined({
    observedGeneration: obj.metadata.generation,
    currentNumberScheduled: desired,
    desiredNumberScheduled: desired,
    numberMisscheduled: 0,
    numberReady: ready,
    updatedNumberScheduled: count(desired),
    numberAvailable: count(ready),
    numberUnavailable: count(desired - ready),
  });
}

// ---- jobs -------------------------------------------------------------------------------------

export type JobOutcome = 'Complete' | 'Failed';

function isFinished(status: Status): boolean {
  return conditionsOf(status).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

/** A Job running until it has an outcome, then finished for good (a finished Job never restarts). */
export function jobStatus(obj: KubeObject, outcome: JobOutcome | undefined, now: Date): Status {
  const old = statusOf(obj);
  if (isFinished(old)) return old;
  const startTime = (old.startTime as string | undefined) ?? timestamp(now);
  const parallelism = Number(fieldAt(obj, 'spec.parallelism') ?? 1);
  const completions = Number(fieldAt(obj, 'spec.completions') ?? 1);
  const backoffLimit = Number(fieldAt(obj, 'spec.backoffLimit') ?? 6);
  const times = ['lastProbeTime', 'lastTransitionTime'];
  if (outcome === undefined) {
    return withoutUndefined({ startTime, active: count(Math.min(parallelism, completions)), ready: 0, terminating: 0, uncountedTerminatedPods: {} });
  }
  if (outcome === 'Complete') {
    const message = 'Reached expected number of succeeded pods';
    return {
      conditions: [
        condition([], { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message }, now, times),
        condition([], { type: 'Complete', status: 'True', reason: 'CompletionsReached', message }, now, times),
      ],
      startTime,
      completionTime: timestamp(now),
      succeeded: completions,
      ready: 0,
      terminating: 0,
      uncountedTerminatedPods: {},
    };
  }
  const message = 'Job has reached the specified backoff limit';
  return {
    conditions: [
      condition([], { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message }, now, times),
      condition([], { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message }, now, times),
    ],
    startTime,
    failed: backoffLimit + 1,
    ready: 0,
    terminating: 0,
    uncountedTerminatedPods: {},
  };
}

// ---- persistent volume claims -----------------------------------------------------------------

export type ResizeMode = 'immediate' | 'never';

/**
 * A claim bound at its requested size. A larger request is a resize: with `immediate` the
 * capacity follows at once; with `never` the resize stays in progress (`allocatedResources` at the
 * request, condition `Resizing`) and the capacity keeps its old value.
 */
export function pvcStatus(obj: KubeObject, mode: ResizeMode, now: Date): Status {
  const old = statusOf(obj);
  const requested = fieldAt(obj, 'spec.resources.requests.storage') as string | number | undefined;
  const accessModes = (fieldAt(obj, 'spec.accessModes') as string[] | undefined) ?? ['ReadWriteOnce'];
  const capacity = (old.capacity?.storage as string | number | undefined) ?? requested;
  const growing = quantityValue(requested) !== undefined && quantityValue(capacity) !== undefined && quantityValue(requested)! > quantityValue(capacity)!;
  if (!growing || mode === 'immediate') {
    const size = growing ? requested : capacity;
    return withoutUndefined({
      phase: 'Bound',
      accessModes,
      capacity: size === undefined ? undefined : { storage: size },
      allocatedResources: old.allocatedResources ? { storage: size } : undefined,
    });
  }
  return {
    phase: 'Bound',
    accessModes,
    capacity: { storage: capacity },
    allocatedResources: { storage: requested },
    conditions: [condition(conditionsOf(old), { type: 'Resizing', status: 'True', lastProbeTime: null }, now)],
  };
}

// ---- nodes and namespaces ---------------------------------------------------------------------

/** A Ready node with an InternalIP, as a kubelet reports it when it registers. */
export function nodeStatus(obj: KubeObject, internalIP: string, now: Date): Status {
  const capacity = { cpu: '4', memory: '16Gi', pods: '110', 'ephemeral-storage': '100Gi' };
  return {
    capacity,
    allocatable: capacity,
    conditions: [
      condition([], { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }, now, [
        'lastHeartbeatTime',
        'lastTransitionTime',
      ]),
    ],
    addresses: [
      { type: 'InternalIP', address: internalIP },
      { type: 'Hostname', address: obj.metadata.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      kubeletVersion: 'v1.32.0',
      kubeProxyVersion: 'v1.32.0',
      containerRuntimeVersion: 'containerd://1.7.0',
      operatingSystem: 'linux',
      architecture: 'amd64',
      osImage: 'stand-in host cluster',
      kernelVersion: '6.0.0',
      machineID: '',
      systemUUID: '',
      bootID: '',
    },
  };
}

/** The InternalIP a node reports, if any. */
export function nodeInternalIP(node: KubeObject): string | undefined {
  const addresses = fieldAt(node, 'status.addresses');
  if (!Array.isArray(addresses)) return undefined;
  return (addresses as Array<{ type?: string; address?: string }>).find((a) => a.type === 'InternalIP')?.address;
}

/** Whether a node takes new pods: Ready (or never reported) and not cordoned. */
export function nodeSchedulable(node: KubeObject): boolean {
  if (fieldAt(node, 'spec.unschedulable') === true) return false;
  const ready = conditionsOf(statusOf(node)).find((c) => c.type === 'Ready');
  return !ready || ready.status === 'True';
}

// ---- horizontal pod autoscalers ---------------------------------------------------------------

export interface AutoscalingDecision {
  /** The replicas the target should have; undefined when it cannot be scaled. */
  desiredReplicas?: number;
  status: Status;
}

/**
 * The HPA controller's decision for a target at `currentReplicas` (undefined: the target does not
 * exist). Min and max are enforced first, as the controller does; beyond that the cluster has no
 * metrics API, so the replicas stay put (ScalingActive=False, FailedGetResourceMetric) unless a
 * test supplied a `recommendation`.
 */
export function autoscalerDecision(hpa: KubeObject, currentReplicas: number | undefined, recommendation: number | undefined, now: Date): AutoscalingDecision {
  const old = statusOf(hpa);
  const oldConditions = conditionsOf(old);
  const min = Number(fieldAt(hpa, 'spec.minReplicas') ?? 1);
  const max = Number(fieldAt(hpa, 'spec.maxReplicas') ?? min);
  const target = fieldAt(hpa, 'spec.scaleTargetRef') as { kind?: string; name?: string } | undefined;
  const cond = (type: string, status: string, reason: string, message: string) => condition(oldConditions, { type, status, reason, message }, now);
  if (currentReplicas === undefined) {
    return {
      status: withoutUndefined({
        observedGeneration: hpa.metadata.generation,
        currentReplicas: 0,
        desiredReplicas: 0,
        lastScaleTime: old.lastScaleTime,
        conditions: [cond('AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${String(target?.kind).toLowerCase()}s "${target?.name}" not found`)],
      }),
    };
  }
  // What the controller would like before min and max: the test's recommendation, else no change.
  const wanted = recommendation ?? currentReplicas;
  let active = recommendation !== undefined
    ? cond('ScalingActive', 'True', 'ValidMetricFound', "the HPA was able to successfully calculate a replica count from the test's recommendation")
    : cond('ScalingActive', 'False', 'FailedGetResourceMetric', 'the HPA was unable to compute the replica count: no metrics returned from resource metrics API');
  let desired = Math.min(Math.max(wanted, min), max);
  let limited = cond('ScalingLimited', 'False', 'DesiredWithinRange', 'the desired count is within the acceptable range');
  if (wanted > max) limited = cond('ScalingLimited', 'True', 'TooManyReplicas', 'the desired replica count is more than the maximum replica count');
  else if (wanted < min) limited = cond('ScalingLimited', 'True', 'TooFewReplicas', 'the desired replica count is less than the minimum replica count');
  if (currentReplicas === 0) {
    // A target scaled to zero switches autoscaling off.
    desired = 0;
    active = cond('ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
  }
  const rescale = desired !== currentReplicas;
  return {
    desiredReplicas: rescale ? desired : undefined,
    status: withoutUndefined({
      observedGeneration: hpa.metadata.generation,
      currentReplicas,
      desiredReplicas: desired,
      lastScaleTime: rescale ? timestamp(now) : old.lastScaleTime,
      currentMetrics: old.currentMetrics,
      conditions: [
        cond('AbleToScale', 'True', rescale ? 'SucceededRescale' : 'ReadyForNewScale', rescale ? `the HPA controller was able to update the target scale to ${desired}` : 'recommended size matches current size'),
        active,
        limited,
      ],
    }),
  };
}
