// Garbage collection by label (issue 7) for the Storm controllers: host objects whose StormCluster,
// StormWorkerPool or StormTopology no longer exists — deleted while the server was down, its
// finalizer removed by hand — are found by their managed-by labels and deleted when a leadership
// term starts and periodically after; objects of owners that exist, of other kinds' owners, and
// objects that are not ours stay.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, AutoscalingV2Api, BatchV1Api, CoreV1Api } from '@kubernetes/client-node';
import test from 'ava';
import { managedByAnnotations, managedByLabels, type OwnerRef } from '../../controllers/host-client.js';
import { stormClusterController } from '../../controllers/storm/cluster.js';
import { ThriftNimbusPool } from '../../controllers/storm/nimbus/index.js';
import { topologyController } from '../../controllers/storm/topology.js';
import { workerPoolController } from '../../controllers/storm/workerpool.js';
import type { KubeObject } from '../../registry/meta.js';
import type { Store } from '../../registry/store.js';
import { NIMBUS } from '../../registry/storm.apache.org/upstreams.js';
import { create, eventually, sample, update } from '../controllers/helpers.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startHostCluster, type HostCluster } from '../hostcluster/index.js';
import { startStandInNimbus, type StandInNimbus } from '../stand-ins/nimbus/index.js';

const NS = 'storm-sweep';
const CLUSTERS = 'stormclusters.storm.apache.org';
const TOPOLOGIES = 'stormtopologies.storm.apache.org';
const POOLS = 'stormworkerpools.storm.apache.org';

let host: HostCluster;
let core: CoreV1Api;
let apps: AppsV1Api;
let batch: BatchV1Api;
let autoscaling: AutoscalingV2Api;
let nimbus: StandInNimbus;
let pool: ThriftNimbusPool;
let dir: string;

test.before(async () => {
  host = await startHostCluster();
  core = host.kubeConfig().makeApiClient(CoreV1Api);
  apps = host.kubeConfig().makeApiClient(AppsV1Api);
  batch = host.kubeConfig().makeApiClient(BatchV1Api);
  autoscaling = host.kubeConfig().makeApiClient(AutoscalingV2Api);
  await core.createNamespace({ body: { metadata: { name: NS } } });
  nimbus = await startStandInNimbus();
  pool = new ThriftNimbusPool({ resolve: () => nimbus.address });
  dir = mkdtempSync(join(tmpdir(), 'storm-orphan-sweep-'));
});
test.after.always(async () => {
  await pool?.close();
  await nimbus?.stop();
  await host?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const storage = () => `sqlite://${join(dir, 'state.db')}`;

/** The three Storm controllers over SQLite at `dir/state.db` (kept across restarts), sweeping every `sweepIntervalMs`. */
function stormServer(sweepIntervalMs: number): Promise<TestServer> {
  const fast = { pollMs: 100, sweepIntervalMs };
  return startTestServer(
    { storage: storage(), kubeconfig: host.kubeconfigPath, controllers: '*', 'leader-elect': 'false' },
    {
      extensions: {
        controllers: [
          stormClusterController({ ...fast, notReadyPollMs: 100 }),
          topologyController({ ...fast, steadyPollMs: 500 }),
          workerPoolController({ ...fast, steadyPollMs: 500 }),
        ],
        upstreams: [[NIMBUS, pool]],
      },
    },
  );
}

const owner = (kind: 'StormCluster' | 'StormWorkerPool' | 'StormTopology' | 'Performer', name: string): OwnerRef => ({
  group: kind === 'Performer' ? 'hourglass.eigenlayer.io' : 'storm.apache.org',
  kind,
  namespace: NS,
  name,
});
const ownedMeta = (name: string, by: OwnerRef) => ({ name, namespace: NS, labels: managedByLabels(by), annotations: managedByAnnotations(by) });
const podTemplate = (labels: Record<string, string>) => ({ metadata: { labels }, spec: { containers: [{ name: 'main', image: 'busybox' }], restartPolicy: 'Never' } });
const jobBody = (metadata: { name: string }) => ({ metadata, spec: { template: podTemplate({ job: metadata.name }) } });
const deploymentBody = (metadata: { name: string }) => ({ metadata, spec: { replicas: 1, selector: { matchLabels: { app: metadata.name } }, template: podTemplate({ app: metadata.name }) } });
const hpaBody = (metadata: { name: string }) => ({
  metadata,
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: metadata.name }, minReplicas: 1, maxReplicas: 2 },
});

