// Garbage collection by label (issue 7) for the Hourglass controllers: host objects whose
// Performer or HourglassExecutor no longer exists — deleted while the server was down, its
// finalizer removed by force — are found by their managed-by labels and deleted when a
// leadership term starts and periodically after; objects of owners that exist, of other kinds'
// owners, and objects that are not ours stay. A live Performer's Pod of a revision that neither
// serves nor comes up (left by a crash mid-switch) is removed by its own reconcile, the serving
// Pod and the Service untouched.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import test from 'ava';
import { FAST, StandInNetwork, startHourglassServer, eventually, EXECUTORS, PERFORMERS, type HourglassServer } from './helpers.js';
import { managedByAnnotations, managedByLabels, type OwnerRef } from '../../controllers/host-client.js';
import { REVISION_LABEL } from '../../controllers/hourglass/performer-resources.js';
import type { PerformerStatus } from '../../registry/hourglass.eigenlayer.io/performer/types.js';
import type { KubeObject } from '../../registry/meta.js';
import type { Store } from '../../registry/store.js';
import { create, sample, update } from '../controllers/helpers.js';
import { startTestServer } from '../helpers/server.js';
import { startHostCluster, type HostCluster } from '../hostcluster/index.js';
import { startStandInPerformer, type StandInPerformer } from '../stand-ins/performer/index.js';

const NS = 'sweep';
let host: HostCluster;
let core: CoreV1Api;
let apps: AppsV1Api;
let network: StandInNetwork;
let standIn: StandInPerformer;
let dir: string;

