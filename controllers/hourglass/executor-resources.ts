// The host objects of an HourglassExecutor: the ConfigMap `<name>-config` with the executor's
// configuration (`executor.yaml`: aggregator, chains, performer mode, kubernetes defaults, log
// level) and the StatefulSet `<name>` of `spec.replicas` executors mounting it at /etc/hourglass.
//
// Operator keys never enter either object as values: each `operatorKeys` entry becomes an
// environment variable of the executor container taken from its Secret (`secretKeyRef`), and the
// ConfigMap only names that variable. The controller never reads the Secrets.
//
// The pod template carries `hourglass.eigenlayer.io/config-hash` (a digest of the ConfigMap's
// data), so a configuration change rolls the StatefulSet's pods.
import type { V1ConfigMap, V1EnvVar, V1ResourceRequirements, V1StatefulSet, V1Toleration } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { EXECUTOR_LABEL } from '../../registry/hourglass.eigenlayer.io/hourglassexecutor/strategy.js';
import type { HourglassExecutorSpec } from '../../registry/hourglass.eigenlayer.io/hourglassexecutor/types.js';
import type { KubeObject } from '../../registry/meta.js';
import { managedByAnnotations, managedByLabels } from '../host-client.js';
import { digest } from './host-apply.js';

export const EXECUTOR_APP_VALUE = 'hourglass-executor';
export const CONFIG_HASH_ANNOTATION = 'hourglass.eigenlayer.io/config-hash';
export const CONFIG_FILE = 'executor.yaml';
export const CONFIG_MOUNT_PATH = '/etc/hourglass';
export const EXECUTOR_CONTAINER = 'executor';
export const OPERATOR_KEY_ENV_PREFIX = 'HOURGLASS_OPERATOR_KEY_';

export const executorStatefulSetName = (executor: string) => executor;
export const executorConfigMapName = (executor: string) => `${executor}-config`;

export function executorSelector(obj: KubeObject): Record<string, string> {
  return { app: EXECUTOR_APP_VALUE, [EXECUTOR_LABEL]: obj.metadata.name! };
}

/** Operator key name → environment variable (`bls` → HOURGLASS_OPERATOR_KEY_BLS), unique per executor. */
export function operatorKeyEnvNames(spec: HourglassExecutorSpec): Map<string, string> {
  const out = new Map<string, string>();
  const taken = new Set<string>();
  for (const key of Object.keys(spec.config.operatorKeys).sort()) {
    const base = `${OPERATOR_KEY_ENV_PREFIX}${key.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
    let name = base;
    for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    out.set(key, name);
  }
  return out;
}

/** The executor's configuration file: the spec's config with operator keys as environment variable names. */
export function executorConfigFile(obj: KubeObject): string {
  const spec = obj.spec as HourglassExecutorSpec;
  const config = spec.config;
  const envNames = operatorKeyEnvNames(spec);
  const file: Record<string, unknown> = {
    aggregatorEndpoint: config.aggregatorEndpoint,
    chains: config.chains.map((c) => ({ name: c.name, rpc: c.rpc, chainId: c.chainId, taskMailboxAddress: c.taskMailboxAddress })),
    performerMode: config.performerMode ?? 'kubernetes',
    logLevel: config.logLevel ?? 'info',
    operatorKeys: Object.fromEntries([...envNames].map(([key, env]) => [key, { fromEnv: env }])),
  };
  if ((config.performerMode ?? 'kubernetes') === 'kubernetes') {
    file.kubernetes = {
      namespace: config.kubernetes?.namespace || obj.metadata.namespace,
      ...(config.kubernetes?.defaultScheduling ? { defaultScheduling: config.kubernetes.defaultScheduling } : {}),
    };
  }
  const header = `# Generated from HourglassExecutor ${obj.metadata.namespace}/${obj.metadata.name}; edit that object, not this file.\n# Operator keys are not here: each is read from the environment variable named by fromEnv.\n`;
  return header + stringify(file);
}

export function executorConfigMap(obj: KubeObject): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: executorConfigMapName(obj.metadata.name!),
      namespace: obj.metadata.namespace,
      labels: { ...executorSelector(obj), ...managedByLabels(obj) },
      annotations: managedByAnnotations(obj),
    },
    data: { [CONFIG_FILE]: executorConfigFile(obj) },
  };
}

/** Digest of the ConfigMap's data: the pod template's config-hash annotation. */
export function configHash(configMap: V1ConfigMap): string {
  return digest(configMap.data ?? {});
}

export function executorStatefulSet(obj: KubeObject, configMap: V1ConfigMap): V1StatefulSet {
  const spec = obj.spec as HourglassExecutorSpec;
  const selector = executorSelector(obj);
  const env: V1EnvVar[] = [...operatorKeyEnvNames(spec)].map(([key, name]) => {
    const ref = spec.config.operatorKeys[key].secretKeyRef;
    return { name, valueFrom: { secretKeyRef: { name: ref.name, key: ref.key, ...(ref.optional !== undefined ? { optional: ref.optional } : {}) } } };
  });
  const podSpec: NonNullable<V1StatefulSet['spec']>['template']['spec'] = {
    containers: [
      {
        name: EXECUTOR_CONTAINER,
        image: spec.image,
        ...(env.length > 0 ? { env } : {}),
        volumeMounts: [{ name: 'config', mountPath: CONFIG_MOUNT_PATH, readOnly: true }],
        ...(spec.resources ? { resources: structuredClone(spec.resources) as V1ResourceRequirements } : {}),
      },
    ],
    volumes: [{ name: 'config', configMap: { name: configMap.metadata!.name! } }],
  };
  if (spec.nodeSelector) podSpec.nodeSelector = { ...spec.nodeSelector };
  if (spec.tolerations) podSpec.tolerations = structuredClone(spec.tolerations) as V1Toleration[];
  if (spec.imagePullSecrets) podSpec.imagePullSecrets = spec.imagePullSecrets.map((s) => ({ name: s.name }));
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: {
      name: executorStatefulSetName(obj.metadata.name!),
      namespace: obj.metadata.namespace,
      labels: { ...selector, ...managedByLabels(obj) },
      annotations: managedByAnnotations(obj),
    },
    spec: {
      replicas: spec.replicas ?? 1,
      serviceName: executorStatefulSetName(obj.metadata.name!),
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: { ...selector }, annotations: { [CONFIG_HASH_ANNOTATION]: configHash(configMap) } },
        spec: podSpec,
      },
    },
  };
}
