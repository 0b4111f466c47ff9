// Shared by the Hourglass tests: the API server with the Hourglass controllers against the
// stand-in host cluster, and a stand-in for the cluster network that routes gRPC endpoints
// (`<svc>.<ns>.svc.cluster.local:<port>`, `<podIP>:<port>`) to stand-in performers on loopback
// ports, the way kube-proxy routes a Service to the pods its selector picks.
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { hourglassControllers, type HourglassControllerOptions } from '../../controllers/hourglass/index.js';
import { PerformerClientPool, parseEndpoint } from '../../controllers/hourglass/grpc-pool.js';
import { PERFORMER_HEALTH } from '../../registry/hourglass.eigenlayer.io/upstreams.js';
import { isStatusError } from '../../apiserver/errors.js';
import type { ServerExtensions } from '../../apiserver/server.js';
import type { KubeObject } from '../../registry/meta.js';
import type { Store } from '../../registry/store.js';
import { update } from '../controllers/helpers.js';
import { startHostCluster, type HostCluster } from '../hostcluster/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startStandInPerformer, type StandInPerformer } from '../stand-ins/performer/index.js';

export const PERFORMERS = 'performers.hourglass.eigenlayer.io';
export const EXECUTORS = 'hourglassexecutors.hourglass.eigenlayer.io';
export const PERFORMERS_PATH = (ns: string, name = '') => `/apis/hourglass.eigenlayer.io/v1alpha1/namespaces/${ns}/performers${name ? `/${name}` : ''}`;

/** Fast polls for tests (the defaults are 2 s / 2 min). */
export const FAST: HourglassControllerOptions = {
  performer: { pollMs: 100, steadyPollMs: 1_000, healthDeadlineMs: 1_000 },
  executor: { pollMs: 100, steadyPollMs: 1_000 },
};

/** Which stand-in answers for a pod; undefined: nothing listens (connection refused). */
export type PodRoute = (pod: V1Pod) => StandInPerformer | undefined;

/**
 * The cluster network: a Service name goes to a pod its selector matches, a pod IP to that pod,
 * and a pod to the stand-in `route` picks. Unknown names stay as they are (DNS fails: UNAVAILABLE).
 */
export class StandInNetwork {
  route: PodRoute = () => undefined;
  private readonly core: CoreV1Api;
  /** An address nothing listens on (a stopped stand-in's), for pods without a stand-in. */
  refused = '127.0.0.1:1';

  constructor(host: HostCluster) {
    this.core = host.kubeConfig().makeApiClient(CoreV1Api);
  }

  resolve = async (endpoint: string): Promise<string> => {
    const { host } = parseEndpoint(endpoint);
    let pod: V1Pod | undefined;
    const svc = /^([^.]+)\.([^.]+)\.svc\.cluster\.local$/.exec(host);
    if (svc) {
      const service = await this.core.readNamespacedService({ namespace: svc[2], name: svc[1] }).catch(() => undefined);
      const selector = service?.spec?.selector;
      if (!selector) return endpoint;
      const labelSelector = Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');
      pod = (await this.core.listNamespacedPod({ namespace: svc[2], labelSelector })).items.find((p) => p.status?.podIP);
      if (!pod) return this.refused;
    } else if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) {
      pod = (await this.core.listPodForAllNamespaces({})).items.find((p) => p.status?.podIP === host);
      if (!pod) return this.refused;
    } else {
      return endpoint;
    }
    return this.route(pod)?.address ?? this.refused;
  };
}

export interface HourglassServer extends TestServer {
  pool: PerformerClientPool;
}

/** The API server with the Hourglass controllers, its host cluster `host`, performers reached through `network`. */
export async function startHourglassServer(
  host: HostCluster,
  network: StandInNetwork | undefined,
  options: { controllers?: HourglassControllerOptions; extensions?: ServerExtensions; flags?: Record<string, string> } = {},
): Promise<HourglassServer> {
  const pool = new PerformerClientPool({ resolve: network?.resolve, initialBackoffMs: 20, maxBackoffMs: 100 });
  const server = await startTestServer(
    {
      storage: 'memory',
      controllers: 'hourglass',
      kubeconfig: host.kubeconfigPath,
      'leader-elect-lease-duration': '3s',
      'leader-elect-renew-deadline': '2s',
      'leader-elect-retry-period': '0.5s',
      ...options.flags,
    },
    {
      extensions: {
        controllers: hourglassControllers(options.controllers ?? FAST),
        upstreams: [[PERFORMER_HEALTH, pool]],
        ...options.extensions,
      },
    },
  );
  return {
    ...server,
    pool,
    async stop() {
      await server.stop();
      await pool.close();
    },
  };
}

/** The one polling helper of the controller tests. */
export { eventually } from '../controllers/helpers.js';

/** Edits the current object through `store` (as a client's read-modify-write), again on a 409 Conflict. */
export async function edit(store: Store, namespace: string, name: string, change: (copy: any) => void): Promise<KubeObject> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await update(store, await store.get({ namespace, name }), change);
    } catch (err) {
      if (!isStatusError(err, 'Conflict') || attempt >= 10) throw err;
    }
  }
}

/**
 * Everything a Performer test runs against: a stand-in host cluster with `namespaces`, the
 * stand-in cluster network, the server with the Hourglass controllers, and the stand-in
 * performers the test starts with `standIn`; `stop()` ends them all.
 */
export interface PerformerWorld {
  host: HostCluster;
  core: CoreV1Api;
  network: StandInNetwork;
  server: HourglassServer;
  store: Store;
  standIn(options?: Parameters<typeof startStandInPerformer>[0]): Promise<StandInPerformer>;
  stop(): Promise<void>;
}

export async function startPerformerWorld(namespaces: string[]): Promise<PerformerWorld> {
  const host = await startHostCluster();
  const core = host.kubeConfig().makeApiClient(CoreV1Api);
  for (const name of namespaces) await core.createNamespace({ body: { metadata: { name } } });
  const network = new StandInNetwork(host);
  const server = await startHourglassServer(host, network);
  const standIns: StandInPerformer[] = [];
  return {
    host,
    core,
    network,
    server,
    store: server.stores.get(PERFORMERS)!,
    async standIn(options = {}) {
      const s = await startStandInPerformer(options);
      standIns.push(s);
      return s;
    },
    async stop() {
      await server.stop();
      for (const s of standIns) await s.stop();
      await host.stop();
    },
  };
}
