// The host cluster, seen from our controllers: a @kubernetes/client-node KubeConfig from
// `--kubeconfig` or the in-cluster service account, and typed API clients.
//
// Our objects live in another API server, so host objects cannot carry ownerReferences to them
// (the host's garbage collector would not find the owner and would delete the dependents). Instead
// every host object a controller manages carries labels naming its owner (`managedByLabels`), and
// is found, and garbage-collected, by label selector (`deleteManaged`, `sweepOrphans`).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AppsV1Api, CoordinationV1Api, CoreV1Api, KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { KubeObject } from '../registry/meta.js';
import { httpCode } from './http-errors.js';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'operators-apiserver';
export const OWNER_GROUP_LABEL = 'operators-apiserver.io/owner-group';
export const OWNER_KIND_LABEL = 'operators-apiserver.io/owner-kind';
export const OWNER_NAMESPACE_LABEL = 'operators-apiserver.io/owner-namespace';
export const OWNER_NAME_LABEL = 'operators-apiserver.io/owner-name';
/** The owner's full name, for names too long for a label value (the label then holds a digest). */
export const OWNER_NAME_ANNOTATION = 'operators-apiserver.io/owner-name';

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** `value` when it is a valid label value; otherwise a 63-character prefix-plus-digest form. */
export function labelValue(value: string): string {
  if (value.length <= 63 && LABEL_VALUE.test(value)) return value;
  const digest = createHash('sha256').update(value).digest('hex').slice(0, 10);
  const prefix = value.slice(0, 52).replace(/[^-A-Za-z0-9_.]/g, '-').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return prefix ? `${prefix}-${digest}` : digest;
}

/** What identifies the owner of a host object: our object's group, kind, namespace and name. */
export interface OwnerRef {
  group: string;
  kind: string;
  namespace?: string;
  name: string;
}

export function ownerOf(obj: KubeObject): OwnerRef {
  return {
    group: obj.apiVersion.includes('/') ? obj.apiVersion.slice(0, obj.apiVersion.indexOf('/')) : '',
    kind: obj.kind,
    namespace: obj.metadata.namespace,
    name: obj.metadata.name ?? '',
  };
}