test.before(async () => {
  host = await startHostCluster();
  core = host.kubeConfig().makeApiClient(CoreV1Api);
  apps = host.kubeConfig().makeApiClient(AppsV1Api);
  await core.createNamespace({ body: { metadata: { name: NS } } });
  network = new StandInNetwork(host);
  standIn = await startStandInPerformer({ status: 'SERVING' });
  network.route = () => standIn;
  dir = mkdtempSync(join(tmpdir(), 'orphan-sweep-'));
});
test.after.always(async () => {
  await standIn?.stop();
  await host?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const performerOwner = (name: string): OwnerRef => ({ group: 'hourglass.eigenlayer.io', kind: 'Performer', namespace: NS, name });
const executorOwner = (name: string): OwnerRef => ({ group: 'hourglass.eigenlayer.io', kind: 'HourglassExecutor', namespace: NS, name });
const ownedMeta = (name: string, owner: OwnerRef, labels: Record<string, string> = {}) => ({
  name,
  namespace: NS,
  labels: { ...labels, ...managedByLabels(owner) },
  annotations: managedByAnnotations(owner),
});
const podBody = (metadata: ReturnType<typeof ownedMeta> | { name: string }): V1Pod => ({ metadata, spec: { containers: [{ name: 'main', image: 'busybox' }] } });
const gone = (read: () => Promise<unknown>) =>
  read().then(
    () => false,
    (err: { code?: number }) => err.code === 404,
  );
const uidOf = async (read: () => Promise<{ metadata?: { uid?: string } }>) => (await read()).metadata?.uid;

/** The Hourglass controllers over SQLite at `dir/state.db` (kept across restarts), sweeping every `sweepIntervalMs`. */
function hourglassServer(sweepIntervalMs: number): Promise<HourglassServer> {
  return startHourglassServer(host, network, {
    flags: { storage: `sqlite://${join(dir, 'state.db')}`, 'leader-elect': 'false' },
    controllers: { performer: { ...FAST.performer, sweepIntervalMs }, executor: { ...FAST.executor, sweepIntervalMs } },
  });
}

test.serial('orphans of Performers and HourglassExecutors deleted while the server was down are swept at start and periodically; live owners’, other owners’ and foreign objects stay (stand-in host cluster, stand-in performer)', async (t) => {
  // 1. The server runs two Performers and two HourglassExecutors.
  const first = await hourglassServer(60 * 60_000);
  let running: HourglassServer | undefined = first;
  t.teardown(() => running?.stop());
  const performers = first.stores.get(PERFORMERS)!;
  const executors = first.stores.get(EXECUTORS)!;
  for (const name of ['alive', 'forced']) {
    await create(performers, sample('Performer', name, NS));
    await eventually(async () => ((await performers.get({ namespace: NS, name })).status as PerformerStatus | undefined)?.ready === true, `performer ${name} ready`);
  }
  for (const name of ['live', 'dropped']) {
    await create(executors, sample('HourglassExecutor', name, NS));
    await eventually(async () => (await executors.get({ namespace: NS, name })).status?.phase === 'Running', `executor ${name} Running`);
  }
  const forcedPod = (await core.listNamespacedPod({ namespace: NS, labelSelector: 'hourglass.eigenlayer.io/performer=forced' })).items[0].metadata!.name!;
  const alivePod = (await core.listNamespacedPod({ namespace: NS, labelSelector: 'hourglass.eigenlayer.io/performer=alive' })).items[0];
  const kept = {
    alivePod: alivePod.metadata!.uid,
    aliveService: await uidOf(() => core.readNamespacedService({ namespace: NS, name: 'performer-alive' })),
    liveSts: await uidOf(() => apps.readNamespacedStatefulSet({ namespace: NS, name: 'live' })),
    liveConfig: await uidOf(() => core.readNamespacedConfigMap({ namespace: NS, name: 'live-config' })),
  };
  await first.stop();
  running = undefined;

  // 2. While no controller runs: `forced` and `dropped` are deleted with their finalizers removed by hand.
  const offline = await startTestServer({ storage: `sqlite://${join(dir, 'state.db')}` });
  try {
    for (const [store, name] of [
      [offline.stores.get(PERFORMERS)!, 'forced'],
      [offline.stores.get(EXECUTORS)!, 'dropped'],
    ] as Array<[Store, string]>) {
      await update(store, await store.get({ namespace: NS, name }), (o: KubeObject) => (o.metadata.finalizers = []));
      await store.delete({ namespace: NS, name }, { dryRun: false });
      t.true(await gone(() => store.get({ namespace: NS, name })), `${name} is gone from storage`);
    }
  } finally {
    await offline.stop();
  }
  // Managed objects of another kind's owner (not these controllers' to judge), and objects that are not ours.
  const stormOwner: OwnerRef = { group: 'storm.apache.org', kind: 'StormCluster', namespace: NS, name: 'not-here' };
  await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: ownedMeta('storm-owned', stormOwner), data: {} } });
  await core.createNamespacedPod({ namespace: NS, body: podBody({ name: 'bystander' }) });

  // 3. The server starts again: the sweep at the start of its term removes the orphans.
  const second = await hourglassServer(300);
  running = second;
  await eventually(() => gone(() => core.readNamespacedPod({ namespace: NS, name: forcedPod })), 'the deleted Performer’s Pod swept');
  await eventually(() => gone(() => core.readNamespacedService({ namespace: NS, name: 'performer-forced' })), 'the deleted Performer’s Service swept');
  await eventually(() => gone(() => apps.readNamespacedStatefulSet({ namespace: NS, name: 'dropped' })), 'the deleted executor’s StatefulSet swept');
  await eventually(() => gone(() => core.readNamespacedConfigMap({ namespace: NS, name: 'dropped-config' })), 'the deleted executor’s ConfigMap swept');

  // 4. Periodically after: orphans appearing later (a copy restored from a backup, a crash mid-create).
  await core.createNamespacedPod({ namespace: NS, body: podBody(ownedMeta('performer-ghost-0a1b2c', performerOwner('ghost'), { [REVISION_LABEL]: '0a1b2c' })) });
  await core.createNamespacedService({ namespace: NS, body: { metadata: ownedMeta('performer-ghost', performerOwner('ghost')), spec: { ports: [{ port: 9090 }] } } });
  await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: ownedMeta('phantom-config', executorOwner('phantom')), data: {} } });
  await eventually(() => gone(() => core.readNamespacedPod({ namespace: NS, name: 'performer-ghost-0a1b2c' })), 'a later orphan Pod swept');
  await eventually(() => gone(() => core.readNamespacedService({ namespace: NS, name: 'performer-ghost' })), 'a later orphan Service swept');
  await eventually(() => gone(() => core.readNamespacedConfigMap({ namespace: NS, name: 'phantom-config' })), 'a later orphan ConfigMap swept');

  // Several sweeps later, nothing of a live owner, of another kind's owner or not ours was touched.
  const sweeps = 3;
  await new Promise((resolve) => setTimeout(resolve, sweeps * 300));
  t.is(await uidOf(() => core.readNamespacedPod({ namespace: NS, name: alivePod.metadata!.name! })), kept.alivePod, 'the live Performer’s Pod');
  t.is(await uidOf(() => core.readNamespacedService({ namespace: NS, name: 'performer-alive' })), kept.aliveService, 'the live Performer’s Service');
  t.is(await uidOf(() => apps.readNamespacedStatefulSet({ namespace: NS, name: 'live' })), kept.liveSts, 'the live executor’s StatefulSet');
  t.is(await uidOf(() => core.readNamespacedConfigMap({ namespace: NS, name: 'live-config' })), kept.liveConfig, 'the live executor’s ConfigMap');
  t.false(await gone(() => core.readNamespacedConfigMap({ namespace: NS, name: 'storm-owned' })), 'another kind’s object stays');
  t.false(await gone(() => core.readNamespacedPod({ namespace: NS, name: 'bystander' })), 'an object that is not ours stays');
  t.is(((await second.stores.get(PERFORMERS)!.get({ namespace: NS, name: 'alive' })).status as PerformerStatus).ready, true);
});

