// "What would I do next with this PVC, and why": one pure function used by the controller (which
// then does it) and by the `expansions` subresource (which shows it), so they agree by construction.
import type { Claim, ChonkerConfig, StorageClassInfo, VolumeStats } from '../../registry/pvc-chonker.io/upstreams.js';
import type { Resolution } from './settings.js';
import { formatBytes, nextSize, percentUsed } from './sizing.js';
import { budgetFreesInMs, completed, currentBytes, expansionsInLastDay, lastExpansionMs, phaseOf, readState, resizeInProgress, sampleIsFresh, type ResizePhase } from './state-machine.js';

export type DecisionReason =
  | 'NotManaged'
  | 'InvalidSettings'
  | 'NotBound'
  | 'NotExpandable'
  | 'Resizing'
  | 'ExpansionPending'
  | 'ExpansionStuck'
  | 'UsageUnknown'
  | 'StaleSample'
  | 'BelowThreshold'
  | 'Cooldown'
  | 'DailyBudgetExhausted'
  | 'MaxSizeBelowCurrent'
  | 'MaxSizeReached'
  | 'ThresholdReached'
  | 'InodesThresholdReached'
  | 'GroupCoordination';

export interface Usage {
  usedBytes?: number;
  capacityBytes?: number;
  usedPercent?: number;
  inodes?: number;
  inodesUsed?: number;
  inodesUsedPercent?: number;
}

export interface Decision {
  expand: boolean;
  reason: DecisionReason;
  message: string;
  phase: ResizePhase;
  currentBytes?: number;
  /** The size the expansion asks for (when `expand`). */
  toBytes?: number;
  /** `expand` and the size was limited by max-size. */
  capped?: boolean;
  usage: Usage;
  cooldownRemainingMs: number;
  expansionsLeftToday: number;
}

export interface DecideInput {
  claim: Claim;
  resolution: Resolution;
  storageClass?: StorageClassInfo;
  /** Undefined: no sample for this claim (its node did not answer, or no figures): unknown. */
  stats?: VolumeStats;
  sampledAtMs?: number;
  /** When the claims were listed (the snapshot's time). */
  listedAtMs?: number;
  nowMs: number;
  config: Pick<ChonkerConfig, 'stuckAfterMs' | 'maxExpansionsPerDay'>;
  /** The group's coordination size (its largest member), when the claim is in a group. */
  groupTargetBytes?: number;
}

export function usageOf(stats: VolumeStats | undefined): Usage {
  if (!stats) return {};
  const used = stats.usedBytes ?? (stats.capacityBytes !== undefined && stats.availableBytes !== undefined ? stats.capacityBytes - stats.availableBytes : undefined);
  const inodesUsed = stats.inodesUsed ?? (stats.inodes !== undefined && stats.inodesFree !== undefined ? stats.inodes - stats.inodesFree : undefined);
  return {
    usedBytes: used,
    capacityBytes: stats.capacityBytes,
    usedPercent: percentUsed(used, stats.capacityBytes),
    inodes: stats.inodes,
    inodesUsed,
    inodesUsedPercent: percentUsed(inodesUsed, stats.inodes),
  };
}

const pct = (v: number) => `${Math.round(v * 10) / 10}%`;

