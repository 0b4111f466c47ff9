// The StormTopology controller. Submission is `storm jar` in a host-cluster Job
// (`topology-job.ts`); everything else is Thrift to the cluster's Nimbus (`NIMBUS` upstream):
// confirming the submission (topologyId, workers, executors, tasks, uptime, deployedVersion,
// metrics), suspend (deactivate) and resume (activate), kill on delete behind the finalizer
// `storm.apache.org/stormtopology-finalizer`, and redeploys when spec.topology changes:
// `recreate` (deactivate, kill with wait = lifecycle.killWaitSeconds — Nimbus drains for that long
// — then submit the new revision once Nimbus no longer knows the name) or blue-green
// (`bluegreen.ts`). It is desired state: a kill, deactivate, activate or recorded rebalance
// (annotation `storm.apache.org/rebalance`, written by the rebalance verb) that Nimbus does not
// show is sent again on the next poll.
//
// Phases (storm-controller's mapping of internal states): Pending (cluster missing or not
// running), Submitted (the Job runs), Running, Suspended, Updating (recreate in progress, or
// internalState Rebalancing while Nimbus says REBALANCING), Failed (the Job failed: lastError says
// why, e.g. a checksum mismatch), Killed (on delete, or killed outside the API). A deployed topology
// Nimbus no longer knows (a Nimbus restarted with empty state) is submitted again
// (`resubmitLost`: Warning TopologyLost, a new submission Job, backoff between attempts).
// Submission Jobs of topologies that no longer exist are swept (`controllers/orphan-sweep.ts`).
import { BatchV1Api, type V1Job, type V1Pod } from '@kubernetes/client-node';
import type { KubeObject } from '../../registry/meta.js';
import { metricsSummary } from '../../registry/storm.apache.org/stormtopology/promotion.js';
import { recordedRebalance } from '../../registry/storm.apache.org/stormtopology/rebalance.js';
import {
  causeOf,
  currentRevision,
  isBlueGreen,
  recordRevision,
  sameTopology,
  stormNameOfRevision,
  versionOf,
} from '../../registry/storm.apache.org/stormtopology/revisions.js';
import type { StormTopologySpec, StormTopologyStatus, TopologySpec } from '../../registry/storm.apache.org/stormtopology/types.js';
import { isNimbusError, NIMBUS, nimbusAddressOf, type Nimbus, type TopologySummary } from '../../registry/storm.apache.org/upstreams.js';
import type { ControllerContext, ControllerDeclaration, ReconcileResult } from '../controller.js';
import { addFinalizer, hasFinalizer, isBeingDeleted, removeFinalizer } from '../finalizers.js';
import { managedBySelector, type HostClient, type ManagedType } from '../host-client.js';
import { splitKey, type Informer } from '../informer.js';
import { DEFAULT_SWEEP_INTERVAL_MS, sweepOrphans, SWEEP_KEY } from '../orphan-sweep.js';
import { findCondition, updateStatus, type Condition, type ConditionInput } from '../status.js';
import { metaTime, reconcileBlueGreen, resubmitLost, submitting, type TopologyEnv } from './bluegreen.js';
import { jobOutcome, submissionJob, submitJobName, type JobOutcome } from './topology-job.js';
import { isHostUnavailable, readOrUndefined } from '../http-errors.js';
import { reportHostUnavailable } from '../host-unavailable.js';
import { ignoreNotFound, STORM_CLUSTERS, STORM_TOPOLOGIES } from './workerpool.js';

export const TOPOLOGY_FINALIZER = 'storm.apache.org/stormtopology-finalizer';
const TOPOLOGY_KIND = { group: 'storm.apache.org', kind: 'StormTopology' };

export interface TopologyControllerOptions {
  /** Poll interval while something is in progress (default 2 s). */
  pollMs?: number;
  /** Poll interval of a running topology (status, metrics; default 30 s). */
  steadyPollMs?: number;
  /** Time between sweeps for the submission Jobs of topologies that no longer exist (default 10 min; one more at each leadership term's start). */
  sweepIntervalMs?: number;
}

