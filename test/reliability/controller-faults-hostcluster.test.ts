// Controller faults, host cluster (issue 13): the Hourglass Performer controller runs Pods and
// Services on the stand-in host cluster. The host's API goes away — every request answered 503
// (a kube-apiserver without its etcd), or its port refusing connections — while a Performer is
// created and another deleted. Nothing on the host may be deleted or recreated by mistake, a
// deleted Performer keeps its finalizer until its Pods can really be removed, and the statuses
// (in our own storage, which stays up) say the host cluster cannot be reached. When the host
// returns the work resumes by itself. A last scenario runs with leader election on the host's
// Lease: the outage costs the leadership, and the next term picks the work up. The pvc-chonker
// controller gets the same outages while its claims fill past the threshold: nothing is resized,
// its groups say the host cannot be reached, and the expansion happens once it can. The
// StormTopology controller gets them while a new topology needs its submission Job: the running
// one is not touched, the new one says why it waits, and it is submitted once the host is back.
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import test from 'ava';
import { PERFORMER_FINALIZER } from '../../controllers/hourglass/performer.js';
import type { PerformerStatus } from '../../registry/hourglass.eigenlayer.io/performer/types.js';
import type { KubeObject } from '../../registry/meta.js';
import type { Store } from '../../registry/store.js';
import { create, sample } from '../controllers/helpers.js';
import { eventually, PERFORMERS, StandInNetwork, startHourglassServer, type HourglassServer } from '../hourglass/helpers.js';
import { startHostCluster, type HostCluster } from '../hostcluster/index.js';
import { absent, condition, EXPECTED_ERROR, OUTAGES } from './host-outage.js';
import { startStandInPerformer, type StandInPerformer } from '../stand-ins/performer/index.js';
import { HOST_UNAVAILABLE_CONDITION } from '../../controllers/pvcchonker/controller.js';
import { createClaim, cycles, ensureStorageClasses, requestOf, setUsage, startChonkerServer } from '../pvcchonker/helpers.js';
import { completeSubmission, condition as stormCondition, createObject, getObject, phaseIs, runningCluster, startStormHarness, topologyObject } from '../storm/topology-harness.js';


let host: HostCluster;
let core: CoreV1Api;
let network: StandInNetwork;
let performer: StandInPerformer;

test.before(async () => {
  host = await startHostCluster();
  core = host.kubeConfig().makeApiClient(CoreV1Api);
  for (const ns of [...OUTAGES.flatMap((o) => [`host-${o}`, `host-pvc-${o}`]), 'host-lease']) await core.createNamespace({ body: { metadata: { name: ns } } });
  await ensureStorageClasses(host);
  network = new StandInNetwork(host);
  performer = await startStandInPerformer({ status: 'SERVING' });
  network.route = () => performer;
});
test.after.always(async () => {
  await host?.setOutage(undefined);
  await performer?.stop();
  await host?.stop();
});

const statusOf = (o: KubeObject) => (o.status ?? {}) as PerformerStatus;
const podsOf = async (ns: string, name: string): Promise<V1Pod[]> => (await core.listNamespacedPod({ namespace: ns, labelSelector: `hourglass.eigenlayer.io/performer=${name}` })).items;
/** Host objects read in-process (the host's API is down for clients, not for the test). */
const hostPodExists = (ns: string, name: string) => host.stores.get('pods.core')!.get({ namespace: ns, name }).then(() => true, () => false);

function newPerformer(ns: string, name: string): KubeObject {
  return sample('Performer', name, ns, (o) => {
    o.spec.version = 'v1';
    o.spec.image = 'ghcr.io/example/hello-avs-performer:v1';
  });
}

async function readyPerformer(store: Store, ns: string, name: string): Promise<{ pod: V1Pod; serviceUid: string }> {
  await create(store, newPerformer(ns, name));
  await eventually(async () => statusOf(await store.get({ namespace: ns, name })).ready === true, `${ns}/${name} ready`);
  const [pod] = await podsOf(ns, name);
  const service = await core.readNamespacedService({ namespace: ns, name: `performer-${name}` });
  return { pod, serviceUid: service.metadata!.uid! };
}

