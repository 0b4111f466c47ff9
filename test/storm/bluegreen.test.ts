// Blue-green deployment of a StormTopology end to end: the candidate beside the active version,
// the free-slot check, `POST …/promote` over HTTPS (analysis, the switch, compensation), the
// scale-down of the previous version and auto-promotion.
import test from 'ava';
import { blueGreenStormName } from '../../registry/storm.apache.org/stormtopology/revisions.js';
import type { TopologySpec } from '../../registry/storm.apache.org/stormtopology/types.js';
import { httpsRequest } from '../helpers/server.js';
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
} from './topology-harness.js';

let h: StormHarness;
const NAMESPACES = ['happy', 'analysis', 'midswitch', 'slots', 'auto'];

test.before(async () => {
  h = await startStormHarness(NAMESPACES);
  for (const ns of NAMESPACES) await runningCluster(h, ns);
});
test.after.always(async () => {
  await h?.stop();
});

const path = (ns: string, name: string, verb: string) => `/apis/storm.apache.org/v1beta1/namespaces/${ns}/stormtopologies/${name}/${verb}`;

async function post(ns: string, name: string, verb: string, kind: string, spec: Record<string, unknown> = {}) {
  const res = await httpsRequest(h.server, 'POST', path(ns, name, verb), {
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ apiVersion: 'storm.apache.org/v1beta1', kind, spec }),
  });
  return { status: res.status, body: JSON.parse(res.body) };
}

function blueGreen(ns: string, name: string, blueGreenSpec: Record<string, unknown> = {}) {
  return topologyObject(ns, name, (s) => {
    s.deploymentStrategy = { type: 'blueGreen', blueGreen: { scaleDownDelaySeconds: 1, ...blueGreenSpec } };
  });
}

const stats = (failed: number, latency = 20) => ({ ':all-time': { emitted: 500, transferred: 500, acked: 400, failed, completeLatencyMs: latency } });

/** Deploys version 1.0.0 as the active version and version 2.0.0 as the candidate; returns their Storm names. */
async function activeAndCandidate(ns: string, name: string, candidateStats = stats(2), blueGreenSpec: Record<string, unknown> = {}) {
  const created = await createObject(h.topologies, blueGreen(ns, name, blueGreenSpec));
  const v1 = blueGreenStormName((created.spec as { topology: TopologySpec }).topology);
  await completeSubmission(h, ns, v1);
  await phaseIs(h.topologies, ns, name, 'Running', (o) => o.status.blueGreen?.activeTopologyName === v1);
  const edited = await editObject(h.topologies, ns, name, (o) => (o.spec.topology.config['topology.version'] = '2.0.0'));
  const v2 = blueGreenStormName((edited.spec as { topology: TopologySpec }).topology);
  await completeSubmission(h, ns, v2, { windows: candidateStats });
  const ready = await eventually(async () => {
    const o = await getObject(h.topologies, ns, name);
    return o.status.blueGreen?.candidate?.topologyId && h.nimbus.topologies.get(v2)?.summary.status === 'INACTIVE' ? o : undefined;
  }, 'the candidate submitted and deactivated');
  return { v1, v2, ready };
}