/** `2h15m3s` from seconds. */
export function formatUptime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : '', `${s % 60}s`];
  return parts.filter(Boolean).join('');
}

function jobsType(batch: BatchV1Api): ManagedType {
  return {
    kind: 'Job',
    list: async (labelSelector) => (await batch.listJobForAllNamespaces({ labelSelector })).items,
    delete: async (namespace, name) => {
      try {
        await batch.deleteNamespacedJob({ namespace, name, propagationPolicy: 'Background' });
      } catch (err) {
        if ((err as { code?: number }).code !== 404) throw err;
      }
    },
  };
}

export function topologyController(options: TopologyControllerOptions = {}): ControllerDeclaration {
  const pollMs = options.pollMs ?? 2_000;
  const steadyPollMs = options.steadyPollMs ?? 30_000;
  const sweepIntervalMs = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
  let topologies: Informer | undefined;
  return {
    name: 'storm-topology',
    resource: STORM_TOPOLOGIES,
    watches: [
      {
        resource: STORM_CLUSTERS,
        keysFor: (c) => (topologies?.cache.byIndex('cluster', `${c.metadata.namespace}/${c.metadata.name}`) ?? []).map((t) => `${t.metadata.namespace}/${t.metadata.name}`),
      },
    ],
    indexers: { [STORM_TOPOLOGIES]: { cluster: (t) => [`${t.metadata.namespace}/${String(t.spec?.clusterRef ?? '')}`] } },
    workers: 2,
    setup(ctx) {
      topologies = ctx.informer(STORM_TOPOLOGIES);
      if (!ctx.host) ctx.log.info({}, 'storm-topology: no host cluster (--kubeconfig); topologies are stored but not submitted');
      if (ctx.host) ctx.queue.add(SWEEP_KEY);
      return {
        reconcile: (key) =>
          key === SWEEP_KEY
            ? sweepOrphans(ctx, TOPOLOGY_KIND, [jobsType(ctx.host!.kubeConfig.makeApiClient(BatchV1Api))], topologies!.cache, ctx.store(STORM_TOPOLOGIES), sweepIntervalMs)
            : reconcileTopology(ctx, key, pollMs, steadyPollMs).catch(ignoreNotFound),
      };
    },
  };
}

