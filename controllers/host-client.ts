// The host cluster, seen from our controllers: a @kubernetes/client-node KubeConfig from
// `--kubeconfig` or the in-cluster service account, and typed API clients.
//
// Our objects live in another API server, so host objects cannot carry ownerReferences to them
// (the host's garbage collector would not find the owner and would delete the dependents). Instead
// every host object a controller manages carries labels naming its owner (`managedByLabels`), and
// is found, and garbage-collected, by label selector (`deleteManaged`, `sweepOrphans`).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  createConfiguration,
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  ResponseContext,
  ServerConfiguration,
  wrapHttpLibrary,
  type ApiConstructor,
  type ApiType,
  type HttpLibrary,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { KubeObject } from '../registry/meta.js';
import { HostRequestTimeoutError, httpCode } from './http-errors.js';

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
 * How long one host call may take, connect to last body byte, unless `--host-request-timeout`
 * says otherwise. client-go's `rest.Config.Timeout` is 0 too, but the calls that matter run under
 * context deadlines (k8s.io/apiserver's delegated authentication and authorization clients 10 s,
 * leader-election renewals the renew deadline, 10 s); 30 s bounds a hung host without cutting off
 * a slow but working one.
 */
export const DEFAULT_HOST_REQUEST_TIMEOUT_MS = 30_000;

/**
 * Sends through client-node's own fetch library with a deadline covering the whole exchange
 * (connect, TLS, headers and body). A call past it is aborted and rejects with
 * `HostRequestTimeoutError` (`isHostUnavailable` is true for it); an abort by a signal the caller
 * set stays the caller's abort error.
 */
function deadlineHttpLibrary(timeoutMs: number): HttpLibrary {
  const fetchLibrary = new IsomorphicFetchHttpLibrary();
  return wrapHttpLibrary({
    async send(request) {
      const deadline = AbortSignal.timeout(timeoutMs);
      const callerSignal = request.getSignal();
      request.setSignal(callerSignal ? AbortSignal.any([callerSignal, deadline]) : deadline);
      const timedOut = (err: unknown): unknown =>
        deadline.aborted && !callerSignal?.aborted
          ? new HostRequestTimeoutError(request.getHttpMethod(), new URL(request.getUrl()).pathname, timeoutMs, { cause: err })
          : err;
      let response: ResponseContext;
      try {
        response = await fetchLibrary.send(request).toPromise();
      } catch (err) {
        throw timedOut(err);
      }
      // The body is read after the headers arrived, still under the same deadline.
      const body = response.body;
      return new ResponseContext(response.httpStatusCode, response.headers, {
        text: () => body.text().catch((err: unknown) => Promise.reject(timedOut(err))),
        binary: () => body.binary().catch((err: unknown) => Promise.reject(timedOut(err))),
      });
    },
  });
}

/**
 * A KubeConfig whose API clients (`makeApiClient`, so every typed host call of the controllers,
 * leader election, TokenReview and SubjectAccessReview) give each request `requestTimeoutMs`.
 * client-node 1.4 sets no timeout at all: a host API server that accepts the connection and never
 * answers would otherwise hold a reconcile, a lease renewal or an authenticated request forever.
 * Streams made from it through `Watch`/`applyToFetchOptions` are not bounded (a watch is long by design).
 */
export class HostKubeConfig extends KubeConfig {
  constructor(readonly requestTimeoutMs: number = DEFAULT_HOST_REQUEST_TIMEOUT_MS) {
    super();
    if (!(requestTimeoutMs > 0)) throw new Error(`host request timeout must be positive, got ${requestTimeoutMs}`);
  }

  /** A HostKubeConfig with the clusters, users and contexts of `kc`. */
  static from(kc: KubeConfig, requestTimeoutMs?: number): HostKubeConfig {
    const bounded = new HostKubeConfig(requestTimeoutMs);
    bounded.loadFromOptions({ clusters: kc.clusters, users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext });
    return bounded;
  }

  /** As KubeConfig.makeApiClient, with the deadline-bounded HTTP library. */
  override makeApiClient<T extends ApiType>(apiClientType: ApiConstructor<T>): T {
    const cluster = this.getCurrentCluster();
    if (!cluster) throw new Error('No active cluster!');
    return new apiClientType(
      createConfiguration({
        baseServer: new ServerConfiguration(cluster.server, {}),
        authMethods: { default: this },
        httpApi: deadlineHttpLibrary(this.requestTimeoutMs),
      }),
    );
  }
}

/**
 * Reads the host kubeconfig: the file at `path`, else the in-cluster service account when running
 * in a pod; undefined when neither is available (standalone). Every API client made from it gives
 * each request `requestTimeoutMs`.
 */
export function loadHostKubeConfig(path?: string, requestTimeoutMs: number = DEFAULT_HOST_REQUEST_TIMEOUT_MS): HostKubeConfig | undefined {
  const kc = new HostKubeConfig(requestTimeoutMs);
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

  /** Every API client made from it bounds each request (a plain KubeConfig gets the default deadline). */
  readonly kubeConfig: HostKubeConfig;

  constructor(kubeConfig: KubeConfig) {
    this.kubeConfig = kubeConfig instanceof HostKubeConfig ? kubeConfig : HostKubeConfig.from(kubeConfig);
    this.core = this.kubeConfig.makeApiClient(CoreV1Api);
    this.apps = this.kubeConfig.makeApiClient(AppsV1Api);
    this.coordination = this.kubeConfig.makeApiClient(CoordinationV1Api);
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
