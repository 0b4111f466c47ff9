// What pvc-chonker needs from outside the registry, as interfaces: the volume usage the kubelets
// report (`VolumeStatsSource`), the host cluster's PVCs and StorageClasses (`PVCHost`), and the
// engine over both (`ChonkerService`, key `PVC_CHONKER`) that the controller drives and the
// `expansions` / `rebalance` subresources ask. The implementations live in `controllers/pvcchonker/`
// (one upstream provider, `chonkerProvider`), so registry code never imports `controllers/`.
import type { KubeObject } from '../meta.js';
import type { UpstreamKey } from '../subresource.js';
import { upstreamKey } from '../subresource.js';

/** One volume's `kubelet_volume_stats_*` figures; a figure the source did not report is absent (unknown, never 0). */
export interface VolumeStats {
  capacityBytes?: number;
  availableBytes?: number;
  usedBytes?: number;
  inodes?: number;
  inodesUsed?: number;
  inodesFree?: number;
}

export interface VolumeStatsSample {
  /** By `namespace/claim`. A claim absent here has no sample (unknown usage). */
  stats: Map<string, VolumeStats>;
  /** Nodes that did not answer this time (their claims are absent from `stats`). */
  failedNodes: string[];
  /** When sampling started: every figure is at least this recent. */
  sampledAt: Date;
}

export interface VolumeStatsSource {
  /** Samples every node (or `nodes`); a node that fails is listed in `failedNodes`, never reported as empty volumes. */
  sample(nodes?: string[], signal?: AbortSignal): Promise<VolumeStatsSample>;
}

/** The parts of a core/v1 PersistentVolumeClaim pvc-chonker reads (plain JSON as the API serves it). */
export interface Claim {
  metadata: { name: string; namespace: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion?: string };
  spec?: { storageClassName?: string; resources?: { requests?: Record<string, string> } };
  status?: {
    phase?: string;
    capacity?: Record<string, string>;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
  };
}

/** The parts of a storage.k8s.io/v1 StorageClass pvc-chonker reads. */
export interface StorageClassInfo {
  name: string;
  allowVolumeExpansion: boolean;
  annotations: Record<string, string>;
  parameters: Record<string, string>;
  isDefault: boolean;
}

/** The controller flags the computed subresources must agree with. */
export interface ChonkerConfig {
  defaultEnabled: boolean;
  dryRun: boolean;
  stuckAfterMs: number;
  maxExpansionsPerDay: number;
  watchIntervalMs: number;
  maxParallel: number;
}

export interface ClaimSizePatch {
  /** New `spec.resources.requests.storage`. */
  size?: string;
  /** Annotations to set (a null value removes one). */
  annotations?: Record<string, string | null>;
}

export interface PVCHost {
  readonly config: ChonkerConfig;
  /** The clock expansion decisions use (tests move it). */
  now(): number;
  /** Every claim of `namespace`, or of the cluster when absent. */
  listClaims(namespace?: string): Promise<Claim[]>;
  /** Merge-patches a claim's requested size and/or annotations; resolves with the claim as stored. */
  patchClaim(namespace: string, name: string, patch: ClaimSizePatch): Promise<Claim>;
  storageClasses(): Promise<Map<string, StorageClassInfo>>;
  /** Records a Warning or Normal event about a claim. */
  claimEvent(claim: Claim, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

/** Our PVCPolicies and PVCGroups, as the caller sees them (the controller's caches, or the stores). */
export interface ChonkerObjects {
  policies: readonly KubeObject[];
  groups: readonly KubeObject[];
}

/** One member of a group in the `expansions` view (see pvcgroup/expansions.ts for the schema). */
export type MemberView = Record<string, unknown> & { name: string };

export interface GroupExpansionsView {
  sampledAt?: string;
  failedNodes: string[];
  coordinationSize?: string;
  members: MemberView[];
}

export interface RebalanceMemberResult {
  name: string;
  fromSize?: string;
  toSize?: string;
  changed: boolean;
  reason: string;
  message: string;
}

export interface RebalanceView {
  coordinationSize?: string;
  members: RebalanceMemberResult[];
}

/**
 * pvc-chonker's engine as the subresources use it: the same evaluation the controller acts on
 * (`expansions`), and raising a group's smaller members now (`rebalance`).
 */
export interface ChonkerService {
  readonly config: ChonkerConfig;
  expansions(group: KubeObject, objects: ChonkerObjects, signal?: AbortSignal): Promise<GroupExpansionsView>;
  rebalance(group: KubeObject, objects: ChonkerObjects, dryRun: boolean): Promise<RebalanceView>;
}

export const PVC_CHONKER = upstreamKey<ChonkerService>('pvc-chonker.service');

export type { UpstreamKey };
