// The StormTopology controller end to end: the real server with the topology controller, the
// stand-in host cluster (which runs no pods: a test completes the submission Job and registers
// the topology in the stand-in Nimbus, as `storm jar` would), and the stand-in Nimbus over Thrift.
import test from 'ava';
import { CHECKSUM_EXIT, FETCH_CONTAINER, JAR_PATH, SUBMIT_CONTAINER, VERIFY_CONTAINER } from '../../controllers/storm/topology-job.js';
import { TOPOLOGY_FINALIZER } from '../../controllers/storm/topology.js';
import { decodeObject } from '../../registry/codec.js';
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
  submissionJobFor,
  topologyObject,
  type StormHarness,
} from './topology-harness.js';

let h: StormHarness;
const NAMESPACES = ['submit', 'checksum', 'suspend', 'deletion', 'recreate', 'waiting'];

test.before(async () => {
  h = await startStormHarness(NAMESPACES);
  for (const ns of NAMESPACES.filter((n) => n !== 'waiting')) await runningCluster(h, ns);
});
test.after.always(async () => {
  await h?.stop();
});

test.serial('submission: storm jar in a Job with fetch and sha256 verification, then confirmed through Thrift (stand-in host cluster, stand-in Nimbus)', async (t) => {
  await createObject(h.topologies, topologyObject('submit', 'wordcount'));
  const job = await submissionJobFor(h, 'submit', 'wordcount');
  const pod = job.spec!.template.spec!;
  t.deepEqual(pod.initContainers!.map((c) => c.name), [FETCH_CONTAINER, VERIFY_CONTAINER]);
  t.is(pod.restartPolicy, 'Never');
  const fetch = pod.initContainers![0];
  t.is(fetch.image, 'docker.io/apache/storm:2.6.0');
  t.deepEqual(fetch.env?.find((e) => e.name === 'JAR_URL')?.value, 'https://jars.example.com/wordcount.jar');
  const verify = pod.initContainers![1];
  t.is(verify.env?.find((e) => e.name === 'EXPECTED_DIGEST')?.value, 'a'.repeat(64));
  t.regex(verify.command!.join(' '), /sha256sum -c -/);
  t.like(job.spec!.podFailurePolicy!.rules[0], { action: 'FailJob', onExitCodes: { containerName: VERIFY_CONTAINER, operator: 'In', values: [CHECKSUM_EXIT] } });
  const submit = pod.containers[0];
  t.is(submit.name, SUBMIT_CONTAINER);
  t.deepEqual(submit.command!.slice(0, 7), ['storm', 'jar', JAR_PATH, 'org.apache.storm.starter.WordCountTopology', 'wordcount', '--local-mode=false', '-c']);
  const config = submit.command!.filter((_, i, all) => all[i - 1] === '-c');
  t.true(config.includes('nimbus.seeds=["storm-nimbus.submit.svc"]'));
  t.true(config.includes('topology.version=1.0.0'));
  t.true(config.includes('topology.workers=2'));
  t.is(job.metadata?.labels?.['operators-apiserver.io/owner-kind'], 'StormTopology');

  const submitted = await phaseIs(h.topologies, 'submit', 'wordcount', 'Submitted');
  t.is(submitted.status.internalState, 'Submitting');
  t.deepEqual(submitted.metadata.finalizers, [TOPOLOGY_FINALIZER]);

  await completeSubmission(h, 'submit', 'wordcount', {
    windows: { ':all-time': { emitted: 1000, transferred: 900, acked: 800, failed: 3, completeLatencyMs: 12.6, spouts: { words: { emitted: 850, acked: 800, failed: 3 } }, bolts: { count: { capacity: 0.42 } } } },
  });
  const running = await phaseIs(h.topologies, 'submit', 'wordcount', 'Running', (o) => o.status.metrics !== undefined);
  const summary = h.nimbus.topologies.get('wordcount')!.summary;
  t.like(running.status, { topologyName: 'wordcount', topologyId: summary.id, workers: 2, executors: 6, tasks: 6, uptime: '2m5s', deployedVersion: '1.0.0', currentRevision: 1 });
  t.like(running.status.metrics, { emitted: 1000, transferred: 900, acked: 800, failed: 3, completeLatencyMs: 13, pendingTuples: 47, capacityPercent: 42 });
  t.like(condition(running, 'Ready'), { status: 'True', reason: 'Running' });
  t.like(condition(running, 'DependenciesReady'), { status: 'True', reason: 'DependenciesSatisfied' });
  t.like(running.status.history[0], { revision: 1, version: '1.0.0', topologyId: summary.id, cause: 'Created' });
});

