// The pvc-chonker controller (`--controllers` name `pvcchonker`). Leader-only, like every
// controller here. PVCs live on the host cluster, so the work is one cycle over every PVC rather
// than one reconcile per object: every change of a PVCGroup or PVCPolicy (our informers) and of a
// host PVC (a host watch) enqueues the single key CYCLE_KEY, and the cycle requeues itself after
// `--pvc-watch-interval`. One cycle: list claims and StorageClasses → record finished expansions →
// sample usage → evaluate (plan.ts / decide.ts) → expand (at most --pvc-max-parallel at once,
// behind a circuit breaker) → events, metrics, PVCGroup and PVCPolicy status.
import { performance } from 'node:perf_hooks';
import { Watch } from '@kubernetes/client-node';
import type { KubeObject } from '../../registry/meta.js';
import { PVC_CHONKER } from '../../registry/pvc-chonker.io/upstreams.js';
import type { ControllerContext, ControllerDeclaration, Reconciler } from '../controller.js';
import { updateStatus, type ConditionInput } from '../status.js';
import { describeHostError, isHostUnavailable } from '../http-errors.js';
import { Chonker, HISTORY_LIMIT } from './chonker.js';
import { ChonkerMetrics } from './metrics.js';
import { groupKey, type ClaimEvaluation } from './plan.js';
import { formatBytes } from './sizing.js';
import { mapLimit, CircuitBreaker } from './throttle.js';

export const CONTROLLER_NAME = 'pvcchonker';
export const PVCGROUPS = 'pvcgroups.pvc-chonker.io';
export const PVCPOLICIES = 'pvcpolicies.pvc-chonker.io';
/** The one work-queue key: "run a cycle over every PVC". */
export const CYCLE_KEY = '~cycle';
/** Host PVC changes are coalesced into one cycle this long after the first. */
const CHANGE_DEBOUNCE_MS = 250;
const BREAKER_FAILURES = 5;
const BREAKER_OPEN_MS = 5 * 60_000;
export const STUCK_CONDITION = 'ExpansionStuck';
export const USAGE_UNKNOWN_CONDITION = 'UsageUnknown';
export const HOST_UNAVAILABLE_CONDITION = 'HostClusterUnavailable';

export interface PVCChonkerControllerOptions {
  /** The engine to use instead of the server's `PVC_CHONKER` upstream (tests). */
  chonker?: Chonker;
}

interface GroupOutcome {
  expansions: Array<{ time: string; pvc: string; fromSize: string; toSize: string; toBytes: number; reason: string }>;
  stuck: string[];
}

export function pvcChonkerController(options: PVCChonkerControllerOptions = {}): ControllerDeclaration {
  return {
    name: CONTROLLER_NAME,
    resource: PVCGROUPS,
    watches: [{ resource: PVCPOLICIES, keysFor: () => [CYCLE_KEY] }],
    workers: 1,
    setup: (ctx) => setup(ctx, options),
  };
}

function setup(ctx: ControllerContext, options: PVCChonkerControllerOptions): Reconciler {
  const service = options.chonker ?? ctx.upstream(PVC_CHONKER);
  const metrics = new ChonkerMetrics();
  // The upstream is a Chonker unless a test replaced it with another ChonkerService.
  if (!(service instanceof Chonker)) {
    ctx.log.warn({}, 'pvcchonker: no host cluster (--kubeconfig); the controller idles');
    return { reconcile: async () => undefined };
  }
  const chonker = service;
  const breaker = new CircuitBreaker(BREAKER_FAILURES, BREAKER_OPEN_MS, () => chonker.now());
  watchHostClaims(ctx);
  ctx.queue.add(CYCLE_KEY);

  return {
    async reconcile(key) {
      if (key !== CYCLE_KEY) {
        ctx.queue.add(CYCLE_KEY);
        return;
      }
      const started = performance.now();
      try {
        await cycle(ctx, chonker, metrics, breaker);
      } catch (err) {
        if (!isHostUnavailable(err)) throw err;
        // Nothing is evaluated or expanded without the claims; the groups say why, and the next
        // cycle comes at the usual interval (or sooner, when the host PVC watch reconnects).
        await writeHostUnavailable(ctx, `the host cluster cannot be reached: ${describeHostError(err)}; no claim is evaluated or expanded until it answers`);
      } finally {
        metrics.loopDuration.observe((performance.now() - started) / 1000);
      }
      return { requeueAfter: chonker.config.watchIntervalMs };
    },
  };
}

