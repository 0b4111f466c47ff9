// One pass of evaluation over a snapshot of the host cluster (claims, StorageClasses, a usage
// sample) and our PVCPolicies / PVCGroups: every claim's settings (with their sources), its group
// and the group's coordination size, and `decide`'s answer. Pure; the controller acts on it, the
// `expansions` subresource shows it.
import type { KubeObject } from '../../registry/meta.js';
import type { ChonkerConfig, Claim, StorageClassInfo, VolumeStatsSample } from '../../registry/pvc-chonker.io/upstreams.js';
import { decide, type Decision } from './decide.js';
import { classOf } from './host.js';
import { resolveSettings, type Resolution } from './settings.js';
import { currentBytes } from './state-machine.js';

export interface Snapshot {
  /** When the claims were listed. */
  listedAtMs: number;
  claims: Claim[];
  classes: Map<string, StorageClassInfo>;
  sample?: VolumeStatsSample;
}

export interface ClaimEvaluation {
  key: string;
  claim: Claim;
  resolution: Resolution;
  storageClass?: StorageClassInfo;
  decision: Decision;
}

export const claimKey = (claim: Claim) => `${claim.metadata.namespace}/${claim.metadata.name}`;
export const groupKey = (namespace: string, name: string) => `${namespace}/${name}`;

export function evaluate(snapshot: Snapshot, policies: readonly KubeObject[], groups: readonly KubeObject[], nowMs: number, config: ChonkerConfig): ClaimEvaluation[] {
  const resolved = snapshot.claims.map((claim) => {
    const storageClass = classOf(claim, snapshot.classes);
    return { claim, storageClass, resolution: resolveSettings({ claim, policies, groups, storageClass, defaultEnabled: config.defaultEnabled }) };
  });
  // The coordination size of each group: its largest managed member (`largest`, the only policy).
  const targets = new Map<string, number>();
  for (const r of resolved) {
    if (!r.resolution.group || !r.resolution.managed) continue;
    const size = currentBytes(r.claim);
    const key = groupKey(r.claim.metadata.namespace, r.resolution.group);
    if (size !== undefined && size > (targets.get(key) ?? 0)) targets.set(key, size);
  }
  return resolved.map(({ claim, storageClass, resolution }) => ({
    key: claimKey(claim),
    claim,
    resolution,
    storageClass,
    decision: decide({
      claim,
      resolution,
      storageClass,
      stats: snapshot.sample?.stats.get(claimKey(claim)),
      sampledAtMs: snapshot.sample?.sampledAt.getTime(),
      listedAtMs: snapshot.listedAtMs,
      nowMs,
      config,
      groupTargetBytes: resolution.group ? targets.get(groupKey(claim.metadata.namespace, resolution.group)) : undefined,
    }),
  }));
}

/** The evaluations of the members of `group`. */
export function membersOf(evaluations: readonly ClaimEvaluation[], group: KubeObject): ClaimEvaluation[] {
  return evaluations.filter((e) => e.claim.metadata.namespace === group.metadata.namespace && e.resolution.group === group.metadata.name);
}
