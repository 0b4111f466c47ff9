// Controller faults, performer (issue 13): a Performer serves v1; it is upgraded to v2 while the
// v2 performer process is away (nothing listens on its port: connection refused; or it hangs past
// the health deadline). The upgrade must wait: the Service stays on v1, the v1 Pod is neither
// deleted nor replaced, the status (Upgrading condition) and a Warning Event say the new version
// does not answer. When the v2 performer comes back at the same address and reports SERVING the
// switch happens by itself and the v1 Pod goes.
import { CoreV1Api, type CoreV1Event, type V1Pod } from '@kubernetes/client-node';
import test from 'ava';
import { findCondition, type Condition } from '../../controllers/status.js';
import type { PerformerStatus } from '../../registry/hourglass.eigenlayer.io/performer/types.js';
import type { KubeObject } from '../../registry/meta.js';
import type { Store } from '../../registry/store.js';
import { create, sample } from '../controllers/helpers.js';
import { edit, eventually, startPerformerWorld, type PerformerWorld, type StandInNetwork } from '../hourglass/helpers.js';
import type { StandInPerformer } from '../stand-ins/performer/index.js';

interface Outage {
  name: 'refused' | 'hung';
  grpcCode: string;
  /** Makes `v2` go away; returns how it comes back (the performer at the same address). */
  begin(v2: StandInPerformer): Promise<() => Promise<StandInPerformer>>;
}

const OUTAGES: Outage[] = [
  {
    name: 'refused',
    grpcCode: 'UNAVAILABLE',
    async begin(v2) {
      await v2.stop();
      return () => standIn({ port: v2.port });
    },
  },
  {
    name: 'hung',
    grpcCode: 'DEADLINE_EXCEEDED',
    // Every answer waits 5 s, past the controller's 1 s health deadline.
    async begin(v2) {
      v2.setDelay(5_000);
      return async () => {
        v2.setDelay(0);
        return v2;
      };
    },
  },
];

let world: PerformerWorld;
let core: CoreV1Api;
let network: StandInNetwork;
let store: Store;
const standIn = (options?: Parameters<PerformerWorld['standIn']>[0]) => world.standIn(options);

test.before(async () => {
  world = await startPerformerWorld(OUTAGES.map((o) => `performer-${o.name}`));
  ({ core, network, store } = world);
});
test.after.always(() => world?.stop());

const get = (ns: string, name: string): Promise<KubeObject> => store.get({ namespace: ns, name });
const statusOf = (o: KubeObject) => (o.status ?? {}) as PerformerStatus;
const condition = (o: KubeObject, type: string) => findCondition(o.status?.conditions as Condition[] | undefined, type);
const podsOf = async (ns: string, name: string): Promise<V1Pod[]> => (await core.listNamespacedPod({ namespace: ns, labelSelector: `hourglass.eigenlayer.io/performer=${name}` })).items;
const eventsFor = async (ns: string, name: string): Promise<CoreV1Event[]> => (await core.listNamespacedEvent({ namespace: ns })).items.filter((e) => e.involvedObject.name === name);
const selectorOf = async (ns: string, name: string) => (await core.readNamespacedService({ namespace: ns, name: `performer-${name}` })).spec?.selector?.['hourglass.eigenlayer.io/revision'];

