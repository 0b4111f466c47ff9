// Status from a controller: written through the `status` subresource (only `status` changes),
// with optimistic concurrency and retry on conflict, `status.observedGeneration` set to the
// generation the controller acted on, and standard conditions (metav1.Condition) set by one
// helper whose `lastTransitionTime` moves only when a condition's status flips.
import type { KubeObject } from '../registry/meta.js';
import type { Store } from '../registry/store.js';
import { realClock, type Clock } from './clock.js';
import { writeWithRetry } from './write.js';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** What a controller says about one aspect of an object. */
export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  /** CamelCase, e.g. `Submitted`, `ExpansionFailed`. */
  reason: string;
  message?: string;
}

/** metav1.Condition. */
export interface Condition extends ConditionInput {
  observedGeneration?: number;
  lastTransitionTime: string;
}

/** `2026-01-02T03:04:05Z`: metav1.Time, seconds precision. */
export function metaTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * `conditions` with `input` set (apimachinery's meta.SetStatusCondition): a new condition gets
 * `lastTransitionTime = now`; an existing one keeps its `lastTransitionTime` unless its status
 * changes, and takes the new reason, message and observedGeneration. Returns a new array; the
 * order of existing conditions is kept.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  input: ConditionInput,
  nowMs: number,
  observedGeneration?: number,
): Condition[] {
  const out = [...(conditions ?? [])];
  const i = out.findIndex((c) => c.type === input.type);
  const existing = i >= 0 ? out[i] : undefined;
  const next: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    ...(input.message !== undefined ? { message: input.message } : {}),
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
    lastTransitionTime: existing && existing.status === input.status ? existing.lastTransitionTime : metaTime(nowMs),
  };
  if (i >= 0) out[i] = next;
  else out.push(next);
  return out;
}

export interface StatusChange {
  /** Edits the (copied) status; `obj` is the copied object, for reading spec and metadata. */
  mutate?(status: Record<string, unknown>, obj: KubeObject): void;
  /** Conditions to set through `setCondition`. */
  conditions?: ConditionInput[];
}

export interface StatusWriteOptions {
  clock?: Clock;
  attempts?: number;
}

/**
 * Writes `change` into `obj`'s status through `store`'s status subresource, with
 * `status.observedGeneration` = `obj.metadata.generation` (the generation the caller acted on) and
 * the conditions stamped with it. On a conflict the change is applied again to the current object,
 * still with `obj`'s generation. Nothing is written when the status would not change. Resolves
 * with the object as stored.
 */
export function updateStatus(store: Store, obj: KubeObject, change: StatusChange, options: StatusWriteOptions = {}): Promise<KubeObject> {
  const clock = options.clock ?? realClock;
  // The generation the controller acted on: a retry after a conflict may see a newer spec, whose
  // generation this status does not describe (the newer generation gets its own reconcile).
  const generation = obj.metadata.generation;
  return writeWithRetry(
    store.statusStore(),
    obj,
    (copy) => {
      const before = JSON.stringify(copy.status ?? {});
      const status: Record<string, unknown> = copy.status ?? {};
      change.mutate?.(status, copy);
      if (generation !== undefined) status.observedGeneration = generation;
      let conditions = status.conditions as Condition[] | undefined;
      for (const c of change.conditions ?? []) conditions = setCondition(conditions, c, clock.now(), generation);
      if (conditions !== undefined) status.conditions = conditions;
      copy.status = status;
      return JSON.stringify(status) !== before;
    },
    options,
  );
}
