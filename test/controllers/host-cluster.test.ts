// The controller runtime against a host cluster: the project's stand-in host cluster
// (test/hostcluster), since a real kube-apiserver cannot run here.
import { CoreV1Api, type CoreV1Event, type V1ConfigMap } from '@kubernetes/client-node';
import test from 'ava';
import { HostEventRecorder } from '../../controllers/events.js';
import { HostClient, managedByLabels, managedBySelector, MANAGED_BY_LABEL, OWNER_KIND_LABEL, OWNER_NAME_LABEL } from '../../controllers/host-client.js';
import { HostLeaseLock, LeaderElector } from '../../controllers/leader-election.js';
import { DEFAULT_LEASE_NAME } from '../../controllers/manager.js';
import { findCondition, type Condition } from '../../controllers/status.js';
import type { KubeObject } from '../../registry/meta.js';
import { startHostCluster, type HostCluster } from '../hostcluster/index.js';
import { create, eventually, sample, startServerWith, update } from './helpers.js';
import { PERFORMERS, SAMPLE_FINALIZER, sampleController } from './fixtures/sample-controller.js';

let host: HostCluster;
let core: CoreV1Api;

test.before(async () => {
  host = await startHostCluster();
  core = host.kubeConfig().makeApiClient(CoreV1Api);
  for (const name of ['ns1', 'ns2', 'ns3']) await core.createNamespace({ body: { metadata: { name } } });
});
test.after.always(async () => {
  await host?.stop();
});

const eventsFor = async (namespace: string, name: string): Promise<CoreV1Event[]> =>
  (await core.listNamespacedEvent({ namespace })).items.filter((e) => e.involvedObject.name === name);

const notFound = (call: () => Promise<unknown>) =>
  call().then(
    () => false,
    (err: { code?: number }) => err.code === 404,
  );

test.serial('sample reconciler round trip: labelled ConfigMap, Events, status, finalizer and cleanup on delete (stand-in host cluster)', async (t) => {
  const server = await startServerWith(
    {
      kubeconfig: host.kubeconfigPath,
      'leader-elect-lease-duration': '3s',
      'leader-elect-renew-deadline': '2s',
      'leader-elect-retry-period': '0.5s',
    },
    [sampleController()],
  );
  t.teardown(() => server.stop());
  const store = server.stores.get(PERFORMERS)!;
  const created = await create(store, sample('Performer', 'p1', 'ns1'));

  const cm: V1ConfigMap = await eventually(() => core.readNamespacedConfigMap({ namespace: 'ns1', name: 'performer-p1' }), 'the ConfigMap on the host');
  t.is(cm.data?.version, 'v1.2.0');
  t.like(cm.metadata?.labels, {
    [MANAGED_BY_LABEL]: 'operators-apiserver',
    [OWNER_KIND_LABEL]: 'Performer',
    [OWNER_NAME_LABEL]: 'p1',
    'operators-apiserver.io/owner-group': 'hourglass.eigenlayer.io',
    'operators-apiserver.io/owner-namespace': 'ns1',
  });
  t.is(cm.metadata?.ownerReferences, undefined, 'no cross-API ownerReferences');

  const reconciled = await eventually(async () => {
    const o: KubeObject = await store.get({ namespace: 'ns1', name: 'p1' });
    return findCondition(o.status?.conditions as Condition[], 'Ready')?.status === 'True' ? o : undefined;
  }, 'status Ready');
  t.deepEqual(reconciled.metadata.finalizers, [SAMPLE_FINALIZER]);
  t.is(reconciled.status?.observedGeneration, 1);

  const submitted = await eventually(async () => (await eventsFor('ns1', 'p1')).find((e) => e.reason === 'Submitted'), 'the Submitted event');
  t.like(submitted.involvedObject, { apiVersion: 'hourglass.eigenlayer.io/v1alpha1', kind: 'Performer', namespace: 'ns1', name: 'p1', uid: created.metadata.uid });
  t.is(submitted.type, 'Normal');
  t.is(submitted.source?.component, 'operators-apiserver/sample');
  t.is(submitted.count, 1);

  // Only the leader reconciles; its lease is a coordination.k8s.io/v1 Lease on the host.
  const lease = await new HostClient(host.kubeConfig()).coordination.readNamespacedLease({ namespace: 'default', name: DEFAULT_LEASE_NAME });
  t.is(lease.spec?.holderIdentity, server.controllers.identity);
  t.is(lease.spec?.leaseDurationSeconds, 3);

  await update(store, reconciled, (o) => (o.spec.version = 'v1.3.0'));
  await eventually(async () => (await core.readNamespacedConfigMap({ namespace: 'ns1', name: 'performer-p1' })).data?.version === 'v1.3.0', 'the ConfigMap updated');
  await eventually(async () => (await eventsFor('ns1', 'p1')).some((e) => e.reason === 'Updated'), 'the Updated event');

  await store.delete({ namespace: 'ns1', name: 'p1' }, { dryRun: false });
  await eventually(() => notFound(() => core.readNamespacedConfigMap({ namespace: 'ns1', name: 'performer-p1' })), 'the ConfigMap garbage-collected by label');
  await eventually(() => notFound(() => store.get({ namespace: 'ns1', name: 'p1' })), 'the Performer gone once its finalizer is removed');
  const cleaned = await eventually(async () => (await eventsFor('ns1', 'p1')).find((e) => e.reason === 'CleanedUp'), 'the CleanedUp event');
  t.is(cleaned.message, 'deleted 1 host objects');
});