/** Host PVC changes → a cycle soon. The watch ends with the leadership term (the queue shuts down). */
function watchHostClaims(ctx: ControllerContext): void {
  if (!ctx.host) return;
  const watch = new Watch(ctx.host.kubeConfig);
  let current: AbortController | undefined;
  const start = async () => {
    if (ctx.queue.isShuttingDown) return;
    try {
      current = await watch.watch(
        '/api/v1/persistentvolumeclaims',
        {},
        () => {
          if (ctx.queue.isShuttingDown) current?.abort();
          else ctx.queue.addAfter(CYCLE_KEY, CHANGE_DEBOUNCE_MS);
        },
        () => {
          if (!ctx.queue.isShuttingDown) setTimeout(() => void start(), 1000);
        },
      );
    } catch (err) {
      ctx.log.warn({ err: String(err) }, 'pvcchonker: host PVC watch failed; retrying');
      if (!ctx.queue.isShuttingDown) setTimeout(() => void start(), 1000);
    }
  };
  void start();
  const poll = setInterval(() => {
    if (!ctx.queue.isShuttingDown) return;
    current?.abort();
    clearInterval(poll);
  }, 500);
  poll.unref();
}

async function cycle(ctx: ControllerContext, chonker: Chonker, metrics: ChonkerMetrics, breaker: CircuitBreaker): Promise<void> {
  const policies = ctx.informer(PVCPOLICIES).cache.list();
  const groups = ctx.informer(PVCGROUPS).cache.list();
  const snapshot = await chonker.snapshot();
  await chonker.recordCompletions(snapshot);
  await chonker.sample(snapshot);
  for (const node of snapshot.sample?.failedNodes ?? []) metrics.nodeFailures.inc({ node });
  const evaluations = chonker.evaluate(snapshot, { policies, groups });
  const outcomes = new Map<string, GroupOutcome>();
  const outcomeOf = (e: ClaimEvaluation) => {
    const key = groupKey(e.claim.metadata.namespace, e.resolution.group!);
    let o = outcomes.get(key);
    if (!o) outcomes.set(key, (o = { expansions: [], stuck: [] }));
    return o;
  };

  let managed = 0;
  const toExpand: ClaimEvaluation[] = [];
  for (const e of evaluations) {
    const labels = { namespace: e.claim.metadata.namespace, persistentvolumeclaim: e.claim.metadata.name };
    const d = e.decision;
    if (e.resolution.managed) managed++;
    metrics.stuck.remove(labels);
    if (!e.resolution.managed) {
      metrics.usagePercent.remove(labels);
      metrics.inodesUsagePercent.remove(labels);
      continue;
    }
    if (d.usage.usedPercent !== undefined) metrics.usagePercent.set(labels, d.usage.usedPercent);
    else metrics.usagePercent.remove(labels);
    if (d.usage.inodesUsedPercent !== undefined) metrics.inodesUsagePercent.set(labels, d.usage.inodesUsedPercent);
    else metrics.inodesUsagePercent.remove(labels);
    switch (d.reason) {
      case 'InvalidSettings':
        chonker.host.claimEvent(e.claim, 'Warning', 'InvalidSettings', `not expanded: ${d.message}`);
        break;
      case 'NotExpandable':
        chonker.host.claimEvent(e.claim, 'Warning', 'NotExpandable', d.message);
        break;
      case 'ExpansionStuck':
        metrics.stuck.set(labels, 1);
        chonker.host.claimEvent(e.claim, 'Warning', 'ExpansionStuck', d.message);
        if (e.resolution.group) outcomeOf(e).stuck.push(e.claim.metadata.name);
        break;
      case 'Cooldown':
        metrics.cooldownSkipped.inc(labels);
        break;
      case 'DailyBudgetExhausted':
        metrics.budgetExhausted.inc(labels);
        chonker.host.claimEvent(e.claim, 'Warning', 'DailyBudgetExhausted', d.message);
        break;
      case 'MaxSizeReached':
        metrics.maxSizeReached.inc(labels);
        chonker.host.claimEvent(e.claim, 'Warning', 'MaxSizeReached', d.message);
        break;
      case 'MaxSizeBelowCurrent':
        chonker.host.claimEvent(e.claim, 'Warning', 'MaxSizeBelowCurrent', d.message);
        break;
    }
    if (d.expand) toExpand.push(e);
  }
  metrics.managed.set(managed);

  if (chonker.config.dryRun) {
    for (const e of toExpand) {
      chonker.host.claimEvent(e.claim, 'Normal', 'DryRun', `would expand ${formatBytes(e.decision.currentBytes!)} → ${formatBytes(e.decision.toBytes!)} (--pvc-dry-run): ${e.decision.message}`);
    }
  } else {
    await mapLimit(toExpand, chonker.config.maxParallel, async (e) => {
      const labels = { namespace: e.claim.metadata.namespace, persistentvolumeclaim: e.claim.metadata.name };
      if (!breaker.allows()) {
        metrics.circuitOpen.set(1);
        return;
      }
      try {
        await chonker.expand(e, e.decision.toBytes!, e.decision.reason);
        breaker.succeeded();
        metrics.circuitOpen.set(0);
        metrics.resizeSuccess.inc(labels);
        if (e.resolution.group) {
          outcomeOf(e).expansions.push({
            time: new Date(chonker.now()).toISOString(),
            pvc: e.claim.metadata.name,
            fromSize: formatBytes(e.decision.currentBytes!),
            toSize: formatBytes(e.decision.toBytes!),
            toBytes: e.decision.toBytes!,
            reason: e.decision.reason,
          });
        }
      } catch (err) {
        breaker.failed();
        if (breaker.open) metrics.circuitOpen.set(1);
        metrics.resizeFailure.inc(labels);
        chonker.host.claimEvent(e.claim, 'Warning', 'ExpansionFailed', `expansion to ${formatBytes(e.decision.toBytes!)} failed: ${(err as Error).message ?? String(err)}`);
      }
    });
  }

  await writeGroupStatuses(ctx, chonker, groups, evaluations, outcomes, snapshot.sample?.failedNodes ?? (chonker.stats ? ['(all: the usage sample failed)'] : []));
  await writePolicyStatuses(ctx, chonker, policies, evaluations);
}

