// Blue-green promotion of a StormTopology, shared by the `promote` verb (any API replica) and the
// controller's auto-promotion (the leader): run the pre-promotion analysis against the candidate's
// metrics, then switch from Nimbus' point of view and record the new revision.
//
// The switch: (1) status first — the candidate becomes the active revision in `status.history`
// and `status.blueGreen` — so a crash after this point leaves a state the controller completes;
// (2) Nimbus: deactivate the old topology, activate the candidate; (3) on any Nimbus failure,
// compensate: deactivate the candidate, reactivate the old topology, and restore the status as it
// was; (4) on success, schedule the old topology's kill at now + scaleDownDelaySeconds
// (`previousScaleDownAt`, carried out by the controller). The controller may act on the status of
// (1) while (2) runs; it drives Nimbus toward the same state the verb does.
import { conflict, invalid, isStatusError, serviceUnavailable, StatusError, type FieldError } from '../../../apiserver/errors.js';
import { decodeObject } from '../../codec.js';
import type { KubeObject } from '../../meta.js';
import type { Store } from '../../store.js';
import { isNimbusError, type Nimbus, type TopologyPageInfo } from '../upstreams.js';
import { currentRevision, otherColor, recordRevision, stormNameFor, type Color } from './revisions.js';
import { TOPOLOGY_METRICS, type StormTopologySpec, type StormTopologyStatus, type TopologyRevision } from './types.js';

export type TopologyMetricName = (typeof TOPOLOGY_METRICS)[number];
export type TopologyMetricsSummary = Partial<Record<TopologyMetricName, number>>;

/** The window the analysis and `status.metrics` read. */
export const ALL_TIME = ':all-time';

/**
 * The metrics of a topology from `getTopologyPageInfo` (all-time window): emitted, transferred,
 * acked, failed and complete latency from the topology stats; pendingTuples = Σ over spouts of
 * emitted − acked − failed (tuple trees not yet completed, at least 0); capacityPercent = the
 * highest bolt capacity × 100.
 */
export function metricsSummary(page: TopologyPageInfo, window = ALL_TIME): TopologyMetricsSummary {
  const stats = page.topologyStats;
  const out: TopologyMetricsSummary = {};
  const pick = (m: Record<string, number> | undefined) => (m && m[window] !== undefined ? m[window] : undefined);
  const set = (k: TopologyMetricName, v: number | undefined) => {
    if (v !== undefined && Number.isFinite(v)) out[k] = v;
  };
  set('emitted', pick(stats?.windowToEmitted));
  set('transferred', pick(stats?.windowToTransferred));
  set('acked', pick(stats?.windowToAcked));
  set('failed', pick(stats?.windowToFailed));
  const latency = pick(stats?.windowToCompleteLatenciesMs);
  set('completeLatencyMs', latency === undefined ? undefined : Math.round(latency));
  const spouts = Object.values(page.spoutAggStats ?? {});
  if (spouts.length > 0) {
    set('pendingTuples', Math.max(0, spouts.reduce((n, s) => n + (s.emitted ?? 0) - (s.acked ?? 0) - (s.failed ?? 0), 0)));
  }
  const capacities = Object.values(page.boltAggStats ?? {})
    .map((b) => b.capacity)
    .filter((c): c is number => typeof c === 'number');
  if (capacities.length > 0) set('capacityPercent', Math.round(Math.max(...capacities) * 100));
  return out;
}

// ---- analysis ---------------------------------------------------------------------------------

export interface AnalysisTemplate {
  metricName: string;
  threshold: string;
  query?: string;
}

export interface AnalysisResult {
  metricName: string;
  value?: number;
  passed: boolean;
  message?: string;
}

const COMPARATORS: Record<string, (a: number, b: number) => boolean> = {
  '<=': (a, b) => a <= b,
  '>=': (a, b) => a >= b,
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
  '<': (a, b) => a < b,
  '>': (a, b) => a > b,
};

export function parseThreshold(threshold: string): { op: string; value: number } {
  const m = /^\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(threshold);
  if (!m) throw new Error(`threshold "${threshold}" is not a comparison with a number`);
  return { op: m[1], value: Number(m[2]) };
}

/**
 * Evaluates a query: an arithmetic expression over the topology metrics (names as in
 * TOPOLOGY_METRICS), numbers, + - * / and parentheses, e.g. `failed / (acked + failed)`.
 */