async function reasonIs(store: Store, ns: string, name: string, reason: string): Promise<KubeObject> {
  return eventually(async () => {
    const o = await store.get({ namespace: ns, name });
    return condition(o, 'Ready')?.reason === reason ? o : undefined;
  }, `${ns}/${name} Ready reason ${reason}`);
}

for (const outage of OUTAGES) {
  test.serial(`host cluster ${outage} mid-reconcile: nothing deleted or recreated, deletes wait behind the finalizer, status says so; work resumes (stand-in host cluster, stand-in performer)`, async (t) => {
    const ns = `host-${outage}`;
    const server: HourglassServer = await startHourglassServer(host, network, { flags: { 'leader-elect': 'false' } });
    t.teardown(() => server.stop());
    const store = server.stores.get(PERFORMERS)!;
    const steady = await readyPerformer(store, ns, 'steady');
    const doomed = await readyPerformer(store, ns, 'doomed');

    await host.setOutage(outage);
    let ended = false;
    t.teardown(async () => {
      if (!ended) await host.setOutage(undefined);
    });
    // The work while the host is away: a new Performer, a deleted one.
    await create(store, newPerformer(ns, 'late'));
    await store.delete({ namespace: ns, name: 'doomed' }, { dryRun: false });

    const late = await reasonIs(store, ns, 'late', 'HostClusterUnavailable');
    t.is(condition(late, 'Ready')!.status, 'Unknown');
    t.regex(condition(late, 'Ready')!.message!, /^the host cluster cannot be reached while reconciling its Pods and Service: /);
    t.regex(condition(late, 'Ready')!.message!, EXPECTED_ERROR[outage]);
    // (Its steady poll may have reported the outage before the delete was seen: wait for the delete's.)
    const blocked = await eventually(async () => {
      const o = await store.get({ namespace: ns, name: 'doomed' });
      return condition(o, 'Ready')?.message?.includes('while deleting') ? o : undefined;
    }, 'the deleted Performer reporting the blocked clean-up');
    t.like(condition(blocked, 'Ready'), { status: 'Unknown', reason: 'HostClusterUnavailable' });
    t.truthy(blocked.metadata.deletionTimestamp);
    t.deepEqual(blocked.metadata.finalizers, [PERFORMER_FINALIZER], 'the finalizer stays until the Pods can be removed');
    t.regex(condition(blocked, 'Ready')!.message!, /^the host cluster cannot be reached while deleting its Pods and Service: /);
    // The steady Performer's next poll (every second) finds the host away too.
    const unknown = await reasonIs(store, ns, 'steady', 'HostClusterUnavailable');
    t.is(statusOf(unknown).podName, steady.pod.metadata!.name, 'the last known Pod is still reported');
    t.true(await hostPodExists(ns, steady.pod.metadata!.name!), 'the steady Pod is untouched');
    t.true(await hostPodExists(ns, doomed.pod.metadata!.name!), 'the deleted Performer’s Pod is still there (nothing done blind)');

    const backAt = Date.now();
    await host.setOutage(undefined);
    ended = true;
    await eventually(async () => statusOf(await store.get({ namespace: ns, name: 'late' })).ready === true, 'the Performer created during the outage runs');
    await eventually(() => absent(() => store.get({ namespace: ns, name: 'doomed' })), 'the deleted Performer gone after its clean-up');
    await eventually(async () => condition(await store.get({ namespace: ns, name: 'steady' }), 'Ready')?.status === 'True', 'steady Ready again');
    t.log(`host ${outage}: all work done ${Date.now() - backAt} ms after the host came back`);
    t.deepEqual((await podsOf(ns, 'doomed')).length, 0, 'the deleted Performer’s Pod removed');
    t.true(await absent(() => core.readNamespacedService({ namespace: ns, name: 'performer-doomed' })));
    t.deepEqual((await podsOf(ns, 'steady')).map((p) => p.metadata?.uid), [steady.pod.metadata!.uid], 'the steady Pod is the same one');
    t.is((await core.readNamespacedService({ namespace: ns, name: 'performer-steady' })).metadata?.uid, steady.serviceUid, 'the steady Service is the same one');
    t.is((await podsOf(ns, 'late')).length, 1);
  });
}