/**
 * The UsageUnknown condition of a group: True while members have no usage because kubelets did not
 * answer (`failedNodes`), so they cannot be expanded (unknown usage is never read as 0%); False
 * once it was True and every member is measured again. A claim merely without volume stats (not
 * mounted) while every node answered is normal and sets nothing.
 */
function usageCondition(group: KubeObject, members: ClaimEvaluation[], failedNodes: string[]): (ConditionInput & { message: string }) | undefined {
  const blind = members.filter((m) => m.decision.reason === 'UsageUnknown').map((m) => m.claim.metadata.name).sort();
  if (blind.length > 0 && failedNodes.length > 0) {
    return {
      type: USAGE_UNKNOWN_CONDITION,
      status: 'True',
      reason: 'KubeletUnavailable',
      message: `no usage for ${blind.join(', ')} (kubelets that did not answer: ${failedNodes.join(', ')}); not expanded until their usage is known`,
    };
  }
  const had = (group.status?.conditions as Array<{ type: string; status: string }> | undefined)?.some((c) => c.type === USAGE_UNKNOWN_CONDITION && c.status === 'True');
  return had ? { type: USAGE_UNKNOWN_CONDITION, status: 'False', reason: 'UsageKnown', message: 'every member reported usage' } : undefined;
}

async function writeGroupStatuses(ctx: ControllerContext, chonker: Chonker, groups: KubeObject[], evaluations: ClaimEvaluation[], outcomes: Map<string, GroupOutcome>, failedNodes: string[]) {
  const store = ctx.store(PVCGROUPS);
  const now = new Date(chonker.now()).toISOString();
  for (const group of groups) {
    const ns = group.metadata.namespace!;
    const members = evaluations.filter((e) => e.claim.metadata.namespace === ns && e.resolution.group === group.metadata.name && e.resolution.managed);
    const outcome = outcomes.get(groupKey(ns, group.metadata.name!)) ?? { expansions: [], stuck: [] };
    const largest = Math.max(0, ...members.map((m) => m.decision.currentBytes ?? 0), ...outcome.expansions.map((x) => x.toBytes));
    const hadStuck = (group.status?.conditions as Array<{ type: string; status: string }> | undefined)?.some((c) => c.type === STUCK_CONDITION && c.status === 'True');
    const conditions: ConditionInput[] =
      outcome.stuck.length > 0
        ? [{ type: STUCK_CONDITION, status: 'True' as const, reason: 'ExpansionPending', message: `expansion pending longer than --pvc-stuck-after: ${outcome.stuck.sort().join(', ')}` }]
        : hadStuck
          ? [{ type: STUCK_CONDITION, status: 'False' as const, reason: 'NoneStuck', message: 'no member expansion is stuck' }]
          : [];
    if (hasTrueCondition(group, HOST_UNAVAILABLE_CONDITION)) conditions.push({ type: HOST_UNAVAILABLE_CONDITION, status: 'False', reason: 'Reachable', message: 'the host cluster answers' });
    const usage = usageCondition(group, members, failedNodes);
    if (usage) conditions.push(usage);
    if (usage?.status === 'True') ctx.recorder.event(group, 'Warning', 'UsageUnknown', usage.message);
    try {
      await updateStatus(store, group, {
        mutate(status) {
          // lastUpdated moves only with a real change: a status write re-enqueues the cycle.
          const before = JSON.stringify({ ...status, lastUpdated: undefined });
          status.memberCount = members.length;
          if (largest > 0) status.currentSize = formatBytes(largest);
          else delete status.currentSize;
          if (outcome.expansions.length > 0) {
            status.lastExpansion = outcome.expansions[outcome.expansions.length - 1].time;
            const recorded = outcome.expansions.map(({ toBytes: _ignored, ...entry }) => entry);
            status.expansionHistory = [...((status.expansionHistory as unknown[]) ?? []), ...recorded].slice(-HISTORY_LIMIT);
          }
          if (JSON.stringify({ ...status, lastUpdated: undefined }) !== before || !status.lastUpdated) status.lastUpdated = now;
        },
        conditions,
      });
    } catch (err) {
      ctx.log.warn({ err: String(err), group: `${ns}/${group.metadata.name}` }, 'pvcchonker: could not write group status');
    }
  }
}