export function evaluateQuery(query: string, metrics: TopologyMetricsSummary): number {
  const tokens = query.match(/\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*|[-+*/()]|\S/g) ?? [];
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];
  const primary = (): number => {
    const t = next();
    if (t === undefined) throw new Error('unexpected end of query');
    if (t === '(') {
      const v = sum();
      if (next() !== ')') throw new Error("missing ')'");
      return v;
    }
    if (t === '-') return -primary();
    if (/^\d/.test(t)) return Number(t);
    if (/^[A-Za-z_]/.test(t)) {
      if (!(TOPOLOGY_METRICS as readonly string[]).includes(t)) throw new Error(`unknown metric "${t}" (known: ${TOPOLOGY_METRICS.join(', ')})`);
      const v = metrics[t as TopologyMetricName];
      if (v === undefined) throw new Error(`Nimbus reports no value for "${t}"`);
      return v;
    }
    throw new Error(`unexpected "${t}"`);
  };
  const product = (): number => {
    let v = primary();
    while (peek() === '*' || peek() === '/') {
      const op = next();
      const r = primary();
      v = op === '*' ? v * r : r === 0 ? (v === 0 ? 0 : Infinity) : v / r;
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (peek() === '+' || peek() === '-') v = next() === '+' ? v + product() : v - product();
    return v;
  };
  const v = sum();
  if (i !== tokens.length) throw new Error(`unexpected "${tokens[i]}"`);
  return v;
}

export function analyse(templates: readonly AnalysisTemplate[], metrics: TopologyMetricsSummary): AnalysisResult[] {
  return templates.map((a) => {
    try {
      const { op, value: limit } = parseThreshold(a.threshold);
      let value: number;
      if (a.query && a.query.trim() !== '') value = evaluateQuery(a.query, metrics);
      else {
        const v = metrics[a.metricName as TopologyMetricName];
        if (v === undefined) return { metricName: a.metricName, passed: false, message: `Nimbus reports no value for ${a.metricName}` };
        value = v;
      }
      const passed = Number.isFinite(value) && COMPARATORS[op](value, limit);
      return {
        metricName: a.metricName,
        ...(Number.isFinite(value) ? { value } : {}),
        passed,
        ...(passed ? {} : { message: `${a.metricName} is ${value}, threshold ${a.threshold}` }),
      };
    } catch (err) {
      return { metricName: a.metricName, passed: false, message: `${a.metricName}: ${(err as Error).message}` };
    }
  });
}

// ---- status writes ----------------------------------------------------------------------------

/**
 * Applies `mutate` to a copy of `obj`'s status and writes it through the status subresource with
 * `obj`'s resourceVersion as precondition; on a Conflict it reads the object again and reapplies
 * (`mutate` may throw to give up, e.g. when the candidate changed). Returns the stored object.
 */
export async function writeTopologyStatus(store: Store, obj: KubeObject, mutate: (status: Record<string, unknown>, obj: KubeObject) => void, attempts = 5): Promise<KubeObject> {
  const status = store.statusStore();
  const scope = { namespace: obj.metadata.namespace, name: obj.metadata.name! };
  let base = obj;
  for (let attempt = 1; ; attempt++) {
    const copy = structuredClone(base);
    const s = (copy.status ?? {}) as Record<string, unknown>;
    mutate(s, copy);
    copy.status = s;
    const decoded = decodeObject(store.decl, store.decl.versions[0], copy, 'Strict');
    try {
      return (await status.update(scope, () => decoded, { dryRun: false })).object;
    } catch (err) {
      if (!isStatusError(err, 'Conflict') || attempt >= attempts) throw err;
    }
    base = await store.get(scope);
  }
}

// ---- promotion --------------------------------------------------------------------------------

export const STORM_GROUP = 'storm.apache.org';

export interface PromotionRequest {
  /** When set, promote only if the candidate has this version; after success a repeat returns the same result. */
  version?: string;
}

export interface PromotionResult {
  phase: 'Succeeded';
  revision: number;
  version: string;
  topologyName: string;
  topologyId?: string;
  previousTopologyName?: string;
  previousScaleDownAt?: string;
  promotedAt: string;
  analysis: AnalysisResult[];
  message: string;
}

export interface PromotionEnv {
  /** The stormtopologies Store. */
  store: Store;
  /** The Nimbus of the topology's cluster. */
  nimbus: Nimbus;
  now(): Date;
  /** `true`: run the checks and the analysis, change nothing. */
  dryRun?: boolean;
}