test.serial('host cluster refused with leader election on its Lease: leadership lost, nothing deleted, the next term resumes the work (stand-in host cluster, stand-in performer)', async (t) => {
  const ns = 'host-lease';
  // Lease 3 s, renew deadline 2 s, retry 0.5 s (the helper's).
  const server: HourglassServer = await startHourglassServer(host, network);
  t.teardown(() => server.stop());
  const store = server.stores.get(PERFORMERS)!;
  await eventually(() => server.controllers.isLeader, 'leading');
  const steady = await readyPerformer(store, ns, 'steady');

  await host.setOutage('refused');
  let ended = false;
  t.teardown(async () => {
    if (!ended) await host.setOutage(undefined);
  });
  await eventually(() => !server.controllers.isLeader, 'the leadership lost (the Lease cannot be renewed)');
  await create(store, newPerformer(ns, 'late'));
  t.true(await hostPodExists(ns, steady.pod.metadata!.name!));

  const backAt = Date.now();
  await host.setOutage(undefined);
  ended = true;
  await eventually(() => server.controllers.isLeader, 'leading again');
  await eventually(async () => statusOf(await store.get({ namespace: ns, name: 'late' })).ready === true, 'the Performer created without a leader runs');
  t.log(`host refused (leader election): leading and the new Performer ready ${Date.now() - backAt} ms after the host came back`);
  t.deepEqual((await podsOf(ns, 'steady')).map((p) => p.metadata?.uid), [steady.pod.metadata!.uid], 'the steady Pod is the same one');
  t.is(statusOf(await store.get({ namespace: ns, name: 'steady' })).ready, true);
});

for (const outage of OUTAGES) {
  test.serial(`host cluster ${outage} while claims fill up: no resize, PVCGroup condition HostClusterUnavailable; expanded once it answers (stand-in host cluster, stand-in kubelet)`, async (t) => {
    const ns = `host-pvc-${outage}`;
    const server = await startChonkerServer(host);
    t.teardown(() => server.stop());
    const groups = server.stores.get('pvcgroups.pvc-chonker.io')!;
    const members = ['data-0', 'data-1'];
    for (const name of members) {
      await createClaim(host, ns, name, { annotations: { 'pvc-chonker.io/group': 'db' } });
      setUsage(host, ns, name, 50, 10);
    }
    await create(groups, { apiVersion: 'pvc-chonker.io/v1alpha1', kind: 'PVCGroup', metadata: { name: 'db', namespace: ns }, spec: { template: { threshold: '80%' } } } as unknown as KubeObject);
    await eventually(async () => (await groups.get({ namespace: ns, name: 'db' })).status?.memberCount === 2, 'the group with its two members');

    await host.setOutage(outage);
    let ended = false;
    t.teardown(async () => {
      if (!ended) await host.setOutage(undefined);
    });
    // The work: the volumes fill past the threshold (the kubelet still measures them).
    for (const name of members) setUsage(host, ns, name, 95, 10);
    const down = await eventually(async () => {
      const o = await groups.get({ namespace: ns, name: 'db' });
      return condition(o, HOST_UNAVAILABLE_CONDITION)?.status === 'True' ? o : undefined;
    }, 'HostClusterUnavailable=True on the group');
    t.like(condition(down, HOST_UNAVAILABLE_CONDITION), { reason: 'HostUnreachable' });
    t.regex(condition(down, HOST_UNAVAILABLE_CONDITION)!.message!, /^the host cluster cannot be reached: .*; no claim is evaluated or expanded until it answers$/);
    t.regex(condition(down, HOST_UNAVAILABLE_CONDITION)!.message!, EXPECTED_ERROR[outage]);
    t.is(down.status?.memberCount, 2, 'the last observed members are kept');
    await cycles(2);
    const claims = host.stores.get('persistentvolumeclaims.core')!;
    for (const name of members) {
      const claim = (await claims.get({ namespace: ns, name })) as any;
      t.is(claim.spec.resources.requests.storage, '10Gi', `${name}: not resized while the host is away`);
    }

    const backAt = Date.now();
    await host.setOutage(undefined);
    ended = true;
    for (const name of members) await eventually(async () => (await requestOf(host, ns, name)) === '11Gi', `${name} expanded once the host answers`);
    const back = await eventually(async () => {
      const o = await groups.get({ namespace: ns, name: 'db' });
      return condition(o, HOST_UNAVAILABLE_CONDITION)?.status === 'False' ? o : undefined;
    }, 'HostClusterUnavailable=False');
    t.log(`host ${outage} (pvc-chonker): both claims expanded and the condition cleared ${Date.now() - backAt} ms after the host came back`);
    t.like(condition(back, HOST_UNAVAILABLE_CONDITION), { reason: 'Reachable' });
  });
}

