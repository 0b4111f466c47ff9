// The stormtopologies verbs: rebalance (arguments reaching Nimbus exactly, the Rebalancing phase,
// a lost rebalance driven again), rollback to a recorded revision, and the error contract of all
// three, both through the handlers directly (`connect(services)`) and over HTTPS.
import test from 'ava';
import type { KubeObject } from '../../registry/meta.js';
import { promote } from '../../registry/storm.apache.org/stormtopology/promote.js';
import { REBALANCE_ANNOTATION, rebalance } from '../../registry/storm.apache.org/stormtopology/rebalance.js';
import { rollback } from '../../registry/storm.apache.org/stormtopology/rollback.js';
import { NIMBUS } from '../../registry/storm.apache.org/upstreams.js';
import type { SubresourceDeclaration, SubresourceServices } from '../../registry/subresource.js';
import { httpsRequest } from '../helpers/server.js';
import {
  completeSubmission,
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
let services: SubresourceServices;
const NAMESPACES = ['rebal', 'rollback', 'errors'];

test.before(async () => {
  h = await startStormHarness(NAMESPACES);
  for (const ns of NAMESPACES) await runningCluster(h, ns);
  const nimbusPool = { forCluster: () => h.client, close: async () => {} };
  services = {
    store: h.topologies,
    stores: h.server.stores,
    upstream: ((key: { name: string }) => (key.name === NIMBUS.name ? nimbusPool : undefined)) as SubresourceServices['upstream'],
    now: () => new Date(),
  };
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

/** Calls a verb's handler directly, as the server would after decoding the body. */
function call(decl: SubresourceDeclaration, ns: string, name: string, spec: Record<string, unknown> = {}) {
  return decl.connect(services)({
    namespace: ns,
    name,
    version: 'v1beta1',
    query: {},
    user: { username: 'tester', groups: ['system:masters'] },
    dryRun: false,
    signal: new AbortController().signal,
    body: { apiVersion: 'storm.apache.org/v1beta1', kind: decl.kind, metadata: {}, spec } as KubeObject,
  });
}

async function rejected(promise: Promise<unknown>): Promise<{ code: number; reason: string; message: string; causes?: Array<{ field?: string }> }> {
  try {
    await promise;
  } catch (err) {
    const s = (err as { status?: { code: number; reason: string; message: string; details?: { causes?: Array<{ field?: string }> } } }).status;
    if (s) return { code: s.code, reason: s.reason, message: s.message, causes: s.details?.causes };
    throw err;
  }
  throw new Error('expected a rejection');
}

/** Submits (or resubmits after a change) the topology `name` at `version` and waits for it to run. */
async function deploy(ns: string, name: string, version: string, revision: number): Promise<any> {
  const jobsBefore = new Set((await h.batch.listNamespacedJob({ namespace: ns })).items.map((j) => j.metadata!.name));
  await eventually(async () => !h.nimbus.topologies.has(name), `Nimbus without ${name}`);
  const job = await eventually(async () => (await h.batch.listNamespacedJob({ namespace: ns })).items.find((j) => !jobsBefore.has(j.metadata!.name)), `a new Job for ${version}`);
  h.host.kubelet.scriptJob(ns, job.metadata!.name!, 'Complete');
  h.nimbus.addTopology({ name, numWorkers: 2, numExecutors: 4, numTasks: 4 });
  return phaseIs(h.topologies, ns, name, 'Running', (o) => o.status.currentRevision === revision && o.status.deployedVersion === version);
}

test.serial('rebalance: the arguments reach Nimbus exactly, the phase shows the rebalancing, a lost rebalance is driven again (stand-in host cluster, stand-in Nimbus)', async (t) => {
  await createObject(h.topologies, topologyObject('rebal', 'rebal'));
  await completeSubmission(h, 'rebal', 'rebal', { windows: { ':all-time': { spouts: { words: { numExecutors: 2 } }, bolts: { count: { numExecutors: 2 }, split: { numExecutors: 2 } } } } });
  await phaseIs(h.topologies, 'rebal', 'rebal', 'Running');

  const res = await post('rebal', 'rebal', 'rebalance', 'TopologyRebalance', { waitSecs: 2, numWorkers: 4, numExecutors: { count: 8, split: 3 } });
  t.is(res.status, 200, JSON.stringify(res.body));
  t.like(res.body, { kind: 'TopologyRebalance', status: { phase: 'Rebalancing', topologyName: 'rebal' } });
  const calls = h.nimbus.callsOf('rebalance');
  t.is(calls.length, 1);
  t.is(calls[0].args[0], 'rebal');
  const options = calls[0].args[1] as Record<string, unknown>;
  t.like(options, { wait_secs: 2, num_workers: 4 });
  t.deepEqual({ ...(options.num_executors as object) }, { count: 8, split: 3 });
  t.falsy(options.topology_conf_overrides);

  // The verb writes Updating/Rebalancing itself, but a reconcile that read Nimbus just before the
  // rebalance may still land its Running after it; the next poll (every 500 ms here, inside the
  // 2 s the stand-in stays REBALANCING) shows the rebalancing again.
  const during = await phaseIs(h.topologies, 'rebal', 'rebal', 'Updating', (o) => o.status.internalState === 'Rebalancing');
  t.like(JSON.parse(during.metadata.annotations[REBALANCE_ANNOTATION]), { topologyName: 'rebal', waitSecs: 2, numWorkers: 4, numExecutors: { count: 8, split: 3 } });
  const after = await phaseIs(h.topologies, 'rebal', 'rebal', 'Running', (o) => o.status.workers === 4);
  t.is(after.status.internalState, 'Running');

  // Nimbus loses the rebalance (a restart from an older state): the controller sends it again.
  h.nimbus.topologies.get('rebal')!.summary.numWorkers = 2;
  await eventually(() => h.nimbus.callsOf('rebalance').length === 2, 'the rebalance sent again');
  t.like(h.nimbus.callsOf('rebalance')[1].args[1] as object, { wait_secs: 2, num_workers: 4 });
  await phaseIs(h.topologies, 'rebal', 'rebal', 'Running', (o) => o.status.workers === 4);

  // Only what the request sets is sent.
  await call(rebalance, 'rebal', 'rebal', { numWorkers: 3 });
  const last = h.nimbus.callsOf('rebalance').at(-1)!.args[1] as Record<string, unknown>;
  t.is(last.num_workers, 3);
  t.falsy(last.wait_secs);
  t.falsy(last.num_executors);
});

test.serial('rollback to revision N restores its spec.topology and the controller redeploys it; unknown revisions are 422 (stand-in host cluster, stand-in Nimbus)', async (t) => {
  await createObject(h.topologies, topologyObject('rollback', 'rolly'));
  await completeSubmission(h, 'rollback', 'rolly');
  await phaseIs(h.topologies, 'rollback', 'rolly', 'Running');
  for (const [version, revision] of [
    ['2.0.0', 2],
    ['3.0.0', 3],
  ] as const) {
    await editObject(h.topologies, 'rollback', 'rolly', (o) => (o.spec.topology.config['topology.version'] = version));
    await deploy('rollback', 'rolly', version, revision);
  }

  const unknown = await post('rollback', 'rolly', 'rollback', 'TopologyRollback', { revision: 9 });
  t.is(unknown.status, 422);
  t.like(unknown.body, { reason: 'Invalid', details: { causes: [{ field: 'spec.revision' }] } });
  t.regex(unknown.body.message, /recorded revisions: 1, 2, 3/);

  const res = await post('rollback', 'rolly', 'rollback', 'TopologyRollback', { revision: 1 });
  t.is(res.status, 200, JSON.stringify(res.body));
  t.like(res.body, { kind: 'TopologyRollback', status: { phase: 'Accepted', revision: 1, version: '1.0.0' } });
  t.is((await getObject(h.topologies, 'rollback', 'rolly')).spec.topology.config['topology.version'], '1.0.0');
  const rolled = await deploy('rollback', 'rolly', '1.0.0', 4);
  t.deepEqual(
    rolled.status.history.map((r: any) => [r.revision, r.version, r.cause]),
    [
      [1, '1.0.0', 'Created'],
      [2, '2.0.0', 'Updated'],
      [3, '3.0.0', 'Updated'],
      [4, '1.0.0', 'RolledBack'],
    ],
  );

  // Without a revision: the one before the current (3.0.0); repeating an applied rollback changes nothing.
  const previous = await call(rollback, 'rollback', 'rolly');
  t.like(previous.object, { status: { phase: 'Accepted', revision: 3, version: '3.0.0' } });
  const repeat = await call(rollback, 'rollback', 'rolly', { revision: 3 });
  t.like(repeat.object, { status: { phase: 'Unchanged', revision: 3 } });
});

test.serial('verb errors: 404 missing topology, 409 no candidate or not submitted, 503 Nimbus unreachable (stand-in Nimbus)', async (t) => {
  for (const decl of [promote, rollback, rebalance]) {
    const err = await rejected(call(decl, 'errors', 'missing'));
    t.is(err.code, 404, decl.name);
  }
  await createObject(h.topologies, topologyObject('errors', 'unsubmitted', (s) => (s.clusterRef = 'nowhere')));
  t.like(await rejected(call(promote, 'errors', 'unsubmitted')), { code: 503 }, 'no cluster, no Nimbus');
  t.like(await rejected(call(rebalance, 'errors', 'unsubmitted')), { code: 409, reason: 'Conflict' });
  t.like(await rejected(call(rollback, 'errors', 'unsubmitted')), { code: 422, reason: 'Invalid' });

  await createObject(h.topologies, topologyObject('errors', 'plain'));
  await completeSubmission(h, 'errors', 'plain');
  await phaseIs(h.topologies, 'errors', 'plain', 'Running');
  const noCandidate = await rejected(call(promote, 'errors', 'plain'));
  t.like(noCandidate, { code: 409, reason: 'Conflict' });
  t.regex(noCandidate.message, /no candidate version to promote/);

  await h.nimbus.setDown(true);
  try {
    t.like(await rejected(call(rebalance, 'errors', 'plain', { numWorkers: 3 })), { code: 503, reason: 'ServiceUnavailable' });
  } finally {
    await h.nimbus.setDown(false);
  }

  // Discovery lists each verb as its own resource.
  const discovery = JSON.parse((await httpsRequest(h.server, 'GET', '/apis/storm.apache.org/v1beta1')).body);
  const names = discovery.resources.map((r: { name: string }) => r.name);
  for (const verb of ['promote', 'rollback', 'rebalance']) t.true(names.includes(`stormtopologies/${verb}`), verb);
  const openapi = JSON.parse((await httpsRequest(h.server, 'GET', '/openapi/v2')).body);
  for (const verb of ['promote', 'rollback', 'rebalance']) {
    t.truthy(openapi.paths[`/apis/storm.apache.org/v1beta1/namespaces/{namespace}/stormtopologies/{name}/${verb}`]?.post, `OpenAPI POST ${verb}`);
  }
});
