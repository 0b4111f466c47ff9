// The stand-in host cluster: kube-apiserver cannot be installed here, so tests that need a host
// cluster get this project's own generic server serving the built-in kinds they use (kinds.ts),
// TokenReview and SubjectAccessReview answered from what the test configures, the kubelet's
// node proxy `/metrics`, and a simulated kubelet. @kubernetes/client-node and kubectl talk to it
// unchanged. It is test code and is not shipped.
import * as k8s from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { notFound, serviceUnavailable, StatusError } from '../../apiserver/errors.js';
import { completeOptions } from '../../apiserver/options.js';
import { sendStatus } from '../../apiserver/response.js';
import { startServer, type RunningServer } from '../../apiserver/server.js';
import { createCertificateAuthority, issueCertificate } from '../../apiserver/tls.js';
import type { Store } from '../../registry/store.js';
import { installAuthRoutes, type AuthorizationDecision, type HostAuth, type TokenUser } from './auth.js';
import { createHostKinds } from './kinds.js';
import { SimulatedKubelet, type KubeletOptions } from './kubelet.js';
import { kubeletMetricsText, PROMETHEUS_TEXT_CONTENT_TYPE } from './metrics.js';

export { createHostKinds, type HostKindsContext } from './kinds.js';
export { SimulatedKubelet, type KubeletOptions, type PodHold } from './kubelet.js';
export { formatGoFloat, kubeletMetricsText, type VolumeStats } from './metrics.js';
export type { AuthorizationDecision, TokenUser } from './auth.js';

export interface HostCluster {
  url: string;
  caPem: string;
  /** Temporary directory of the cluster's certificates and kubeconfig; removed by `stop()`. */
  dir: string;
  /** Kubeconfig of a user with a client certificate in group system:masters. */
  kubeconfigPath: string;
  /** A KubeConfig loaded from `kubeconfigPath`. */
  kubeConfig(): k8s.KubeConfig;
  /** Direct access to the storage, keyed `${plural}.${group || 'core'}` (`pods.core`, `leases.coordination.k8s.io`). */
  stores: Map<string, Store>;
  /** TokenReview answers: bearer token → user. An unknown token is `authenticated: false`. */
  tokens: Map<string, TokenUser>;
  /** SubjectAccessReview decisions; denies everything until a test assigns it. */
  authorize: (spec: Record<string, any>) => AuthorizationDecision;
  /** Every TokenReview body received, in order. */
  tokenReviews: Record<string, any>[];
  /** Every SubjectAccessReview body received, in order. */
  subjectAccessReviews: Record<string, any>[];
  kubelet: SimulatedKubelet;
  /**
   * The front proxy (kube-aggregator's request-header authentication): its CA is published with
   * the client CA in `kube-system/extension-apiserver-authentication`, as kube-apiserver does, and
   * `clientCert` (CN `front-proxy-client`) is what the aggregator presents when it proxies.
   */
  frontProxy: { caPem: string; clientCert: { cert: string; key: string } };
  /** The generic server underneath. */
  server: RunningServer;
  /**
   * Takes the cluster's API away until `setOutage(undefined)`: `unavailable` answers every request
   * 503 ServiceUnavailable (a kube-apiserver that lost its etcd); `refused` closes the listener and
   * every open connection, so dials are refused, and listens again on the same port when the outage
   * ends; `hung` accepts connections and requests and answers none until the outage ends (the
   * caller's deadline ends its wait; requests still waiting then are served). The simulated
   * kubelet keeps running (the nodes do not go away with the control plane).
   */
  setOutage(mode: HostOutage | 'hung' | undefined): Promise<void>;
  stop(): Promise<void>;
}

export type HostOutage = 'unavailable' | 'refused';

export interface HostClusterOptions {
  /** Storage URL as `--storage` takes it, or `sqlite` for a file in the cluster's directory; default `memory`. */
  storage?: string;
  kubelet?: Partial<KubeletOptions>;
  /** `--v` of the cluster's API server; request lines are logged from 3 (default 0). */
  verbosity?: number;
}

