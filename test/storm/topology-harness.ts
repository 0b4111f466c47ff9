// Shared by the StormTopology / StormWorkerPool tests: the stand-in host cluster, the stand-in
// Nimbus reached through the real Thrift client pool (every cluster address resolves to it), and
// the server running the topology and worker-pool controllers; sample objects; waiting helpers.
import { BatchV1Api, CoreV1Api, type V1Job } from '@kubernetes/client-node';
import { ThriftNimbusPool } from '../../controllers/storm/nimbus/index.js';
import { topologyController } from '../../controllers/storm/topology.js';
import { workerPoolController } from '../../controllers/storm/workerpool.js';
import { decodeObject } from '../../registry/codec.js';
import type { KubeObject } from '../../registry/meta.js';
import type { Store } from '../../registry/store.js';
import { NIMBUS, type Nimbus, type NimbusPool } from '../../registry/storm.apache.org/upstreams.js';
import { eventually } from '../controllers/helpers.js';
import { startHostCluster, type HostCluster } from '../hostcluster/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startStandInNimbus, type StandInNimbus } from '../stand-ins/nimbus/index.js';

export { eventually };

export const TOPOLOGIES = 'stormtopologies.storm.apache.org';
export const CLUSTERS = 'stormclusters.storm.apache.org';
export const POOLS = 'stormworkerpools.storm.apache.org';

export interface StormHarness {
  host: HostCluster;
  nimbus: StandInNimbus;
  /** A client of the stand-in Nimbus (as the controllers use it). */
  client: Nimbus;
  server: TestServer;
  topologies: Store;
  clusters: Store;
  pools: Store;
  core: CoreV1Api;
  batch: BatchV1Api;
  stop(): Promise<void>;
}

/** Starts everything; `namespaces` are created on the host. */
export async function startStormHarness(namespaces: string[], options: { controllers?: boolean } = {}): Promise<StormHarness> {
  const host = await startHostCluster();
  const nimbus = await startStandInNimbus({ killRemovalMs: () => 200, rebalanceMs: () => 300 });
  const pool = new ThriftNimbusPool();
  // The cluster's own client settings (spec.nimbus.thrift: timeouts, retries) apply.
  const toStandIn: NimbusPool = { forCluster: (address) => pool.forCluster({ ...nimbus.address, settings: address.settings }), close: () => pool.close() };
  const core = host.kubeConfig().makeApiClient(CoreV1Api);
  for (const name of namespaces) await core.createNamespace({ body: { metadata: { name } } });
  const server = await startTestServer(
    { storage: 'memory', kubeconfig: host.kubeconfigPath, controllers: '*' },
    {
      extensions: {
        controllers: options.controllers === false ? [] : [topologyController({ pollMs: 100, steadyPollMs: 500 }), workerPoolController({ pollMs: 100, steadyPollMs: 500 })],
        upstreams: [[NIMBUS, toStandIn]],
      },
    },
  );
  return {
    host,
    nimbus,
    client: toStandIn.forCluster({ host: 'any', port: 1 }),
    server,
    topologies: server.stores.get(TOPOLOGIES)!,
    clusters: server.stores.get(CLUSTERS)!,
    pools: server.stores.get(POOLS)!,
    core,
    batch: host.kubeConfig().makeApiClient(BatchV1Api),
    async stop() {
      await server.stop();
      await pool.close();
      await nimbus.stop();
      await host.stop();
    },
  };
}

export async function createObject(store: Store, obj: KubeObject): Promise<KubeObject> {
  const decoded = decodeObject(store.decl, store.decl.versions[0], structuredClone(obj), 'Strict');
  return (await store.create(obj.metadata.namespace, decoded, { dryRun: false })).object;
}

/** Reads the object, edits a copy, writes it (retrying on conflict). */
export async function editObject(store: Store, namespace: string, name: string, edit: (o: any) => void): Promise<KubeObject> {
  for (let attempt = 1; ; attempt++) {
    const copy = structuredClone(await store.get({ namespace, name })) as any;
    edit(copy);
    const decoded = decodeObject(store.decl, store.decl.versions[0], copy, 'Strict');
    try {
      return (await store.update({ namespace, name }, () => decoded, { dryRun: false })).object;
    } catch (err) {
      if (attempt >= 5) throw err;
    }
  }
}

/** A StormCluster reported Running (no cluster controller runs in these tests). */
export async function runningCluster(h: StormHarness, namespace: string, name = 'storm', spec: Record<string, unknown> = {}): Promise<KubeObject> {
  const created = await createObject(h.clusters, {
    apiVersion: 'storm.apache.org/v1beta1',
    kind: 'StormCluster',
    metadata: { name, namespace },
    spec: { zookeeper: { servers: ['zk-0.zk:2181'] }, ...spec },
  });
  const copy = structuredClone(created);
  copy.status = { phase: 'Running' };
  const decoded = decodeObject(h.clusters.decl, 'v1beta1', copy, 'Strict');
  return (await h.clusters.statusStore().update({ namespace, name }, () => decoded, { dryRun: false })).object;
}

export function topologyObject(namespace: string, name: string, edit: (spec: any) => void = () => {}): KubeObject {
  const spec: any = {
    clusterRef: 'storm',
    topology: {
      name,
      jar: { url: 'https://jars.example.com/wordcount.jar', checksum: { algorithm: 'sha256', value: 'a'.repeat(64) } },
      mainClass: 'org.apache.storm.starter.WordCountTopology',
      args: ['--local-mode=false'],
      config: { 'topology.version': '1.0.0' },
    },
    workers: { replicas: 2 },
    lifecycle: { killWaitSeconds: 0 },
  };
  edit(spec);
  return { apiVersion: 'storm.apache.org/v1beta1', kind: 'StormTopology', metadata: { name, namespace }, spec };
}

export async function getObject(store: Store, namespace: string, name: string): Promise<any> {
  return store.get({ namespace, name });
}

/** Waits for the submission Job of `stormName` (by its label) and returns it. */
export async function submissionJobFor(h: StormHarness, namespace: string, stormName: string): Promise<V1Job> {
  return eventually(async () => {
    const jobs = (await h.batch.listNamespacedJob({ namespace })).items;
    return jobs.find((j) => j.metadata?.annotations?.['storm.apache.org/storm-topology-name'] === stormName);
  }, `the submission Job of ${stormName}`);
}

/**
 * What `storm jar` does when the Job runs: the host cluster completes the Job and the topology
 * appears in Nimbus.
 */
export async function completeSubmission(h: StormHarness, namespace: string, stormName: string, init: Record<string, unknown> = {}): Promise<V1Job> {
  const job = await submissionJobFor(h, namespace, stormName);
  h.host.kubelet.scriptJob(namespace, job.metadata!.name!, 'Complete');
  await eventually(async () => (await h.batch.readNamespacedJob({ namespace, name: job.metadata!.name! })).status?.succeeded === 1, 'the Job complete');
  h.nimbus.addTopology({ name: stormName, numWorkers: 2, numExecutors: 6, numTasks: 6, uptimeSecs: 125, ...init } as never);
  return job;
}

export async function phaseIs(store: Store, namespace: string, name: string, phase: string, extra: (o: any) => boolean = () => true): Promise<any> {
  return eventually(async () => {
    const o = await getObject(store, namespace, name);
    return o.status?.phase === phase && extra(o) ? o : undefined;
  }, `${namespace}/${name} phase ${phase}`);
}

export function condition(obj: any, type: string): any {
  return (obj.status?.conditions ?? []).find((c: any) => c.type === type);
}
