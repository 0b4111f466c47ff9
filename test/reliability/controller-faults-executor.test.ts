// Controller faults, host cluster, HourglassExecutor (issue 13, as controller-faults-hostcluster
// for the Performer): the host's API goes away — every request answered 503, or its port refusing
// connections — while one executor runs, a new one is created, one is deleted and one has its
// configuration changed. Nothing on the host is deleted or recreated, the deleted executor keeps
// its finalizer, every status says Ready=Unknown HostClusterUnavailable (polled at the normal
// interval, not the growing per-key backoff), and once the host answers everything converges.
import { AppsV1Api, CoreV1Api, type V1StatefulSet } from '@kubernetes/client-node';
import test from 'ava';
import { EXECUTOR_FINALIZER } from '../../controllers/hourglass/executor.js';
import type { KubeObject } from '../../registry/meta.js';
import type { Store } from '../../registry/store.js';
import { create, sample } from '../controllers/helpers.js';
import { edit, eventually, EXECUTORS, startHourglassServer, type HourglassServer } from '../hourglass/helpers.js';
import { startHostCluster, type HostCluster } from '../hostcluster/index.js';
import { absent, condition, EXPECTED_ERROR, inHost, OUTAGES, reconciles } from './host-outage.js';

const CONFIG_HASH = 'hourglass.eigenlayer.io/config-hash';

let host: HostCluster;
let core: CoreV1Api;
let apps: AppsV1Api;

test.before(async () => {
  host = await startHostCluster();
  core = host.kubeConfig().makeApiClient(CoreV1Api);
  apps = host.kubeConfig().makeApiClient(AppsV1Api);
  for (const outage of OUTAGES) await core.createNamespace({ body: { metadata: { name: `exec-${outage}` } } });
});
test.after.always(async () => {
  await host?.setOutage(undefined);
  await host?.stop();
});

const hashOf = (sts: V1StatefulSet | KubeObject | undefined) => (sts as V1StatefulSet | undefined)?.spec?.template.metadata?.annotations?.[CONFIG_HASH];

async function runningExecutor(store: Store, ns: string, name: string): Promise<{ sts: V1StatefulSet; configMapUid: string }> {
  await create(store, sample('HourglassExecutor', name, ns));
  await eventually(async () => (await store.get({ namespace: ns, name })).status?.phase === 'Running', `${ns}/${name} Running`);
  const sts = await apps.readNamespacedStatefulSet({ namespace: ns, name });
  const cm = await core.readNamespacedConfigMap({ namespace: ns, name: `${name}-config` });
  return { sts, configMapUid: cm.metadata!.uid! };
}

/**
 * Waits for the executor's report of the outage while `doing`, naming `error`. (A call in flight
 * as the listener closes sees ECONNRESET; the reports after it, polled every 100 ms, name the
 * outage's steady error.)
 */
async function reportsOutage(store: Store, ns: string, name: string, doing: string, error: RegExp): Promise<KubeObject> {
  return eventually(async () => {
    const o = await store.get({ namespace: ns, name });
    const ready = condition(o, 'Ready');
    return ready?.reason === 'HostClusterUnavailable' && ready.message?.includes(doing) && error.test(ready.message) ? o : undefined;
  }, `${ns}/${name} reporting HostClusterUnavailable (${error}) while ${doing}`);
}

