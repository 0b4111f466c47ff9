// The decision and the resize state machine, with an injected clock (`nowMs`): thresholds,
// cooldown, pending / stuck expansions, stale samples, the daily budget, caps, group coordination.
import test from 'ava';
import { decide, type DecideInput } from '../../controllers/pvcchonker/decide.js';
import { resolveSettings } from '../../controllers/pvcchonker/settings.js';
import { completed, DAY_MS, phaseOf, readState, requested, stateAnnotations, type ExpansionState } from '../../controllers/pvcchonker/state-machine.js';
import type { Claim } from '../../registry/pvc-chonker.io/upstreams.js';
import { claim, GiB, storageClass, usage } from './fixtures.js';

const NOW = Date.UTC(2026, 0, 10, 12, 0, 0);
const MIN = 60_000;
const config = { stuckAfterMs: 30 * MIN, maxExpansionsPerDay: 4 };

function input(c: Claim, over: Partial<DecideInput> = {}): DecideInput {
  return {
    claim: c,
    resolution: resolveSettings({ claim: c, policies: [], groups: [], storageClass: storageClass(), defaultEnabled: true }),
    storageClass: storageClass(),
    stats: usage(85),
    sampledAtMs: NOW,
    nowMs: NOW,
    config,
    ...over,
  };
}

function withState(c: Claim, state: ExpansionState): Claim {
  return { ...c, metadata: { ...c.metadata, annotations: { ...c.metadata.annotations, ...stateAnnotations(state) } } };
}

/** A claim expanded 10Gi → 11Gi at `at`, completed (observed) at `doneAt` when given. */
function expanded(at: number, doneAt?: number, recent: number[] = []): Claim {
  let state = requested({ requestedAt: '', from: '', to: '', recent: recent.map((r) => new Date(r).toISOString()) }, at, '10Gi', '11Gi');
  if (doneAt !== undefined) state = completed(state, doneAt);
  return withState(claim('c', { size: '11Gi', capacity: doneAt !== undefined ? '11Gi' : '10Gi' }), state);
}

/** Expanded 10Gi → 11Gi at `at`; the cluster has finished, the controller has not recorded it yet. */
function grownUnrecorded(at: number): Claim {
  const c = expanded(at);
  return { ...c, status: { ...c.status, capacity: { storage: '11Gi' } } };
}

