// Blue-green deployment of a StormTopology (`spec.deploymentStrategy.type: blueGreen`), as a step
// of the topology controller's reconcile. Every revision runs as its own Storm topology
// (`blueGreenStormName`, registry/…/stormtopology/revisions.ts). State lives in
// `status.blueGreen` (active name/id/color, the candidate, when the previous version is killed)
// and `status.history`.
//
// - First deployment: submitted as the active version (blue) and recorded as revision 1.
// - spec.topology changed: the new version is submitted beside the active one as the candidate,
//   in the other color, and deactivated — only when getClusterInfo shows enough free slots for it
//   (condition InsufficientSlots otherwise, and no submission). A candidate of an older spec is
//   killed first. A candidate name that still runs (a rollback within scaleDownDelaySeconds) is
//   adopted without a new submission.
// - Promotion (the `promote` verb, or here after autoPromotionSeconds when autoPromotionEnabled)
//   is `promoteCandidate` (shared with the verb). Afterwards the previous version is killed once
//   `previousScaleDownAt` has passed; a kill Nimbus lost is sent again.
import type { KubeObject } from '../../registry/meta.js';
import { promoteCandidate, type PromotionResult } from '../../registry/storm.apache.org/stormtopology/promotion.js';
import {
  blueGreenStormName,
  causeOf,
  currentRevision,
  otherColor,
  previousRevision,
  recordRevision,
  sameTopology,
  stormNameOfRevision,
  versionOf,
  type Color,
} from '../../registry/storm.apache.org/stormtopology/revisions.js';
import type { StormTopologySpec, StormTopologyStatus, TopologySpec } from '../../registry/storm.apache.org/stormtopology/types.js';
import type { ClusterSummary, Nimbus, TopologySummary } from '../../registry/storm.apache.org/upstreams.js';
import { isStatusError } from '../../apiserver/errors.js';
import type { ControllerContext, ReconcileResult } from '../controller.js';
import { findCondition, type Condition, type ConditionInput } from '../status.js';
import type { JobOutcome } from './topology-job.js';

/** What the topology controller hands to a deployment step. */
export interface TopologyEnv {
  ctx: ControllerContext;
  /** The object as read (with its finalizer). */
  obj: KubeObject;
  spec: StormTopologySpec;
  status: StormTopologyStatus;
  nimbus: Nimbus;
  nowMs: number;
  pollMs: number;
  steadyPollMs: number;
  /** Nimbus' summary of a topology; undefined when Nimbus does not know it. */
  summaryOf(name: string): Promise<TopologySummary | undefined>;
  /** Ensures the submission Job of `topology` as `stormName` (resubmission `attempt`, 0 for the first) exists; its outcome. */
  submit(topology: TopologySpec, stormName: string, attempt?: number): Promise<JobOutcome>;
  /** Deletes the submission Job of `topology` as `stormName`, resubmission `attempt` (gone already is fine). */
  deleteSubmission(topology: TopologySpec, stormName: string, attempt: number): Promise<void>;
  /** Kills `name` (desired state: sent again while Nimbus shows it alive); true once it is KILLED or gone. */
  kill(name: string, waitSecs: number): Promise<boolean>;
  /** Brings the running topology to the spec's state (suspend, recorded rebalance) and reports it. */
  settle(name: string, summary: TopologySummary, extra?: { fields?: Record<string, unknown>; conditions?: ConditionInput[] }): Promise<ReconcileResult>;
  /** Writes status fields and conditions (through updateStatus); returns the stored object. */
  write(fields: Record<string, unknown> | ((status: Record<string, unknown>) => void), conditions?: ConditionInput[]): Promise<KubeObject>;
  /** Deletes the submission Jobs of this topology other than those of `keep` ([Storm name, topology]). */
  cleanupJobs(keep: Array<[string, TopologySpec]>): Promise<void>;
}

export function metaTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** Free worker slots of the cluster (non-blacklisted supervisors). */
export function freeSlots(cluster: ClusterSummary): number {
  return cluster.supervisors.filter((s) => !s.blacklisted).reduce((n, s) => n + Math.max(0, s.numWorkers - s.numUsedWorkers), 0);
}

/** Workers a revision asks for: `topology.workers` of its config, else spec.workers.replicas. */
export function workersWanted(spec: StormTopologySpec, topology: TopologySpec): number {
  const configured = Number(topology.config?.['topology.workers']);
  return Number.isInteger(configured) && configured > 0 ? configured : (spec.workers?.replicas ?? 2);
}

