// Controller faults, kubelet (issue 13): a PVCGroup of two claims on node-1 at 50% is steady;
// the node's kubelet goes away (its node proxy answers 503, or hangs past the scrape timeout) and
// then the volumes fill to 95%. A kubelet that does not answer is never "0% used" and never
// "95% used": nothing may be expanded blind; the group's status (condition UsageUnknown) and a
// Warning Event say which members are unmeasured and which kubelet is silent. Once the kubelet
// answers again the expansion happens by itself and the condition clears.
import test from 'ava';
import { USAGE_UNKNOWN_CONDITION } from '../../controllers/pvcchonker/controller.js';
import { findCondition, type Condition } from '../../controllers/status.js';
import type { KubeObject } from '../../registry/meta.js';
import type { Store } from '../../registry/store.js';
import { create } from '../controllers/helpers.js';
import { startHostCluster, type HostCluster } from '../hostcluster/index.js';
import { createClaim, cycles, ensureStorageClasses, eventsOf, eventually, readClaim, requestOf, setUsage, startChonkerServer, withNamespace, type ChonkerServer } from '../pvcchonker/helpers.js';

interface Outage {
  name: 'unavailable' | 'hung';
  begin(host: HostCluster): void;
  end(host: HostCluster): void;
}

const OUTAGES: Outage[] = [
  // kube-apiserver's node proxy answers 503 when it cannot dial the kubelet.
  { name: 'unavailable', begin: (host) => host.kubelet.setNodeReachable('node-1', false), end: (host) => host.kubelet.setNodeReachable('node-1', true) },
  // The kubelet accepts the scrape and never answers: the 1 s scrape timeout ends it.
  { name: 'hung', begin: (host) => host.kubelet.setNodeHung('node-1', true), end: (host) => host.kubelet.setNodeHung('node-1', false) },
];

let host: HostCluster;
let server: ChonkerServer;
let groups: Store;

test.before(async () => {
  host = await startHostCluster();
  await ensureStorageClasses(host);
  server = await startChonkerServer(host, {}, { kubeletTimeoutMs: 1_000 });
  groups = server.stores.get('pvcgroups.pvc-chonker.io')!;
});
test.after.always(async () => {
  for (const o of OUTAGES) o.end(host);
  await server?.stop();
  await host?.stop();
});

const MEMBERS = ['data-0', 'data-1'];
const condition = (o: KubeObject, type: string) => findCondition(o.status?.conditions as Condition[] | undefined, type);

for (const outage of OUTAGES) {
  test.serial(`kubelet ${outage.name} while usage crosses the threshold: no expansion, UsageUnknown condition and a Warning; expanded once it answers (stand-in kubelet, stand-in host cluster)`, async (t) => {
    const ns = `kubelet-${outage.name}`;
    t.teardown(await withNamespace(host, ns));
    for (const name of MEMBERS) {
      await createClaim(host, ns, name, { annotations: { 'pvc-chonker.io/group': 'db' } });
      setUsage(host, ns, name, 50, 10);
    }
    await create(groups, { apiVersion: 'pvc-chonker.io/v1alpha1', kind: 'PVCGroup', metadata: { name: 'db', namespace: ns }, spec: { template: { threshold: '80%' } } } as unknown as KubeObject);
    await eventually(async () => (await groups.get({ namespace: ns, name: 'db' })).status?.memberCount === 2, 'the group with its two members');
    await cycles(1);
    for (const name of MEMBERS) t.is(await requestOf(host, ns, name), '10Gi', 'steady at 50%: nothing to do');

    outage.begin(host);
    let ended = false;
    t.teardown(() => {
      if (!ended) outage.end(host);
    });
    // The work: both volumes fill past the threshold while their kubelet is silent.
    for (const name of MEMBERS) setUsage(host, ns, name, 95, 10);
    const blind = await eventually(async () => {
      const o = await groups.get({ namespace: ns, name: 'db' });
      return condition(o, USAGE_UNKNOWN_CONDITION)?.status === 'True' ? o : undefined;
    }, 'UsageUnknown=True on the group');
    t.like(condition(blind, USAGE_UNKNOWN_CONDITION), { reason: 'KubeletUnavailable' });
    t.regex(condition(blind, USAGE_UNKNOWN_CONDITION)!.message!, /^no usage for data-0, data-1 \(kubelets that did not answer: node-1\); not expanded until their usage is known$/);
    const warning = await eventually(async () => (await eventsOf(host, ns, 'db', 'UsageUnknown'))[0], 'a Warning UsageUnknown Event on the group');
    t.is(warning.type, 'Warning');
    t.is(warning.involvedObject.kind, 'PVCGroup');
    await cycles(2);
    for (const name of MEMBERS) {
      const claim = await readClaim(host, ns, name);
      t.is(claim.spec?.resources?.requests?.storage, '10Gi', `${name}: not expanded on missing metrics`);
      t.is(claim.metadata?.annotations?.['pvc-chonker.io/last-expansion'], undefined, `${name}: no expansion recorded`);
      t.deepEqual(await eventsOf(host, ns, name, 'Expanded'), [], `${name}: no Expanded event`);
    }
    t.is((await groups.get({ namespace: ns, name: 'db' })).status?.memberCount, 2, 'the members are still counted');

    const backAt = Date.now();
    outage.end(host);
    ended = true;
    for (const name of MEMBERS) await eventually(async () => (await requestOf(host, ns, name)) === '11Gi', `${name} expanded once its kubelet answers`);
    const recovered = await eventually(async () => {
      const o = await groups.get({ namespace: ns, name: 'db' });
      return condition(o, USAGE_UNKNOWN_CONDITION)?.status === 'False' ? o : undefined;
    }, 'UsageUnknown=False');
    t.log(`kubelet ${outage.name}: both members expanded and the condition cleared ${Date.now() - backAt} ms after the kubelet answered again`);
    t.like(condition(recovered, USAGE_UNKNOWN_CONDITION), { reason: 'UsageKnown' });
    for (const name of MEMBERS) t.is((await eventsOf(host, ns, name, 'Expanded')).length, 1, `${name}: expanded exactly once`);
  });
}