function metaTime(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

function ref(obj: KubeObject) {
  return { group: STORM_GROUP, resource: 'stormtopologies', name: obj.metadata.name! };
}

/** A Nimbus failure as the verbs report it: unreachable → 503, anything else → 500 with its text. */
export function nimbusFailure(err: unknown, what: string): StatusError {
  if (err instanceof StatusError) return err;
  if (isNimbusError(err) && err.transient) return serviceUnavailable(`${what}: Nimbus is unreachable: ${err.message}`);
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    reason: 'InternalError',
    code: 500,
    message: `${what}: ${(err as Error)?.message ?? String(err)}`,
  });
}

function resultOf(revision: TopologyRevision, status: StormTopologyStatus, topologyName: string, analysis: AnalysisResult[]): PromotionResult {
  return {
    phase: 'Succeeded',
    revision: revision.revision,
    version: revision.version,
    topologyName,
    ...(revision.topologyId ? { topologyId: revision.topologyId } : {}),
    ...(status.blueGreen?.previousScaleDownAt ? { previousScaleDownAt: status.blueGreen.previousScaleDownAt } : {}),
    promotedAt: revision.deployedAt,
    analysis,
    message: `revision ${revision.revision} (version ${revision.version}) is active as Storm topology ${topologyName}`,
  };
}

/**
 * Promotes the candidate of `obj` (as read by the caller; the write is conditional on it).
 * Throws 409 when there is no candidate (or not the one `request.version` names), 422 naming
 * the failing metric when the analysis fails, 503/500 when Nimbus fails (after compensation).
 */
