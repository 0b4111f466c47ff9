// Blue-green versions of a Performer, as pure state transitions shared by the promote/rollback
// verbs (in the API server) and the performer controller (which does the host-side work).
//
// status.currentVersion  the revision the Service selects (serving now)
// status.pendingVersion  a new revision started beside it, waiting to report SERVING
//                        (`promoteRequested`: the promote verb said switch without waiting)
// status.previousVersion what served before the last switch (what rollback returns to)
//
// A revision is a hash of the Pod the spec asks for; `spec.version` and `spec.image` name it.
import type { PerformerStatus } from './types.js';

export interface VersionRef {
  version?: string;
  image: string;
  revision?: string;
}

export type PendingVersion = NonNullable<PerformerStatus['pendingVersion']>;

/** What the controller does about versions, given the revision the spec asks for now. */
export type RolloutStep =
  /** Nothing serves yet: the desired revision becomes current at once (no blue-green). */
  | { kind: 'initial' }
  /** The desired revision is the serving one; any pending revision is abandoned. */
  | { kind: 'steady'; abandon?: PendingVersion }
  /** Start (or keep waiting for) the desired revision beside the serving one. */
  | { kind: 'upgrade'; pending: PendingVersion; replaces?: PendingVersion };

export function sameRevision(a: VersionRef | undefined, b: VersionRef | undefined): boolean {
  return a !== undefined && b !== undefined && a.revision !== undefined && a.revision === b.revision;
}

/** The next rollout step for `desired` (the spec's revision) against the status. */
export function planRollout(status: PerformerStatus | undefined, desired: Required<Pick<VersionRef, 'revision' | 'image'>> & VersionRef, now: string): RolloutStep {
  const current = status?.currentVersion;
  const pending = status?.pendingVersion;
  if (!current?.revision) return { kind: 'initial' };
  if (sameRevision(current, desired)) return pending ? { kind: 'steady', abandon: pending } : { kind: 'steady' };
  if (pending && sameRevision(pending, desired)) return { kind: 'upgrade', pending };
  return {
    kind: 'upgrade',
    pending: { ...versionOf(desired), since: now },
    ...(pending ? { replaces: pending } : {}),
  };
}

/** Whether the controller switches the Service to the pending revision now. */
export function readyToSwitch(pending: PendingVersion, health: string | undefined): boolean {
  return pending.promoteRequested === true || health === 'SERVING';
}

/** The status after the Service has switched to the pending revision. */
export function switched(status: PerformerStatus, now: string): PerformerStatus {
  const pending = status.pendingVersion;
  if (!pending) return status;
  const next: PerformerStatus = { ...status, currentVersion: versionOf(pending), lastUpgrade: now };
  if (status.currentVersion) next.previousVersion = versionOf(status.currentVersion);
  delete next.pendingVersion;
  return next;
}

/** Why a verb cannot act: the API answers 409 Conflict with this text. */
export class NoVersionToSwitch extends Error {}

/** The promote verb: the pending revision is to serve now. Throws NoVersionToSwitch when none waits. */
export function requestPromotion(status: PerformerStatus | undefined): PerformerStatus {
  const pending = status?.pendingVersion;
  if (!pending) throw new NoVersionToSwitch('there is no new version waiting to be promoted');
  return { ...status, pendingVersion: { ...pending, promoteRequested: true } };
}

export interface RollbackPlan {
  /** What spec.version and spec.image become. */
  to: VersionRef;
  /** What they were. */
  from: VersionRef;
  /** True when an upgrade still waiting is abandoned (back to the serving version). */
  abandonsPending: boolean;
}

/**
 * The rollback verb: with an upgrade waiting, back to the serving version (the upgrade is
 * abandoned); otherwise back to the version served before the last switch. Throws
 * NoVersionToSwitch when there is neither.
 */
export function planRollback(spec: { version?: string; image: string }, status: PerformerStatus | undefined): RollbackPlan {
  const from = { ...(spec.version !== undefined ? { version: spec.version } : {}), image: spec.image };
  if (status?.pendingVersion && status.currentVersion) {
    return { to: versionOf(status.currentVersion), from, abandonsPending: true };
  }
  const previous = status?.previousVersion;
  if (!previous) throw new NoVersionToSwitch('there is no previous version to roll back to');
  return { to: versionOf(previous), from, abandonsPending: false };
}

/** `spec` with the version and image of `to` (spec.version removed when `to` has none). */
export function applyVersion<T extends { version?: string; image: string }>(spec: T, to: VersionRef): T {
  const next = { ...spec, image: to.image };
  if (to.version !== undefined) next.version = to.version;
  else delete next.version;
  return next;
}

function versionOf(v: VersionRef): VersionRef {
  return {
    ...(v.version !== undefined ? { version: v.version } : {}),
    image: v.image,
    ...(v.revision !== undefined ? { revision: v.revision } : {}),
  };
}
