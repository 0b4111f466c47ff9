// pvc-chonker's engine: takes snapshots of the host cluster, evaluates them (plan.ts), expands
// claims through the resize state machine, and answers the `expansions` / `rebalance`
// subresources with the same evaluation. The controller drives it periodically.
import type { KubeObject } from '../../registry/meta.js';
import {
  PVC_CHONKER,
  type ChonkerConfig,
  type ChonkerObjects,
  type ChonkerService,
  type Claim,
  type GroupExpansionsView,
  type MemberView,
  type PVCHost,
  type RebalanceMemberResult,
  type RebalanceView,
  type VolumeStatsSource,
} from '../../registry/pvc-chonker.io/upstreams.js';
import type { UpstreamProvider } from '../upstreams.js';
import type { Decision } from './decide.js';
import { COMPONENT, HostPVCs } from './host.js';
import { KubeletMetricsSource, PrometheusSource } from './kubelet-metrics.js';
import { evaluate, membersOf, type ClaimEvaluation, type Snapshot } from './plan.js';
import type { Setting, Settings } from './settings.js';
import { formatBytes, formatIncrease, type Increase } from './sizing.js';
import { completed, phaseOf, readState, requested, stateAnnotations } from './state-machine.js';
import { Throttle } from './throttle.js';
import { HostEventRecorder } from '../events.js';

/** Filesystems with a fixed inode table: growing the volume is the only way to get more inodes. */
const FIXED_INODE_FS = new Set(['ext2', 'ext3', 'ext4']);
export const HISTORY_LIMIT = 20;

export function fsTypeOf(e: ClaimEvaluation): string {
  const p = e.storageClass?.parameters ?? {};
  return p['csi.storage.k8s.io/fstype'] ?? p.fsType ?? 'ext4';
}

export class Chonker implements ChonkerService {
  constructor(
    readonly host: PVCHost,
    readonly stats: VolumeStatsSource | undefined,
    readonly config: ChonkerConfig,
  ) {}

  now(): number {
    return this.host.now();
  }

  /** Claims (of `namespace`, else all) and StorageClasses; `sample` adds the usage, taken after them. */
  async snapshot(namespace?: string): Promise<Snapshot> {
    const listedAtMs = this.now();
    const [claims, classes] = await Promise.all([this.host.listClaims(namespace), this.host.storageClasses()]);
    return { listedAtMs, claims, classes };
  }

  async sample(snapshot: Snapshot, signal?: AbortSignal): Promise<void> {
    if (!this.stats) return;
    try {
      snapshot.sample = await this.stats.sample(undefined, signal);
    } catch {
      snapshot.sample = undefined; // no usage at all: every claim's usage is unknown
    }
  }

  /**
   * Records the completion of finished expansions (state `completed` → `completedAt` = when the claims were listed) in the
   * claims' annotations; returns the claims as stored.
   */
  async recordCompletions(snapshot: Snapshot): Promise<void> {
    const nowMs = snapshot.listedAtMs;
    snapshot.claims = await Promise.all(
      snapshot.claims.map(async (claim) => {
        const state = readState(claim);
        if (!state || state.completedAt) return claim;
        if (phaseOf(claim, state, nowMs, this.config.stuckAfterMs) !== 'completed') return claim;
        return this.host.patchClaim(claim.metadata.namespace, claim.metadata.name, { annotations: stateAnnotations(completed(state, nowMs)) });
      }),
    );
  }

  evaluate(snapshot: Snapshot, objects: ChonkerObjects): ClaimEvaluation[] {
    return evaluate(snapshot, objects.policies, objects.groups, this.now(), this.config);
  }

  /** Patches the claim to `toBytes` and records the request in its state annotations; emits the event. */
  async expand(e: ClaimEvaluation, toBytes: number, reason: string): Promise<Claim> {
    const from = formatBytes(e.decision.currentBytes!);
    const to = formatBytes(toBytes);
    const state = requested(readState(e.claim), this.now(), from, to);
    const patched = await this.host.patchClaim(e.claim.metadata.namespace, e.claim.metadata.name, { size: to, annotations: stateAnnotations(state) });
    if (reason === 'InodesThresholdReached') {
      const fs = fsTypeOf(e);
      const fixed = FIXED_INODE_FS.has(fs);
      this.host.claimEvent(
        e.claim,
        fixed ? 'Warning' : 'Normal',
        'ExpandedInodePressure',
        `expanded ${from} → ${to} for inode pressure (${e.decision.message})${fixed ? `; ${fs} has a fixed inode table, so more inodes need a larger volume` : ''}`,
      );
    } else {
      this.host.claimEvent(e.claim, 'Normal', 'Expanded', `expanded ${from} → ${to}: ${e.decision.message}`);
    }
    return patched;
  }

  async expansions(group: KubeObject, objects: ChonkerObjects, signal?: AbortSignal): Promise<GroupExpansionsView> {
    const snapshot = await this.snapshot(group.metadata.namespace);
    await this.sample(snapshot, signal);
    const members = membersOf(this.evaluate(snapshot, objects), group);
    const sizes = members.filter((m) => m.resolution.managed).map((m) => m.decision.currentBytes ?? 0);
    return {
      sampledAt: snapshot.sample?.sampledAt.toISOString(),
      failedNodes: snapshot.sample?.failedNodes ?? [],
      coordinationSize: sizes.length ? formatBytes(Math.max(...sizes)) : undefined,
      members: members.sort((a, b) => (a.key < b.key ? -1 : 1)).map(memberView),
    };
  }