export async function promoteCandidate(env: PromotionEnv, obj: KubeObject, request: PromotionRequest = {}): Promise<PromotionResult> {
  const spec = obj.spec as StormTopologySpec;
  const status = (obj.status ?? {}) as StormTopologyStatus;
  const blueGreen = status.blueGreen;
  const candidate = blueGreen?.candidate;
  if (!candidate?.topologyName || !candidate.topologyId) {
    const active = currentRevision(status);
    // Idempotent repeat: the version asked for is the one an earlier promotion made active.
    if (request.version !== undefined && active?.cause === 'Promoted' && active.version === request.version) {
      const last = (status.history ?? []).find((r) => r.revision === active.revision)!;
      return {
        ...resultOf(last, status, status.topologyName ?? blueGreen?.activeTopologyName ?? '', (blueGreen?.candidate?.analysis as AnalysisResult[] | undefined) ?? []),
        message: `revision ${last.revision} (version ${last.version}) was already promoted`,
      };
    }
    throw conflict(ref(obj), candidate?.topologyName ? `the candidate ${candidate.topologyName} is not running in Storm yet` : 'there is no candidate version to promote');
  }
  if (request.version !== undefined && candidate.version !== request.version) {
    throw conflict(ref(obj), `the candidate is version ${candidate.version ?? 'unknown'}, not ${request.version}`);
  }
  if (stormNameFor(spec, spec.topology) !== candidate.topologyName) {
    throw conflict(ref(obj), `the candidate ${candidate.topologyName} no longer matches spec.topology; the controller is replacing it`);
  }

  // 1. The analysis, against the candidate's own metrics.
  const templates = spec.deploymentStrategy?.blueGreen?.prePromotionAnalysis ?? [];
  let analysis: AnalysisResult[] = [];
  /** The object as last written: each status write is conditional on the one before it. */
  let latest = obj;
  if (templates.length > 0) {
    let page: TopologyPageInfo;
    try {
      page = await env.nimbus.getTopologyPageInfo(candidate.topologyId, ALL_TIME, false);
    } catch (err) {
      throw nimbusFailure(err, `reading the metrics of the candidate ${candidate.topologyName}`);
    }
    analysis = analyse(templates, metricsSummary(page));
    const failing = analysis.map((r, i) => ({ r, i })).filter(({ r }) => !r.passed);
    if (!env.dryRun) {
      latest = await writeTopologyStatus(env.store, obj, (s) => {
        const bg = s.blueGreen as StormTopologyStatus['blueGreen'];
        if (bg?.candidate && bg.candidate.topologyName === candidate.topologyName) bg.candidate.analysis = analysis;
      });
    }
    if (failing.length > 0) {
      const errors: FieldError[] = failing.map(({ r, i }) => ({
        type: 'FieldValueInvalid',
        field: `spec.deploymentStrategy.blueGreen.prePromotionAnalysis[${i}].metricName`,
        value: r.metricName,
        detail: `pre-promotion analysis failed: ${r.message ?? 'threshold not met'}`,
      }));
      throw invalid({ group: STORM_GROUP, resource: 'stormtopologies', kind: 'TopologyPromotion', name: obj.metadata.name! }, errors);
    }
  }

  const now = env.now();
  const oldName = blueGreen?.activeTopologyName ?? status.topologyName;
  const delay = spec.deploymentStrategy?.blueGreen?.scaleDownDelaySeconds ?? 30;
  const revision: TopologyRevision = {
    revision: Math.max(0, ...(status.history ?? []).map((r) => r.revision)) + 1,
    version: candidate.version ?? 'unversioned',
    topology: structuredClone(spec.topology),
    topologyId: candidate.topologyId,
    color: (candidate.color ?? otherColor(blueGreen?.activeColor as Color | undefined)) as Color,
    cause: 'Promoted',
    deployedAt: metaTime(now),
  };
  if (env.dryRun) {
    const after = { ...status, blueGreen: { ...blueGreen, previousScaleDownAt: oldName ? metaTime(new Date(now.getTime() + delay * 1000)) : undefined } };
    return { ...resultOf(revision, after, candidate.topologyName, analysis), ...(oldName ? { previousTopologyName: oldName } : {}) };
  }

  // 2. Status first: the candidate is the active revision.
  const before = structuredClone(status);
  const promoted = await writeTopologyStatus(env.store, latest, (s, current) => {
    const bg = (s.blueGreen ?? {}) as NonNullable<StormTopologyStatus['blueGreen']>;
    if (bg.candidate?.topologyName !== candidate.topologyName) throw conflict(ref(current), 'the candidate changed during the promotion');
    recordRevision(s, { ...revision, revision: Math.max(0, ...((s.history as TopologyRevision[] | undefined) ?? []).map((r) => r.revision)) + 1 }, (current.spec as StormTopologySpec).revisionHistoryLimit ?? 10);
    // previousScaleDownAt only once the switch succeeded: the old version must outlive a slow switch.
    s.blueGreen = { activeColor: revision.color, activeTopologyName: candidate.topologyName, activeTopologyId: candidate.topologyId };
    Object.assign(s, {
      topologyName: candidate.topologyName,
      topologyId: candidate.topologyId,
      deployedVersion: revision.version,
      lastError: undefined,
      lastUpdateTime: metaTime(now),
    });
    delete s.lastError;
  });

  // 3. Nimbus: deactivate the old one, activate the candidate; compensate on failure.
  const done: string[] = [];
  try {
    if (oldName && oldName !== candidate.topologyName) {
      await deactivateIfAlive(env.nimbus, oldName);
      done.push('deactivated');
    }
    await env.nimbus.activate(candidate.topologyName);
  } catch (err) {
    const compensation: string[] = [];
    await env.nimbus.deactivate(candidate.topologyName).catch((e: unknown) => compensation.push(`deactivating ${candidate.topologyName}: ${(e as Error).message}`));
    if (oldName && oldName !== candidate.topologyName) {
      await env.nimbus.activate(oldName).catch((e: unknown) => compensation.push(`reactivating ${oldName}: ${(e as Error).message}`));
    }
    await writeTopologyStatus(env.store, promoted, (s) => {
      for (const k of Object.keys(s)) delete s[k];
      Object.assign(s, structuredClone(before), {
        lastError: `promotion of ${candidate.topologyName} failed: ${(err as Error)?.message ?? String(err)}; ${oldName ?? 'the previous version'} restored`,
      });
    }).catch((e: unknown) => compensation.push(`restoring the status: ${(e as Error).message}`));
    const failure = nimbusFailure(err, `switching to ${candidate.topologyName}${compensation.length ? ` (compensation incomplete: ${compensation.join('; ')})` : `; ${oldName ?? 'nothing'} was restored`}`);
    throw failure;
  }
  let switched = promoted;
  if (oldName && oldName !== candidate.topologyName) {
    const at = metaTime(new Date(env.now().getTime() + delay * 1000));
    switched = await writeTopologyStatus(env.store, promoted, (s) => {
      const bg = s.blueGreen as Record<string, unknown> | undefined;
      if (bg && bg.activeTopologyName === candidate.topologyName) bg.previousScaleDownAt = at;
    });
  }
  const recorded = currentRevision(switched.status as StormTopologyStatus)!;
  return { ...resultOf(recorded, switched.status as StormTopologyStatus, candidate.topologyName, analysis), ...(oldName && oldName !== candidate.topologyName ? { previousTopologyName: oldName } : {}) };
}

/** Deactivates `name`; a topology Nimbus no longer knows counts as inactive. */
async function deactivateIfAlive(nimbus: Nimbus, name: string): Promise<void> {
  try {
    await nimbus.deactivate(name);
  } catch (err) {
    if (!isNimbusError(err, 'NotAlive')) throw err;
  }
}