for (const outage of OUTAGES) {
  test.serial(`host cluster ${outage} while a topology needs its submission Job: the running one untouched, the new one waits with HostClusterUnavailable and is submitted after (stand-in host cluster, stand-in Nimbus)`, async (t) => {
    const ns = `storm-${outage}`;
    const h = await startStormHarness([ns]);
    t.teardown(() => h.stop());
    await runningCluster(h, ns);
    await createObject(h.topologies, topologyObject(ns, 'old'));
    await completeSubmission(h, ns, 'old');
    await phaseIs(h.topologies, ns, 'old', 'Running');
    const oldJobs = (await h.batch.listNamespacedJob({ namespace: ns })).items.map((j) => j.metadata!.uid);

    await h.host.setOutage(outage);
    let ended = false;
    t.teardown(async () => {
      if (!ended) await h.host.setOutage(undefined);
    });
    // The work: a new topology, whose submission Job must be created on the host.
    await createObject(h.topologies, topologyObject(ns, 'new'));
    const waiting = await eventually(async () => {
      const o = await getObject(h.topologies, ns, 'new');
      return stormCondition(o, 'Ready')?.reason === 'HostClusterUnavailable' ? o : undefined;
    }, 'the new topology reporting HostClusterUnavailable');
    t.is(stormCondition(waiting, 'Ready').status, 'Unknown');
    t.regex(stormCondition(waiting, 'Ready').message, /^the host cluster cannot be reached while reconciling its submission Job: /);
    t.regex(stormCondition(waiting, 'Ready').message, EXPECTED_ERROR[outage]);
    const old = await getObject(h.topologies, ns, 'old');
    t.is(old.status.phase, 'Running', 'the running topology is not affected');
    t.is(h.nimbus.callsOf('killTopologyWithOpts').length, 0, 'nothing killed');
    const jobs = h.host.stores.get('jobs.batch')!;
    t.deepEqual((await jobs.list({ namespace: ns })).items.map((j: any) => j.metadata.uid), oldJobs, 'no Job created or deleted on the host (read in-process)');

    const backAt = Date.now();
    await h.host.setOutage(undefined);
    ended = true;
    await completeSubmission(h, ns, 'new');
    const running = await phaseIs(h.topologies, ns, 'new', 'Running');
    t.log(`host ${outage} (storm): the new topology Running ${Date.now() - backAt} ms after the host came back (including the test completing its Job)`);
    t.is(running.status.lastError, undefined);
    t.like(stormCondition(running, 'Ready'), { status: 'True' });
    t.is((await getObject(h.topologies, ns, 'old')).status.phase, 'Running');
    t.is(h.nimbus.callsOf('killTopologyWithOpts').length, 0);
  });
}
