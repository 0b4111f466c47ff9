// Desired state across a Nimbus restart with empty state: a deployed topology Nimbus no longer knows
// is submitted again through a new submission Job (Warning TopologyLost, phase Submitted), with a
// backoff between attempts; a suspended one is resubmitted, then deactivated; one being deleted
// just finishes. The stand-in host cluster runs no pods: a test completes each Job and registers
// the topology in the stand-in Nimbus, as `storm jar` would.
import type { V1Job } from '@kubernetes/client-node';
import test from 'ava';
import { RESUBMISSION_ANNOTATION } from '../../controllers/storm/topology-job.js';
import { blueGreenStormName } from '../../registry/storm.apache.org/stormtopology/revisions.js';
import type { TopologySpec } from '../../registry/storm.apache.org/stormtopology/types.js';
import { completeSubmission, condition, createObject, eventually, getObject, phaseIs, runningCluster, startStormHarness, topologyObject, type StormHarness } from './topology-harness.js';

let h: StormHarness;
const NAMESPACES = ['lost', 'lost-suspended', 'lost-delete', 'lost-bluegreen'];

test.before(async () => {
  h = await startStormHarness(NAMESPACES);
  for (const ns of NAMESPACES) await runningCluster(h, ns);
});
test.after.always(async () => {
  await h?.stop();
});

async function jobsOf(namespace: string, stormName: string): Promise<V1Job[]> {
  return (await h.batch.listNamespacedJob({ namespace })).items.filter((j) => j.metadata?.annotations?.['storm.apache.org/storm-topology-name'] === stormName);
}

/** The resubmission Job `attempt` of `stormName`, once it exists. */
function resubmissionJob(namespace: string, stormName: string, attempt: number): Promise<V1Job> {
  return eventually(async () => (await jobsOf(namespace, stormName)).find((j) => j.metadata?.annotations?.[RESUBMISSION_ANNOTATION] === String(attempt)), `resubmission Job ${attempt} of ${stormName}`);
}

/** What `storm jar` does for the Job: it completes, and the topology appears in Nimbus. */
async function completeJob(namespace: string, job: V1Job, stormName: string, init: Record<string, unknown> = {}): Promise<void> {
  h.host.kubelet.scriptJob(namespace, job.metadata!.name!, 'Complete');
  await eventually(async () => (await h.batch.readNamespacedJob({ namespace, name: job.metadata!.name! })).status?.succeeded === 1, 'the Job complete');
  h.nimbus.addTopology({ name: stormName, numWorkers: 2, numExecutors: 6, numTasks: 6, uptimeSecs: 5, ...init } as never);
}

async function warningEvents(namespace: string, reason: string) {
  return (await h.core.listNamespacedEvent({ namespace, fieldSelector: `reason=${reason}` })).items;
}

test.serial('a running topology lost by a Nimbus restarted with empty state is resubmitted, with backoff between attempts (stand-in host cluster, stand-in Nimbus)', async (t) => {
  const ns = 'lost';
  await createObject(h.topologies, topologyObject(ns, 'wc'));
  const first = await completeSubmission(h, ns, 'wc');
  const running = await phaseIs(h.topologies, ns, 'wc', 'Running');
  const firstId = running.status.topologyId;

  await h.nimbus.restartEmpty();
  const resubmitting = await phaseIs(h.topologies, ns, 'wc', 'Submitted', (o) => o.status.internalState === 'Resubmitting');
  t.like(condition(resubmitting, 'TopologyLost'), { status: 'True', reason: 'Resubmitting' });
  t.is(resubmitting.status.resubmissions, 1);
  const events = await eventually(async () => (await warningEvents(ns, 'TopologyLost')).filter((e) => e.involvedObject.name === 'wc'), 'a TopologyLost event');
  t.is(events[0]!.type, 'Warning');
  t.regex(events[0]!.message!, /Storm topology wc is no longer known to Nimbus/);
  const job1 = await resubmissionJob(ns, 'wc', 1);
  t.not(job1.metadata!.name, first.metadata!.name, 'a new submission Job, not the completed one');
  t.deepEqual(job1.spec!.template.spec!.containers[0]!.command!.slice(0, 5), first.spec!.template.spec!.containers[0]!.command!.slice(0, 5), 'the same storm jar');

  await completeJob(ns, job1, 'wc');
  const back = await phaseIs(h.topologies, ns, 'wc', 'Running', (o) => o.status.topologyId !== firstId);
  t.is(back.status.topologyId, h.nimbus.topologies.get('wc')!.summary.id);
  t.like(condition(back, 'TopologyLost'), { status: 'False', reason: 'Resubmitted' });
  t.like(condition(back, 'Ready'), { status: 'True', reason: 'Running' });

  // Lost again soon after: the next attempt waits for the backoff (status says when), then goes.
  await h.nimbus.restartEmpty();
  const waiting = await phaseIs(h.topologies, ns, 'wc', 'Pending', (o) => o.status.internalState === 'ResubmitBackoff');
  t.like(condition(waiting, 'Ready'), { status: 'False', reason: 'TopologyLost' });
  t.regex(condition(waiting, 'Ready').message, /resubmission 2 at \S+ \(backoff after 1\)/);
  t.false((await jobsOf(ns, 'wc')).some((j) => j.metadata?.annotations?.[RESUBMISSION_ANNOTATION] === '2'), 'no Job during the backoff');
  const job2 = await resubmissionJob(ns, 'wc', 2);
  await eventually(async () => !(await jobsOf(ns, 'wc')).some((j) => j.metadata?.name === job1.metadata!.name), 'the previous resubmission Job deleted');
  await completeJob(ns, job2, 'wc');
  const again = await phaseIs(h.topologies, ns, 'wc', 'Running', (o) => o.status.resubmissions === 2 && condition(o, 'TopologyLost')?.status === 'False');
  t.is(again.status.topologyId, h.nimbus.topologies.get('wc')!.summary.id);
});