/** The CN of the front proxy's client certificate (kube-aggregator's, in kubeadm clusters). */
export const FRONT_PROXY_CLIENT = 'front-proxy-client';

/** Namespaces every cluster starts with. */
export const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

const DENY_ALL = (): AuthorizationDecision => ({ allowed: false, reason: 'no authorization decision configured by the test' });

/** `node-1` from `node-1` or `node-1:10250` (kube-apiserver accepts `<node>:<port>` in proxy paths). */
function nodeNameOf(param: string): string {
  const colon = param.lastIndexOf(':');
  return colon > 0 ? param.slice(0, colon) : param;
}

/**
 * `GET /api/v1/nodes/{node}/proxy/metrics`: the node must exist (404 otherwise, as kube-apiserver
 * answers); an unreachable node is a 503 Status, as kube-apiserver's proxy reports a dial error;
 * otherwise the kubelet's metrics text. Other kubelet paths are the kubelet's plain 404.
 */
function installNodeProxy(app: FastifyInstance, stores: Map<string, Store>, kubelet: () => SimulatedKubelet): void {
  const nodes = stores.get('nodes.core')!;
  const reachableNode = async (param: string): Promise<string> => {
    const node = nodeNameOf(param);
    // A hung kubelet: no answer until the test releases it (the caller's timeout ends the wait).
    while (kubelet().isNodeHung(node)) await new Promise((resolve) => setTimeout(resolve, 50));
    await nodes.get({ name: node }).catch((err: unknown) => {
      if (err instanceof StatusError && err.status.code === 404) throw notFound({ group: '', resource: 'nodes', name: node });
      throw err;
    });
    if (!kubelet().isNodeReachable(node)) {
      throw serviceUnavailable(`error trying to reach service: dial tcp ${node}:10250: connect: connection refused`);
    }
    return node;
  };
  app.get('/api/v1/nodes/:name/proxy/metrics', async (req, reply) => {
    const node = await reachableNode((req.params as { name: string }).name);
    return reply.code(200).header('content-type', PROMETHEUS_TEXT_CONTENT_TYPE).send(kubeletMetricsText(node, kubelet().volumeStatsOf(node)));
  });
  app.get('/api/v1/nodes/:name/proxy/*', async (req, reply) => {
    await reachableNode((req.params as { name: string }).name);
    return reply.code(404).header('content-type', 'text/plain; charset=utf-8').send('404 page not found\n');
  });
}

