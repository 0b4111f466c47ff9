// Controller faults, Nimbus (issue 13): a StormTopology runs on the stand-in Nimbus; Nimbus goes
// away (connections refused, or hung: it accepts requests and never answers in time) and the
// spec changes (suspend) while it is away. Nothing may be killed, the topology must not be
// declared lost or Killed, the status and an Event must say Nimbus is unreachable, and once
// Nimbus is back the suspend is carried out without help.
import type { CoreV1Event } from '@kubernetes/client-node';
import test from 'ava';
import { TOPOLOGY_FINALIZER } from '../../controllers/storm/topology.js';
import {
  completeSubmission,
  condition,
  createObject,
  editObject,
  eventually,
  getObject,
  phaseIs,
  runningCluster,
  startStormHarness,
  topologyObject,
  type StormHarness,
} from '../storm/topology-harness.js';

/** Short Thrift timeouts, no retries: an unreachable Nimbus shows within about a second per call. */
const FAST_THRIFT = { nimbus: { thrift: { connectionTimeout: 1, requestTimeout: 1, maxRetries: 0, retryDelay: 1 } } };

interface Outage {
  name: 'refused' | 'hung';
  begin(h: StormHarness): Promise<void>;
  end(h: StormHarness): Promise<void>;
}

const OUTAGES: Outage[] = [
  { name: 'refused', begin: (h) => h.nimbus.setDown(true), end: (h) => h.nimbus.setDown(false) },
  // Every answer waits 3 s, past the 1 s request timeout: the calls reach Nimbus and time out.
  { name: 'hung', begin: async (h) => h.nimbus.setLatency(3_000), end: async (h) => h.nimbus.setLatency(0) },
];

let h: StormHarness;

test.before(async () => {
  const namespaces = [...OUTAGES.map((o) => `nimbus-${o.name}`), 'nimbus-delete'];
  h = await startStormHarness(namespaces);
  for (const ns of namespaces) await runningCluster(h, ns, 'storm', FAST_THRIFT);
});
test.after.always(async () => {
  await h?.stop();
});

const eventsOf = async (namespace: string, name: string): Promise<CoreV1Event[]> =>
  (await h.core.listNamespacedEvent({ namespace })).items.filter((e) => e.involvedObject.name === name);

for (const outage of OUTAGES) {
  test.serial(`Nimbus ${outage.name} mid-reconcile: nothing killed, status and an Event say Nimbus is unreachable, the suspend is carried out once it is back (stand-in Nimbus, stand-in host cluster)`, async (t) => {
    const ns = `nimbus-${outage.name}`;
    const name = `wc-${outage.name}`;
    await createObject(h.topologies, topologyObject(ns, name));
    await completeSubmission(h, ns, name);
    const running = await phaseIs(h.topologies, ns, name, 'Running');
    const topologyId = running.status.topologyId;
    const killsOf = () => h.nimbus.callsOf('killTopologyWithOpts').filter((c) => c.args[0] === name).length;
    const deactivationsOf = () => h.nimbus.callsOf('deactivate').filter((c) => c.args[0] === name).length;
    t.is(killsOf(), 0);

    await outage.begin(h);
    let ended = false;
    t.teardown(async () => {
      if (!ended) await outage.end(h);
    });
    const callsBefore = h.nimbus.calls.length;
    // The work: suspend the topology while Nimbus is away.
    await editObject(h.topologies, ns, name, (o) => (o.spec.suspend = true));
    const down = await eventually(async () => {
      const o = await getObject(h.topologies, ns, name);
      return condition(o, 'Ready')?.reason === 'NimbusUnavailable' ? o : undefined;
    }, 'Ready=Unknown NimbusUnavailable');
    t.is(condition(down, 'Ready').status, 'Unknown');
    t.regex(condition(down, 'Ready').message, /^Nimbus is unreachable: /);
    t.regex(down.status.lastError, /^Nimbus is unreachable: /);
    t.is(down.status.phase, 'Running', 'the last known phase stays: an unreachable Nimbus is not a lost topology');
    t.is(down.status.topologyId, topologyId);
    const warning = await eventually(async () => (await eventsOf(ns, name)).find((e) => e.reason === 'NimbusUnavailable'), 'a Warning NimbusUnavailable Event');
    t.is(warning.type, 'Warning');
    t.regex(warning.message ?? '', /^Nimbus is unreachable: /);
    // Several reconciles during the outage: identical Warnings are counted on one Event.
    const retries = async () => Math.max(0, ...(await eventsOf(ns, name)).filter((e) => e.reason === 'NimbusUnavailable').map((e) => e.count ?? 1));
    await eventually(async () => (await retries()) >= 3, 'the controller retrying during the outage');

    t.is(killsOf(), 0, 'no kill while Nimbus is away');
    t.is(deactivationsOf(), 0, 'the suspend waits for Nimbus: nothing was sent blind');
    if (outage.name === 'refused') t.is(h.nimbus.calls.length, callsBefore, 'a refused Nimbus received nothing');
    else t.true(h.nimbus.calls.length > callsBefore, 'a hung Nimbus received the calls it never answered in time');
    const standIn = h.nimbus.topologies.get(name);
    t.is(standIn?.summary.status, 'ACTIVE', 'the topology still runs in Nimbus');
    t.false((await getObject(h.topologies, ns, name)).status.phase === 'Killed');

    const backAt = Date.now();
    await outage.end(h);
    ended = true;
    const suspended = await phaseIs(h.topologies, ns, name, 'Suspended', (o) => condition(o, 'Ready')?.reason === 'Suspended', );
    t.log(`Nimbus ${outage.name}: Suspended ${Date.now() - backAt} ms after Nimbus came back`);
    t.is(h.nimbus.topologies.get(name)?.summary.status, 'INACTIVE');
    t.is(suspended.status.lastError, undefined, 'lastError cleared');
    t.is(suspended.status.topologyId, topologyId, 'the same topology: not resubmitted');
    t.is(killsOf(), 0, 'never killed');
    t.true(deactivationsOf() >= 1);
    t.true((await eventsOf(ns, name)).some((e) => e.reason === 'Suspended'));
  });
}