export async function reconcileBlueGreen(env: TopologyEnv): Promise<ReconcileResult> {
  const { spec, status, nimbus, nowMs } = env;
  const bg = status.blueGreen ?? {};
  const desiredName = blueGreenStormName(spec.topology);
  const current = currentRevision(status);
  const activeName = bg.activeTopologyName;
  const killWait = spec.lifecycle?.killWaitSeconds ?? 30;
  let requeue = env.steadyPollMs;

  // The previous version, once its scale-down delay has passed (unless a rollback made it the candidate again).
  if (bg.previousScaleDownAt) {
    const previous = previousRevision(status);
    const previousName = previous ? stormNameOfRevision(previous) : undefined;
    const due = Date.parse(bg.previousScaleDownAt);
    if (!previousName || previousName === activeName || previousName === bg.candidate?.topologyName) {
      await env.write((s) => {
        delete (s.blueGreen as Record<string, unknown>).previousScaleDownAt;
      });
    } else if (nowMs >= due) {
      if (await env.kill(previousName, killWait)) {
        await env.write((s) => {
          delete (s.blueGreen as Record<string, unknown>).previousScaleDownAt;
        });
        env.ctx.recorder.event(env.obj, 'Normal', 'ScaledDown', `killed the previous version ${previousName}`);
      } else requeue = env.pollMs;
    } else requeue = Math.min(requeue, Math.max(100, due - nowMs));
  }

  // First deployment: the desired version becomes the active one directly.
  if (!activeName || !current) {
    const summary = await env.summaryOf(desiredName);
    if (!summary) return submitting(env, desiredName, spec.topology, 'Submitting');
    if (summary.status === 'KILLED') {
      await env.write({ phase: 'Pending', internalState: 'Pending', message: undefined }, [{ type: 'Ready', status: 'False', reason: 'Pending', message: `waiting for the killed ${desiredName} to go` }]);
      return { requeueAfter: env.pollMs };
    }
    const color: Color = 'blue';
    const stored = await env.write((s) => {
      recordRevision(
        s,
        { revision: 1 + Math.max(0, ...(status.history ?? []).map((r) => r.revision)), version: versionOf(spec.topology), topology: structuredClone(spec.topology), topologyId: summary.id, color, cause: causeOf(status, spec.topology), deployedAt: metaTime(nowMs) },
        spec.revisionHistoryLimit ?? 10,
      );
      s.blueGreen = { activeColor: color, activeTopologyName: desiredName, activeTopologyId: summary.id };
      Object.assign(s, { topologyName: desiredName, topologyId: summary.id, deployedVersion: versionOf(spec.topology) });
      delete s.lastError;
    });
    env.ctx.recorder.event(stored, 'Normal', 'Deployed', `revision deployed as Storm topology ${desiredName} (${summary.id})`);
    await env.cleanupJobs([[desiredName, spec.topology]]);
    return env.settle(desiredName, summary);
  }

  const activeSummary = await env.summaryOf(activeName);
  const candidate = bg.candidate;

  // Steady: the spec is the active revision. A leftover candidate (the spec went back) is killed.
  if (sameTopology(current.topology, spec.topology)) {
    if (candidate?.topologyName) {
      if (await env.kill(candidate.topologyName, 0)) {
        await env.write((s) => {
          delete (s.blueGreen as Record<string, unknown>).candidate;
        });
        env.ctx.recorder.event(env.obj, 'Normal', 'CandidateAbandoned', `killed the candidate ${candidate.topologyName}: spec.topology is the active revision again`);
      } else requeue = env.pollMs;
    }
    if (!activeSummary) return resubmitLost(env, activeName, current.topology);
    const result = await env.settle(activeName, activeSummary, { conditions: [{ type: 'InsufficientSlots', status: 'False', reason: 'NoCandidate', message: 'no candidate version' }] });
    return { requeueAfter: Math.min(result.requeueAfter ?? requeue, requeue) };
  }

  // A candidate of an older spec goes first.
  if (candidate?.topologyName && candidate.topologyName !== desiredName) {
    if (await env.kill(candidate.topologyName, 0)) {
      await env.write((s) => {
        delete (s.blueGreen as Record<string, unknown>).candidate;
      });
      env.ctx.recorder.event(env.obj, 'Normal', 'CandidateReplaced', `killed the candidate ${candidate.topologyName}: spec.topology changed again`);
    }
    return { requeueAfter: env.pollMs };
  }

  // A new candidate: only with free slots for it beside the active version.
  if (!candidate?.topologyName) {
    const existing = await env.summaryOf(desiredName);
    if (!existing) {
      const need = workersWanted(spec, spec.topology);
      const free = freeSlots(await nimbus.getClusterInfo());
      if (free < need) {
        await env.write({ internalState: 'InsufficientSlots' }, [
          { type: 'InsufficientSlots', status: 'True', reason: 'InsufficientSlots', message: `the candidate needs ${need} free worker slots beside the active version; the cluster has ${free}` },
        ]);
        return activeSummary ? env.settle(activeName, activeSummary, { conditions: [] }).then(() => ({ requeueAfter: env.steadyPollMs })) : { requeueAfter: env.steadyPollMs };
      }
    }
    await env.write(
      (s) => {
        (s.blueGreen as Record<string, unknown>).candidate = {
          color: otherColor(bg.activeColor as Color | undefined),
          topologyName: desiredName,
          version: versionOf(spec.topology),
          startedAt: metaTime(nowMs),
        };
        s.internalState = 'SubmittingCandidate';
      },
      [{ type: 'InsufficientSlots', status: 'False', reason: 'SlotsAvailable', message: 'enough free worker slots for the candidate' }],
    );
    return { requeueAfter: 1 };
  }

  // The candidate: submitted, confirmed, deactivated, then waiting for promotion.
  const summary = await env.summaryOf(desiredName);
  if (!summary) return submitting(env, desiredName, spec.topology, 'SubmittingCandidate');
  if (summary.status === 'ACTIVE') await nimbus.deactivate(desiredName);
  const blueGreen = spec.deploymentStrategy?.blueGreen;
  if (!candidate.topologyId) {
    const autoSeconds = blueGreen?.autoPromotionSeconds ?? 0;
    await env.write((s) => {
      const c = (s.blueGreen as { candidate?: Record<string, unknown> }).candidate;
      if (!c) return;
      c.topologyId = summary.id;
      if (blueGreen?.autoPromotionEnabled) c.autoPromoteAt = metaTime(nowMs + autoSeconds * 1000);
      s.internalState = 'CandidateReady';
    });
    env.ctx.recorder.event(env.obj, 'Normal', 'CandidateReady', `candidate ${desiredName} (${summary.id}) submitted and deactivated, waiting for promotion`);
    await env.cleanupJobs([[activeName, current.topology], [desiredName, spec.topology]]);
    return { requeueAfter: 1 };
  }
  if (blueGreen?.autoPromotionEnabled && candidate.autoPromoteAt && nowMs >= Date.parse(candidate.autoPromoteAt)) {
    let result: PromotionResult | undefined;
    try {
      result = await promoteCandidate({ store: env.ctx.store('stormtopologies.storm.apache.org'), nimbus, now: () => new Date(env.ctx.clock.now()) }, env.obj);
    } catch (err) {
      if (!isStatusError(err)) throw err;
      const message = `automatic promotion of ${desiredName} failed: ${err.status.message}`;
      env.ctx.recorder.event(env.obj, 'Warning', 'PromotionFailed', message);
      await env.write({ lastError: message }, [{ type: 'Promoted', status: 'False', reason: err.status.code === 422 ? 'AnalysisFailed' : 'PromotionFailed', message }]);
      return { requeueAfter: env.steadyPollMs };
    }
    env.ctx.recorder.event(env.obj, 'Normal', 'Promoted', result.message);
    await env.write({}, [{ type: 'Promoted', status: 'True', reason: 'AutoPromoted', message: result.message }]);
    return { requeueAfter: 1 };
  }
  if (!activeSummary) return resubmitLost(env, activeName, current.topology);
  const wait = candidate.autoPromoteAt && blueGreen?.autoPromotionEnabled ? Math.max(100, Date.parse(candidate.autoPromoteAt) - nowMs) : requeue;
  const result = await env.settle(activeName, activeSummary, {
    fields: { internalState: 'CandidateReady' },
    conditions: [{ type: 'InsufficientSlots', status: 'False', reason: 'SlotsAvailable', message: 'the candidate runs beside the active version' }],
  });
  return { requeueAfter: Math.min(wait, result.requeueAfter ?? wait) };
}

