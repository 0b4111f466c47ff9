// The host objects of a Performer: one Pod per revision (a hash of the Pod the spec asks for;
// blue-green keeps two while a new version comes up) and one ClusterIP Service whose selector
// names the serving revision. The Service `performer-<name>` gives the stable DNS name
// `performer-<name>.<namespace>.svc.cluster.local`.
//
// Scheduling and hardware: `scheduling` is copied to the Pod; GPUs are requested as
// `nvidia.com/gpu` (requests = limits = gpuCount; an extended resource) and `gpuType` becomes a
// node selector (`gpuTypeLabel`, never a resource name); `teeRequired` adds the node selector
// `hourglass.eigenlayer.io/tee=true` (and `…/tee-type` with teeType) and, unless
// `scheduling.runtimeClass` names one, the RuntimeClass `teeRuntimeClasses[teeType]`;
// `customLabels` are node selector terms too. Liveness and readiness are native gRPC probes
// (grpc.health.v1) on `config.grpcPort`.
import type { V1Container, V1EnvVar, V1Pod, V1ResourceRequirements, V1Service } from '@kubernetes/client-node';
import { NAME_PREFIX } from '../../registry/hourglass.eigenlayer.io/performer/strategy.js';
import type { PerformerSpec } from '../../registry/hourglass.eigenlayer.io/performer/types.js';
import type { KubeObject } from '../../registry/meta.js';
import { labelValue, managedByAnnotations, managedByLabels } from '../host-client.js';
import { digest } from './host-apply.js';

export const APP_LABEL = 'app';
export const APP_VALUE = 'hourglass-performer';
export const PERFORMER_LABEL = 'hourglass.eigenlayer.io/performer';
export const AVS_LABEL = 'hourglass.eigenlayer.io/avs';
export const REVISION_LABEL = 'hourglass.eigenlayer.io/revision';
export const VERSION_ANNOTATION = 'hourglass.eigenlayer.io/version';
export const TEE_LABEL = 'hourglass.eigenlayer.io/tee';
export const TEE_TYPE_LABEL = 'hourglass.eigenlayer.io/tee-type';
export const DEFAULT_GPU_TYPE_LABEL = 'hourglass.eigenlayer.io/gpu-type';
export const GPU_RESOURCE = 'nvidia.com/gpu';
export const CONTAINER_NAME = 'performer';
export const GRPC_PORT_NAME = 'grpc';
export const DEFAULT_GRPC_PORT = 9090;

/** Confidential-containers RuntimeClasses by TEE type (kata-qemu-* of the CoCo project; enclave-cc for SGX). */
export const DEFAULT_TEE_RUNTIME_CLASSES: Readonly<Record<string, string>> = {
  tdx: 'kata-qemu-tdx',
  snp: 'kata-qemu-snp',
  sev: 'kata-qemu-sev',
  sgx: 'enclave-cc',
};

export interface PerformerPodOptions {
  /** Node label whose value is `hardwareRequirements.gpuType` (default `hourglass.eigenlayer.io/gpu-type`; e.g. `nvidia.com/gpu.product`). */
  gpuTypeLabel?: string;
  /** RuntimeClass per TEE type when `scheduling.runtimeClass` is not given. */
  teeRuntimeClasses?: Readonly<Record<string, string>>;
}

export const serviceName = (performer: string) => `${NAME_PREFIX}${performer}`;
export const podName = (performer: string, revision: string) => `${NAME_PREFIX}${performer}-${revision}`;

export function grpcPort(spec: PerformerSpec): number {
  return spec.config?.grpcPort ?? DEFAULT_GRPC_PORT;
}

/** `<service>.<namespace>.svc.cluster.local:<port>`. */
export function serviceEndpoint(obj: KubeObject): string {
  return `${serviceName(obj.metadata.name!)}.${obj.metadata.namespace}.svc.cluster.local:${grpcPort(obj.spec as PerformerSpec)}`;
}

/** The labels every host object of the performer carries (selector labels plus managed-by). */
export function performerLabels(obj: KubeObject): Record<string, string> {
  const spec = obj.spec as PerformerSpec;
  return {
    [APP_LABEL]: APP_VALUE,
    [PERFORMER_LABEL]: labelValue(obj.metadata.name!),
    [AVS_LABEL]: labelValue(spec.avsAddress.toLowerCase()),
    ...managedByLabels(obj),
  };
}

function env(spec: PerformerSpec): V1EnvVar[] | undefined {
  const config = spec.config ?? {};
  const out: V1EnvVar[] = [];
  for (const [name, value] of Object.entries(config.environment ?? {})) out.push({ name, value });
  for (const e of config.environmentFrom ?? []) out.push({ name: e.name, valueFrom: e.valueFrom as V1EnvVar['valueFrom'] });
  for (const e of config.env ?? []) out.push(e as V1EnvVar);
  return out.length > 0 ? out : undefined;
}

