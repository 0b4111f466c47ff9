// The resize state of one PVC, kept in its annotations so it survives restarts and leader changes:
//   `pvc-chonker.io/last-expansion`   RFC 3339 time of the last expansion request (pvc-chonker's own annotation)
//   `pvc-chonker.io/expansion-state`  {"requestedAt","from","to","completedAt"?,"recent":[…]} (JSON)
//
//        request ──▶ pending ──(capacity ≥ request, no Resizing/FileSystemResizePending)──▶ completed
//                       │                                                                     │
//                       └──(older than --pvc-stuck-after)──▶ stuck (reported, never patched)   │
//   completed ──(a usage sample taken after completion, showing the grown filesystem)──▶ may expand again
//
// `recent` holds the request times of the last 24 h: the per-volume daily budget
// (`--pvc-max-expansions-per-day`, EBS allows four modifications per volume in 24 h).
import type { Claim, VolumeStats } from '../../registry/pvc-chonker.io/upstreams.js';
import { ANNOTATIONS } from './settings.js';
import { parseBytes } from './sizing.js';

export const DAY_MS = 24 * 60 * 60_000;

export interface ExpansionState {
  requestedAt: string;
  from: string;
  to: string;
  /** When the controller first saw the expansion finished. */
  completedAt?: string;
  /** Request times within the last 24 h, oldest first. */
  recent: string[];
}

export type ResizePhase =
  /** Nothing in flight and nothing recorded, or the last expansion completed and was recorded. */
  | 'idle'
  /** Finished on the cluster, not yet recorded as completed (the controller records it). */
  | 'completed'
  | 'pending'
  | 'stuck'
  /** Resizing without a request of ours (someone else grew it). */
  | 'resizing';

export function readState(claim: Claim): ExpansionState | undefined {
  const raw = claim.metadata.annotations?.[ANNOTATIONS.expansionState];
  if (raw) {
    try {
      const s = JSON.parse(raw) as Partial<ExpansionState>;
      if (typeof s.requestedAt === 'string' && typeof s.from === 'string' && typeof s.to === 'string') {
        return { requestedAt: s.requestedAt, from: s.from, to: s.to, completedAt: typeof s.completedAt === 'string' ? s.completedAt : undefined, recent: Array.isArray(s.recent) ? s.recent.filter((r) => typeof r === 'string') : [] };
      }
    } catch {
      // fall through to the plain timestamp
    }
  }
  return undefined;
}

/** When the PVC was last expanded (by the state, else pvc-chonker's plain `last-expansion` timestamp). */
export function lastExpansionMs(claim: Claim, state = readState(claim)): number | undefined {
  const text = state?.requestedAt ?? claim.metadata.annotations?.[ANNOTATIONS.lastExpansion];
  const ms = text ? Date.parse(text) : NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

export function requestBytes(claim: Claim): number | undefined {
  return parseBytes(claim.spec?.resources?.requests?.storage);
}

export function capacityBytes(claim: Claim): number | undefined {
  return parseBytes(claim.status?.capacity?.storage);
}

/** The size the volume has now: its capacity, or its request when the capacity is not reported yet. */
export function currentBytes(claim: Claim): number | undefined {
  const capacity = capacityBytes(claim);
  const request = requestBytes(claim);
  if (capacity === undefined) return request;
  return request === undefined ? capacity : Math.max(capacity, request);
}

export function resizeInProgress(claim: Claim): string | undefined {
  const c = claim.status?.conditions?.find((x) => (x.type === 'Resizing' || x.type === 'FileSystemResizePending') && x.status === 'True');
  return c?.type;
}

export function phaseOf(claim: Claim, state: ExpansionState | undefined, nowMs: number, stuckAfterMs: number): ResizePhase {
  const request = requestBytes(claim);
  const capacity = capacityBytes(claim);
  const done = request !== undefined && capacity !== undefined && capacity >= request && !resizeInProgress(claim);
  if (done) return state && !state.completedAt ? 'completed' : 'idle';
  if (!state || state.completedAt) return 'resizing';
  const requested = Date.parse(state.requestedAt);
  return !Number.isNaN(requested) && nowMs - requested >= stuckAfterMs ? 'stuck' : 'pending';
}

/**
 * Whether a usage sample may drive the next expansion: taken after the last expansion was seen completed,
 * and (when it reports a capacity) showing a filesystem larger than before that expansion.
 */
export function sampleIsFresh(state: ExpansionState | undefined, sampledAtMs: number, stats: VolumeStats): boolean {
  if (!state) return true;
  if (!state.completedAt) return false;
  if (!(sampledAtMs >= Date.parse(state.completedAt))) return false;
  const from = parseBytes(state.from);
  return stats.capacityBytes === undefined || from === undefined || stats.capacityBytes > from;
}

/** Expansions requested in the 24 h before `nowMs`. */
export function expansionsInLastDay(state: ExpansionState | undefined, nowMs: number): number {
  return (state?.recent ?? []).filter((t) => nowMs - Date.parse(t) < DAY_MS).length;
}

/** When the oldest expansion of the last 24 h leaves the window (the budget frees up), in ms from now. */
export function budgetFreesInMs(state: ExpansionState | undefined, nowMs: number): number | undefined {
  const inWindow = (state?.recent ?? []).map((t) => Date.parse(t)).filter((t) => nowMs - t < DAY_MS);
  return inWindow.length === 0 ? undefined : Math.min(...inWindow) + DAY_MS - nowMs;
}

/** The state after requesting `from` → `to` at `nowMs`. */
export function requested(state: ExpansionState | undefined, nowMs: number, from: string, to: string): ExpansionState {
  const at = new Date(nowMs).toISOString();
  const recent = (state?.recent ?? []).filter((t) => nowMs - Date.parse(t) < DAY_MS);
  return { requestedAt: at, from, to, recent: [...recent, at] };
}

export function completed(state: ExpansionState, nowMs: number): ExpansionState {
  return { ...state, completedAt: new Date(nowMs).toISOString() };
}

/** The annotations that store `state`. */
export function stateAnnotations(state: ExpansionState): Record<string, string> {
  return { [ANNOTATIONS.lastExpansion]: state.requestedAt, [ANNOTATIONS.expansionState]: JSON.stringify(state) };
}