async function reconcileTopology(ctx: ControllerContext, key: string, pollMs: number, steadyPollMs: number): Promise<ReconcileResult | void> {
  const cached = ctx.informer(STORM_TOPOLOGIES).cache.get(key);
  // Standalone (no host cluster to run `storm jar` on): the objects are left as they are.
  if (!cached || !ctx.host) return;
  const store = ctx.store(STORM_TOPOLOGIES);
  const { namespace } = splitKey(key);
  const clusterRef = String(cached.spec?.clusterRef ?? '');
  const cluster = ctx.informer(STORM_CLUSTERS).cache.get(`${namespace}/${clusterRef}`);
  const pool = ctx.upstream(NIMBUS);
  const nimbus: Nimbus | undefined = cluster && pool ? pool.forCluster(nimbusAddressOf(cluster)) : undefined;
  const host = ctx.host;
  const batch = host?.kubeConfig.makeApiClient(BatchV1Api);

  if (isBeingDeleted(cached)) {
    if (!hasFinalizer(cached, TOPOLOGY_FINALIZER)) return;
    return finalize(ctx, cached, nimbus, host, batch, pollMs);
  }

  const clusterPhase = cluster?.status?.phase as string | undefined;
  const dependency: ConditionInput = !cluster
    ? { type: 'DependenciesReady', status: 'False', reason: 'ClusterNotFound', message: `StormCluster "${clusterRef}" not found` }
    : clusterPhase !== 'Running'
      ? { type: 'DependenciesReady', status: 'False', reason: 'ClusterNotRunning', message: `StormCluster "${clusterRef}" is ${clusterPhase ?? 'not reporting a phase yet'}` }
      : { type: 'DependenciesReady', status: 'True', reason: 'DependenciesSatisfied', message: `StormCluster "${clusterRef}" is running` };
  if (dependency.status !== 'True' || !nimbus || !host || !batch) {
    const why = dependency.status !== 'True' ? dependency.message! : 'the server has no Nimbus client';
    await updateStatus(store, cached, {
      mutate: (s) => Object.assign(s, { phase: 'Pending', internalState: 'Pending', lastUpdateTime: metaTime(ctx.clock.now()) }),
      conditions: [dependency, { type: 'Ready', status: 'False', reason: 'Pending', message: why }],
    });
    return { requeueAfter: steadyPollMs };
  }

  const obj = await addFinalizer(store, cached, TOPOLOGY_FINALIZER);
  const spec = obj.spec as StormTopologySpec;
  if (!spec.topology.mainClass) {
    const message = 'spec.topology.mainClass is required: storm jar runs the main class that builds and submits the topology';
    await updateStatus(store, obj, {
      mutate: (s) => Object.assign(s, { phase: 'Failed', internalState: 'Failed', lastError: message, lastUpdateTime: metaTime(ctx.clock.now()) }),
      conditions: [dependency, { type: 'Ready', status: 'False', reason: 'Failed', message }],
    });
    return;
  }

  const env = makeEnv(ctx, obj, cluster!, nimbus, host, batch, pollMs, steadyPollMs, dependency);
  try {
    return isBlueGreen(spec) ? await reconcileBlueGreen(env) : await reconcileRecreate(env);
  } catch (err) {
    if (isNimbusError(err) && (err.transient || err.code === 'TLS')) {
      // TLS set-up failures (certificate, Secret) are reported like an unreachable Nimbus, polled
      // at the steady interval: they need a fix outside, not a fast retry.
      const tls = err.code === 'TLS';
      const message = tls ? `Nimbus cannot be reached over TLS: ${err.message}` : `Nimbus is unreachable: ${err.message}`;
      const reason = tls ? 'NimbusTLSError' : 'NimbusUnavailable';
      // Identical events are counted on one Event, so an outage is one Warning, not one per poll.
      ctx.recorder.event(env.obj, 'Warning', reason, message);
      await updateStatus(store, env.obj, {
        mutate: (s) => Object.assign(s, { lastError: message, lastUpdateTime: metaTime(ctx.clock.now()) }),
        conditions: [{ type: 'Ready', status: 'Unknown', reason, message }],
      });
      return { requeueAfter: tls ? steadyPollMs : pollMs };
    }
    if (isHostUnavailable(err)) return hostUnavailable(ctx, env.obj, err, 'reconciling its submission Job', pollMs);
    throw err;
  }
}

/**
 * The host cluster (where the submission Jobs run) is away: `Ready` Unknown with the cause, polled
 * again after `pollMs` rather than backed off; nothing is deleted. No Event: Events live on the host.
 */
function hostUnavailable(ctx: ControllerContext, obj: KubeObject, err: unknown, doing: string, pollMs: number): Promise<ReconcileResult> {
  return reportHostUnavailable(ctx, ctx.store(STORM_TOPOLOGIES), obj, err, {
    doing,
    pollMs,
    mutate: (s, message) => Object.assign(s, { lastError: message, lastUpdateTime: metaTime(ctx.clock.now()) }),
  });
}