/** The submission Job's progress, reported; a failure is the phase Failed with the Job's reason. */
export async function submitting(env: TopologyEnv, stormName: string, topology: TopologySpec, state: string, attempt = 0): Promise<ReconcileResult> {
  const outcome = await env.submit(topology, stormName, attempt);
  if (outcome.state === 'Failed') {
    await env.write({ phase: 'Failed', internalState: 'Failed', lastError: outcome.message }, [{ type: 'Ready', status: 'False', reason: 'Failed', message: outcome.message }]);
    env.ctx.recorder.event(env.obj, 'Warning', 'SubmissionFailed', outcome.message);
    return {};
  }
  const message =
    outcome.state === 'Running' ? `submission Job of ${stormName} is running` : `submission Job of ${stormName} completed; waiting for Nimbus to show the topology`;
  const keepsActive = state === 'SubmittingCandidate';
  await env.write(
    keepsActive ? { internalState: state } : { phase: 'Submitted', internalState: state },
    keepsActive ? [] : [{ type: 'Ready', status: 'False', reason: state, message }],
  );
  return { requeueAfter: env.pollMs };
}

/** Backoff before resubmission `n + 1` after `n` earlier ones: 10 s · 2^(n-1), at most 10 min (none before the first). */
export function resubmitBackoffMs(previous: number): number {
  return previous <= 0 ? 0 : Math.min(10_000 * 2 ** (previous - 1), RESUBMIT_BACKOFF_MAX_MS);
}