/** The labels every host object managed for `owner` carries. */
export function managedByLabels(owner: OwnerRef | KubeObject): Record<string, string> {
  const ref = 'metadata' in owner ? ownerOf(owner) : owner;
  return {
    [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
    [OWNER_GROUP_LABEL]: labelValue(ref.group),
    [OWNER_KIND_LABEL]: labelValue(ref.kind),
    [OWNER_NAMESPACE_LABEL]: labelValue(ref.namespace ?? ''),
    [OWNER_NAME_LABEL]: labelValue(ref.name),
  };
}

/** The annotations that go with `managedByLabels` (the owner's name in full). */
export function managedByAnnotations(owner: OwnerRef | KubeObject): Record<string, string> {
  const ref = 'metadata' in owner ? ownerOf(owner) : owner;
  return { [OWNER_NAME_ANNOTATION]: ref.name };
}

/** A label selector for the host objects of `owner`, or of every owner when absent. */
export function managedBySelector(owner?: OwnerRef | KubeObject): string {
  const labels = owner ? managedByLabels(owner) : { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** The owner a managed host object names in its labels (undefined when it is not ours). */
export function ownerFromLabels(obj: KubernetesObject): OwnerRef | undefined {
  const labels = obj.metadata?.labels ?? {};
  if (labels[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) return undefined;
  return {
    group: labels[OWNER_GROUP_LABEL] ?? '',
    kind: labels[OWNER_KIND_LABEL] ?? '',
    namespace: labels[OWNER_NAMESPACE_LABEL] || undefined,
    name: obj.metadata?.annotations?.[OWNER_NAME_ANNOTATION] ?? labels[OWNER_NAME_LABEL] ?? '',
  };
}

/**
 * Reads the host kubeconfig: the file at `path`, else the in-cluster service account when running
 * in a pod; undefined when neither is available (standalone).
 */
export function loadHostKubeConfig(path?: string): KubeConfig | undefined {
  const kc = new KubeConfig();
  if (path) {
    kc.loadFromFile(path);
    return kc;
  }
  if (process.env.KUBERNETES_SERVICE_HOST && process.env.KUBERNETES_SERVICE_PORT) {
    kc.loadFromCluster();
    return kc;
  }
  return undefined;
}

/** The namespace of this pod on the host (in-cluster service account), undefined elsewhere. */
export function podNamespace(): string | undefined {
  try {
    return readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** One kind of host object a controller manages, listed and deleted by label. */
export interface ManagedType {
  readonly kind: string;
  /** Every object of the type with the labels of `selector`, in all namespaces. */
  list(selector: string): Promise<KubernetesObject[]>;
  delete(namespace: string, name: string): Promise<void>;
}


/** Runs a delete; a 404 (already gone) counts as done. */
async function ignoreNotFound(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (err) {
    if (httpCode(err) !== 404) throw err;
  }
}

export class HostClient {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly coordination: CoordinationV1Api;
  /** The managed types the GC helpers know; a controller passes the ones it creates. */
  readonly types: { configMaps: ManagedType; secrets: ManagedType; services: ManagedType; pods: ManagedType; deployments: ManagedType };

  constructor(readonly kubeConfig: KubeConfig) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
    this.coordination = kubeConfig.makeApiClient(CoordinationV1Api);
    const core = this.core;
    const apps = this.apps;
    this.types = {
      configMaps: {
        kind: 'ConfigMap',
        list: async (labelSelector) => (await core.listConfigMapForAllNamespaces({ labelSelector })).items,
        delete: (namespace, name) => ignoreNotFound(() => core.deleteNamespacedConfigMap({ namespace, name })),
      },
      secrets: {
        kind: 'Secret',
        list: async (labelSelector) => (await core.listSecretForAllNamespaces({ labelSelector })).items,
        delete: (namespace, name) => ignoreNotFound(() => core.deleteNamespacedSecret({ namespace, name })),
      },
      services: {
        kind: 'Service',
        list: async (labelSelector) => (await core.listServiceForAllNamespaces({ labelSelector })).items,
        delete: (namespace, name) => ignoreNotFound(() => core.deleteNamespacedService({ namespace, name })),
      },
      pods: {
        kind: 'Pod',
        list: async (labelSelector) => (await core.listPodForAllNamespaces({ labelSelector })).items,
        delete: (namespace, name) => ignoreNotFound(() => core.deleteNamespacedPod({ namespace, name })),
      },
      deployments: {
        kind: 'Deployment',
        list: async (labelSelector) => (await apps.listDeploymentForAllNamespaces({ labelSelector })).items,
        delete: (namespace, name) => ignoreNotFound(() => apps.deleteNamespacedDeployment({ namespace, name })),
      },
    };
  }

  /**
   * Deletes the host objects of `types` managed for `owner`, except those `keep` names
   * (`namespace/name`). Returns the `namespace/name`s deleted.
   */
  async deleteManaged(owner: OwnerRef | KubeObject, types: ManagedType[], keep: ReadonlySet<string> = new Set()): Promise<string[]> {
    const deleted: string[] = [];
    const selector = managedBySelector(owner);
    for (const type of types) {
      for (const obj of await type.list(selector)) {
        const key = `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
        if (keep.has(key)) continue;
        await type.delete(obj.metadata!.namespace ?? '', obj.metadata!.name!);
        deleted.push(key);
      }
    }
    return deleted;
  }

  /**
   * Deletes every managed host object of `types` whose owner no longer exists (`ownerExists`
   * false): the garbage collection ownerReferences would do. Returns the `namespace/name`s deleted.
   */
  async sweepOrphans(types: ManagedType[], ownerExists: (owner: OwnerRef) => boolean | Promise<boolean>): Promise<string[]> {
    const deleted: string[] = [];
    for (const type of types) {
      for (const obj of await type.list(managedBySelector())) {
        const owner = ownerFromLabels(obj);
        if (!owner || (await ownerExists(owner))) continue;
        await type.delete(obj.metadata!.namespace ?? '', obj.metadata!.name!);
        deleted.push(`${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`);
      }
    }
    return deleted;
  }
}