function makeEnv(
  ctx: ControllerContext,
  obj: KubeObject,
  cluster: KubeObject,
  nimbus: Nimbus,
  host: HostClient,
  batch: BatchV1Api,
  pollMs: number,
  steadyPollMs: number,
  dependency: ConditionInput,
): TopologyEnv {
  const store = ctx.store(STORM_TOPOLOGIES);
  const namespace = obj.metadata.namespace!;
  const env: TopologyEnv = {
    ctx,
    obj,
    spec: obj.spec as StormTopologySpec,
    status: (obj.status ?? {}) as StormTopologyStatus,
    nimbus,
    nowMs: ctx.clock.now(),
    pollMs,
    steadyPollMs,
    async summaryOf(name) {
      try {
        return await nimbus.getTopologySummaryByName(name);
      } catch (err) {
        if (isNimbusError(err, 'NotAlive')) return undefined;
        throw err;
      }
    },
    async submit(topology, stormName, attempt = 0) {
      const name = submitJobName(obj.metadata.name!, stormName, topology, attempt);
      let job: V1Job | undefined = await readOrUndefined(() => batch.readNamespacedJob({ namespace, name }));
      if (!job) {
        job = await batch.createNamespacedJob({ namespace, body: submissionJob(env.obj, cluster, topology, stormName, attempt) });
        ctx.recorder.event(env.obj, 'Normal', 'Submitting', `created Job ${name} to submit ${stormName} with storm jar${attempt > 0 ? ` (resubmission ${attempt})` : ''}`);
        return { state: 'Running' } as JobOutcome;
      }
      const outcome = jobOutcome(job);
      if (outcome.state !== 'Failed') return outcome;
      const pods: V1Pod[] = (await host.core.listNamespacedPod({ namespace, labelSelector: `batch.kubernetes.io/job-name=${name}` }).catch(() => ({ items: [] as V1Pod[] }))).items;
      return jobOutcome(job, pods);
    },
    async deleteSubmission(topology, stormName, attempt) {
      await jobsType(batch).delete(namespace, submitJobName(obj.metadata.name!, stormName, topology, attempt));
    },
    async kill(name, waitSecs) {
      const summary = await env.summaryOf(name);
      if (!summary || summary.status === 'KILLED') return true;
      try {
        await nimbus.killTopologyWithOpts(name, { waitSecs });
      } catch (err) {
        if (isNimbusError(err, 'NotAlive')) return true;
        throw err;
      }
      const after = await env.summaryOf(name);
      return !after || after.status === 'KILLED';
    },
    async settle(name, summary, extra) {
      return settle(env, name, summary, dependency, extra);
    },
    async write(fields, conditions = []) {
      const stored = await updateStatus(store, env.obj, {
        mutate: (s) => {
          const before = JSON.stringify({ ...s, lastUpdateTime: undefined, conditions: undefined });
          if (typeof fields === 'function') fields(s);
          else
            for (const [k, v] of Object.entries(fields)) {
              if (v === undefined) delete s[k];
              else s[k] = v;
            }
          if (JSON.stringify({ ...s, lastUpdateTime: undefined, conditions: undefined }) !== before || s.lastUpdateTime === undefined) s.lastUpdateTime = metaTime(ctx.clock.now());
        },
        conditions: [dependency, ...conditions],
      });
      env.obj = stored;
      env.status = (stored.status ?? {}) as StormTopologyStatus;
      return stored;
    },
    async cleanupJobs(keep) {
      const keepNames = new Set(keep.map(([stormName, topology]) => submitJobName(obj.metadata.name!, stormName, topology)));
      const type = jobsType(batch);
      for (const job of await type.list(managedBySelector(obj))) {
        if (!keepNames.has(job.metadata!.name!)) await type.delete(job.metadata!.namespace!, job.metadata!.name!);
      }
    },
  };
  return env;
}

/**
 * The running topology brought to the spec's state and reported: suspend ↔ deactivate/activate,
 * a recorded rebalance Nimbus does not show is sent again, REBALANCING shows as Updating.
 */