test.serial('promote happy path: candidate beside the active version, analysis passes, atomic switch, previous killed after the delay, idempotent repeat (stand-in host cluster, stand-in Nimbus)', async (t) => {
  const { v1, v2, ready } = await activeAndCandidate('happy', 'happy', stats(2), { prePromotionAnalysis: [{ metricName: 'failed', threshold: '<10' }, { metricName: 'errorRate', threshold: '<0.05', query: 'failed / (acked + failed)' }] });
  t.not(v1, v2);
  t.like(ready.status.blueGreen, { activeColor: 'blue', activeTopologyName: v1, candidate: { color: 'green', topologyName: v2, version: '2.0.0' } });
  t.is(h.nimbus.topologies.get(v1)!.summary.status, 'ACTIVE', 'the active version keeps running');
  t.is(ready.status.phase, 'Running');

  const res = await post('happy', 'happy', 'promote', 'TopologyPromotion', { version: '2.0.0' });
  t.is(res.status, 200, JSON.stringify(res.body));
  t.like(res.body, { apiVersion: 'storm.apache.org/v1beta1', kind: 'TopologyPromotion', status: { phase: 'Succeeded', revision: 2, version: '2.0.0', topologyName: v2, previousTopologyName: v1 } });
  t.deepEqual(
    res.body.status.analysis.map((a: any) => [a.metricName, a.passed]),
    [
      ['failed', true],
      ['errorRate', true],
    ],
  );
  t.is(h.nimbus.topologies.get(v1)!.summary.status, 'INACTIVE');
  t.is(h.nimbus.topologies.get(v2)!.summary.status, 'ACTIVE');
  const calls = h.nimbus.calls.map((c) => `${c.method}:${String(c.args[0])}`);
  t.true(calls.lastIndexOf(`deactivate:${v1}`) < calls.lastIndexOf(`activate:${v2}`), 'deactivate the old, then activate the new');

  const promoted = await getObject(h.topologies, 'happy', 'happy');
  t.like(promoted.status.blueGreen, { activeColor: 'green', activeTopologyName: v2 });
  t.is(promoted.status.blueGreen.candidate, undefined);
  t.deepEqual(
    promoted.status.history.map((r: any) => [r.revision, r.version, r.cause, r.color]),
    [
      [1, '1.0.0', 'Created', 'blue'],
      [2, '2.0.0', 'Promoted', 'green'],
    ],
  );

  // The previous version is killed once scaleDownDelaySeconds (1 s) has passed.
  await eventually(() => h.nimbus.callsOf('killTopologyWithOpts').some((c) => c.args[0] === v1), 'the previous version killed');
  await eventually(async () => (await getObject(h.topologies, 'happy', 'happy')).status.blueGreen.previousScaleDownAt === undefined, 'the scale-down done');

  const again = await post('happy', 'happy', 'promote', 'TopologyPromotion', { version: '2.0.0' });
  t.is(again.status, 200);
  t.like(again.body.status, { phase: 'Succeeded', revision: 2, version: '2.0.0', topologyName: v2 });
  const bare = await post('happy', 'happy', 'promote', 'TopologyPromotion');
  t.is(bare.status, 409);
  t.like(bare.body, { kind: 'Status', reason: 'Conflict', code: 409 });
});

test.serial('promote with a failing analysis: 422 naming the metric, nothing switched (stand-in host cluster, stand-in Nimbus)', async (t) => {
  const { v1, v2 } = await activeAndCandidate('analysis', 'analysis', stats(50), { prePromotionAnalysis: [{ metricName: 'completeLatencyMs', threshold: '<500' }, { metricName: 'failed', threshold: '<10' }] });
  const res = await post('analysis', 'analysis', 'promote', 'TopologyPromotion');
  t.is(res.status, 422);
  t.like(res.body, { kind: 'Status', reason: 'Invalid', code: 422 });
  t.is(res.body.details.causes.length, 1);
  t.like(res.body.details.causes[0], { field: 'spec.deploymentStrategy.blueGreen.prePromotionAnalysis[1].metricName', reason: 'FieldValueInvalid' });
  t.regex(res.body.details.causes[0].message, /"failed".*failed is 50, threshold <10/);
  t.is(h.nimbus.topologies.get(v1)!.summary.status, 'ACTIVE');
  t.is(h.nimbus.topologies.get(v2)!.summary.status, 'INACTIVE');
  const obj = await getObject(h.topologies, 'analysis', 'analysis');
  t.is(obj.status.blueGreen.activeTopologyName, v1);
  t.deepEqual(
    obj.status.blueGreen.candidate.analysis.map((a: any) => [a.metricName, a.value, a.passed]),
    [
      ['completeLatencyMs', 20, true],
      ['failed', 50, false],
    ],
  );
});

