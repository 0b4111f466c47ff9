// Controller faults, host cluster, StormCluster and StormWorkerPool (issue 13, as
// controller-faults-executor for the HourglassExecutor): the host's API goes away — every request
// answered 503, or its port refusing connections — while a cluster and a worker pool run, a new one
// of each is created, one of each is deleted and one of each has its spec changed. Nothing on the
// host is deleted or created, the deleted ones keep their finalizers, every status says
// HostClusterUnavailable (Available=Unknown for a cluster, Ready=Unknown for a pool) with the last
// observed phase and numbers, the numbers that come from Nimbus (which stays up) still follow it,
// and each object is polled at its normal interval, not the growing per-key backoff. Once the host
// answers everything converges: objects created, changed ones updated in place, disabled parts
// pruned, deletions completed.
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import test from 'ava';
import { parse } from 'yaml';
import { STORM_CLUSTER_CONTROLLER, STORM_CLUSTER_FINALIZER, stormClusterController } from '../../controllers/storm/cluster.js';
import { ThriftNimbusPool } from '../../controllers/storm/nimbus/index.js';
import { WORKER_POOL_FINALIZER, workerPoolController } from '../../controllers/storm/workerpool.js';
import type { KubeObject } from '../../registry/meta.js';
import type { Store } from '../../registry/store.js';
import { NIMBUS } from '../../registry/storm.apache.org/upstreams.js';
import { create, eventually as eventuallyWithin, sample } from '../controllers/helpers.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startHostCluster, type HostCluster } from '../hostcluster/index.js';
import { absent, condition, EXPECTED_ERROR, inHost, OUTAGES, reconciles } from './host-outage.js';
import { startStandInNimbus, type StandInNimbus } from '../stand-ins/nimbus/index.js';
import { editObject, topologyObject } from '../storm/topology-harness.js';

const CLUSTERS = 'stormclusters.storm.apache.org';
const POOLS = 'stormworkerpools.storm.apache.org';
const TOPOLOGIES = 'stormtopologies.storm.apache.org';
const WORKER_POOL_CONTROLLER = 'storm-workerpool';
/** Generous: two cores shared with other test runs. */
const DEADLINE_MS = 90_000;

let host: HostCluster;
let nimbus: StandInNimbus;
let pool: ThriftNimbusPool;
let core: CoreV1Api;
let apps: AppsV1Api;

test.before(async () => {
  host = await startHostCluster();
  core = host.kubeConfig().makeApiClient(CoreV1Api);
  apps = host.kubeConfig().makeApiClient(AppsV1Api);
  for (const outage of OUTAGES) await core.createNamespace({ body: { metadata: { name: `storm-faults-${outage}` } } });
  nimbus = await startStandInNimbus();
  nimbus.supervisors = [
    { host: 'sup-0', uptimeSecs: 10, numWorkers: 4, numUsedWorkers: 3, supervisorId: 's0' },
    { host: 'sup-1', uptimeSecs: 10, numWorkers: 4, numUsedWorkers: 1, supervisorId: 's1' },
  ];
  nimbus.nimbuses = [{ host: 'nimbus-0', port: 6627, uptimeSecs: 50, isLeader: true, version: '2.6.0' }];
  // Every cluster's Nimbus address resolves to the stand-in.
  pool = new ThriftNimbusPool({ resolve: () => nimbus.address });
});
test.after.always(async () => {
  await host?.setOutage(undefined);
  await pool?.close();
  await nimbus?.stop();
  await host?.stop();
});

const eventually = <T>(probe: () => Promise<T | undefined | false>, what: string) => eventuallyWithin(probe, what, DEADLINE_MS);

/** A create-mode cluster (Nimbus ×2, Supervisors ×3, UI) whose Nimbus client does not retry. */
const clusterObject = (ns: string, name: string) =>
  sample('StormCluster', name, ns, (c) => {
    Object.assign(c.spec.nimbus.thrift, { maxRetries: 0, connectionTimeout: 2 });
    c.spec.config = { 'topology.workers': '2' };
  });
const poolObject = (ns: string, name: string, replicas: number): KubeObject => ({
  apiVersion: 'storm.apache.org/v1beta1',
  kind: 'StormWorkerPool',
  metadata: { name, namespace: ns },
  spec: { topologyRef: 'wordcount', replicas },
});