export const RESUBMIT_BACKOFF_MAX_MS = 10 * 60_000;

/**
 * The active topology is gone from Nimbus (Nimbus restarted with empty state, or it was killed
 * outside the API). Desired state: it is submitted again, through a submission Job of its own
 * (`attempt` = status.resubmissions), with a Warning `TopologyLost` and condition TopologyLost
 * True (reason Lost, then Resubmitting with the Job), phase Submitted. Attempts are spaced by
 * `resubmitBackoffMs`, so a Nimbus that keeps losing it cannot make this a hot loop; the count
 * starts again after RESUBMIT_BACKOFF_MAX_MS without a loss. A resubmission whose Job completed
 * but whose topology Nimbus still does not show once the backoff has passed counts as lost again.
 * A suspended topology is resubmitted too, and `settle` deactivates it once Nimbus shows it; when
 * it does, `settle` sets TopologyLost False (Resubmitted).
 */
export async function resubmitLost(env: TopologyEnv, name: string, topology: TopologySpec): Promise<ReconcileResult> {
  const { status, nowMs } = env;
  const lostCondition = findCondition(status.conditions as Condition[] | undefined, 'TopologyLost');
  const lastAt = status.lastResubmitTime ? Date.parse(status.lastResubmitTime) : undefined;
  let previous = status.resubmissions ?? 0;
  const dueAt = lastAt === undefined ? nowMs : lastAt + resubmitBackoffMs(previous);

  if (lostCondition?.status === 'True' && lostCondition.reason === 'Resubmitting') {
    // Completed, yet Nimbus still does not show it once the backoff passed: lost again.
    if (nowMs >= dueAt && (await env.submit(topology, name, previous)).state === 'Succeeded') {
      await env.write({}, [{ type: 'TopologyLost', status: 'True', reason: 'Lost', message: `resubmission ${previous} of ${name} completed, but Nimbus does not show the topology` }]);
      return { requeueAfter: 1 };
    }
    return submitting(env, name, topology, 'Resubmitting', previous);
  }

  if (lostCondition?.status !== 'True') {
    const message = `Storm topology ${name} is no longer known to Nimbus (restarted with empty state, or killed outside the API); submitting it again`;
    env.ctx.recorder.event(env.obj, 'Warning', 'TopologyLost', message);
    await env.write({}, [{ type: 'TopologyLost', status: 'True', reason: 'Lost', message }]);
  }
  // A loss long after the previous resubmission starts the backoff again.
  if (lastAt !== undefined && nowMs - lastAt > RESUBMIT_BACKOFF_MAX_MS) previous = 0;
  const due = previous === 0 ? nowMs : dueAt;
  if (nowMs < due) {
    const message = `Storm topology ${name} is no longer known to Nimbus; resubmission ${previous + 1} at ${metaTime(due)} (backoff after ${previous})`;
    await env.write({ phase: 'Pending', internalState: 'ResubmitBackoff', lastError: message }, [{ type: 'Ready', status: 'False', reason: 'TopologyLost', message }]);
    return { requeueAfter: Math.max(100, due - nowMs) };
  }
  const attempt = previous + 1;
  if (previous > 0) await env.deleteSubmission(topology, name, previous);
  await env.write({ resubmissions: attempt, lastResubmitTime: metaTime(nowMs), lastError: `Storm topology ${name} was lost by Nimbus; resubmission ${attempt}` }, [
    { type: 'TopologyLost', status: 'True', reason: 'Resubmitting', message: `resubmission ${attempt} of ${name} (a new submission Job)` },
  ]);
  return submitting(env, name, topology, 'Resubmitting', attempt);
}