/** Every host object of the kinds the Storm controllers create that `by` owns, as sorted `Kind/name@uid`. */
async function ownedObjects(by: OwnerRef): Promise<string[]> {
  const labelSelector = Object.entries(managedByLabels(by))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const lists: Array<[string, Promise<{ items: Array<{ metadata?: { name?: string; uid?: string } }> }>]> = [
    ['ConfigMap', core.listNamespacedConfigMap({ namespace: NS, labelSelector })],
    ['Service', core.listNamespacedService({ namespace: NS, labelSelector })],
    ['StatefulSet', apps.listNamespacedStatefulSet({ namespace: NS, labelSelector })],
    ['Deployment', apps.listNamespacedDeployment({ namespace: NS, labelSelector })],
    ['DaemonSet', apps.listNamespacedDaemonSet({ namespace: NS, labelSelector })],
    ['Job', batch.listNamespacedJob({ namespace: NS, labelSelector })],
    ['HorizontalPodAutoscaler', autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace: NS, labelSelector })],
  ];
  const out: string[] = [];
  for (const [kind, list] of lists) for (const item of (await list).items) out.push(`${kind}/${item.metadata?.name}@${item.metadata?.uid}`);
  return out.sort();
}
const kindsOf = (objects: string[]) => new Set(objects.map((o) => o.slice(0, o.indexOf('/'))));
const exists = (read: () => Promise<unknown>) =>
  read().then(
    () => true,
    (err: { code?: number }) => {
      if (err.code === 404) return false;
      throw err;
    },
  );