async function runningCluster(store: Store, ns: string, name: string): Promise<KubeObject> {
  await create(store, clusterObject(ns, name));
  return eventually(async () => {
    const o = await store.get({ namespace: ns, name });
    return o.status?.phase === 'Running' && o.status?.supervisorReady === 3 && o.status?.uiReady === 1 ? o : undefined;
  }, `cluster ${ns}/${name} Running`);
}

async function runningPool(store: Store, ns: string, name: string, replicas: number): Promise<KubeObject> {
  await create(store, poolObject(ns, name, replicas));
  return eventually(async () => {
    const o = await store.get({ namespace: ns, name });
    return o.status?.phase === 'Running' && o.status?.readyReplicas === replicas ? o : undefined;
  }, `pool ${ns}/${name} Running`);
}

/**
 * Waits for the report of the outage on condition `type` while `doing`, naming `error` (and for
 * `also`). A call in flight as the listener closes sees ECONNRESET; later polls name the outage's
 * steady error.
 */
async function reportsOutage(store: Store, ns: string, name: string, type: string, doing: string, error: RegExp, also: (o: KubeObject) => boolean = () => true): Promise<KubeObject> {
  return eventually(async () => {
    const o = await store.get({ namespace: ns, name });
    const c = condition(o, type);
    return c?.reason === 'HostClusterUnavailable' && c.message?.startsWith(`the host cluster cannot be reached while ${doing}: `) && error.test(c.message) && also(o) ? o : undefined;
  }, `${ns}/${name} reporting ${type} HostClusterUnavailable (${error}) while ${doing}`);
}

