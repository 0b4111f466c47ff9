// The StormCluster controller in a real server against the stand-in host cluster (the project's own
// server with the built-in kinds; kube-apiserver cannot run here) and the stand-in Nimbus (a Thrift
// server from the same IDL; a real Nimbus cannot run here), through the real Thrift client pool.
import { AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import test from 'ava';
import { parse } from 'yaml';
import { STORM_CLUSTER_FINALIZER, stormClusterController } from '../../controllers/storm/cluster.js';
import { ThriftNimbusPool } from '../../controllers/storm/nimbus/index.js';
import { managedBySelector } from '../../controllers/host-client.js';
import { findCondition, type Condition } from '../../controllers/status.js';
import { decodeObject } from '../../registry/codec.js';
import type { KubeObject } from '../../registry/meta.js';
import type { Store } from '../../registry/store.js';
import { NIMBUS } from '../../registry/storm.apache.org/upstreams.js';
import { eventually, sample } from '../controllers/helpers.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startHostCluster, type HostCluster } from '../hostcluster/index.js';
import { startStandInNimbus, type StandInNimbus } from '../stand-ins/nimbus/index.js';

let host: HostCluster;
let nimbus: StandInNimbus;
let pool: ThriftNimbusPool;
let server: TestServer;
let clusters: Store;
let core: CoreV1Api;
let apps: AppsV1Api;

test.before(async () => {
  host = await startHostCluster();
  core = host.kubeConfig().makeApiClient(CoreV1Api);
  apps = host.kubeConfig().makeApiClient(AppsV1Api);
  for (const name of ['create-ns', 'ref-ns', 'life-ns', 'ds-ns']) await core.createNamespace({ body: { metadata: { name } } });
  nimbus = await startStandInNimbus();
  nimbus.supervisors = [
    { host: 'sup-0', uptimeSecs: 10, numWorkers: 4, numUsedWorkers: 3, supervisorId: 's0' },
    { host: 'sup-1', uptimeSecs: 10, numWorkers: 4, numUsedWorkers: 1, supervisorId: 's1' },
    { host: 'sup-2', uptimeSecs: 10, numWorkers: 4, numUsedWorkers: 0, supervisorId: 's2' },
  ];
  nimbus.nimbuses = [
    { host: 'prod-nimbus-0', port: 6627, uptimeSecs: 50, isLeader: true, version: '2.6.0' },
    { host: 'prod-nimbus-1', port: 6627, uptimeSecs: 40, isLeader: false, version: '2.6.0' },
  ];
  nimbus.addTopology({ name: 'a', id: 'a-1-1' });
  nimbus.addTopology({ name: 'b', id: 'b-1-1' });
  pool = new ThriftNimbusPool({ resolve: () => nimbus.address });
  server = await startTestServer(
    { storage: 'memory', kubeconfig: host.kubeconfigPath, controllers: '*' },
    { extensions: { controllers: [stormClusterController({ pollMs: 150, notReadyPollMs: 100 })], upstreams: [[NIMBUS, pool]] } },
  );
  clusters = server.stores.get('stormclusters.storm.apache.org')!;
});

test.after.always(async () => {
  await server?.stop();
  await pool?.close();
  await nimbus?.stop();
  await host?.stop();
});

async function createCluster(obj: KubeObject): Promise<void> {
  await clusters.create(obj.metadata.namespace, decodeObject(clusters.decl, clusters.decl.versions[0]!, structuredClone(obj), 'Strict'), { dryRun: false });
}

async function editCluster(namespace: string, name: string, edit: (o: any) => void): Promise<void> {
  await clusters.update({ namespace, name }, (current) => {
    const copy = structuredClone(current) as any;
    edit(copy);
    return decodeObject(clusters.decl, clusters.decl.versions[0]!, copy, 'Strict');
  }, { dryRun: false });
}

const getCluster = (namespace: string, name: string) => clusters.get({ namespace, name });
const available = (obj: KubeObject) => findCondition(obj.status?.conditions as Condition[] | undefined, 'Available');
const notFound = async (read: () => Promise<unknown>) => read().then(() => false, (err: { code?: number }) => err.code === 404);

/** A create-mode cluster whose Nimbus client does not retry (a down Nimbus shows at once). */
const createModeCluster = (namespace: string, name: string, edit: (c: any) => void = () => {}) =>
  sample('StormCluster', name, namespace, (c) => {
    Object.assign(c.spec.nimbus.thrift, { maxRetries: 0, connectionTimeout: 2 });
    c.spec.config = { 'topology.workers': '2', 'topology.debug': 'false', 'custom.key': 'a value' };
    edit(c);
  });

test.serial('create mode makes Nimbus, Supervisors, UI, Services and storm.yaml, and reports status from getClusterInfo (stand-in host cluster, stand-in Nimbus)', async (t) => {
  const ns = 'create-ns';
  await createCluster(createModeCluster(ns, 'prod'));

  // The UI Service is applied last.
  await eventually(() => core.readNamespacedService({ namespace: ns, name: 'prod-ui' }), 'the host objects');
  const sts = await apps.readNamespacedStatefulSet({ namespace: ns, name: 'prod-nimbus' });
  t.is(sts.spec!.replicas, 2);
  t.is(sts.spec!.serviceName, 'prod-nimbus-headless');
  const nimbusContainer = sts.spec!.template.spec!.containers[0]!;
  t.is(nimbusContainer.image, 'docker.io/apache/storm:2.6.0');
  t.deepEqual(nimbusContainer.command, ['storm', 'nimbus']);
  t.deepEqual(nimbusContainer.ports!.map((p) => [p.name, p.containerPort]), [['thrift', 6627]]);
  t.like(sts.spec!.volumeClaimTemplates![0], { metadata: { name: 'data' }, spec: { storageClassName: 'standard', resources: { requests: { storage: '8Gi' } } } });
  t.like(sts.metadata!.labels, { 'app.kubernetes.io/component': 'nimbus', 'app.kubernetes.io/instance': 'prod' });

  const supervisors = await apps.readNamespacedDeployment({ namespace: ns, name: 'prod-supervisor' });
  t.is(supervisors.spec!.replicas, 3);
  const supervisor = supervisors.spec!.template.spec!;
  t.deepEqual(supervisor.containers[0]!.ports!.map((p) => p.containerPort), [6700, 6701, 6702, 6703]);
  t.deepEqual(supervisor.nodeSelector, { workload: 'storm' });
  t.is(supervisor.tolerations![0]!.key, 'dedicated');
  const ui = await apps.readNamespacedDeployment({ namespace: ns, name: 'prod-ui' });
  t.deepEqual(ui.spec!.template.spec!.containers[0]!.command, ['storm', 'ui']);

  const nimbusSvc = await core.readNamespacedService({ namespace: ns, name: 'prod-nimbus' });
  t.deepEqual(nimbusSvc.spec!.ports!.map((p) => [p.name, p.port, p.targetPort]), [['thrift', 6627, 6627]]);
  t.is((await core.readNamespacedService({ namespace: ns, name: 'prod-nimbus-headless' })).spec!.clusterIP, 'None');
  t.deepEqual((await core.readNamespacedService({ namespace: ns, name: 'prod-ui' })).spec!.ports!.map((p) => [p.port, p.targetPort]), [[8080, 8080]]);

  const config = await core.readNamespacedConfigMap({ namespace: ns, name: 'prod-config' });
  const yaml = parse(config.data!['storm.yaml']!);
  t.like(yaml, {
    'storm.zookeeper.servers': ['zookeeper-0.zookeeper-headless.storm.svc.cluster.local', 'zookeeper-1.zookeeper-headless.storm.svc.cluster.local', 'zookeeper-2.zookeeper-headless.storm.svc.cluster.local'],
    'storm.zookeeper.port': 2181,
    'storm.zookeeper.root': '/storm',
    'storm.zookeeper.connection.timeout': 15000,
    'storm.zookeeper.session.timeout': 20000,
    'nimbus.seeds': ['prod-nimbus-0.prod-nimbus-headless.create-ns.svc', 'prod-nimbus-1.prod-nimbus-headless.create-ns.svc'],
    'supervisor.slots.ports': [6700, 6701, 6702, 6703],
    'topology.workers': 2,
    'topology.debug': false,
    'custom.key': 'a value',
  });
  for (const obj of [sts, supervisors, ui, nimbusSvc, config]) t.like(obj.metadata!.labels, { 'app.kubernetes.io/managed-by': 'operators-apiserver', 'operators-apiserver.io/owner-name': 'prod' });

  const running = await eventually(async () => {
    const obj = await getCluster(ns, 'prod');
    return obj.status?.phase === 'Running' && obj.status?.supervisorReady === 3 ? obj : undefined;
  }, 'the cluster to run');
  t.like(running.status, {
    nimbusReady: 2,
    supervisorReady: 3,
    uiReady: 1,
    nimbusLeader: 'prod-nimbus-0',
    nimbusNodes: ['prod-nimbus-0', 'prod-nimbus-1'],
    totalSlots: 12,
    usedSlots: 4,
    freeSlots: 8,
    slotsInfo: '4/12',
    topologyCount: 2,
    endpoints: { nimbus: 'prod-nimbus.create-ns.svc:6627', ui: 'http://prod-ui.create-ns.svc:8080', restApi: 'http://prod-ui.create-ns.svc:8080/api/v1' },
  });
  t.like(available(running), { status: 'True', reason: 'Running' });
  t.true(running.metadata.finalizers?.includes(STORM_CLUSTER_FINALIZER));
  t.true(nimbus.callsOf('getClusterInfo').length > 0);
});

test.serial('Nimbus down: Available False and no stale Nimbus numbers; recovery when it returns (stand-in host cluster, stand-in Nimbus)', async (t) => {
  const ns = 'create-ns';
  await eventually(async () => (await getCluster(ns, 'prod')).status?.phase === 'Running', 'the cluster to run');
  await nimbus.setDown(true);
  try {
    const down = await eventually(async () => {
      const obj = await getCluster(ns, 'prod');
      return available(obj)?.reason === 'NimbusUnavailable' ? obj : undefined;
    }, 'Available to turn False');
    t.like(available(down), { status: 'False' });
    t.regex(available(down)!.message!, /^Nimbus at prod-nimbus\.create-ns\.svc:6627 cannot be reached: /);
    t.is(down.status?.phase, 'Failed');
    for (const field of ['totalSlots', 'usedSlots', 'freeSlots', 'slotsInfo', 'topologyCount', 'nimbusLeader']) t.false(field in down.status!, `${field} removed`);
    t.is(down.status?.nimbusReady, 2, 'the workloads are still observed');
  } finally {
    await nimbus.setDown(false);
  }
  const back = await eventually(async () => {
    const obj = await getCluster(ns, 'prod');
    return available(obj)?.status === 'True' ? obj : undefined;
  }, 'Available to turn True again');
  t.like(back.status, { phase: 'Running', slotsInfo: '4/12', topologyCount: 2 });
});

test.serial('reference mode observes the named resources and creates nothing (stand-in host cluster, stand-in Nimbus)', async (t) => {
  const ns = 'ref-ns';
  const labels = { app: 'existing-storm' };
  const template = { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'apache/storm:2.6.0' }] } };
  await apps.createNamespacedStatefulSet({ namespace: ns, body: { metadata: { name: 'their-nimbus' }, spec: { replicas: 1, serviceName: 'their-nimbus', selector: { matchLabels: labels }, template } } });
  await apps.createNamespacedDeployment({ namespace: ns, body: { metadata: { name: 'their-supervisors' }, spec: { replicas: 2, selector: { matchLabels: labels }, template } } });
  await core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'their-nimbus' }, spec: { selector: labels, ports: [{ port: 6627 }] } } });

  await createCluster(
    sample('StormCluster', 'theirs', ns, (c) => {
      c.spec = {
        managementMode: 'reference',
        resourceNames: { nimbusStatefulSet: 'their-nimbus', supervisorDeployment: 'their-supervisors', nimbusService: 'their-nimbus', uiService: 'their-ui' },
        nimbus: { thrift: { maxRetries: 0 } },
        ui: { enabled: false },
      };
    }),
  );
  const missing = await eventually(async () => {
    const obj = await getCluster(ns, 'theirs');
    return available(obj)?.reason === 'ResourcesNotFound' ? obj : undefined;
  }, 'the missing UI Service to be reported');
  t.regex(available(missing)!.message!, /Service their-ui/);
  t.is(missing.status?.phase, 'Pending');

  await core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'their-ui' }, spec: { selector: labels, ports: [{ port: 8080 }] } } });
  const running = await eventually(async () => {
    const obj = await getCluster(ns, 'theirs');
    return obj.status?.phase === 'Running' ? obj : undefined;
  }, 'the referenced cluster to run');
  t.like(running.status, { nimbusReady: 1, supervisorReady: 2, slotsInfo: '4/12', endpoints: { nimbus: 'their-nimbus.ref-ns.svc:6627', ui: 'http://their-ui.ref-ns.svc:8080' } });
  t.false(running.metadata.finalizers?.includes(STORM_CLUSTER_FINALIZER) ?? false);
  const selector = managedBySelector(running);
  t.is((await apps.listNamespacedStatefulSet({ namespace: ns, labelSelector: selector })).items.length, 0);
  t.is((await apps.listNamespacedDeployment({ namespace: ns, labelSelector: selector })).items.length, 0);
  t.is((await core.listNamespacedService({ namespace: ns, labelSelector: selector })).items.length, 0);
  t.is((await core.listNamespacedConfigMap({ namespace: ns, labelSelector: selector })).items.length, 0);
});