async function settle(
  env: TopologyEnv,
  name: string,
  summary: TopologySummary,
  dependency: ConditionInput,
  extra: { fields?: Record<string, unknown>; conditions?: ConditionInput[] } = {},
): Promise<ReconcileResult> {
  const { nimbus, spec, ctx } = env;
  let state = summary.status;
  if (state === 'KILLED') {
    // Killed outside the API (ours are killed only on delete or replacement): reported, and
    // resubmitted once Nimbus has removed it (resubmitLost).
    const message = `Storm topology ${name} was killed outside the API; it is submitted again once Nimbus removes it`;
    await env.write({ phase: 'Killed', internalState: 'Killed', lastError: message }, [{ type: 'Ready', status: 'False', reason: 'Killed', message }]);
    return { requeueAfter: env.pollMs };
  }
  const lostCondition = findCondition(env.status.conditions as Condition[] | undefined, 'TopologyLost');
  const found: ConditionInput[] = [];
  if (lostCondition?.status === 'True') {
    const message = `${name} runs again as ${summary.id}`;
    found.push({ type: 'TopologyLost', status: 'False', reason: 'Resubmitted', message });
    ctx.recorder.event(env.obj, 'Normal', 'Resubmitted', message);
  }
  let requeue = env.steadyPollMs;
  if (spec.suspend && state === 'ACTIVE') {
    await nimbus.deactivate(name);
    ctx.recorder.event(env.obj, 'Normal', 'Suspended', `deactivated ${name}`);
    state = 'INACTIVE';
  } else if (!spec.suspend && state === 'INACTIVE') {
    await nimbus.activate(name);
    ctx.recorder.event(env.obj, 'Normal', 'Resumed', `activated ${name}`);
    state = 'ACTIVE';
  }
  const rebalance = recordedRebalance(env.obj.metadata.annotations);
  let rebalancing = state === 'REBALANCING';
  if (!rebalancing && rebalance && rebalance.topologyName === name && (!rebalance.topologyId || rebalance.topologyId === summary.id)) {
    // Nimbus reports the worker count in the summary; executor counts show only once the new
    // executors report stats, so a lost rebalance is recognised by its worker count (and resent whole).
    const lostRebalance = rebalance.numWorkers !== undefined && summary.numWorkers !== rebalance.numWorkers;
    if (lostRebalance) {
      const { topologyName: _n, topologyId: _i, requestedAt: _r, ...options } = rebalance;
      await nimbus.rebalance(name, options);
      ctx.recorder.event(env.obj, 'Normal', 'Rebalancing', `Nimbus does not show the rebalance of ${name} requested at ${rebalance.requestedAt}; sent it again`);
      rebalancing = true;
    }
  }
  const fields: Record<string, unknown> = {
    topologyName: name,
    topologyId: summary.id,
    workers: summary.numWorkers,
    executors: summary.numExecutors,
    tasks: summary.numTasks,
    uptime: formatUptime(summary.uptimeSecs),
    deployedVersion: currentRevision(env.status)?.version ?? versionOf(spec.topology),
  };
  try {
    const metrics = metricsSummary(await nimbus.getTopologyPageInfo(summary.id, ':all-time', false));
    fields.metrics = Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, Math.round(v)]));
  } catch (err) {
    if (!isNimbusError(err, 'NotAlive')) throw err;
  }
  let phase: string;
  let ready: ConditionInput;
  if (rebalancing) {
    phase = 'Updating';
    fields.internalState = 'Rebalancing';
    ready = { type: 'Ready', status: 'False', reason: 'Rebalancing', message: `Nimbus is rebalancing ${name}` };
    requeue = env.pollMs;
  } else if (state === 'INACTIVE') {
    phase = 'Suspended';
    fields.internalState = 'Suspended';
    ready = { type: 'Ready', status: 'False', reason: 'Suspended', message: `${name} is deactivated (spec.suspend)` };
  } else {
    phase = 'Running';
    fields.internalState = 'Running';
    ready = { type: 'Ready', status: 'True', reason: 'Running', message: `${name} is active` };
  }
  fields.phase = phase;
  fields.lastError = undefined;
  // A resubmitted active blue-green version runs under a new id.
  const blueGreen = env.status.blueGreen;
  if (blueGreen?.activeTopologyName === name && blueGreen.activeTopologyId !== summary.id) fields.blueGreen = { ...blueGreen, activeTopologyId: summary.id };
  Object.assign(fields, extra.fields ?? {});
  if (extra.fields?.internalState && phase === 'Running') fields.internalState = extra.fields.internalState;
  else if (phase !== 'Running') fields.internalState = fields.internalState ?? phase;
  await env.write(fields, [dependency, ready, ...found, ...(extra.conditions ?? [])]);
  return { requeueAfter: requeue };
}