test.serial('Nimbus refused during a delete: the finalizer holds, nothing is cleaned up blind, status and an Event say why; the kill happens once it is back (stand-in Nimbus, stand-in host cluster)', async (t) => {
  const ns = 'nimbus-delete';
  const name = 'wc-delete';
  await createObject(h.topologies, topologyObject(ns, name));
  const job = await completeSubmission(h, ns, name);
  await phaseIs(h.topologies, ns, name, 'Running');
  const killsOf = () => h.nimbus.callsOf('killTopologyWithOpts').filter((c) => c.args[0] === name);

  await h.nimbus.setDown(true);
  let ended = false;
  t.teardown(async () => {
    if (!ended) await h.nimbus.setDown(false);
  });
  await h.topologies.delete({ namespace: ns, name }, { dryRun: false });
  // (A poll before the delete was seen may report the outage first: wait for the delete's report.)
  const blocked = await eventually(async () => {
    const o = await getObject(h.topologies, ns, name);
    return condition(o, 'Ready')?.reason === 'NimbusUnavailable' && /^cannot kill /.test(condition(o, 'Ready').message) ? o : undefined;
  }, 'Ready=Unknown NimbusUnavailable "cannot kill" on the deleted object');
  t.truthy(blocked.metadata.deletionTimestamp);
  t.deepEqual(blocked.metadata.finalizers, [TOPOLOGY_FINALIZER], 'the finalizer stays while the kill cannot be sent');
  t.regex(condition(blocked, 'Ready').message, new RegExp(`^cannot kill ${name} yet, Nimbus is unreachable: `));
  await eventually(async () => (await eventsOf(ns, name)).some((e) => e.reason === 'NimbusUnavailable' && e.type === 'Warning' && /cannot kill/.test(e.message ?? '')), 'a Warning NimbusUnavailable Event');
  t.is(killsOf().length, 0);
  t.is(h.nimbus.topologies.get(name)?.summary.status, 'ACTIVE');
  const jobs = (await h.batch.listNamespacedJob({ namespace: ns })).items.map((j) => j.metadata?.name);
  t.true(jobs.includes(job.metadata!.name!), 'the submission Job is kept until the topology is killed');

  const backAt = Date.now();
  await h.nimbus.setDown(false);
  ended = true;
  await eventually(async () => (await h.topologies.get({ namespace: ns, name }).then(() => false, () => true)), 'the StormTopology gone after the kill');
  t.log(`delete completed ${Date.now() - backAt} ms after Nimbus came back`);
  t.is(killsOf().length, 1, 'exactly one kill, sent once Nimbus answered');
  t.deepEqual(killsOf()[0].args.slice(0, 1), [name]);
  await eventually(async () => !(await h.batch.listNamespacedJob({ namespace: ns })).items.some((j) => j.metadata?.name === job.metadata!.name), 'the Job cleaned up');
});