test.serial('spec changes reach the host objects, disabled parts are pruned, deletion removes everything (stand-in host cluster, stand-in Nimbus)', async (t) => {
  const ns = 'life-ns';
  await createCluster(createModeCluster(ns, 'life'));
  await eventually(() => apps.readNamespacedDeployment({ namespace: ns, name: 'life-ui' }), 'the UI Deployment');

  await editCluster(ns, 'life', (c) => {
    c.spec.ui.enabled = false;
    c.spec.supervisor.replicas = 5;
    c.spec.config['topology.workers'] = '6';
  });
  await eventually(async () => (await notFound(() => apps.readNamespacedDeployment({ namespace: ns, name: 'life-ui' }))) && (await notFound(() => core.readNamespacedService({ namespace: ns, name: 'life-ui' }))), 'the UI to be pruned');
  await eventually(async () => (await apps.readNamespacedDeployment({ namespace: ns, name: 'life-supervisor' })).spec?.replicas === 5, 'supervisors scaled');
  await eventually(async () => parse((await core.readNamespacedConfigMap({ namespace: ns, name: 'life-config' })).data!['storm.yaml']!)['topology.workers'] === 6, 'storm.yaml updated');
  const status = await eventually(async () => {
    const obj = await getCluster(ns, 'life');
    return obj.status?.observedGeneration === obj.metadata.generation && obj.status?.phase === 'Running' ? obj : undefined;
  }, 'the new generation observed');
  t.false('uiReady' in status.status!);
  t.false('ui' in (status.status!.endpoints as object));

  await clusters.delete({ namespace: ns, name: 'life' }, { dryRun: false });
  await eventually(() => notFound(() => getCluster(ns, 'life')), 'the cluster to be deleted');
  const selector = managedBySelector({ group: 'storm.apache.org', kind: 'StormCluster', namespace: ns, name: 'life' });
  t.is((await apps.listNamespacedStatefulSet({ namespace: ns })).items.length, 0);
  t.is((await apps.listNamespacedDeployment({ namespace: ns })).items.length, 0);
  t.is((await core.listNamespacedService({ namespace: ns })).items.length, 0);
  t.is((await core.listNamespacedConfigMap({ namespace: ns, labelSelector: selector })).items.length, 0);
});