test.serial('a live Performer’s Pod of a revision neither serving nor coming up (a crash mid-switch) is removed by its reconcile; the serving Pod and the Service stay (stand-in host cluster, stand-in performer)', async (t) => {
  const server = await startHourglassServer(host, network, { flags: { 'leader-elect': 'false' } });
  t.teardown(() => server.stop());
  const performers = server.stores.get(PERFORMERS)!;
  await create(performers, sample('Performer', 'blue', NS));
  const ready = await eventually(async () => {
    const o = await performers.get({ namespace: NS, name: 'blue' });
    return (o.status as PerformerStatus | undefined)?.ready === true ? o : undefined;
  }, 'blue ready');
  const servingRevision = (ready.status as PerformerStatus).currentVersion!.revision!;
  const [serving] = (await core.listNamespacedPod({ namespace: NS, labelSelector: `hourglass.eigenlayer.io/performer=blue` })).items;
  const service = await core.readNamespacedService({ namespace: NS, name: 'performer-blue' });

  // The old revision's Pod, as a switch cut short after the Service moved would leave it.
  const leftover = structuredClone(serving);
  leftover.metadata = { ...leftover.metadata, name: 'performer-blue-old', labels: { ...leftover.metadata!.labels, [REVISION_LABEL]: 'old' } };
  delete leftover.metadata.uid;
  delete leftover.metadata.resourceVersion;
  delete leftover.metadata.creationTimestamp;
  delete leftover.status;
  delete leftover.spec!.nodeName;
  await core.createNamespacedPod({ namespace: NS, body: leftover });

  await eventually(() => gone(() => core.readNamespacedPod({ namespace: NS, name: 'performer-blue-old' })), 'the leftover revision removed');
  t.is(await uidOf(() => core.readNamespacedPod({ namespace: NS, name: serving.metadata!.name! })), serving.metadata!.uid, 'the serving Pod stays');
  const after = await core.readNamespacedService({ namespace: NS, name: 'performer-blue' });
  t.is(after.metadata?.uid, service.metadata?.uid);
  t.is(after.spec?.selector?.[REVISION_LABEL], servingRevision, 'the Service still selects the serving revision');
});