test.serial('checksum mismatch: the Job fails on the verify step and the topology is Failed with a clear lastError (stand-in host cluster, stand-in Nimbus)', async (t) => {
  await createObject(h.topologies, topologyObject('checksum', 'badjar'));
  const job = await submissionJobFor(h, 'checksum', 'badjar');
  // What kube's Job controller writes when verify-jar exits 42 and the podFailurePolicy's FailJob rule matches.
  const jobs = h.host.stores.get('jobs.batch')!;
  const current = await jobs.get({ namespace: 'checksum', name: job.metadata!.name! });
  const failed = structuredClone(current);
  const message = `Container ${VERIFY_CONTAINER} for pod checksum/${job.metadata!.name}-x7k2p failed with exit code ${CHECKSUM_EXIT} matching FailJob rule at index 0`;
  const now = new Date().toISOString().slice(0, 19) + 'Z';
  failed.status = {
    conditions: [
      { type: 'FailureTarget', status: 'True', reason: 'PodFailurePolicy', message, lastProbeTime: now, lastTransitionTime: now },
      { type: 'Failed', status: 'True', reason: 'PodFailurePolicy', message, lastProbeTime: now, lastTransitionTime: now },
    ],
    startTime: now,
    failed: 1,
  };
  await jobs.statusStore().update({ namespace: 'checksum', name: job.metadata!.name! }, () => decodeObject(jobs.decl, 'v1', failed, 'Strict'), { dryRun: false });

  const obj = await phaseIs(h.topologies, 'checksum', 'badjar', 'Failed');
  t.regex(obj.status.lastError, /^checksum mismatch: the downloaded jar does not match spec\.topology\.jar\.checksum/);
  t.true(obj.status.lastError.includes(job.metadata!.name!));
  t.like(condition(obj, 'Ready'), { status: 'False', reason: 'Failed' });
  t.is(h.nimbus.topologies.has('badjar'), false);
});

test.serial('suspend deactivates, resume activates, and a deactivate Nimbus lost is sent again (stand-in host cluster, stand-in Nimbus)', async (t) => {
  await createObject(h.topologies, topologyObject('suspend', 'pausable'));
  await completeSubmission(h, 'suspend', 'pausable');
  await phaseIs(h.topologies, 'suspend', 'pausable', 'Running');

  await editObject(h.topologies, 'suspend', 'pausable', (o) => (o.spec.suspend = true));
  const suspended = await phaseIs(h.topologies, 'suspend', 'pausable', 'Suspended');
  t.is(h.nimbus.topologies.get('pausable')!.summary.status, 'INACTIVE');
  t.like(condition(suspended, 'Ready'), { status: 'False', reason: 'Suspended' });
  const deactivations = h.nimbus.callsOf('deactivate').filter((c) => c.args[0] === 'pausable').length;
  t.true(deactivations >= 1);

  // Nimbus forgets the deactivation (e.g. a restart from an older state): the controller drives it again.
  h.nimbus.topologies.get('pausable')!.summary.status = 'ACTIVE';
  await eventually(() => h.nimbus.callsOf('deactivate').filter((c) => c.args[0] === 'pausable').length > deactivations, 'the deactivate sent again');
  await eventually(() => h.nimbus.topologies.get('pausable')!.summary.status === 'INACTIVE', 'INACTIVE again');

  await editObject(h.topologies, 'suspend', 'pausable', (o) => (o.spec.suspend = false));
  await phaseIs(h.topologies, 'suspend', 'pausable', 'Running');
  t.is(h.nimbus.topologies.get('pausable')!.summary.status, 'ACTIVE');
  t.true(h.nimbus.callsOf('activate').some((c) => c.args[0] === 'pausable'));
});