test.serial('Supervisors as a DaemonSet: its shape, supervisorReady from numberReady, switching mode removes the other object (stand-in host cluster, stand-in Nimbus)', async (t) => {
  const ns = 'ds-ns';
  const readDaemonSet = () => apps.readNamespacedDaemonSet({ namespace: ns, name: 'daemon-supervisor' });
  const readDeployment = () => apps.readNamespacedDeployment({ namespace: ns, name: 'daemon-supervisor' });
  const supervisorReadyIs = (n: number) =>
    eventually(async () => {
      const obj = await getCluster(ns, 'daemon');
      return obj.status?.observedGeneration === obj.metadata.generation && obj.status?.phase === 'Running' && obj.status?.supervisorReady === n ? obj : undefined;
    }, `supervisorReady ${n}`);
  // The sample's supervisors select nodes labelled workload=storm; no node has it yet.
  await createCluster(createModeCluster(ns, 'daemon', (c) => (c.spec.supervisor.deploymentMode = 'daemonset')));

  const ds = await eventually(() => readDaemonSet().catch(() => undefined), 'the supervisor DaemonSet');
  t.like(ds.metadata!.labels, { 'app.kubernetes.io/managed-by': 'operators-apiserver', 'app.kubernetes.io/component': 'supervisor', 'operators-apiserver.io/owner-name': 'daemon' });
  t.false('replicas' in (ds.spec as object), 'a DaemonSet has no replica count');
  const pod = ds.spec!.template.spec!;
  t.like(ds.spec!.template.metadata!.labels, ds.spec!.selector.matchLabels!, 'the selector matches its pods');
  t.deepEqual(pod.containers[0]!.command, ['storm', 'supervisor']);
  t.deepEqual(pod.containers[0]!.ports!.map((p) => p.containerPort), [6700, 6701, 6702, 6703]);
  t.deepEqual(pod.nodeSelector, { workload: 'storm' });
  t.true(await notFound(readDeployment), 'no supervisor Deployment in daemonset mode');
  await supervisorReadyIs(0);

  // A node that matches the selector: the DaemonSet's pod there is ready, and status follows.
  await core.patchNode({ name: 'node-1', body: { metadata: { labels: { workload: 'storm' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  await eventually(async () => (await readDaemonSet()).status?.numberReady === 1, 'the DaemonSet ready on node-1');
  await supervisorReadyIs(1);

  // deployment mode: the Deployment replaces the DaemonSet.
  await editCluster(ns, 'daemon', (c) => (c.spec.supervisor.deploymentMode = 'deployment'));
  await eventually(() => notFound(readDaemonSet), 'the DaemonSet pruned');
  t.is((await readDeployment()).spec!.replicas, 3);
  await supervisorReadyIs(3);

  // And back.
  await editCluster(ns, 'daemon', (c) => (c.spec.supervisor.deploymentMode = 'daemonset'));
  await eventually(() => notFound(readDeployment), 'the Deployment pruned');
  await eventually(() => readDaemonSet().catch(() => undefined), 'the DaemonSet again');
  await supervisorReadyIs(1);

  await clusters.delete({ namespace: ns, name: 'daemon' }, { dryRun: false });
  await eventually(() => notFound(() => getCluster(ns, 'daemon')), 'the cluster to be deleted');
  t.is((await apps.listNamespacedDaemonSet({ namespace: ns })).items.length, 0, 'deletion removes the DaemonSet');
});
