// Blue-green on the host, for one Performer reconcile: which revision's Pod serves, which one is
// coming up beside it, when the Service switches, and which Pods go. The decisions are the pure
// transitions of `registry/hourglass.eigenlayer.io/performer/versions.ts` (shared with the
// promote and rollback verbs); this module carries them out.
//
// Order of a switch: status first (currentVersion = the new revision, previousVersion = the old),
// then the Service selector, then the old Pod is deleted. A reconcile interrupted in between finds
// the new revision current and finishes the Service and the clean-up; the Service never points
// back at a revision the status has left.
import type { V1Pod } from '@kubernetes/client-node';
import type { PerformerHealth, PerformerHealthResult } from '../../registry/hourglass.eigenlayer.io/upstreams.js';
import { planRollout, readyToSwitch, sameRevision, switched, type PendingVersion, type VersionRef } from '../../registry/hourglass.eigenlayer.io/performer/versions.js';
import type { PerformerStatus } from '../../registry/hourglass.eigenlayer.io/performer/types.js';
import { podEndpoint } from './performer-resources.js';

export interface RolloutInputs {
  status: PerformerStatus | undefined;
  desired: VersionRef & { revision: string };
  /** The performer's Pods on the host, by revision label. */
  pods: ReadonlyMap<string, V1Pod>;
  now: string;
}

/** What this reconcile does, decided before anything is written. */
export interface RolloutDecision {
  /** The revision the Service selects after this reconcile. */
  serving: VersionRef & { revision: string };
  /** The new revision still coming up (after this reconcile), if any. */
  pending?: PendingVersion;
  /** Revisions whose Pods are to exist (serving, pending). */
  keep: Set<string>;
  /** True when this reconcile switches the Service to a new revision. */
  switching: boolean;
  /** The pending revision abandoned (spec went back) or replaced (spec moved on), if any. */
  dropped?: PendingVersion;
  /** True when a new pending revision is started by this reconcile. */
  started: boolean;
}

export function decideRollout(inputs: RolloutInputs, health: PerformerHealthResult | undefined): RolloutDecision {
  const { status, desired, pods, now } = inputs;
  const step = planRollout(status, desired, now);
  if (step.kind === 'initial') return { serving: desired, keep: new Set([desired.revision]), switching: false, started: false };
  const current = status!.currentVersion as VersionRef & { revision: string };
  if (step.kind === 'steady') return { serving: current, keep: new Set([current.revision]), switching: false, dropped: step.abandon, started: false };
  const pending = step.pending as PendingVersion & { revision: string };
  // With the serving Pod gone nothing serves: the new revision may as well take the Service now.
  const servingGone = !pods.has(current.revision);
  if (readyToSwitch(pending, health?.status) || servingGone) {
    return { serving: pending, keep: new Set([pending.revision]), switching: true, dropped: step.replaces, started: false };
  }
  return {
    serving: current,
    pending,
    keep: new Set([current.revision, pending.revision]),
    switching: false,
    dropped: step.replaces,
    started: !sameRevision(status?.pendingVersion, pending),
  };
}

/** The pending revision's health, checked on its Pod directly (the Service still selects the old one). */
export async function checkPendingHealth(
  health: PerformerHealth | undefined,
  pod: V1Pod | undefined,
  port: number,
  deadlineMs: number,
): Promise<PerformerHealthResult | undefined> {
  if (!health || !pod) return undefined;
  const endpoint = podEndpoint(pod, port);
  if (!endpoint) return undefined;
  return health.check(endpoint, { deadlineMs });
}

/**
 * Edits a (copied, current) status for the decision: the switch, or the pending revision
 * (keeping a `promoteRequested` the promote verb has written meanwhile).
 */
export function applyRolloutToStatus(status: PerformerStatus, decision: RolloutDecision, podName: string | undefined, now: string): void {
  if (decision.switching) {
    // Already switched (a retry, or a decision made from an older copy): nothing to do.
    if (sameRevision(status.currentVersion, decision.serving)) return;
    // The status may have moved on since the decision (another pending written): switch only to ours.
    const base: PerformerStatus = { ...status, pendingVersion: { ...(status.pendingVersion ?? {}), ...decision.serving } as PendingVersion };
    if (!status.currentVersion) delete base.pendingVersion;
    const next = status.currentVersion ? switched(base, now) : { ...base, currentVersion: decision.serving, lastUpgrade: now };
    replaceContents(status, next);
    return;
  }
  if (!status.currentVersion || !sameRevision(status.currentVersion, decision.serving)) status.currentVersion = { ...decision.serving };
  if (decision.pending) {
    const kept = sameRevision(status.pendingVersion, decision.pending) ? status.pendingVersion : undefined;
    status.pendingVersion = {
      ...decision.pending,
      ...(kept?.promoteRequested ? { promoteRequested: true } : {}),
      ...(podName ? { podName } : {}),
      since: kept?.since ?? decision.pending.since ?? now,
    };
  } else {
    delete status.pendingVersion;
  }
}

function replaceContents(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const k of Object.keys(target)) delete target[k];
  Object.assign(target, source);
}