  async rebalance(group: KubeObject, objects: ChonkerObjects, dryRun: boolean): Promise<RebalanceView> {
    const snapshot = await this.snapshot(group.metadata.namespace);
    const members = membersOf(this.evaluate(snapshot, objects), group).sort((a, b) => (a.key < b.key ? -1 : 1));
    const sizes = members.filter((m) => m.resolution.managed).map((m) => m.decision.currentBytes ?? 0);
    const target = sizes.length ? Math.max(...sizes) : undefined;
    const results: RebalanceMemberResult[] = [];
    for (const m of members) {
      const name = m.claim.metadata.name;
      const fromSize = m.decision.currentBytes === undefined ? undefined : formatBytes(m.decision.currentBytes);
      const d = m.decision;
      // Rebalance is the group-coordination step run now: it does what `decide` says for it.
      if (d.reason !== 'GroupCoordination' || !d.expand || d.toBytes === undefined) {
        const maxSize = m.resolution.settings.maxSize?.value;
        const ownTarget = target === undefined ? undefined : maxSize === undefined ? target : Math.min(target, maxSize);
        const atTarget = ownTarget !== undefined && d.currentBytes !== undefined && d.currentBytes >= ownTarget;
        const message = !atTarget ? d.message : ownTarget === target ? 'already at the coordination size' : `already at its max-size ${formatBytes(ownTarget!)}`;
        results.push({ name, fromSize, changed: false, reason: atTarget ? 'AtCoordinationSize' : d.reason, message });
        continue;
      }
      const toSize = formatBytes(d.toBytes);
      if (!dryRun) {
        try {
          await this.expand(m, d.toBytes, 'Rebalance');
        } catch (err) {
          results.push({ name, fromSize, toSize, changed: false, reason: 'ExpansionFailed', message: String((err as Error).message ?? err) });
          this.host.claimEvent(m.claim, 'Warning', 'ExpansionFailed', `rebalance to ${toSize} failed: ${String((err as Error).message ?? err)}`);
          continue;
        }
      }
      results.push({ name, fromSize, toSize, changed: true, reason: 'Rebalance', message: `${fromSize} → ${toSize}${d.capped ? ' (capped at max-size)' : ''}` });
    }
    return { coordinationSize: target === undefined ? undefined : formatBytes(target), members: results };
  }
}

/** ms as a Go-style duration: `1h30m`, `15m`, `90s` → `1m30s`. */
export function formatDuration(ms: number): string {
  let rest = Math.round(ms / 1000);
  if (rest === 0) return '0s';
  let out = '';
  for (const [unit, secs] of [['h', 3600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(rest / secs);
    rest -= n * secs;
    if (n > 0) out += `${n}${unit}`;
  }
  return out;
}

function settingView<T>(s: Setting<T> | undefined, format: (v: T) => string): { value: string; source: string } | undefined {
  return s && { value: format(s.value), source: s.source };
}

export function settingsView(s: Settings): Record<string, unknown> {
  return {
    threshold: settingView(s.threshold, (v) => `${v}%`),
    inodesThreshold: settingView(s.inodesThreshold, (v) => `${v}%`),
    increase: settingView<Increase>(s.increase, formatIncrease),
    maxSize: settingView(s.maxSize, formatBytes),
    minScaleUp: settingView(s.minScaleUp, formatBytes),
    cooldown: settingView(s.cooldownMs, formatDuration),
  };
}

export function nextView(d: Decision): Record<string, unknown> {
  return { action: d.expand ? 'Expand' : 'None', reason: d.reason, message: d.message, toSize: d.toBytes === undefined ? undefined : formatBytes(d.toBytes) };
}

function memberView(e: ClaimEvaluation): MemberView {
  const u = e.decision.usage;
  const round = (v: number | undefined) => (v === undefined ? undefined : Math.round(v * 100) / 100);
  return JSON.parse(
    JSON.stringify({
      name: e.claim.metadata.name,
      request: e.claim.spec?.resources?.requests?.storage,
      capacity: e.claim.status?.capacity?.storage,
      usedBytes: u.usedBytes,
      usedPercent: round(u.usedPercent),
      inodes: u.inodes,
      inodesUsed: u.inodesUsed,
      inodesUsedPercent: round(u.inodesUsedPercent),
      managed: e.resolution.managed,
      managedBy: e.resolution.managedBy,
      policy: e.resolution.policy,
      settings: settingsView(e.resolution.settings),
      phase: e.decision.phase,
      cooldownRemainingSeconds: Math.ceil(e.decision.cooldownRemainingMs / 1000),
      expansionsLeftToday: e.decision.expansionsLeftToday,
      next: nextView(e.decision),
    }),
  ) as MemberView;
}

export const chonkerProvider: UpstreamProvider<ChonkerService | undefined> = {
  key: PVC_CHONKER as never,
  create({ host, options, log }) {
    if (!host) return undefined;
    const o = options.pvcChonker;
    const throttle = new Throttle(o.hostQps, o.hostQps * 2);
    const pvcs = new HostPVCs(host, o, throttle, Date.now, new HostEventRecorder({ core: host.core, component: COMPONENT, instance: COMPONENT, log }));
    const stats = o.prometheusUrl
      ? new PrometheusSource(o.prometheusUrl, o.kubeletTimeoutMs)
      : new KubeletMetricsSource({
          host,
          timeoutMs: o.kubeletTimeoutMs,
          parallel: o.maxParallel,
          throttle,
          onNodeFailure: (node, err) => log.warn({ node, err: String(err) }, 'pvcchonker: node metrics unavailable this cycle'),
        });
    return new Chonker(pvcs, stats, o);
  },
};