test.serial('a failure mid-switch restores the old version in Nimbus and in status (stand-in host cluster, stand-in Nimbus)', async (t) => {
  const { v1, v2 } = await activeAndCandidate('midswitch', 'midswitch');
  h.nimbus.failNext('activate', 'NotAlive', `${v2} vanished`);
  const res = await post('midswitch', 'midswitch', 'promote', 'TopologyPromotion');
  t.is(res.status, 500, JSON.stringify(res.body));
  t.regex(res.body.message, new RegExp(`switching to ${v2}; ${v1} was restored`));
  // The verb compensates at once; the controller, which may have acted on the intermediate status, converges to the same.
  await eventually(() => h.nimbus.topologies.get(v1)!.summary.status === 'ACTIVE', 'the old version reactivated');
  await eventually(() => h.nimbus.topologies.get(v2)!.summary.status === 'INACTIVE', 'the candidate left inactive');
  const obj = await getObject(h.topologies, 'midswitch', 'midswitch');
  t.is(obj.status.blueGreen.activeTopologyName, v1);
  t.is(obj.status.blueGreen.candidate.topologyName, v2);
  t.is(obj.status.currentRevision, 1);

  // Once Nimbus behaves, the same promotion goes through.
  const retry = await post('midswitch', 'midswitch', 'promote', 'TopologyPromotion');
  t.is(retry.status, 200);
  t.is(h.nimbus.topologies.get(v2)!.summary.status, 'ACTIVE');
});

test.serial('no candidate without free slots for it: InsufficientSlots and no submission (stand-in host cluster, stand-in Nimbus)', async (t) => {
  const created = await createObject(h.topologies, blueGreen('slots', 'slots'));
  const v1 = blueGreenStormName((created.spec as { topology: TopologySpec }).topology);
  await completeSubmission(h, 'slots', v1);
  await phaseIs(h.topologies, 'slots', 'slots', 'Running');
  const saved = h.nimbus.supervisors;
  h.nimbus.supervisors = saved.map((s) => ({ ...s, numUsedWorkers: s.numWorkers - (s.supervisorId === 'sup-0' ? 1 : 0) }));
  t.teardown(() => {
    h.nimbus.supervisors = saved;
  });
  await editObject(h.topologies, 'slots', 'slots', (o) => (o.spec.topology.config['topology.version'] = '2.0.0'));
  const blocked = await eventually(async () => {
    const o = await getObject(h.topologies, 'slots', 'slots');
    return condition(o, 'InsufficientSlots')?.status === 'True' ? o : undefined;
  }, 'InsufficientSlots');
  t.regex(condition(blocked, 'InsufficientSlots').message, /needs 2 free worker slots .* has 1/);
  t.is(blocked.status.blueGreen.candidate, undefined);
  t.is((await h.batch.listNamespacedJob({ namespace: 'slots' })).items.length, 1, 'only the first version was submitted');

  h.nimbus.supervisors = saved;
  await eventually(async () => (await h.batch.listNamespacedJob({ namespace: 'slots' })).items.length === 2, 'the candidate submitted once slots are free');
  const o = await getObject(h.topologies, 'slots', 'slots');
  t.like(condition(o, 'InsufficientSlots'), { status: 'False' });
});

test.serial('auto-promotion after autoPromotionSeconds runs the same promotion (stand-in host cluster, stand-in Nimbus)', async (t) => {
  const { v1, v2 } = await activeAndCandidate('auto', 'auto', stats(1), { autoPromotionEnabled: true, autoPromotionSeconds: 1, prePromotionAnalysis: [{ metricName: 'failed', threshold: '<10' }] });
  const promoted = await eventually(async () => {
    const o = await getObject(h.topologies, 'auto', 'auto');
    return o.status.blueGreen?.activeTopologyName === v2 ? o : undefined;
  }, 'the candidate promoted automatically');
  t.is(promoted.status.history.at(-1).cause, 'Promoted');
  await eventually(() => h.nimbus.topologies.get(v2)!.summary.status === 'ACTIVE' && h.nimbus.topologies.get(v1)?.summary.status !== 'ACTIVE', 'the switch in Nimbus');
  await eventually(() => h.nimbus.callsOf('killTopologyWithOpts').some((c) => c.args[0] === v1), 'the previous version killed');
  t.like(condition(await getObject(h.topologies, 'auto', 'auto'), 'Promoted'), { status: 'True', reason: 'AutoPromoted' });
});
