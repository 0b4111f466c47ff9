// The Performer controller and the performers' `connection`, `promote` and `rollback`
// subresources, in the real server against the stand-in host cluster, with stand-in performers
// (real gRPC servers) behind a stand-in cluster network.
import { CoreV1Api, type CoreV1Event, type V1Pod } from '@kubernetes/client-node';
import test from 'ava';
import { findCondition, type Condition } from '../../controllers/status.js';
import { connection } from '../../registry/hourglass.eigenlayer.io/performer/connection.js';
import type { PerformerStatus } from '../../registry/hourglass.eigenlayer.io/performer/types.js';
import type { KubeObject } from '../../registry/meta.js';
import type { Store } from '../../registry/store.js';
import { create, sample } from '../controllers/helpers.js';
import { httpsRequest } from '../helpers/server.js';
import type { HostCluster } from '../hostcluster/index.js';
import type { StandInPerformer } from '../stand-ins/performer/index.js';
import { edit, eventually, PERFORMERS_PATH, startPerformerWorld, type HourglassServer, type PerformerWorld, type StandInNetwork } from './helpers.js';

let world: PerformerWorld;
let host: HostCluster;
let core: CoreV1Api;
let network: StandInNetwork;
let server: HourglassServer;
let store: Store;
const standIn = (options?: Parameters<PerformerWorld['standIn']>[0]) => world.standIn(options);

test.before(async () => {
  world = await startPerformerWorld(['hg1', 'hg2', 'hg3', 'hg4']);
  ({ host, core, network, server, store } = world);
});
test.after.always(() => world?.stop());

const get = (ns: string, name: string): Promise<KubeObject> => store.get({ namespace: ns, name });
const statusOf = (o: KubeObject) => (o.status ?? {}) as PerformerStatus;
const condition = (o: KubeObject, type: string) => findCondition(o.status?.conditions as Condition[] | undefined, type);
const podsOf = async (ns: string, name: string): Promise<V1Pod[]> =>
  (await core.listNamespacedPod({ namespace: ns, labelSelector: `hourglass.eigenlayer.io/performer=${name}` })).items;
const eventsFor = async (ns: string, name: string): Promise<CoreV1Event[]> => (await core.listNamespacedEvent({ namespace: ns })).items.filter((e) => e.involvedObject.name === name);
const notFound = (call: () => Promise<unknown>) =>
  call().then(
    () => false,
    (err: { code?: number }) => err.code === 404,
  );

async function api(method: string, path: string, body?: unknown) {
  const res = await httpsRequest(server, method, path, body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: JSON.parse(res.body) };
}

const performer = (ns: string, name: string, version: string) =>
  sample('Performer', name, ns, (o) => {
    o.spec.version = version;
    o.spec.image = `ghcr.io/example/hello-avs-performer:${version}`;
  });

/** Routes pods by their version annotation to `byVersion`. */
const routeByVersion = (ns: string, byVersion: Record<string, StandInPerformer>) => (pod: V1Pod) =>
  pod.metadata?.namespace === ns ? byVersion[pod.metadata?.annotations?.['hourglass.eigenlayer.io/version'] ?? ''] : undefined;