test.serial('orphans of StormClusters, StormWorkerPools and StormTopologies deleted while the server was down are swept at start and periodically; live owners’, other owners’ and foreign objects stay (stand-in host cluster, stand-in Nimbus)', async (t) => {
  // 1. The server runs two clusters (one with Deployment supervisors, one with a DaemonSet) and two
  // autoscaled worker pools; the topology `live` waits for a cluster that does not exist.
  const first = await stormServer(60 * 60_000);
  let running: TestServer | undefined = first;
  t.teardown(() => running?.stop());
  const clusters = first.stores.get(CLUSTERS)!;
  await create(clusters, sample('StormCluster', 'alive', NS));
  await create(clusters, sample('StormCluster', 'forced', NS, (c) => (c.spec.supervisor.deploymentMode = 'daemonset')));
  await create(first.stores.get(TOPOLOGIES)!, sample('StormTopology', 'live', NS, (tp) => (tp.spec.clusterRef = 'absent')));
  for (const name of ['alive', 'forced']) {
    await create(first.stores.get(POOLS)!, sample('StormWorkerPool', name, NS, (p) => Object.assign(p.spec, { topologyRef: 'live', clusterRef: 'alive' })));
  }
  const expected: Array<[OwnerRef, string[]]> = [
    [owner('StormCluster', 'alive'), ['ConfigMap', 'StatefulSet', 'Service', 'Deployment']],
    [owner('StormCluster', 'forced'), ['ConfigMap', 'StatefulSet', 'Service', 'DaemonSet']],
    [owner('StormWorkerPool', 'alive'), ['Deployment', 'Service', 'HorizontalPodAutoscaler']],
    [owner('StormWorkerPool', 'forced'), ['Deployment', 'Service', 'HorizontalPodAutoscaler']],
  ];
  for (const [by, kinds] of expected) {
    await eventually(async () => {
      const present = kindsOf(await ownedObjects(by));
      return kinds.every((k) => present.has(k));
    }, `${by.kind} ${by.name}'s host objects`);
  }
  await first.stop();
  running = undefined;
  const kept = { cluster: await ownedObjects(owner('StormCluster', 'alive')), pool: await ownedObjects(owner('StormWorkerPool', 'alive')) };
  const forced = { cluster: await ownedObjects(owner('StormCluster', 'forced')), pool: await ownedObjects(owner('StormWorkerPool', 'forced')) };
  t.true(kindsOf(forced.cluster).has('DaemonSet') && kindsOf(forced.pool).has('HorizontalPodAutoscaler'));

  // 2. While no controller runs: `forced` cluster and pool are deleted with their finalizers removed by hand.
  const offline = await startTestServer({ storage: storage() });
  try {
    for (const [resource, name] of [
      [CLUSTERS, 'forced'],
      [POOLS, 'forced'],
    ]) {
      const store: Store = offline.stores.get(resource)!;
      await update(store, await store.get({ namespace: NS, name }), (o: KubeObject) => (o.metadata.finalizers = []));
      await store.delete({ namespace: NS, name }, { dryRun: false });
      t.false(await exists(() => store.get({ namespace: NS, name })), `${resource} ${name} is gone from storage`);
    }
  } finally {
    await offline.stop();
  }
  // A submission Job of a topology that no longer exists, one of the live topology; managed objects
  // of other kinds' owners (not these controllers' to judge), and objects that are not ours.
  await batch.createNamespacedJob({ namespace: NS, body: jobBody(ownedMeta('gone-submit-1', owner('StormTopology', 'gone'))) });
  await batch.createNamespacedJob({ namespace: NS, body: jobBody(ownedMeta('live-submit-1', owner('StormTopology', 'live'))) });
  await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: ownedMeta('topology-owned', owner('StormTopology', 'nope')), data: {} } });
  await apps.createNamespacedDeployment({ namespace: NS, body: deploymentBody(ownedMeta('performer-owned', owner('Performer', 'not-here'))) });
  await apps.createNamespacedDeployment({ namespace: NS, body: deploymentBody({ name: 'bystander' }) });
  await batch.createNamespacedJob({ namespace: NS, body: jobBody({ name: 'bystander-job' }) });
  const liveJob = await ownedObjects(owner('StormTopology', 'live'));

  // 3. The server starts again: the sweep at the start of its term removes the orphans.
  const second = await stormServer(300);
  running = second;
  await eventually(async () => (await ownedObjects(owner('StormCluster', 'forced'))).length === 0, 'the deleted cluster’s objects swept');
  await eventually(async () => (await ownedObjects(owner('StormWorkerPool', 'forced'))).length === 0, 'the deleted pool’s objects swept');
  await eventually(async () => (await ownedObjects(owner('StormTopology', 'gone'))).length === 0, 'the deleted topology’s Job swept');

  // 4. Periodically after: orphans appearing later (a copy restored from a backup, a crash mid-create).
  await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: ownedMeta('ghost-config', owner('StormCluster', 'ghost')), data: {} } });
  await apps.createNamespacedStatefulSet({
    namespace: NS,
    body: { metadata: ownedMeta('ghost-nimbus', owner('StormCluster', 'ghost')), spec: { serviceName: 'ghost-nimbus', selector: { matchLabels: { app: 'ghost' } }, template: podTemplate({ app: 'ghost' }) } },
  });
  await autoscaling.createNamespacedHorizontalPodAutoscaler({ namespace: NS, body: hpaBody(ownedMeta('ghost-workers', owner('StormWorkerPool', 'ghost'))) });
  await core.createNamespacedService({ namespace: NS, body: { metadata: ownedMeta('ghost-workers', owner('StormWorkerPool', 'ghost')), spec: { ports: [{ port: 6700 }] } } });
  await batch.createNamespacedJob({ namespace: NS, body: jobBody(ownedMeta('ghost-submit-1', owner('StormTopology', 'ghost'))) });
  for (const kind of ['StormCluster', 'StormWorkerPool', 'StormTopology'] as const) {
    await eventually(async () => (await ownedObjects(owner(kind, 'ghost'))).length === 0, `a later orphan of a ${kind} swept`);
  }

  // Several sweeps later, nothing of a live owner, of another kind's owner or not ours was touched.
  const sweeps = 3;
  await new Promise((resolve) => setTimeout(resolve, sweeps * 300));
  t.deepEqual(await ownedObjects(owner('StormCluster', 'alive')), kept.cluster, 'the live cluster’s objects');
  t.deepEqual(await ownedObjects(owner('StormWorkerPool', 'alive')), kept.pool, 'the live pool’s objects');
  t.deepEqual(await ownedObjects(owner('StormTopology', 'live')), liveJob, 'the live topology’s Job');
  t.is((await ownedObjects(owner('StormTopology', 'nope'))).length, 1, 'a ConfigMap of another kind’s owner stays');
  t.is((await ownedObjects(owner('Performer', 'not-here'))).length, 1, 'a Deployment of another group’s owner stays');
  t.true(await exists(() => apps.readNamespacedDeployment({ namespace: NS, name: 'bystander' })), 'a Deployment that is not ours stays');
  t.true(await exists(() => batch.readNamespacedJob({ namespace: NS, name: 'bystander-job' })), 'a Job that is not ours stays');
  t.true(await exists(() => second.stores.get(CLUSTERS)!.get({ namespace: NS, name: 'alive' })));
});
