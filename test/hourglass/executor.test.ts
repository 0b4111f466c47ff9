// The HourglassExecutor controller in the real server against the stand-in host cluster: the
// ConfigMap and StatefulSet it keeps, operator keys only as Secret references, a roll on a
// configuration change, status from the StatefulSet, the scale subresource, clean-up.
import { AppsV1Api, CoreV1Api, type V1StatefulSet } from '@kubernetes/client-node';
import test from 'ava';
import { findCondition, type Condition } from '../../controllers/status.js';
import type { KubeObject } from '../../registry/meta.js';
import type { Store } from '../../registry/store.js';
import { create, sample } from '../controllers/helpers.js';
import { httpsRequest } from '../helpers/server.js';
import { startHostCluster, type HostCluster } from '../hostcluster/index.js';
import { edit, eventually, EXECUTORS, startHourglassServer, type HourglassServer } from './helpers.js';

let host: HostCluster;
let core: CoreV1Api;
let apps: AppsV1Api;
let server: HourglassServer;
let store: Store;

const NS = 'hx1';
// What must never leave the Secret: the key as stored and as the Secret's base64 carries it.
const BLS_KEY = 'bls-private-key-7f3a9c1e5d2b8a4f6e0c9d1b3a5f7e9c';
const ECDSA_KEY = 'ecdsa-private-key-0x4c0883a69102937d6231471b5dbb6204fe512961708279f';
const SECRET_FORMS = [BLS_KEY, ECDSA_KEY, Buffer.from(BLS_KEY).toString('base64'), Buffer.from(ECDSA_KEY).toString('base64')];

test.before(async () => {
  host = await startHostCluster();
  core = host.kubeConfig().makeApiClient(CoreV1Api);
  apps = host.kubeConfig().makeApiClient(AppsV1Api);
  await core.createNamespace({ body: { metadata: { name: NS } } });
  await core.createNamespacedSecret({
    namespace: NS,
    body: { metadata: { name: 'operator-keys' }, data: { 'bls.key': Buffer.from(BLS_KEY).toString('base64'), 'ecdsa.key': Buffer.from(ECDSA_KEY).toString('base64') } },
  });
  server = await startHourglassServer(host, undefined);
  store = server.stores.get(EXECUTORS)!;
});
test.after.always(async () => {
  await server?.stop();
  await host?.stop();
});

const get = (name: string): Promise<KubeObject> => store.get({ namespace: NS, name });
const condition = (o: KubeObject, type: string) => findCondition(o.status?.conditions as Condition[] | undefined, type);
const readSts = (name: string): Promise<V1StatefulSet> => apps.readNamespacedStatefulSet({ namespace: NS, name });
const hashOf = (sts: V1StatefulSet) => sts.spec?.template.metadata?.annotations?.['hourglass.eigenlayer.io/config-hash'];
const notFound = (call: () => Promise<unknown>) =>
  call().then(
    () => false,
    (err: { code?: number }) => err.code === 404,
  );

function assertNoSecret(t: { false(v: boolean, m?: string): void }, what: string, value: unknown) {
  const text = JSON.stringify(value);
  for (const form of SECRET_FORMS) t.false(text.includes(form), `${what} carries no operator key material`);
}

test.serial('ConfigMap and StatefulSet; operator keys only through Secrets; status Running (stand-in host cluster)', async (t) => {
  await create(store, sample('HourglassExecutor', 'ex1', NS));
  const running = await eventually(async () => {
    const o = await get('ex1');
    return o.status?.phase === 'Running' ? o : undefined;
  }, 'Running');
  t.like(running.status, { replicas: 1, readyReplicas: 1 });
  t.truthy(running.status?.lastConfigUpdate);
  t.is(condition(running, 'Ready')?.status, 'True');
  t.deepEqual(running.metadata.finalizers, ['hourglass.eigenlayer.io/finalizer']);

  const cm = await core.readNamespacedConfigMap({ namespace: NS, name: 'ex1-config' });
  const file = cm.data?.['executor.yaml'] ?? '';
  t.regex(file, /aggregatorEndpoint: aggregator\.hourglass-system\.svc\.cluster\.local:9010/);
  t.regex(file, /- name: ethereum/);
  t.regex(file, /logLevel: info/);
  t.regex(file, /fromEnv: HOURGLASS_OPERATOR_KEY_ECDSA/);
  const sts = await readSts('ex1');
  t.is(sts.spec?.replicas, 1);
  t.is(sts.spec?.template.metadata?.labels?.['hourglass.eigenlayer.io/executor'], 'ex1');
  const env = sts.spec?.template.spec?.containers[0].env ?? [];
  t.like(env.find((e) => e.name === 'HOURGLASS_OPERATOR_KEY_BLS')?.valueFrom?.secretKeyRef, { name: 'operator-keys', key: 'bls.key' });
  t.true(env.every((e) => e.value === undefined), 'no plain env values');

  const events = (await core.listNamespacedEvent({ namespace: NS })).items.filter((e) => e.involvedObject.name === 'ex1');
  t.true(events.some((e) => e.reason === 'Created'));
  for (const [what, value] of [
    ['the ConfigMap', cm],
    ['the StatefulSet', sts],
    ['the events', events],
    ['the HourglassExecutor', running],
  ] as const) {
    assertNoSecret(t, what, value);
  }
});