for (const outage of OUTAGES) {
  test.serial(`StormCluster and StormWorkerPool, host cluster ${outage}: nothing deleted or created, deletes wait behind the finalizers, Available/Ready=Unknown HostClusterUnavailable with the last observed numbers; converges after (stand-in host cluster, stand-in Nimbus)`, async (t) => {
    const ns = `storm-faults-${outage}`;
    const server: TestServer = await startTestServer(
      { storage: 'memory', kubeconfig: host.kubeconfigPath, controllers: '*', 'leader-elect': 'false' },
      {
        extensions: {
          controllers: [stormClusterController({ pollMs: 150, notReadyPollMs: 100 }), workerPoolController({ pollMs: 100, steadyPollMs: 150 })],
          upstreams: [[NIMBUS, pool]],
        },
      },
    );
    t.teardown(() => server.stop());
    const clusters = server.stores.get(CLUSTERS)!;
    const pools = server.stores.get(POOLS)!;

    const steady = await runningCluster(clusters, ns, 'steady');
    await runningCluster(clusters, ns, 'doomed');
    // The pools' topology (no topology controller runs: it only has to exist).
    await create(server.stores.get(TOPOLOGIES)!, topologyObject(ns, 'wordcount', (s) => (s.clusterRef = 'steady')));
    await runningPool(pools, ns, 'steady-pool', 2);
    await runningPool(pools, ns, 'doomed-pool', 1);
    const uid = async (read: () => Promise<{ metadata?: { uid?: string } }>) => (await read()).metadata!.uid!;
    const before = {
      nimbusSts: await uid(() => apps.readNamespacedStatefulSet({ namespace: ns, name: 'steady-nimbus' })),
      supervisors: await uid(() => apps.readNamespacedDeployment({ namespace: ns, name: 'steady-supervisor' })),
      config: await uid(() => core.readNamespacedConfigMap({ namespace: ns, name: 'steady-config' })),
      doomedSts: await uid(() => apps.readNamespacedStatefulSet({ namespace: ns, name: 'doomed-nimbus' })),
      workers: await uid(() => apps.readNamespacedDeployment({ namespace: ns, name: 'steady-pool-workers' })),
      workerService: await uid(() => core.readNamespacedService({ namespace: ns, name: 'steady-pool-workers' })),
      doomedWorkers: await uid(() => apps.readNamespacedDeployment({ namespace: ns, name: 'doomed-pool-workers' })),
    };
    const topologiesBefore = steady.status?.topologyCount as number;

    const failedBefore = { cluster: await reconciles(STORM_CLUSTER_CONTROLLER, 'error'), pool: await reconciles(WORKER_POOL_CONTROLLER, 'error') };
    await host.setOutage(outage);
    let ended = false;
    t.teardown(async () => {
      if (!ended) await host.setOutage(undefined);
    });
    // The work while the host is away: new objects, deleted ones, spec changes (the UI disabled,
    // more supervisors, storm.yaml; more workers).
    await create(clusters, clusterObject(ns, 'late'));
    await create(pools, poolObject(ns, 'late-pool', 1));
    await clusters.delete({ namespace: ns, name: 'doomed' }, { dryRun: false });
    await pools.delete({ namespace: ns, name: 'doomed-pool' }, { dryRun: false });
    await editObject(clusters, ns, 'steady', (c) => {
      c.spec.ui.enabled = false;
      c.spec.supervisor.replicas = 5;
      c.spec.config['topology.workers'] = '6';
    });
    await editObject(pools, ns, 'steady-pool', (p) => (p.spec.replicas = 4));
    // Nimbus is not behind the host's API: its numbers keep following it.
    nimbus.addTopology({ name: `during-${outage}` });

    const error = EXPECTED_ERROR[outage];
    const late = await reportsOutage(clusters, ns, 'late', 'Available', 'applying its host objects', error);
    t.is(condition(late, 'Available')!.status, 'Unknown');
    t.is(late.status?.phase, undefined, 'no phase was ever observed, none is claimed');
    const blocked = await reportsOutage(clusters, ns, 'doomed', 'Available', 'deleting its host objects', error);
    t.truthy(blocked.metadata.deletionTimestamp);
    t.deepEqual(blocked.metadata.finalizers, [STORM_CLUSTER_FINALIZER], 'the finalizer stays until the host objects can be removed');
    // (Reported with the topology Nimbus gained during the outage.)
    const edited = await reportsOutage(clusters, ns, 'steady', 'Available', 'applying its host objects', error, (o) => o.status?.topologyCount === topologiesBefore + 1);
    t.is(condition(edited, 'Available')!.status, 'Unknown');
    t.like(edited.status, { phase: 'Running', nimbusReady: 2, supervisorReady: 3, uiReady: 1, slotsInfo: '4/8', nimbusLeader: 'nimbus-0' }, 'the last observed workloads are kept; the Nimbus numbers are current');

    const latePool = await reportsOutage(pools, ns, 'late-pool', 'Ready', 'applying its worker objects', error);
    t.is(condition(latePool, 'Ready')!.status, 'Unknown');
    const blockedPool = await reportsOutage(pools, ns, 'doomed-pool', 'Ready', 'deleting its worker objects', error);
    t.truthy(blockedPool.metadata.deletionTimestamp);
    t.deepEqual(blockedPool.metadata.finalizers, [WORKER_POOL_FINALIZER], 'the finalizer stays until the worker objects can be removed');
    const editedPool = await reportsOutage(pools, ns, 'steady-pool', 'Ready', 'applying its worker objects', error);
    t.like(editedPool.status, { phase: 'Running', replicas: 2, readyReplicas: 2, deploymentName: 'steady-pool-workers' }, 'the last observed phase and counts are kept');
    t.regex(editedPool.status?.message as string, /^the host cluster cannot be reached while applying its worker objects: /);

    // More polls at the normal interval, each finding the host away: still nothing done blind.
    const reportedAt = { cluster: condition(edited, 'Available')!.lastTransitionTime, pool: condition(editedPool, 'Ready')!.lastTransitionTime };
    const polled = { cluster: await reconciles(STORM_CLUSTER_CONTROLLER, 'requeue_after'), pool: await reconciles(WORKER_POOL_CONTROLLER, 'requeue_after') };
    await eventually(
      async () => (await reconciles(STORM_CLUSTER_CONTROLLER, 'requeue_after')) >= polled.cluster + 12 && (await reconciles(WORKER_POOL_CONTROLLER, 'requeue_after')) >= polled.pool + 12,
      'a dozen more polls of each controller during the outage',
    );
    t.is(condition(await clusters.get({ namespace: ns, name: 'steady' }), 'Available')?.lastTransitionTime, reportedAt.cluster, 'Available stays Unknown (no flapping)');
    t.is(condition(await pools.get({ namespace: ns, name: 'steady-pool' }), 'Ready')?.lastTransitionTime, reportedAt.pool, 'Ready stays Unknown (no flapping)');
    t.is(await reconciles(STORM_CLUSTER_CONTROLLER, 'error'), failedBefore.cluster, 'every cluster reconcile during the outage reported it and polled; none failed into the backoff');
    t.is(await reconciles(WORKER_POOL_CONTROLLER, 'error'), failedBefore.pool, 'every pool reconcile during the outage reported it and polled; none failed into the backoff');
    t.is((await inHost(host, 'deployments.apps', ns, 'steady-supervisor'))?.spec?.replicas, 3, 'the supervisors not scaled while the host is away');
    t.truthy(await inHost(host, 'deployments.apps', ns, 'steady-ui'), 'the UI not pruned while the host is away');
    t.is((await inHost(host, 'statefulsets.apps', ns, 'doomed-nimbus'))?.metadata.uid, before.doomedSts, 'the deleted cluster’s Nimbus is still there');
    t.is(await inHost(host, 'statefulsets.apps', ns, 'late-nimbus'), undefined, 'nothing created for the new cluster');
    t.is(await inHost(host, 'configmaps.core', ns, 'late-config'), undefined);
    t.is((await inHost(host, 'deployments.apps', ns, 'steady-pool-workers'))?.spec?.replicas, 2, 'the workers not scaled while the host is away');
    t.is((await inHost(host, 'deployments.apps', ns, 'doomed-pool-workers'))?.metadata.uid, before.doomedWorkers, 'the deleted pool’s workers are still there');
    t.is(await inHost(host, 'deployments.apps', ns, 'late-pool-workers'), undefined, 'nothing created for the new pool');

    const backAt = Date.now();
    await host.setOutage(undefined);
    ended = true;
    await eventually(async () => (await clusters.get({ namespace: ns, name: 'late' })).status?.phase === 'Running', 'the cluster created during the outage runs');
    await eventually(() => absent(() => clusters.get({ namespace: ns, name: 'doomed' })), 'the deleted cluster gone after its clean-up');
    await eventually(async () => (await pools.get({ namespace: ns, name: 'late-pool' })).status?.readyReplicas === 1, 'the pool created during the outage runs');
    await eventually(() => absent(() => pools.get({ namespace: ns, name: 'doomed-pool' })), 'the deleted pool gone after its clean-up');
    const converged = await eventually(async () => {
      const o = await clusters.get({ namespace: ns, name: 'steady' });
      return condition(o, 'Available')?.status === 'True' && o.status?.observedGeneration === o.metadata.generation && o.status?.supervisorReady === 5 ? o : undefined;
    }, 'the steady cluster Available again at its new generation');
    const convergedPool = await eventually(async () => {
      const o = await pools.get({ namespace: ns, name: 'steady-pool' });
      return condition(o, 'Ready')?.status === 'True' && o.status?.readyReplicas === 4 ? o : undefined;
    }, 'the steady pool Ready again with 4 workers');
    await eventually(() => absent(() => apps.readNamespacedDeployment({ namespace: ns, name: 'steady-ui' })), 'the disabled UI pruned');
    t.log(`storm, host ${outage}: all work done ${Date.now() - backAt} ms after the host came back`);

    t.like(converged.status, { phase: 'Running', topologyCount: topologiesBefore + 1 });
    t.false('uiReady' in converged.status!);
    t.true(await absent(() => core.readNamespacedService({ namespace: ns, name: 'steady-ui' })));
    const supervisors = await apps.readNamespacedDeployment({ namespace: ns, name: 'steady-supervisor' });
    t.is(supervisors.spec?.replicas, 5);
    t.is(supervisors.metadata?.uid, before.supervisors, 'the supervisor Deployment was updated in place, not recreated');
    t.is((await apps.readNamespacedStatefulSet({ namespace: ns, name: 'steady-nimbus' })).metadata?.uid, before.nimbusSts, 'the Nimbus StatefulSet is the same one');
    const config = await core.readNamespacedConfigMap({ namespace: ns, name: 'steady-config' });
    t.is(config.metadata?.uid, before.config, 'the ConfigMap was updated in place');
    t.is(parse(config.data!['storm.yaml']!)['topology.workers'], 6);
    t.true(await absent(() => apps.readNamespacedStatefulSet({ namespace: ns, name: 'doomed-nimbus' })));
    t.true(await absent(() => core.readNamespacedConfigMap({ namespace: ns, name: 'doomed-config' })));

    t.like(convergedPool.status, { phase: 'Running', replicas: 4, message: 'All 4 worker(s) are ready' });
    const workers = await apps.readNamespacedDeployment({ namespace: ns, name: 'steady-pool-workers' });
    t.is(workers.spec?.replicas, 4);
    t.is(workers.metadata?.uid, before.workers, 'the worker Deployment was updated in place, not recreated');
    t.is((await core.readNamespacedService({ namespace: ns, name: 'steady-pool-workers' })).metadata?.uid, before.workerService);
    t.true(await absent(() => apps.readNamespacedDeployment({ namespace: ns, name: 'doomed-pool-workers' })));
    t.true(await absent(() => core.readNamespacedService({ namespace: ns, name: 'doomed-pool-workers' })));
  });
}
