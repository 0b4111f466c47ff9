// Revisions of a StormTopology: the deployed version of a `spec.topology`, the Storm topology name
// each revision runs as, and the bounded `status.history`. Shared by the topology controller and
// the promote/rollback verbs (registry code: no imports from controllers/).
//
// Storm names. With `deploymentStrategy.type: recreate` the Storm topology is `spec.topology.name`.
// With `blueGreen` every revision runs as its own Storm topology, beside the active one while it is
// the candidate: `<topology.name>-<version>-<digest>`, where version is `topology.version` with the
// characters Storm forbids in names (`/ . : \`) and blanks replaced by `-`, and digest is the first
// 6 hex digits of the sha256 of the canonical JSON of `spec.topology`. The name is a function of the
// recorded spec, so any history entry names its Storm topology, and a rollback to a revision whose
// topology still runs (within scaleDownDelaySeconds) finds it under the same name.
import { createHash } from 'node:crypto';
import { VERSION_KEY } from './strategy.js';
import type { StormTopologySpec, StormTopologyStatus, TopologyRevision, TopologySpec } from './types.js';

export const UNVERSIONED = 'unversioned';
export type Color = 'blue' | 'green';

/** `topology.version` of a topology spec, or "unversioned". */
export function versionOf(topology: Pick<TopologySpec, 'config'>): string {
  const v = topology.config?.[VERSION_KEY];
  return v && v.trim() !== '' ? v : UNVERSIONED;
}

/** JSON with object keys sorted: equal specs give equal text whatever the key order. */
export function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sort(x);
    }
    return out;
  };
  return JSON.stringify(sort(value));
}

export function topologyDigest(topology: TopologySpec): string {
  return createHash('sha256').update(canonicalJson(topology)).digest('hex');
}

export function sameTopology(a: TopologySpec | undefined, b: TopologySpec | undefined): boolean {
  return a !== undefined && b !== undefined && canonicalJson(a) === canonicalJson(b);
}

export function isBlueGreen(spec: Pick<StormTopologySpec, 'deploymentStrategy'>): boolean {
  return spec.deploymentStrategy?.type === 'blueGreen';
}

/** The Storm topology name of `topology` deployed blue-green (see the header). */
export function blueGreenStormName(topology: TopologySpec): string {
  const version = versionOf(topology).replace(/[/.:\\\s]+/g, '-');
  return `${topology.name}-${version}-${topologyDigest(topology).slice(0, 6)}`;
}

/** The Storm topology name `topology` runs as under the spec's deployment strategy. */
export function stormNameFor(spec: Pick<StormTopologySpec, 'deploymentStrategy'>, topology: TopologySpec): string {
  return isBlueGreen(spec) ? blueGreenStormName(topology) : topology.name;
}

/** The Storm name a recorded revision ran as (blue-green revisions carry a color). */
export function stormNameOfRevision(revision: TopologyRevision): string {
  return revision.color ? blueGreenStormName(revision.topology) : revision.topology.name;
}

export function otherColor(color: Color | undefined): Color {
  return color === 'blue' ? 'green' : 'blue';
}

export function currentRevision(status: StormTopologyStatus | undefined): TopologyRevision | undefined {
  const n = status?.currentRevision;
  return n === undefined ? undefined : status?.history?.find((r) => r.revision === n);
}

/** The revision recorded before the current one (what a rollback without a number restores). */
export function previousRevision(status: StormTopologyStatus | undefined): TopologyRevision | undefined {
  const history = status?.history ?? [];
  const current = status?.currentRevision;
  const before = history.filter((r) => current === undefined || r.revision < current);
  return before[before.length - 1];
}

export function nextRevisionNumber(status: StormTopologyStatus | undefined): number {
  return Math.max(0, ...(status?.history ?? []).map((r) => r.revision)) + 1;
}

/**
 * Appends `entry` as the current revision and trims the history, oldest first, to `limit`
 * entries; the current revision is always kept (it names what runs), so the effective limit is at
 * least 1.
 */
export function recordRevision(status: Record<string, unknown>, entry: TopologyRevision, limit: number): void {
  const history = [...((status.history as TopologyRevision[] | undefined) ?? []), entry].sort((a, b) => a.revision - b.revision);
  status.history = history.slice(Math.max(0, history.length - Math.max(1, limit)));
  status.currentRevision = entry.revision;
}

/** How a newly deployed `topology` came about, judged from the history before it. */
export function causeOf(status: StormTopologyStatus | undefined, topology: TopologySpec): TopologyRevision['cause'] {
  const history = status?.history ?? [];
  if (history.length === 0) return 'Created';
  return history.some((r) => r.revision !== status?.currentRevision && sameTopology(r.topology, topology)) ? 'RolledBack' : 'Updated';
}