/** recreate: the spec's revision runs as `spec.topology.name`; a changed spec replaces it. */
async function reconcileRecreate(env: TopologyEnv): Promise<ReconcileResult> {
  const { spec, ctx } = env;
  const status = env.status;
  const name = spec.topology.name;
  const current = currentRevision(status);
  const summary = await env.summaryOf(name);
  const deployed = current !== undefined && sameTopology(current.topology, spec.topology);
  if (deployed) {
    if (!summary) return resubmitLost(env, name, spec.topology);
    return env.settle(name, summary);
  }

  if (summary && summary.status !== 'KILLED') {
    // Is it the new revision (its Job succeeded, and it is not the recorded old topology) or the old one?
    const outcome = await jobState(env, spec.topology, name);
    const isNew = outcome === 'Succeeded' && summary.id !== current?.topologyId;
    if (!isNew) {
      // recreate: deactivate, then kill with wait = killWaitSeconds (Nimbus drains, then removes it).
      const killWait = spec.lifecycle?.killWaitSeconds ?? 30;
      if (summary.status === 'ACTIVE') await env.nimbus.deactivate(name);
      await env.nimbus.killTopologyWithOpts(name, { waitSecs: killWait });
      ctx.recorder.event(env.obj, 'Normal', 'Updating', `spec.topology changed: deactivated and killed ${name} (wait ${killWait}s) to resubmit it`);
      await env.write({ phase: 'Updating', internalState: 'Killing' }, [
        { type: 'Ready', status: 'False', reason: 'Updating', message: `killing ${name} to replace it` },
        // Its lastTransitionTime is when the drain started; the new revision is submitted killWaitSeconds later.
        { type: 'Draining', status: 'True', reason: 'Killed', message: `${name} deactivated and killed with wait ${killWait}s` },
      ]);
      return { requeueAfter: env.pollMs };
    }
    const cause = causeOf(status, spec.topology);
    await env.write((s) => {
      recordRevision(
        s,
        { revision: 1 + Math.max(0, ...(status.history ?? []).map((r) => r.revision)), version: versionOf(spec.topology), topology: structuredClone(spec.topology), topologyId: summary.id, cause, deployedAt: metaTime(env.nowMs) },
        spec.revisionHistoryLimit ?? 10,
      );
      Object.assign(s, { topologyName: name, topologyId: summary.id, deployedVersion: versionOf(spec.topology) });
      delete s.lastError;
    });
    ctx.recorder.event(env.obj, 'Normal', 'Submitted', `${name} runs as ${summary.id} (version ${versionOf(spec.topology)})`);
    await env.cleanupJobs([[name, spec.topology]]);
    // The Job of this revision is kept for its logs; older ones went above. Only one exists per spec.
    return env.settle(name, summary);
  }
  if (summary?.status === 'KILLED') {
    await env.write({ phase: current ? 'Updating' : 'Pending', internalState: 'Killing' }, [{ type: 'Ready', status: 'False', reason: 'Killing', message: `waiting for Nimbus to remove the killed ${name}` }]);
    return { requeueAfter: env.pollMs };
  }
  // Nimbus does not know the name: submit this revision, once the old one had killWaitSeconds to drain.
  const draining = findCondition(status.conditions as Condition[] | undefined, 'Draining');
  if (draining?.status === 'True') {
    const until = Date.parse(draining.lastTransitionTime) + (spec.lifecycle?.killWaitSeconds ?? 30) * 1000;
    if (env.nowMs < until) {
      await env.write({ phase: 'Updating', internalState: 'Draining' }, [{ type: 'Ready', status: 'False', reason: 'Draining', message: `the previous ${name} drains until ${metaTime(until)}` }]);
      return { requeueAfter: Math.max(100, until - env.nowMs) };
    }
    await env.write({}, [{ type: 'Draining', status: 'False', reason: 'Drained', message: `the previous ${name} had killWaitSeconds to drain` }]);
  }
  return submitting(env, name, spec.topology, 'Submitting');
}

/** The state of the submission Job of `topology` as `stormName`, without creating it. */
async function jobState(env: TopologyEnv, topology: TopologySpec, stormName: string): Promise<JobOutcome['state'] | 'Absent'> {
  const batch = env.ctx.host!.kubeConfig.makeApiClient(BatchV1Api);
  const job = await readOrUndefined(() => batch.readNamespacedJob({ namespace: env.obj.metadata.namespace!, name: submitJobName(env.obj.metadata.name!, stormName, topology) }));
  return job ? jobOutcome(job).state : 'Absent';
}