test.serial('a configuration change updates the ConfigMap and rolls the StatefulSet; replicas do not (stand-in host cluster)', async (t) => {
  const before = await readSts('ex1');
  const firstUpdate = (await get('ex1')).status?.lastConfigUpdate as string;
  await edit(store, NS, 'ex1', (o) => (o.spec.config.logLevel = 'debug'));
  const rolled = await eventually(async () => {
    const sts = await readSts('ex1');
    return hashOf(sts) !== hashOf(before) ? sts : undefined;
  }, 'the pod template re-hashed');
  t.regex((await core.readNamespacedConfigMap({ namespace: NS, name: 'ex1-config' })).data?.['executor.yaml'] ?? '', /logLevel: debug/);
  const after = await eventually(async () => {
    const o = await get('ex1');
    return o.status?.observedGeneration === o.metadata.generation && o.status?.phase === 'Running' ? o : undefined;
  }, 'status of the new generation');
  t.true(Date.parse(after.status!.lastConfigUpdate as string) >= Date.parse(firstUpdate));
  await eventually(async () => (await core.listNamespacedEvent({ namespace: NS })).items.some((e) => e.involvedObject.name === 'ex1' && e.reason === 'ConfigUpdated'), 'the ConfigUpdated event');

  // Scale subresource: spec.replicas → StatefulSet replicas, same template hash.
  const scale = await httpsRequest(server, 'PUT', `/apis/hourglass.eigenlayer.io/v1alpha1/namespaces/${NS}/hourglassexecutors/ex1/scale`, {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'ex1', namespace: NS }, spec: { replicas: 3 } }),
  });
  t.is(scale.status, 200, scale.body);
  host.kubelet.setReadyReplicas('StatefulSet', NS, 'ex1', 1);
  const partly = await eventually(async () => {
    const o = await get('ex1');
    return o.status?.replicas === 3 && o.status?.readyReplicas === 1 ? o : undefined;
  }, '1 of 3 ready');
  t.is(partly.status?.phase, 'Pending');
  t.is(condition(partly, 'Ready')?.status, 'False');
  t.is(hashOf(await readSts('ex1')), hashOf(rolled), 'scaling does not roll the pods');
  host.kubelet.setReadyReplicas('StatefulSet', NS, 'ex1', undefined);
  await eventually(async () => (await get('ex1')).status?.phase === 'Running', 'Running with 3');
  const scaleGet = JSON.parse((await httpsRequest(server, 'GET', `/apis/hourglass.eigenlayer.io/v1alpha1/namespaces/${NS}/hourglassexecutors/ex1/scale`)).body);
  t.like(scaleGet, { spec: { replicas: 3 }, status: { replicas: 3, selector: 'hourglass.eigenlayer.io/executor=ex1' } });

  await edit(store, NS, 'ex1', (o) => (o.spec.replicas = 0));
  await eventually(async () => (await get('ex1')).status?.phase === 'Stopped', 'Stopped at 0 replicas');
});

test.serial('delete removes the ConfigMap and StatefulSet, then the executor (stand-in host cluster)', async (t) => {
  await store.delete({ namespace: NS, name: 'ex1' }, { dryRun: false });
  await eventually(() => notFound(() => get('ex1')), 'the executor gone after its finalizer');
  t.true(await notFound(() => readSts('ex1')));
  t.true(await notFound(() => core.readNamespacedConfigMap({ namespace: NS, name: 'ex1-config' })));
  t.true(await notFound(() => core.readNamespacedSecret({ namespace: NS, name: 'operator-keys' })).then((gone) => !gone), 'the Secret is not ours and stays');
});
