// Garbage collection of the host objects of our objects that no longer exist (ownerReferences
// cannot cross API servers, see host-client.ts), shared by the Hourglass and Storm controllers.
// An object is an orphan when its managed-by labels name an owner of the controller's kind that is neither in the informer cache
// nor in our storage: deleted while the server was down and its finalizer removed by force, or
// lost with a storage restore. The sweep runs as the work-queue key SWEEP_KEY: on the leader only,
// once when its term starts, then every `intervalMs`, never at the same time as itself.
//
// Objects of an owner that exists are never touched here: what a live owner no longer needs (a
// Performer's Pods of a revision cut short mid-switch, a StormCluster's pruned workloads) is its
// own reconcile's to delete, which knows what the spec asks for.
import { isStatusError } from '../apiserver/errors.js';
import type { KubeObject } from '../registry/meta.js';
import type { Store } from '../registry/store.js';
import type { ControllerContext, ReconcileResult } from './controller.js';
import { OWNER_GROUP_LABEL, OWNER_KIND_LABEL, labelValue, type ManagedType, type OwnerRef } from './host-client.js';
import { describeHostError, isHostUnavailable } from './http-errors.js';

/** The work-queue key of the sweep (not a `namespace/name`: no object has it). */
export const SWEEP_KEY = '~sweep-orphans';

/** Default time between two sweeps (one more runs at the start of every leadership term). */
export const DEFAULT_SWEEP_INTERVAL_MS = 10 * 60_000;

export interface OwnerKind {
  group: string;
  kind: string;
}

/** `type`, listing only the managed objects whose owner is of `owner`'s group and kind. */
export function ownedBy(type: ManagedType, owner: OwnerKind): ManagedType {
  const narrow = `${OWNER_GROUP_LABEL}=${labelValue(owner.group)},${OWNER_KIND_LABEL}=${labelValue(owner.kind)}`;
  return { kind: type.kind, list: (selector) => type.list(`${selector},${narrow}`), delete: (namespace, name) => type.delete(namespace, name) };
}

/**
 * Whether the owner exists: in the informer cache, else in storage. An owner of another kind, or
 * one whose existence cannot be read (storage away), counts as existing: nothing is deleted blind.
 */
export async function ownerExists(owner: OwnerRef, kind: OwnerKind, cache: { get(key: string): KubeObject | undefined }, store: Store): Promise<boolean> {
  if (owner.group !== kind.group || owner.kind !== kind.kind) return true;
  if (!owner.name) return true;
  if (cache.get(`${owner.namespace ?? ''}/${owner.name}`)) return true;
  try {
    await store.get({ namespace: owner.namespace, name: owner.name });
    return true;
  } catch (err) {
    return !isStatusError(err, 'NotFound');
  }
}

/**
 * One sweep, as a reconcile of SWEEP_KEY: deletes the orphans among `types` and polls again after
 * `intervalMs`. A failure (host away, a refused list) is logged and waits for the next sweep
 * rather than the per-key backoff.
 */
export async function sweepOrphans(
  ctx: ControllerContext,
  kind: OwnerKind,
  types: ManagedType[],
  cache: { get(key: string): KubeObject | undefined },
  store: Store,
  intervalMs: number,
): Promise<ReconcileResult> {
  const host = ctx.host;
  if (!host) return {};
  try {
    const deleted = await host.sweepOrphans(
      types.map((t) => ownedBy(t, kind)),
      (owner) => ownerExists(owner, kind, cache, store),
    );
    if (deleted.length > 0) ctx.log.info({ owner: kind.kind, deleted }, `${ctx.name}: deleted host objects whose ${kind.kind} no longer exists`);
  } catch (err) {
    ctx.log.warn({ owner: kind.kind, err: describeHostError(err), hostUnavailable: isHostUnavailable(err) }, `${ctx.name}: orphan sweep failed; trying again at the next sweep`);
  }
  return { requeueAfter: intervalMs };
}