test.serial('host Lease lock: the second elector takes over only after the first stops renewing (stand-in host cluster)', async (t) => {
  const log: string[] = [];
  const make = (id: string) =>
    new LeaderElector({
      lock: new HostLeaseLock(host.kubeConfig(), 'ns2', 'lock-test'),
      identity: id,
      leaseDurationMs: 3_000,
      renewDeadlineMs: 2_000,
      retryPeriodMs: 500,
      releaseOnStop: false,
      onStartedLeading: () => log.push(`${Date.now()} ${id} started`),
      onStoppedLeading: () => {
        log.push(`${Date.now()} ${id} stopped`);
      },
    });
  const a = make('a');
  const b = make('b');
  t.teardown(async () => {
    await a.stop();
    await b.stop();
  });
  a.start();
  await eventually(() => a.isLeader, 'a to lead');
  b.start();
  const coordination = new HostClient(host.kubeConfig()).coordination;
  // client-node leaves MicroTime fields as the strings the server sent.
  const renewed = async () => Date.parse(String((await coordination.readNamespacedLease({ namespace: 'ns2', name: 'lock-test' })).spec?.renewTime ?? 0));
  const first = await renewed();
  await eventually(async () => (await renewed()) > first, 'a renewal by a');
  t.false(b.isLeader, 'b does not lead while a renews');

  await a.stop(); // without release: b must wait for the lease to expire
  const stoppedAt = Date.now();
  await eventually(() => b.isLeader, 'b to take over');
  const startedB = Number(log.find((l) => l.endsWith('b started'))!.split(' ')[0]);
  t.true(startedB >= stoppedAt);
  const lease = await coordination.readNamespacedLease({ namespace: 'ns2', name: 'lock-test' });
  t.is(lease.spec?.holderIdentity, 'b');
  t.is(lease.spec?.leaseTransitions, 1);
  t.deepEqual(
    log.map((l) => l.split(' ').slice(1).join(' ')),
    ['a started', 'a stopped', 'b started'],
  );
});

test.serial('identical events are counted on one Event (stand-in host cluster)', async (t) => {
  const recorder = new HostEventRecorder({ core, component: 'operators-apiserver/test', instance: 'r1' });
  const obj = sample('Performer', 'counted', 'ns3') as KubeObject;
  obj.metadata.uid = '0b3c1a8e-0000-4000-8000-000000000001';
  recorder.event(obj, 'Warning', 'ExpansionFailed', 'quota exceeded');
  recorder.event(obj, 'Warning', 'ExpansionFailed', 'quota exceeded');
  recorder.event(obj, 'Warning', 'ExpansionFailed', 'quota exceeded');
  recorder.event(obj, 'Normal', 'Expanded', 'to 20Gi');
  await recorder.flush();
  const events = await eventsFor('ns3', 'counted');
  t.is(events.length, 2);
  const failed = events.find((e) => e.reason === 'ExpansionFailed')!;
  t.is(failed.count, 3);
  t.is(failed.type, 'Warning');
  t.true(failed.lastTimestamp!.getTime() >= failed.firstTimestamp!.getTime());
  t.is(events.find((e) => e.reason === 'Expanded')?.count, 1);
});

test.serial('managed host objects are found by label; orphans are swept, owned ones kept (stand-in host cluster)', async (t) => {
  const client = new HostClient(host.kubeConfig());
  const owner = (name: string) => sample('Performer', name, 'ns3') as KubeObject;
  for (const name of ['alive', 'gone']) {
    await core.createNamespacedConfigMap({ namespace: 'ns3', body: { metadata: { name: `cm-${name}`, labels: managedByLabels(owner(name)) } } });
  }
  await core.createNamespacedConfigMap({ namespace: 'ns3', body: { metadata: { name: 'not-ours' } } });
  const listed = await client.types.configMaps.list(managedBySelector(owner('alive')));
  t.deepEqual(listed.map((c) => c.metadata?.name), ['cm-alive']);

  const swept = await client.sweepOrphans([client.types.configMaps], (o) => o.name === 'alive');
  t.true(swept.includes('ns3/cm-gone'));
  t.false(swept.includes('ns3/cm-alive'));
  const left = (await core.listNamespacedConfigMap({ namespace: 'ns3' })).items.map((c) => c.metadata?.name).sort();
  t.true(left.includes('cm-alive'));
  t.true(left.includes('not-ours'));
  t.false(left.includes('cm-gone'));
});