for (const outage of OUTAGES) {
  test.serial(`HourglassExecutor, host cluster ${outage}: nothing deleted or recreated, the delete waits behind the finalizer, status Ready=Unknown HostClusterUnavailable; converges after (stand-in host cluster)`, async (t) => {
    const ns = `exec-${outage}`;
    const server: HourglassServer = await startHourglassServer(host, undefined, { flags: { 'leader-elect': 'false' } });
    t.teardown(() => server.stop());
    const store = server.stores.get(EXECUTORS)!;
    const steady = await runningExecutor(store, ns, 'steady');
    const doomed = await runningExecutor(store, ns, 'doomed');

    const failedBefore = await reconciles('hourglass-executor', 'error');
    const polledBefore = await reconciles('hourglass-executor', 'requeue_after');
    await host.setOutage(outage);
    let ended = false;
    t.teardown(async () => {
      if (!ended) await host.setOutage(undefined);
    });
    // The work while the host is away: a new executor, a deleted one, a configuration change.
    await create(store, sample('HourglassExecutor', 'late', ns));
    await store.delete({ namespace: ns, name: 'doomed' }, { dryRun: false });
    await edit(store, ns, 'steady', (o) => (o.spec.config.logLevel = 'debug'));

    const late = await reportsOutage(store, ns, 'late', 'reconciling', EXPECTED_ERROR[outage]);
    t.like(condition(late, 'Ready'), { status: 'Unknown', reason: 'HostClusterUnavailable' });
    t.regex(condition(late, 'Ready')!.message!, /^the host cluster cannot be reached while reconciling its StatefulSet and ConfigMap: /);
    const blocked = await reportsOutage(store, ns, 'doomed', 'deleting', EXPECTED_ERROR[outage]);
    t.truthy(blocked.metadata.deletionTimestamp);
    t.deepEqual(blocked.metadata.finalizers, [EXECUTOR_FINALIZER], 'the finalizer stays until the StatefulSet can be removed');
    t.regex(condition(blocked, 'Ready')!.message!, /^the host cluster cannot be reached while deleting its StatefulSet and ConfigMap: /);
    const edited = await reportsOutage(store, ns, 'steady', 'reconciling', EXPECTED_ERROR[outage]);
    t.is(edited.status?.phase, 'Running', 'the last observed phase is kept');
    t.is(edited.status?.readyReplicas, 1, 'the last observed ready count is kept');

    // A few more polls at the normal interval, each finding the host away: still nothing done blind.
    const reportedAt = condition(edited, 'Ready')!.lastTransitionTime;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    t.is(condition(await store.get({ namespace: ns, name: 'steady' }), 'Ready')?.lastTransitionTime, reportedAt, 'Ready stays Unknown (no flapping)');
    const steadySts = await inHost(host, 'statefulsets.apps', ns, 'steady');
    t.is(steadySts?.metadata.uid, steady.sts.metadata!.uid, 'the steady StatefulSet is the same one');
    t.is(hashOf(steadySts), hashOf(steady.sts), 'not rolled while the host is away');
    t.is((await inHost(host, 'statefulsets.apps', ns, 'doomed'))?.metadata.uid, doomed.sts.metadata!.uid, 'the deleted executor’s StatefulSet is still there');
    t.truthy(await inHost(host, 'configmaps.core', ns, 'doomed-config'));
    t.is(await inHost(host, 'statefulsets.apps', ns, 'late'), undefined, 'nothing created for the new executor');

    t.true((await reconciles('hourglass-executor', 'requeue_after')) > polledBefore, 'the executors were polled during the outage');
    t.is(await reconciles('hourglass-executor', 'error'), failedBefore, 'every reconcile during the outage reported it and polled; none failed into the backoff');

    const backAt = Date.now();
    await host.setOutage(undefined);
    ended = true;
    await eventually(async () => (await store.get({ namespace: ns, name: 'late' })).status?.phase === 'Running', 'the executor created during the outage runs');
    await eventually(() => absent(() => store.get({ namespace: ns, name: 'doomed' })), 'the deleted executor gone after its clean-up');
    const rolled = await eventually(async () => {
      const sts = await apps.readNamespacedStatefulSet({ namespace: ns, name: 'steady' });
      return hashOf(sts) !== hashOf(steady.sts) ? sts : undefined;
    }, 'the configuration change rolled out');
    const converged = await eventually(async () => {
      const o = await store.get({ namespace: ns, name: 'steady' });
      return condition(o, 'Ready')?.status === 'True' && o.status?.observedGeneration === o.metadata.generation ? o : undefined;
    }, 'steady Ready again at its new generation');
    t.log(`executor, host ${outage}: all work done ${Date.now() - backAt} ms after the host came back`);
    t.is(converged.status?.phase, 'Running');
    t.is(rolled.metadata?.uid, steady.sts.metadata!.uid, 'the StatefulSet was updated in place, not recreated');
    t.is((await core.readNamespacedConfigMap({ namespace: ns, name: 'steady-config' })).metadata?.uid, steady.configMapUid, 'the ConfigMap was updated in place');
    t.regex((await core.readNamespacedConfigMap({ namespace: ns, name: 'steady-config' })).data?.['executor.yaml'] ?? '', /logLevel: debug/);
    t.true(await absent(() => apps.readNamespacedStatefulSet({ namespace: ns, name: 'doomed' })));
    t.true(await absent(() => core.readNamespacedConfigMap({ namespace: ns, name: 'doomed-config' })));
  });
}