function hasTrueCondition(obj: KubeObject, type: string): boolean {
  return (obj.status?.conditions as Array<{ type: string; status: string }> | undefined)?.some((c) => c.type === type && c.status === 'True') ?? false;
}

/** Every group gets HostClusterUnavailable=True with `message`; the rest of its status is left as last observed. */
async function writeHostUnavailable(ctx: ControllerContext, message: string): Promise<void> {
  ctx.log.warn({ message }, 'pvcchonker: host cluster unavailable; cycle skipped');
  const store = ctx.store(PVCGROUPS);
  for (const group of ctx.informer(PVCGROUPS).cache.list()) {
    try {
      await updateStatus(store, group, { conditions: [{ type: HOST_UNAVAILABLE_CONDITION, status: 'True', reason: 'HostUnreachable', message }] });
    } catch (err) {
      ctx.log.warn({ err: String(err), group: `${group.metadata.namespace}/${group.metadata.name}` }, 'pvcchonker: could not write group status');
    }
  }
}

async function writePolicyStatuses(ctx: ControllerContext, chonker: Chonker, policies: KubeObject[], evaluations: ClaimEvaluation[]) {
  const store = ctx.store(PVCPOLICIES);
  const now = new Date(chonker.now()).toISOString();
  for (const policy of policies) {
    const matched = evaluations.filter((e) => e.claim.metadata.namespace === policy.metadata.namespace && e.resolution.policy === policy.metadata.name).length;
    try {
      await updateStatus(store, policy, {
        mutate(status) {
          if (status.matchedPVCs !== matched || !status.lastUpdated) status.lastUpdated = now;
          status.matchedPVCs = matched;
        },
      });
    } catch (err) {
      ctx.log.warn({ err: String(err), policy: `${policy.metadata.namespace}/${policy.metadata.name}` }, 'pvcchonker: could not write policy status');
    }
  }
}