export function decide(input: DecideInput): Decision {
  const { claim, resolution, nowMs, config } = input;
  const state = readState(claim);
  const phase = phaseOf(claim, state, nowMs, config.stuckAfterMs);
  const current = currentBytes(claim);
  const usage = usageOf(input.stats);
  const last = lastExpansionMs(claim, state);
  const cooldown = resolution.settings.cooldownMs.value;
  const cooldownRemainingMs = last === undefined ? 0 : Math.max(0, last + cooldown - nowMs);
  const expansionsLeftToday = Math.max(0, config.maxExpansionsPerDay - expansionsInLastDay(state, nowMs));
  const base = { phase, currentBytes: current, usage, cooldownRemainingMs, expansionsLeftToday };
  const no = (reason: DecisionReason, message: string): Decision => ({ ...base, expand: false, reason, message });

  if (!resolution.managed) {
    return no('NotManaged', resolution.managedBy === 'opt-out' ? 'expansion is turned off for this PVC' : 'no annotation, PVCPolicy, PVCGroup or --pvc-default-enabled selects this PVC');
  }
  if (resolution.errors.length > 0) return no('InvalidSettings', resolution.errors.join('; '));
  if (claim.status?.phase !== 'Bound') return no('NotBound', `the PVC is ${claim.status?.phase ?? 'not bound'}`);
  if (!input.storageClass) return no('NotExpandable', `StorageClass "${claim.spec?.storageClassName ?? ''}" not found`);
  if (!input.storageClass.allowVolumeExpansion) return no('NotExpandable', `StorageClass ${input.storageClass.name} does not allow volume expansion`);
  if (current === undefined) return no('NotBound', 'the PVC reports no size');
  if (phase === 'stuck') return no('ExpansionStuck', `the expansion to ${state!.to} requested at ${state!.requestedAt} has not completed; no further expansion until it does`);
  if (phase === 'pending') return no('ExpansionPending', `waiting for the expansion to ${state!.to} to complete`);
  if (phase === 'resizing') return no('Resizing', `the PVC is resizing (${resizeInProgress(claim) ?? 'capacity below request'})`);

  const settings = resolution.settings;
  const budgetExhausted = () =>
    no('DailyBudgetExhausted', `${config.maxExpansionsPerDay} expansions in the last 24 h; the next is possible in ${Math.ceil((budgetFreesInMs(state, nowMs) ?? 0) / 60_000)}m`);
  const maxSize = settings.maxSize?.value;
  if (maxSize !== undefined && maxSize < current) {
    return no('MaxSizeBelowCurrent', `max-size ${formatBytes(maxSize)} is below the current size ${formatBytes(current)}; PVCs are never shrunk`);
  }

  // Group coordination: a member smaller than the group's largest is raised to it (capped at its max-size).
  if (input.groupTargetBytes !== undefined && input.groupTargetBytes > current) {
    const to = maxSize !== undefined ? Math.min(maxSize, input.groupTargetBytes) : input.groupTargetBytes;
    if (to > current) {
      if (expansionsLeftToday === 0) return budgetExhausted();
      return { ...base, expand: true, reason: 'GroupCoordination', message: `raise to the group's largest member, ${formatBytes(input.groupTargetBytes)}`, toBytes: to, capped: to < input.groupTargetBytes };
    }
  }

  if (!input.stats) return no('UsageUnknown', 'no usage sample for this PVC (its node did not answer or reports no volume stats)');
  // A completion not recorded yet (the subresources do not record) counts as seen when the claims were listed, as the controller records it.
  const seen = state && !state.completedAt && phase === 'completed' && input.listedAtMs !== undefined ? completed(state, input.listedAtMs) : state;
  if (seen && input.sampledAtMs !== undefined && !sampleIsFresh(seen, input.sampledAtMs, input.stats)) {
    return no('StaleSample', `no usage sample since the expansion to ${seen.to} completed (or it still shows the old filesystem size)`);
  }
  let trigger: 'ThresholdReached' | 'InodesThresholdReached' | undefined;
  let why = '';
  if (usage.usedPercent !== undefined && usage.usedPercent >= settings.threshold.value) {
    trigger = 'ThresholdReached';
    why = `${pct(usage.usedPercent)} used ≥ threshold ${settings.threshold.value}%`;
  } else if (usage.inodesUsedPercent !== undefined && usage.inodesUsedPercent >= settings.inodesThreshold.value) {
    trigger = 'InodesThresholdReached';
    why = `${pct(usage.inodesUsedPercent)} of inodes used ≥ inodes threshold ${settings.inodesThreshold.value}%`;
  }
  if (!trigger) {
    if (usage.usedPercent === undefined && usage.inodesUsedPercent === undefined) return no('UsageUnknown', 'the sample has no capacity or inode figures');
    const parts = [
      usage.usedPercent === undefined ? 'space usage unknown' : `${pct(usage.usedPercent)} used < ${settings.threshold.value}%`,
      usage.inodesUsedPercent === undefined ? 'inode usage unknown' : `${pct(usage.inodesUsedPercent)} inodes used < ${settings.inodesThreshold.value}%`,
    ];
    return no('BelowThreshold', parts.join(', '));
  }
  if (cooldownRemainingMs > 0) return no('Cooldown', `${why}, but in cooldown for ${Math.ceil(cooldownRemainingMs / 1000)}s more`);
  if (expansionsLeftToday === 0) return budgetExhausted();
  const next = nextSize(current, settings.increase.value, settings.minScaleUp.value, maxSize);
  if (next.outcome === 'max-below-current') return no('MaxSizeBelowCurrent', `max-size ${formatBytes(next.maxSize)} is below the current size`);
  if (next.outcome === 'at-max') return no('MaxSizeReached', `${why}, but the PVC is at its max-size ${formatBytes(next.maxSize)}`);
  return {
    ...base,
    expand: true,
    reason: trigger,
    message: `${why}: ${formatBytes(current)} → ${formatBytes(next.size)}${next.capped ? ' (capped at max-size)' : ''}`,
    toBytes: next.size,
    capped: next.capped,
  };
}