test('decisions (injected clock)', (t) => {
  const cases: Array<{ name: string; in: DecideInput; reason: string; expand?: boolean; to?: number }> = [
    { name: 'over threshold: expand 10Gi by 10% (min 1Gi) to 11Gi', in: input(claim('c')), reason: 'ThresholdReached', expand: true, to: 11 * GiB },
    { name: 'under threshold', in: input(claim('c'), { stats: usage(50) }), reason: 'BelowThreshold' },
    { name: 'no sample: unknown, never 0%', in: input(claim('c'), { stats: undefined }), reason: 'UsageUnknown' },
    { name: 'inode pressure', in: input(claim('c'), { stats: usage(10, 10, { total: 1000, used: 950 }) }), reason: 'InodesThresholdReached', expand: true, to: 11 * GiB },
    { name: 'inode figures missing: space decides alone', in: input(claim('c'), { stats: usage(10) }), reason: 'BelowThreshold' },
    { name: 'not bound', in: input(claim('c', { phase: 'Pending' })), reason: 'NotBound' },
    { name: 'StorageClass without expansion', in: input(claim('c'), { storageClass: storageClass('expandable', { allowVolumeExpansion: false }) }), reason: 'NotExpandable' },
    { name: 'resizing (condition)', in: input(claim('c', { conditions: [{ type: 'FileSystemResizePending', status: 'True' }] })), reason: 'Resizing' },
    { name: 'inside cooldown after a completed expansion', in: input(expanded(NOW - 5 * MIN, NOW - 4 * MIN), { stats: usage(90, 11) }), reason: 'Cooldown' },
    { name: 'after cooldown, fresh sample: expand again', in: input(expanded(NOW - 20 * MIN, NOW - 19 * MIN), { stats: usage(90, 11) }), reason: 'ThresholdReached', expand: true, to: 13 * GiB },
    { name: 'pending expansion: never a second', in: input(expanded(NOW - 20 * MIN), { stats: usage(99) }), reason: 'ExpansionPending' },
    { name: 'pending past --pvc-stuck-after: stuck, no patch', in: input(expanded(NOW - 31 * MIN), { stats: usage(99) }), reason: 'ExpansionStuck' },
    { name: 'sample from before completion: stale', in: input(expanded(NOW - 20 * MIN, NOW - 19 * MIN), { stats: usage(90, 11), sampledAtMs: NOW - 19.5 * MIN }), reason: 'StaleSample' },
    { name: 'sample still showing the old filesystem size: stale', in: input(expanded(NOW - 20 * MIN, NOW - 19 * MIN), { stats: usage(95, 10) }), reason: 'StaleSample' },
    {
      name: 'daily budget of 4 spent',
      in: input(expanded(NOW - 20 * MIN, NOW - 19 * MIN, [NOW - 23 * 60 * MIN, NOW - 10 * 60 * MIN, NOW - 60 * MIN]), { stats: usage(90, 11) }),
      reason: 'DailyBudgetExhausted',
    },
    {
      name: 'budget frees as expansions leave the 24 h window',
      in: input(expanded(NOW - 20 * MIN, NOW - 19 * MIN, [NOW - DAY_MS - MIN, NOW - 10 * 60 * MIN, NOW - 60 * MIN]), { stats: usage(90, 11) }),
      reason: 'ThresholdReached',
      expand: true,
    },
    { name: 'completed, not yet recorded: seen at listing time, fresh sample expands', in: input(grownUnrecorded(NOW - 20 * MIN), { stats: usage(90, 11), listedAtMs: NOW - 1000 }), reason: 'ThresholdReached', expand: true, to: 13 * GiB },
    { name: 'completed, not yet recorded: a sample of the old filesystem is stale', in: input(grownUnrecorded(NOW - 20 * MIN), { stats: usage(90, 10), listedAtMs: NOW - 1000 }), reason: 'StaleSample' },
    { name: 'max-size below the current size: never shrink', in: input(claim('c', { annotations: { 'pvc-chonker.io/max-size': '5Gi' } })), reason: 'MaxSizeBelowCurrent' },
    { name: 'at max-size', in: input(claim('c', { annotations: { 'pvc-chonker.io/max-size': '10Gi' } })), reason: 'MaxSizeReached' },
    { name: 'capped at max-size', in: input(claim('c', { annotations: { 'pvc-chonker.io/max-size': '10.5Gi', 'pvc-chonker.io/increase': '50%' } })), reason: 'ThresholdReached', expand: true, to: 10.5 * GiB },
    { name: 'invalid settings: skipped', in: input(claim('c', { annotations: { 'pvc-chonker.io/threshold': 'x' } })), reason: 'InvalidSettings' },
    { name: 'group member below the largest: coordination', in: input(claim('c'), { stats: usage(10), groupTargetBytes: 20 * GiB }), reason: 'GroupCoordination', expand: true, to: 20 * GiB },
    { name: 'group coordination waits for a pending expansion', in: input(expanded(NOW - MIN), { groupTargetBytes: 20 * GiB }), reason: 'ExpansionPending' },
  ];
  for (const c of cases) {
    const d = decide(c.in);
    t.is(d.reason as string, c.reason, `${c.name}: ${d.message}`);
    t.is(d.expand, c.expand ?? false, c.name);
    if (c.to !== undefined) t.is(d.toBytes, c.to, c.name);
  }
});

test('cooldown remaining is reported with the injected clock', (t) => {
  const d = decide(input(expanded(NOW - 5 * MIN, NOW - 4 * MIN), { stats: usage(50, 11) }));
  t.is(d.cooldownRemainingMs, 10 * MIN);
  t.is(d.expansionsLeftToday, 3);
});

test('state machine: pending → completed → idle; stuck after the limit; state survives in annotations', (t) => {
  const pending = expanded(NOW - MIN);
  const state = readState(pending)!;
  t.like(state, { from: '10Gi', to: '11Gi', completedAt: undefined });
  t.is(pending.metadata.annotations!['pvc-chonker.io/last-expansion'], new Date(NOW - MIN).toISOString());
  t.is(phaseOf(pending, state, NOW, config.stuckAfterMs), 'pending');
  t.is(phaseOf(pending, state, NOW + 30 * MIN, config.stuckAfterMs), 'stuck');
  const grown: Claim = { ...pending, status: { ...pending.status, capacity: { storage: '11Gi' } } };
  t.is(phaseOf(grown, state, NOW, config.stuckAfterMs), 'completed');
  t.is(phaseOf(grown, completed(state, NOW), NOW, config.stuckAfterMs), 'idle');
  t.is(phaseOf(claim('c', { size: '12Gi', capacity: '10Gi' }), undefined, NOW, config.stuckAfterMs), 'resizing');
});