/** Starts a host cluster on a free loopback port with its files in a new temporary directory. */
export async function startHostCluster(options: HostClusterOptions = {}): Promise<HostCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'hostcluster-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  const serverOptions = completeOptions({
    storage: options.storage === 'sqlite' ? `sqlite://${join(dir, 'state.db')}` : (options.storage ?? 'memory'),
    'secure-port': '0',
    'cert-dir': join(dir, 'certs'),
    'write-kubeconfig': kubeconfigPath,
    v: String(options.verbosity ?? 0),
  });
  process.env.LOG_LEVEL ??= 'silent';
  const frontProxyCa = createCertificateAuthority('front-proxy-ca');
  const frontProxyClient = issueCertificate(frontProxyCa, { commonName: FRONT_PROXY_CLIENT, usage: 'client' });
  const auth: HostAuth = { tokens: new Map(), authorize: DENY_ALL, tokenReviews: [], subjectAccessReviews: [] };
  let kubelet: SimulatedKubelet | undefined;
  let outage: HostOutage | 'hung' | undefined;
  let storageClasses: Store | undefined;
  const kinds = createHostKinds({
    // Read from the watch cache, as kube-apiserver's admission reads its informer.
    storageClass: (name) => storageClasses?.cacher?.getByKey(storageClasses.keyFor(undefined, name)).object,
  });
  let server: RunningServer;
  try {
    server = await startServer(serverOptions, kinds, {
      standaloneNamespaces: false,
      controllers: [],
      installRoutes(app, stores) {
        storageClasses = stores.get('storageclasses.storage.k8s.io');
        kubelet = new SimulatedKubelet(stores, options.kubelet);
        app.addHook('onRequest', async () => {
          if (outage === 'unavailable') throw serviceUnavailable('the stand-in host cluster is unavailable (test outage)');
          while (outage === 'hung') await new Promise((resolve) => setTimeout(resolve, 50));
        });
        installAuthRoutes(app, auth);
        installNodeProxy(app, stores, () => kubelet!);
      },
      background: [
        async (running) => {
          await running.ready;
          await createInitialNamespaces(running.stores.get('namespaces.core')!);
          await publishAuthentication(running.stores.get('configmaps.core')!, running.caPem, frontProxyCa.cert);
          await kubelet!.start();
          return () => kubelet!.stop();
        },
      ],
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const cluster: HostCluster = {
    url: server.url,
    caPem: server.caPem,
    dir,
    kubeconfigPath,
    kubeConfig() {
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(kubeconfigPath);
      return kc;
    },
    stores: server.stores,
    tokens: auth.tokens,
    get authorize() {
      return auth.authorize;
    },
    set authorize(decide) {
      auth.authorize = decide;
    },
    tokenReviews: auth.tokenReviews,
    subjectAccessReviews: auth.subjectAccessReviews,
    kubelet: kubelet!,
    frontProxy: { caPem: frontProxyCa.cert, clientCert: frontProxyClient },
    server,
    async setOutage(mode) {
      const raw = server.app.server;
      if (mode === 'refused' && outage !== 'refused') {
        await new Promise<void>((resolve) => {
          raw.close(() => resolve());
          raw.closeAllConnections();
        });
      } else if (mode !== 'refused' && outage === 'refused') {
        const port = Number(new URL(server.url).port);
        await new Promise<void>((resolve, reject) => {
          raw.once('error', reject);
          raw.listen(port, new URL(server.url).hostname, () => {
            raw.off('error', reject);
            resolve();
          });
        });
      }
      outage = mode;
    },
    async stop() {
      await cluster.setOutage(undefined);
      try {
        await server.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  return cluster;
}

async function createInitialNamespaces(namespaces: Store): Promise<void> {
  for (const name of INITIAL_NAMESPACES) {
    const object = { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } }, spec: { finalizers: ['kubernetes'] } };
    try {
      await namespaces.create(undefined, { object, errors: [], warnings: [] }, { dryRun: false });
    } catch (err) {
      if (!(err instanceof StatusError && err.status.reason === 'AlreadyExists')) throw err;
    }
  }
}

/**
 * `kube-system/extension-apiserver-authentication` as kube-apiserver publishes it for extension
 * API servers: the client CA, the front proxy's CA, its allowed names and header names.
 */
async function publishAuthentication(configMaps: Store, clientCaPem: string, frontProxyCaPem: string): Promise<void> {
  const object = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'extension-apiserver-authentication', namespace: 'kube-system' },
    data: {
      'client-ca-file': clientCaPem,
      'requestheader-client-ca-file': frontProxyCaPem,
      'requestheader-allowed-names': JSON.stringify([FRONT_PROXY_CLIENT]),
      'requestheader-username-headers': JSON.stringify(['X-Remote-User']),
      'requestheader-group-headers': JSON.stringify(['X-Remote-Group']),
      'requestheader-extra-headers-prefix': JSON.stringify(['X-Remote-Extra-']),
    },
  };
  try {
    await configMaps.create('kube-system', { object, errors: [], warnings: [] }, { dryRun: false });
  } catch (err) {
    if (!(err instanceof StatusError && err.status.reason === 'AlreadyExists')) throw err;
  }
}