test.serial('delete kills the topology with killWaitSeconds behind the finalizer, retrying a failed kill (stand-in host cluster, stand-in Nimbus)', async (t) => {
  await createObject(h.topologies, topologyObject('deletion', 'doomed', (s) => (s.lifecycle.killWaitSeconds = 7)));
  const job = await completeSubmission(h, 'deletion', 'doomed');
  await phaseIs(h.topologies, 'deletion', 'doomed', 'Running');

  h.nimbus.failNext('killTopologyWithOpts', 'Application', 'Nimbus hiccup');
  await h.topologies.delete({ namespace: 'deletion', name: 'doomed' }, { dryRun: false });
  await eventually(
    () => getObject(h.topologies, 'deletion', 'doomed').then(
      () => false,
      (err: { status?: { code?: number } }) => err.status?.code === 404,
    ),
    'the object gone once its finalizer is removed',
  );
  const kills = h.nimbus.callsOf('killTopologyWithOpts').filter((c) => c.args[0] === 'doomed');
  t.true(kills.length >= 2, 'the failed kill was sent again');
  t.is((kills.at(-1)!.args[1] as { wait_secs?: number }).wait_secs, 7);
  await eventually(
    () => h.batch.readNamespacedJob({ namespace: 'deletion', name: job.metadata!.name! }).then(
      () => false,
      (err: { code?: number }) => err.code === 404,
    ),
    'the submission Job deleted',
  );
});

test.serial('a changed jar redeploys per recreate: deactivate, kill, resubmit, revision 2 (stand-in host cluster, stand-in Nimbus)', async (t) => {
  await createObject(h.topologies, topologyObject('recreate', 'evolving'));
  await completeSubmission(h, 'recreate', 'evolving');
  const first = await phaseIs(h.topologies, 'recreate', 'evolving', 'Running');
  const firstId = first.status.topologyId;

  await editObject(h.topologies, 'recreate', 'evolving', (o) => {
    o.spec.topology.jar.url = 'https://jars.example.com/wordcount-2.jar';
    o.spec.topology.config['topology.version'] = '2.0.0';
  });
  await eventually(() => h.nimbus.callsOf('killTopologyWithOpts').some((c) => c.args[0] === 'evolving'), 'the old version killed');
  t.true(h.nimbus.callsOf('deactivate').some((c) => c.args[0] === 'evolving'), 'deactivated before the kill');
  await eventually(() => !h.nimbus.topologies.has('evolving'), 'Nimbus removed the old topology');
  const jobs = async () => (await h.batch.listNamespacedJob({ namespace: 'recreate' })).items;
  await eventually(async () => (await jobs()).some((j) => j.spec!.template.spec!.initContainers![0].env!.some((e) => e.value === 'https://jars.example.com/wordcount-2.jar')), 'the Job of the new jar');
  const job = (await jobs()).find((j) => j.spec!.template.spec!.initContainers![0].env!.some((e) => e.value === 'https://jars.example.com/wordcount-2.jar'))!;
  h.host.kubelet.scriptJob('recreate', job.metadata!.name!, 'Complete');
  h.nimbus.addTopology({ name: 'evolving', numWorkers: 2, numExecutors: 6, numTasks: 6 });
  const second = await phaseIs(h.topologies, 'recreate', 'evolving', 'Running', (o) => o.status.currentRevision === 2);
  t.not(second.status.topologyId, firstId);
  t.is(second.status.deployedVersion, '2.0.0');
  t.deepEqual(second.status.history.map((r: any) => [r.revision, r.version, r.cause]), [
    [1, '1.0.0', 'Created'],
    [2, '2.0.0', 'Updated'],
  ]);
  // The Job of the replaced revision is gone; the current one is kept for its logs.
  await eventually(async () => (await jobs()).length === 1, 'old Jobs cleaned up');
});

test.serial('a missing cluster leaves the topology Pending with DependenciesReady=False ClusterNotFound (stand-in host cluster, stand-in Nimbus)', async (t) => {
  await createObject(h.topologies, topologyObject('waiting', 'orphan'));
  const obj = await phaseIs(h.topologies, 'waiting', 'orphan', 'Pending', (o) => condition(o, 'DependenciesReady') !== undefined);
  t.like(condition(obj, 'DependenciesReady'), { status: 'False', reason: 'ClusterNotFound' });
  t.deepEqual((await h.batch.listNamespacedJob({ namespace: 'waiting' })).items, []);
});