for (const outage of OUTAGES) {
  test.serial(`the new version's performer ${outage.name} during an upgrade: no switch, v1 kept, status and an Event say why; the upgrade finishes once it answers (stand-in performer, stand-in host cluster)`, async (t) => {
    const ns = `performer-${outage.name}`;
    const name = 'avs';
    const byVersion: Record<string, StandInPerformer> = { v1: await standIn({ status: 'SERVING' }), v2: await standIn({ status: 'SERVING' }) };
    const previousRoute = network.route;
    network.route = (pod) => (pod.metadata?.namespace === ns ? byVersion[pod.metadata?.annotations?.['hourglass.eigenlayer.io/version'] ?? ''] : previousRoute(pod));
    await create(
      store,
      sample('Performer', name, ns, (o) => {
        o.spec.version = 'v1';
        o.spec.image = 'ghcr.io/example/hello-avs-performer:v1';
      }),
    );
    const first = await eventually(async () => {
      const o = await get(ns, name);
      return statusOf(o).ready === true ? o : undefined;
    }, 'v1 ready');
    const v1Revision = statusOf(first).currentVersion!.revision!;
    const [v1Pod] = await podsOf(ns, name);

    const comeBack = await outage.begin(byVersion.v2);
    let back = false;
    t.teardown(async () => {
      if (!back) await comeBack();
    });
    // The work: upgrade to v2 while its performer does not answer.
    await edit(store, ns, name, (o) => {
      o.spec.version = 'v2';
      o.spec.image = 'ghcr.io/example/hello-avs-performer:v2';
    });
    const waiting = await eventually(async () => {
      const o = await get(ns, name);
      const message = condition(o, 'Upgrading')?.message ?? '';
      return statusOf(o).pendingVersion?.version === 'v2' && message.includes(outage.grpcCode) ? o : undefined;
    }, `Upgrading names ${outage.grpcCode}`);
    t.like(condition(waiting, 'Upgrading'), { status: 'True', reason: 'WaitingForServing' });
    t.regex(condition(waiting, 'Upgrading')!.message!, new RegExp(`health UNREACHABLE \\(${outage.grpcCode}\\)`));
    t.is(statusOf(waiting).currentVersion?.version, 'v1');
    const warning = await eventually(async () => (await eventsFor(ns, name)).find((e) => e.reason === 'HealthCheckFailed'), 'a Warning HealthCheckFailed Event');
    t.is(warning.type, 'Warning');
    t.regex(warning.message ?? '', new RegExp(`^v2 \\(ghcr.io/example/hello-avs-performer:v2\\) in pod \\S+: no health answer \\(${outage.grpcCode}\\); the Service stays on v1`));
    // Several reconciles during the outage (counted on the one Event).
    await eventually(async () => ((await eventsFor(ns, name)).find((e) => e.reason === 'HealthCheckFailed')?.count ?? 0) >= 3, 'three failed health checks');

    const during = await get(ns, name);
    t.is(statusOf(during).currentVersion?.revision, v1Revision, 'still serving v1');
    t.is(statusOf(during).ready, true, 'v1 still ready');
    t.is(await selectorOf(ns, name), v1Revision, 'the Service still selects v1');
    const pods = await podsOf(ns, name);
    t.is(pods.length, 2, 'v1 and v2 both run');
    t.true(pods.some((p) => p.metadata?.uid === v1Pod.metadata?.uid), 'the v1 Pod is the same one: not deleted or replaced');
    t.false((await eventsFor(ns, name)).some((e) => e.reason === 'Upgraded'), 'no switch');

    const backAt = Date.now();
    byVersion.v2 = await comeBack();
    back = true;
    const onV2 = await eventually(async () => {
      const o = await get(ns, name);
      return statusOf(o).currentVersion?.version === 'v2' ? o : undefined;
    }, 'switched to v2');
    const v2Revision = statusOf(onV2).currentVersion!.revision!;
    await eventually(async () => (await podsOf(ns, name)).length === 1 && (await selectorOf(ns, name)) === v2Revision, 'the Service on v2 and the v1 Pod removed');
    t.log(`performer ${outage.name}: switched to v2 ${Date.now() - backAt} ms after it answered again`);
    t.like(statusOf(onV2).previousVersion, { version: 'v1', revision: v1Revision });
    t.like(condition(await get(ns, name), 'Upgrading'), { status: 'False' });
    t.true((await eventsFor(ns, name)).some((e) => e.reason === 'Upgraded' && /it reports SERVING/.test(e.message ?? '')));
  });
}