test.serial('a suspended topology lost by a Nimbus restart is resubmitted, then deactivated (stand-in host cluster, stand-in Nimbus)', async (t) => {
  const ns = 'lost-suspended';
  await createObject(h.topologies, topologyObject(ns, 'quiet', (spec) => (spec.suspend = true)));
  await completeSubmission(h, ns, 'quiet');
  await phaseIs(h.topologies, ns, 'quiet', 'Suspended');

  await h.nimbus.restartEmpty();
  await phaseIs(h.topologies, ns, 'quiet', 'Submitted', (o) => o.status.internalState === 'Resubmitting');
  const job = await resubmissionJob(ns, 'quiet', 1);
  const deactivationsBefore = h.nimbus.callsOf('deactivate').filter((c) => c.args[0] === 'quiet').length;
  await completeJob(ns, job, 'quiet', { status: 'ACTIVE' });
  const suspended = await phaseIs(h.topologies, ns, 'quiet', 'Suspended', (o) => condition(o, 'TopologyLost')?.status === 'False');
  t.is(h.nimbus.topologies.get('quiet')!.summary.status, 'INACTIVE');
  t.true(h.nimbus.callsOf('deactivate').filter((c) => c.args[0] === 'quiet').length > deactivationsBefore);
  t.is(suspended.status.topologyId, h.nimbus.topologies.get('quiet')!.summary.id);
});

test.serial('a topology being deleted that Nimbus already lost just finishes: no kill, no resubmission (stand-in host cluster, stand-in Nimbus)', async (t) => {
  const ns = 'lost-delete';
  await createObject(h.topologies, topologyObject(ns, 'gone'));
  await completeSubmission(h, ns, 'gone');
  await phaseIs(h.topologies, ns, 'gone', 'Running');
  await h.nimbus.restartEmpty();
  await h.topologies.delete({ namespace: ns, name: 'gone' }, { dryRun: false });
  await eventually(async () => getObject(h.topologies, ns, 'gone').then(() => false, (err: { code?: number }) => err.code === 404), 'the object to go');
  t.is(h.nimbus.callsOf('killTopologyWithOpts').filter((c) => c.args[0] === 'gone').length, 0, 'nothing to kill');
  t.false(h.nimbus.topologies.has('gone'));
  await eventually(async () => (await jobsOf(ns, 'gone')).length === 0, 'its submission Jobs deleted');
});

test.serial('blue-green: the active version lost by a Nimbus restart is resubmitted under its own name (stand-in host cluster, stand-in Nimbus)', async (t) => {
  const ns = 'lost-bluegreen';
  const created = await createObject(h.topologies, topologyObject(ns, 'bg', (spec) => (spec.deploymentStrategy = { type: 'blueGreen', blueGreen: { scaleDownDelaySeconds: 1 } })));
  const v1 = blueGreenStormName((created.spec as { topology: TopologySpec }).topology);
  await completeSubmission(h, ns, v1);
  const running = await phaseIs(h.topologies, ns, 'bg', 'Running', (o) => o.status.blueGreen?.activeTopologyName === v1);
  const firstId = running.status.blueGreen.activeTopologyId;

  await h.nimbus.restartEmpty();
  await phaseIs(h.topologies, ns, 'bg', 'Submitted', (o) => o.status.internalState === 'Resubmitting');
  const job = await resubmissionJob(ns, v1, 1);
  await completeJob(ns, job, v1);
  const back = await phaseIs(h.topologies, ns, 'bg', 'Running', (o) => o.status.topologyId !== firstId && condition(o, 'TopologyLost')?.status === 'False');
  const id = h.nimbus.topologies.get(v1)!.summary.id;
  t.like(back.status, { topologyName: v1, topologyId: id, blueGreen: { activeTopologyName: v1, activeTopologyId: id }, resubmissions: 1 });
  t.is(back.status.history.length, 1, 'a resubmission is not a new revision');
});