test.serial('a Performer becomes a Pod and a Service; status flows to Running and ready; delete cleans up (stand-in host cluster, stand-in performer)', async (t) => {
  const a = await standIn({ status: 'SERVING' });
  network.route = routeByVersion('hg1', { 'v1.2.0': a });
  const created = await create(store, performer('hg1', 'p1', 'v1.2.0'));

  const running = await eventually(async () => {
    const o = await get('hg1', 'p1');
    return statusOf(o).ready === true && statusOf(o).phase === 'Running' ? o : undefined;
  }, 'Running and ready');
  const pods = await podsOf('hg1', 'p1');
  t.is(pods.length, 1);
  const pod = pods[0];
  const revision = pod.metadata!.labels!['hourglass.eigenlayer.io/revision'];
  t.like(pod.metadata!.labels, { app: 'hourglass-performer', 'hourglass.eigenlayer.io/performer': 'p1', 'hourglass.eigenlayer.io/avs': created.spec!.avsAddress as string });
  const container = pod.spec!.containers[0];
  t.like(container.readinessProbe, { grpc: { port: 9090 } });
  t.like(container.livenessProbe, { grpc: { port: 9090 } });
  t.is(container.readinessProbe?.httpGet, undefined);
  t.is(container.resources?.limits?.['nvidia.com/gpu'], '1');
  t.like(pod.spec!.tolerations?.[0], { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' });

  const svc = await core.readNamespacedService({ namespace: 'hg1', name: 'performer-p1' });
  t.is(svc.spec?.type, 'ClusterIP');
  t.is(svc.spec?.selector?.['hourglass.eigenlayer.io/revision'], revision);
  t.is(svc.spec?.ports?.[0].port, 9090);

  const s = statusOf(running);
  t.is(s.podName, pod.metadata!.name);
  t.is(s.serviceName, 'performer-p1');
  t.is(s.grpcEndpoint, 'performer-p1.hg1.svc.cluster.local:9090');
  t.is(s.nodeName, pod.spec!.nodeName);
  t.truthy(s.readyTime);
  t.like(s.currentVersion, { version: 'v1.2.0', revision });
  t.is(condition(running, 'Ready')?.status, 'True');
  t.is(condition(running, 'Unschedulable')?.status, 'False');
  t.deepEqual(running.metadata.finalizers, ['hourglass.eigenlayer.io/performer-finalizer']);

  await store.delete({ namespace: 'hg1', name: 'p1' }, { dryRun: false });
  await eventually(() => notFound(() => get('hg1', 'p1')), 'the Performer gone after its finalizer');
  t.deepEqual(await podsOf('hg1', 'p1'), []);
  t.true(await notFound(() => core.readNamespacedService({ namespace: 'hg1', name: 'performer-p1' })));
});

test.serial('connection: a live Health/Check through the Service for serving, not serving, slow and unreachable performers (stand-in host cluster, stand-in performer)', async (t) => {
  const a = await standIn({ status: 'SERVING' });
  network.route = routeByVersion('hg2', { 'v1.2.0': a });
  await create(store, performer('hg2', 'c1', 'v1.2.0'));
  await eventually(async () => statusOf(await get('hg2', 'c1')).ready === true, 'ready');
  const path = `${PERFORMERS_PATH('hg2', 'c1')}/connection`;

  const cases: Array<{ title: string; arrange(): void; query?: string; want: Record<string, unknown> }> = [
    { title: 'serving', arrange: () => a.setStatus('SERVING'), want: { health: 'SERVING' } },
    { title: 'not serving (asked again: never a cached answer)', arrange: () => a.setStatus('NOT_SERVING'), want: { health: 'NOT_SERVING' } },
    { title: 'slow: the deadline ends the call', arrange: () => a.setDelay(3_000), query: '?timeoutSeconds=0.5', want: { health: 'UNREACHABLE', grpcCode: 'DEADLINE_EXCEEDED', timeoutSeconds: 0.5 } },
    {
      title: 'unreachable: nothing listens behind the Service',
      arrange: () => {
        a.setDelay(0);
        network.route = () => undefined;
      },
      want: { health: 'UNREACHABLE', grpcCode: 'UNAVAILABLE' },
    },
  ];
  let previous = '';
  for (const c of cases) {
    c.arrange();
    const checksBefore = a.calls.length;
    const res = await api('GET', path + (c.query ?? ''));
    t.is(res.status, 200, c.title);
    t.is(res.body.kind, 'PerformerConnection', c.title);
    t.is(res.body.apiVersion, 'hourglass.eigenlayer.io/v1alpha1');
    t.like(res.body.status, { endpoint: 'performer-c1.hg2.svc.cluster.local:9090', version: 'v1.2.0', ...c.want }, c.title);
    t.true(res.body.status.latencyMs >= 0, c.title);
    t.not(res.body.status.checkedAt, previous, `${c.title}: checked anew`);
    previous = res.body.status.checkedAt;
    if (c.want.health !== 'UNREACHABLE') t.true(a.calls.length > checksBefore, `${c.title}: the stand-in was called`);
  }

  const bad = await api('GET', `${path}?timeoutSeconds=abc`);
  t.is(bad.status, 400);
  const missing = await api('GET', `${PERFORMERS_PATH('hg2', 'nope')}/connection`);
  t.is(missing.status, 404);
  t.is(missing.body.reason, 'NotFound');
});

test('connection: 503 ServiceUnavailable when the server has no gRPC client, or it fails', async (t) => {
  const obj = { apiVersion: 'hourglass.eigenlayer.io/v1alpha1', kind: 'Performer', metadata: { name: 'x', namespace: 'ns' }, spec: { config: { grpcPort: 9090 } } };
  const request = { namespace: 'ns', name: 'x', version: 'v1alpha1', query: {}, user: { username: 'u', groups: [] }, dryRun: false, signal: new AbortController().signal };
  const services = (client: unknown) => ({
    store: { get: async () => obj } as unknown as Store,
    stores: new Map(),
    upstream: <T>() => client as T | undefined,
    now: () => new Date(),
  });
  await t.throwsAsync(connection.connect(services(undefined))(request), { message: /no gRPC client/, instanceOf: Error });
  const err = await t.throwsAsync(connection.connect(services({ check: async () => Promise.reject(new Error('pool closed')) }))(request));
  t.is((err as any).status.code, 503);
  t.is((err as any).status.reason, 'ServiceUnavailable');
});

test.serial('a Pod the scheduler cannot place: condition Unschedulable with its reason, the Pod left waiting, not recreated (stand-in host cluster, stand-in performer)', async (t) => {
  const a = await standIn({ status: 'SERVING' });
  network.route = routeByVersion('hg3', { 'v1.2.0': a });
  host.kubelet.holdPods('hourglass.eigenlayer.io/performer=gpu1');
  t.teardown(() => host.kubelet.holdPods(false));
  await create(store, performer('hg3', 'gpu1', 'v1.2.0'));

  const waiting = await eventually(async () => {
    const o = await get('hg3', 'gpu1');
    return condition(o, 'Unschedulable')?.status === 'True' ? o : undefined;
  }, 'Unschedulable=True');
  t.regex(condition(waiting, 'Unschedulable')!.message!, /Insufficient cpu/);
  t.is(statusOf(waiting).phase, 'Pending');
  t.is(statusOf(waiting).ready, false);
  t.is(condition(waiting, 'Ready')?.reason, 'Unschedulable');
  const [pod] = await podsOf('hg3', 'gpu1');
  // Several polls later (the identical Warning counted on one Event), it is the same Pod.
  await eventually(async () => ((await eventsFor('hg3', 'gpu1')).find((e) => e.reason === 'Unschedulable')?.count ?? 0) >= 3, 'three polls of the unschedulable pod');
  const still = await podsOf('hg3', 'gpu1');
  t.deepEqual(still.map((p) => p.metadata?.uid), [pod.metadata?.uid]);

  host.kubelet.holdPods(false);
  const placed = await eventually(async () => {
    const o = await get('hg3', 'gpu1');
    return statusOf(o).ready === true ? o : undefined;
  }, 'placed and ready');
  t.is(condition(placed, 'Unschedulable')?.status, 'False');
  t.deepEqual((await podsOf('hg3', 'gpu1')).map((p) => p.metadata?.uid), [pod.metadata?.uid], 'the same Pod, scheduled');
});

test.serial('upgrades are blue-green: the Service switches only once the new version reports SERVING; promote and rollback (stand-in host cluster, stand-in performer)', async (t) => {
  const v1 = await standIn({ status: 'SERVING' });
  const v2 = await standIn({ status: 'NOT_SERVING' });
  const v3 = await standIn({ status: 'NOT_SERVING' });
  network.route = routeByVersion('hg4', { v1: v1, v2: v2, v3: v3 });
  await create(store, performer('hg4', 'up', 'v1'));
  const first = await eventually(async () => {
    const o = await get('hg4', 'up');
    return statusOf(o).ready === true ? o : undefined;
  }, 'v1 ready');
  const v1Revision = statusOf(first).currentVersion!.revision!;
  const selector = async () => (await core.readNamespacedService({ namespace: 'hg4', name: 'performer-up' })).spec?.selector?.['hourglass.eigenlayer.io/revision'];
  const verb = (name: string, body: unknown = {}) => api('POST', `${PERFORMERS_PATH('hg4', 'up')}/${name}`, body);

  for (const name of ['promote', 'rollback']) {
    const refused = await verb(name);
    t.is(refused.status, 409, `${name} with nothing to switch to`);
    t.is(refused.body.reason, 'Conflict');
  }

  // v2 comes up beside v1 and does not report SERVING: the Service stays on v1.
  await edit(store, 'hg4', 'up', (o) => {
    o.spec.version = 'v2';
    o.spec.image = 'ghcr.io/example/hello-avs-performer:v2';
  });
  const upgrading = await eventually(async () => {
    const o = await get('hg4', 'up');
    return statusOf(o).pendingVersion?.version === 'v2' && condition(o, 'Upgrading')?.status === 'True' ? o : undefined;
  }, 'v2 pending');
  t.is(statusOf(upgrading).phase, 'Upgrading');
  t.is(statusOf(upgrading).currentVersion?.version, 'v1');
  await eventually(() => v2.calls.filter((c) => c.method === 'Check').length >= 3, 'v2 health-checked several times');
  t.is(await selector(), v1Revision, 'still v1 while v2 is NOT_SERVING');
  t.is((await podsOf('hg4', 'up')).length, 2, 'both versions run');
  t.regex(condition(await get('hg4', 'up'), 'Upgrading')!.message!, /NOT_SERVING/);
  const live = await api('GET', `${PERFORMERS_PATH('hg4', 'up')}/connection`);
  t.like(live.body.status, { health: 'SERVING', version: 'v1' }, 'clients still reach v1 through the Service');

  // v2 reports SERVING: switch, v1 kept as previous, its Pod removed.
  v2.setStatus('SERVING');
  const onV2 = await eventually(async () => {
    const o = await get('hg4', 'up');
    return statusOf(o).currentVersion?.version === 'v2' ? o : undefined;
  }, 'switched to v2');
  const v2Revision = statusOf(onV2).currentVersion!.revision!;
  t.like(statusOf(onV2).previousVersion, { version: 'v1', revision: v1Revision });
  t.is(statusOf(onV2).pendingVersion, undefined);
  t.truthy(statusOf(onV2).lastUpgrade);
  await eventually(async () => (await podsOf('hg4', 'up')).length === 1, 'the v1 Pod removed');
  t.is(await selector(), v2Revision, 'the Service switched before the old Pod went');
  t.is((await podsOf('hg4', 'up'))[0].metadata!.labels!['hourglass.eigenlayer.io/revision'], v2Revision);
  t.true((await eventsFor('hg4', 'up')).some((e) => e.reason === 'Upgraded' && /it reports SERVING/.test(e.message ?? '')));

  // v3 never reports SERVING; promote makes it serve anyway.
  await edit(store, 'hg4', 'up', (o) => {
    o.spec.version = 'v3';
    o.spec.image = 'ghcr.io/example/hello-avs-performer:v3';
  });
  await eventually(async () => statusOf(await get('hg4', 'up')).pendingVersion?.version === 'v3', 'v3 pending');
  const wrongGuard = await verb('promote', { apiVersion: 'hourglass.eigenlayer.io/v1alpha1', kind: 'PerformerPromotion', spec: { version: 'v9' } });
  t.is(wrongGuard.status, 409);
  const dry = await api('POST', `${PERFORMERS_PATH('hg4', 'up')}/promote?dryRun=All`, {});
  t.is(dry.status, 200);
  t.is(statusOf(await get('hg4', 'up')).pendingVersion?.promoteRequested, undefined, 'dryRun changes nothing');
  const promoted = await verb('promote', { apiVersion: 'hourglass.eigenlayer.io/v1alpha1', kind: 'PerformerPromotion', spec: { version: 'v3' } });
  t.is(promoted.status, 200);
  t.is(promoted.body.kind, 'PerformerPromotion');
  t.like(promoted.body.status, { promoted: { version: 'v3' }, replaces: { version: 'v2' } });
  const onV3 = await eventually(async () => {
    const o = await get('hg4', 'up');
    return statusOf(o).currentVersion?.version === 'v3' ? o : undefined;
  }, 'promoted to v3');
  t.like(statusOf(onV3).previousVersion, { version: 'v2' });
  await eventually(async () => (await podsOf('hg4', 'up')).length === 1, 'the v2 Pod removed');

  // Rollback: back to v2 (SERVING), by the same blue-green path.
  const rolledBack = await verb('rollback');
  t.is(rolledBack.status, 200);
  t.is(rolledBack.body.kind, 'PerformerRollback');
  t.like(rolledBack.body.status, { from: { version: 'v3' }, to: { version: 'v2', image: 'ghcr.io/example/hello-avs-performer:v2' }, abandonedUpgrade: false });
  t.is((await get('hg4', 'up')).spec!.version, 'v2');
  const back = await eventually(async () => {
    const o = await get('hg4', 'up');
    return statusOf(o).currentVersion?.version === 'v2' ? o : undefined;
  }, 'back on v2');
  t.like(statusOf(back).previousVersion, { version: 'v3' });
  // The status switches first, then the Service: wait for it.
  await eventually(async () => (await selector()) === v2Revision, 'the Service on v2 again (the same revision as before: same Pod template)');
  t.pass();

  // Rollback while an upgrade waits: the upgrade is abandoned, v2 keeps serving.
  await eventually(async () => (await podsOf('hg4', 'up')).length === 1, 'the v3 Pod removed');
  await edit(store, 'hg4', 'up', (o) => {
    o.spec.version = 'v3';
    o.spec.image = 'ghcr.io/example/hello-avs-performer:v3';
  });
  await eventually(async () => statusOf(await get('hg4', 'up')).pendingVersion?.version === 'v3', 'v3 pending again');
  const abandoned = await verb('rollback');
  t.is(abandoned.status, 200);
  t.like(abandoned.body.status, { from: { version: 'v3' }, to: { version: 'v2' }, abandonedUpgrade: true });
  const settled = await eventually(async () => {
    const o = await get('hg4', 'up');
    return statusOf(o).pendingVersion === undefined && (await podsOf('hg4', 'up')).length === 1 ? o : undefined;
  }, 'the waiting v3 abandoned');
  t.like(statusOf(settled), { currentVersion: { version: 'v2' }, previousVersion: { version: 'v3' } });
  t.is(await selector(), v2Revision);
  t.true((await eventsFor('hg4', 'up')).some((e) => e.reason === 'UpgradeAbandoned'));
});