/** Deletion: every Storm topology of the object killed (wait = killWaitSeconds), its Jobs deleted, then the finalizer removed. */
async function finalize(
  ctx: ControllerContext,
  obj: KubeObject,
  nimbus: Nimbus | undefined,
  host: HostClient | undefined,
  batch: BatchV1Api | undefined,
  pollMs: number,
): Promise<ReconcileResult | void> {
  const store = ctx.store(STORM_TOPOLOGIES);
  const spec = obj.spec as StormTopologySpec;
  const status = (obj.status ?? {}) as StormTopologyStatus;
  const names = new Set<string>();
  if (status.topologyName) names.add(status.topologyName);
  if (status.blueGreen?.activeTopologyName) names.add(status.blueGreen.activeTopologyName);
  if (status.blueGreen?.candidate?.topologyName) names.add(status.blueGreen.candidate.topologyName);
  // Every recorded revision's topology (a previous version still draining, or one a crash left behind).
  for (const revision of status.history ?? []) names.add(stormNameOfRevision(revision));
  if (!isBlueGreen(spec)) names.add(spec.topology.name);
  if (!nimbus) {
    ctx.recorder.event(obj, 'Warning', 'ClusterGone', `StormCluster "${String(spec.clusterRef)}" is gone; nothing to kill`);
  } else {
    const waitSecs = spec.lifecycle?.killWaitSeconds ?? 30;
    const pending: string[] = [];
    for (const name of names) {
      let summary: TopologySummary | undefined;
      try {
        summary = await nimbus.getTopologySummaryByName(name);
      } catch (err) {
        if (isNimbusError(err, 'NotAlive')) continue;
        if (isNimbusError(err) && (err.transient || err.code === 'TLS')) return deletionBlocked(ctx, obj, name, err, pollMs);
        throw err;
      }
      if (summary.status === 'KILLED') continue;
      try {
        await nimbus.killTopologyWithOpts(name, { waitSecs });
        ctx.recorder.event(obj, 'Normal', 'Killed', `killed ${name} (wait ${waitSecs}s)`);
      } catch (err) {
        if (isNimbusError(err, 'NotAlive')) continue;
        if (isNimbusError(err) && (err.transient || err.code === 'TLS')) return deletionBlocked(ctx, obj, name, err, pollMs);
        throw err;
      }
      pending.push(name);
    }
    if (pending.length > 0) {
      await updateStatus(store, obj, {
        mutate: (s) => Object.assign(s, { phase: 'Killed', internalState: 'Killing', lastUpdateTime: metaTime(ctx.clock.now()) }),
        conditions: [{ type: 'Ready', status: 'False', reason: 'Killing', message: `killing ${pending.join(', ')}` }],
      }).catch(() => undefined);
      // Confirmed on the next pass: a kill Nimbus lost is sent again.
      return { requeueAfter: pollMs };
    }
  }
  if (host && batch) {
    try {
      await host.deleteManaged(obj, [jobsType(batch)]);
    } catch (err) {
      if (isHostUnavailable(err)) return hostUnavailable(ctx, obj, err, 'deleting its submission Jobs', pollMs);
      throw err;
    }
  }
  await removeFinalizer(store, obj, TOPOLOGY_FINALIZER);
}

/**
 * Deletion waits for Nimbus (the finalizer stays: removing it would leave the topology running
 * unowned); the status and a Warning say why, and the kill is tried again after `pollMs`.
 */
async function deletionBlocked(ctx: ControllerContext, obj: KubeObject, name: string, err: Error, pollMs: number): Promise<ReconcileResult> {
  const message = `cannot kill ${name} yet, Nimbus is unreachable: ${err.message}`;
  ctx.recorder.event(obj, 'Warning', 'NimbusUnavailable', message);
  await updateStatus(ctx.store(STORM_TOPOLOGIES), obj, {
    mutate: (s) => Object.assign(s, { lastError: message, lastUpdateTime: metaTime(ctx.clock.now()) }),
    conditions: [{ type: 'Ready', status: 'Unknown', reason: 'NimbusUnavailable', message }],
  }).catch(() => undefined);
  return { requeueAfter: pollMs };
}