function resources(spec: PerformerSpec): V1ResourceRequirements | undefined {
  const base = (spec.resources ?? {}) as V1ResourceRequirements;
  const gpus = spec.hardwareRequirements?.gpuCount ?? 0;
  if (gpus <= 0) return spec.resources ? structuredClone(base) : undefined;
  // An extended resource: limits are required and requests, when given, must equal them.
  return {
    ...structuredClone(base),
    requests: { ...(base.requests ?? {}), [GPU_RESOURCE]: String(gpus) },
    limits: { ...(base.limits ?? {}), [GPU_RESOURCE]: String(gpus) },
  };
}

function nodeSelector(spec: PerformerSpec, options: PerformerPodOptions): Record<string, string> | undefined {
  const hw = spec.hardwareRequirements;
  const out: Record<string, string> = { ...(spec.scheduling?.nodeSelector ?? {}), ...(hw?.customLabels ?? {}) };
  if (hw?.gpuType && (hw.gpuCount ?? 0) > 0) out[options.gpuTypeLabel ?? DEFAULT_GPU_TYPE_LABEL] = hw.gpuType;
  if (hw?.teeRequired) {
    out[TEE_LABEL] = 'true';
    if (hw.teeType) out[TEE_TYPE_LABEL] = hw.teeType;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function runtimeClass(spec: PerformerSpec, options: PerformerPodOptions): string | undefined {
  if (spec.scheduling?.runtimeClass) return spec.scheduling.runtimeClass;
  const hw = spec.hardwareRequirements;
  if (!hw?.teeRequired || !hw.teeType) return undefined;
  return (options.teeRuntimeClasses ?? DEFAULT_TEE_RUNTIME_CLASSES)[hw.teeType.toLowerCase()];
}

/** The Pod's spec for the performer's spec: what the revision hash covers. */
function podSpec(spec: PerformerSpec, options: PerformerPodOptions): V1Pod['spec'] {
  const port = grpcPort(spec);
  const container: V1Container = {
    name: CONTAINER_NAME,
    image: spec.image,
    imagePullPolicy: spec.imagePullPolicy ?? 'IfNotPresent',
    ...(spec.config?.command ? { command: [...spec.config.command] } : {}),
    ...(spec.config?.args ? { args: [...spec.config.args] } : {}),
    ports: [{ name: GRPC_PORT_NAME, containerPort: port, protocol: 'TCP' }],
    livenessProbe: { grpc: { port }, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
    readinessProbe: { grpc: { port }, initialDelaySeconds: 5, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 3 },
  };
  const e = env(spec);
  if (e) container.env = e;
  const r = resources(spec);
  if (r) container.resources = r;
  const out: NonNullable<V1Pod['spec']> = { containers: [container], restartPolicy: 'Always' };
  const selector = nodeSelector(spec, options);
  if (selector) out.nodeSelector = selector;
  if (spec.scheduling?.tolerations) out.tolerations = structuredClone(spec.scheduling.tolerations) as NonNullable<V1Pod['spec']>['tolerations'];
  if (spec.scheduling?.affinity) out.affinity = structuredClone(spec.scheduling.affinity) as NonNullable<V1Pod['spec']>['affinity'];
  const rc = runtimeClass(spec, options);
  if (rc) out.runtimeClassName = rc;
  if (spec.scheduling?.priorityClassName) out.priorityClassName = spec.scheduling.priorityClassName;
  if (spec.config?.serviceAccountName) out.serviceAccountName = spec.config.serviceAccountName;
  if (spec.imagePullSecrets) out.imagePullSecrets = spec.imagePullSecrets.map((s) => ({ name: s.name }));
  return out;
}

export interface DesiredPod {
  revision: string;
  pod: V1Pod;
}

/** The Pod the performer's spec asks for, named and labelled by its revision. */
export function performerPod(obj: KubeObject, options: PerformerPodOptions = {}): DesiredPod {
  const spec = obj.spec as PerformerSpec;
  const podSpecValue = podSpec(spec, options);
  const revision = digest({ spec: podSpecValue, version: spec.version ?? '' }, 10);
  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(obj.metadata.name!, revision),
      namespace: obj.metadata.namespace,
      labels: { ...performerLabels(obj), [REVISION_LABEL]: revision },
      annotations: { ...managedByAnnotations(obj), ...(spec.version !== undefined ? { [VERSION_ANNOTATION]: spec.version } : {}) },
    },
    spec: podSpecValue,
  };
  return { revision, pod };
}

/** The ClusterIP Service sending the gRPC port to the pod of `revision`. */
export function performerService(obj: KubeObject, revision: string): V1Service {
  const port = grpcPort(obj.spec as PerformerSpec);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: serviceName(obj.metadata.name!),
      namespace: obj.metadata.namespace,
      labels: performerLabels(obj),
      annotations: managedByAnnotations(obj),
    },
    spec: {
      type: 'ClusterIP',
      selector: {
        [APP_LABEL]: APP_VALUE,
        [PERFORMER_LABEL]: labelValue(obj.metadata.name!),
        [REVISION_LABEL]: revision,
      },
      ports: [{ name: GRPC_PORT_NAME, port, targetPort: port, protocol: 'TCP' }],
    },
  };
}

/** Where the controller checks one pod's health directly: `<podIP>:<grpcPort>` (undefined before it has an IP). */
export function podEndpoint(pod: V1Pod, port: number): string | undefined {
  const ip = pod.status?.podIP;
  if (!ip) return undefined;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}
