// A PVC's expansion settings and where each came from. Resolution order, first that says wins:
//   1. `pvc-chonker.io/enabled: "false"` on the PVC opts it out, whatever else says;
//   2. the PVC's own `pvc-chonker.io/*` annotations;
//   3. the first PVCPolicy of the namespace (by name) whose selector matches the PVC's labels;
//   4. the PVCGroup the PVC belongs to (annotation `pvc-chonker.io/group`, else a group whose
//      `spec.selector` matches, first by name);
//   5. the StorageClass's `pvc-chonker.io/*` annotations;
//   6. the defaults (threshold 80%, inodes 80%, increase 10%, cooldown 15m, min scale-up 1Gi).
// A PVC is managed when a layer says `enabled: true`, or (no layer saying either) when a policy or
// group applies to it or `--pvc-default-enabled` is set. An invalid value in a layer is an error:
// the PVC is skipped and the caller reports it, nothing is guessed.
import type { KubeObject } from '../../registry/meta.js';
import type { Claim, StorageClassInfo } from '../../registry/pvc-chonker.io/upstreams.js';
import { GiB, parseBytes, parseIncrease, type Increase } from './sizing.js';

export const ANNOTATION_PREFIX = 'pvc-chonker.io/';
export const ANNOTATIONS = {
  enabled: 'pvc-chonker.io/enabled',
  threshold: 'pvc-chonker.io/threshold',
  inodesThreshold: 'pvc-chonker.io/inodes-threshold',
  increase: 'pvc-chonker.io/increase',
  maxSize: 'pvc-chonker.io/max-size',
  minScaleUp: 'pvc-chonker.io/min-scale-up',
  cooldown: 'pvc-chonker.io/cooldown',
  group: 'pvc-chonker.io/group',
  lastExpansion: 'pvc-chonker.io/last-expansion',
  expansionState: 'pvc-chonker.io/expansion-state',
} as const;

export type SettingSource = 'annotation' | 'policy' | 'group' | 'storageclass' | 'default';

export interface Setting<T> {
  value: T;
  source: SettingSource;
}

export interface Settings {
  threshold: Setting<number>;
  inodesThreshold: Setting<number>;
  increase: Setting<Increase>;
  maxSize?: Setting<number>;
  minScaleUp: Setting<number>;
  cooldownMs: Setting<number>;
}

export interface Resolution {
  managed: boolean;
  /** Why the PVC is (not) managed, for `expansions`. */
  managedBy: SettingSource | 'opt-out' | 'not-selected';
  policy?: string;
  group?: string;
  settings: Settings;
  /** Invalid values (`annotation pvc-chonker.io/threshold: "abc": …`); non-empty means skip the PVC. */
  errors: string[];
}

export const DEFAULTS = { threshold: 80, inodesThreshold: 80, increase: { percent: 10 } as Increase, cooldownMs: 15 * 60_000, minScaleUp: GiB };

/** The template fields of a layer, as strings (annotation values, or a PVCPolicy/PVCGroup template). */
interface Layer {
  source: SettingSource;
  /** For messages: `annotation`, `PVCPolicy fast`, … */
  origin: string;
  enabled?: string | boolean;
  threshold?: string;
  inodesThreshold?: string;
  increase?: string;
  maxSize?: string;
  minScaleUp?: string;
  cooldown?: string;
}

/** `1h30m`, `15m`, `90s`, `500ms` → ms; undefined when malformed. */
export function parseGoDuration(text: string): number | undefined {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (text === '0') return 0;
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]], 0);
}

function parsePercent(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(text.trim());
  if (!m) return undefined;
  const v = Number(m[1]);
  return v >= 1 && v <= 100 ? v : undefined;
}

/** metav1.LabelSelector matching (matchLabels and matchExpressions); an empty selector matches everything. */
export function selectorMatches(selector: unknown, labels: Record<string, string> | undefined): boolean {
  const sel = (selector ?? {}) as { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> };
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, e.key);
    const values = e.values ?? [];
    if (e.operator === 'In' && !(has && values.includes(l[e.key]))) return false;
    if (e.operator === 'NotIn' && has && values.includes(l[e.key])) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

function byName(a: KubeObject, b: KubeObject): number {
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
}

/** The first PVCPolicy of the claim's namespace whose selector matches it. */
export function matchingPolicy(claim: Claim, policies: readonly KubeObject[]): KubeObject | undefined {
  return [...policies]
    .filter((p) => p.metadata.namespace === claim.metadata.namespace)
    .sort(byName)
    .find((p) => selectorMatches((p.spec as { selector?: unknown } | undefined)?.selector ?? { matchLabels: { '\u0000never': '' } }, claim.metadata.labels));
}

/** The claim's PVCGroup: the one its annotation names, else the first whose `spec.selector` matches. */
export function groupOf(claim: Claim, groups: readonly KubeObject[]): KubeObject | undefined {
  const inNamespace = groups.filter((g) => g.metadata.namespace === claim.metadata.namespace);
  const named = claim.metadata.annotations?.[ANNOTATIONS.group];
  if (named) return inNamespace.find((g) => g.metadata.name === named);
  return [...inNamespace].sort(byName).find((g) => {
    const selector = (g.spec as { selector?: unknown } | undefined)?.selector;
    return selector !== undefined && selectorMatches(selector, claim.metadata.labels);
  });
}

function templateLayer(source: SettingSource, origin: string, template: Record<string, unknown> | undefined): Layer {
  const t = template ?? {};
  const s = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    source,
    origin,
    enabled: typeof t.enabled === 'boolean' ? t.enabled : undefined,
    threshold: s(t.threshold),
    inodesThreshold: s(t.inodesThreshold),
    increase: s(t.increase),
    maxSize: s(t.maxSize),
    minScaleUp: s(t.minScaleUp),
    cooldown: s(t.cooldown),
  };
}

function annotationLayer(source: SettingSource, origin: string, a: Record<string, string> | undefined): Layer {
  const v = a ?? {};
  return {
    source,
    origin,
    enabled: v[ANNOTATIONS.enabled],
    threshold: v[ANNOTATIONS.threshold],
    inodesThreshold: v[ANNOTATIONS.inodesThreshold],
    increase: v[ANNOTATIONS.increase],
    maxSize: v[ANNOTATIONS.maxSize],
    minScaleUp: v[ANNOTATIONS.minScaleUp],
    cooldown: v[ANNOTATIONS.cooldown],
  };
}

export interface ResolveInput {
  claim: Claim;
  policies: readonly KubeObject[];
  groups: readonly KubeObject[];
  storageClass?: StorageClassInfo;
  defaultEnabled: boolean;
}

export function resolveSettings(input: ResolveInput): Resolution {
  const { claim } = input;
  const policy = matchingPolicy(claim, input.policies);
  const group = groupOf(claim, input.groups);
  const layers: Layer[] = [annotationLayer('annotation', 'annotation', claim.metadata.annotations)];
  if (policy) layers.push(templateLayer('policy', `PVCPolicy ${policy.metadata.name}`, (policy.spec as { template?: Record<string, unknown> }).template));
  if (group) layers.push(templateLayer('group', `PVCGroup ${group.metadata.name}`, (group.spec as { template?: Record<string, unknown> }).template));
  if (input.storageClass) layers.push(annotationLayer('storageclass', `StorageClass ${input.storageClass.name}`, input.storageClass.annotations));
  const errors: string[] = [];

  // enabled
  let managed: boolean;
  let managedBy: Resolution['managedBy'];
  const annotated = claim.metadata.annotations?.[ANNOTATIONS.enabled];
  if (annotated !== undefined && annotated !== 'true' && annotated !== 'false') {
    errors.push(`annotation ${ANNOTATIONS.enabled}: "${annotated}" is not true or false`);
  }
  const stated = layers.find((l) => l.enabled !== undefined && (typeof l.enabled === 'boolean' || l.enabled === 'true' || l.enabled === 'false'));
  if (annotated === 'false') {
    managed = false;
    managedBy = 'opt-out';
  } else if (stated) {
    managed = stated.enabled === true || stated.enabled === 'true';
    managedBy = managed ? stated.source : 'opt-out';
  } else if (policy || group) {
    managed = true;
    managedBy = policy ? 'policy' : 'group';
  } else {
    managed = input.defaultEnabled;
    managedBy = input.defaultEnabled ? 'default' : 'not-selected';
  }

  function pick<T>(field: keyof Omit<Layer, 'source' | 'origin' | 'enabled'>, parse: (text: string) => T | undefined, what: string): Setting<T> | undefined {
    for (const layer of layers) {
      const raw = layer[field];
      if (raw === undefined || raw === '') continue;
      const value = parse(raw);
      if (value === undefined) {
        errors.push(`${layer.origin} ${field}: "${raw}" is not ${what}`);
        return undefined;
      }
      return { value, source: layer.source };
    }
    return undefined;
  }
  const positiveBytes = (t: string) => {
    const b = parseBytes(t);
    return b !== undefined && b > 0 ? b : undefined;
  };
  const threshold = pick('threshold', parsePercent, 'a percentage from 1% to 100%');
  const inodesThreshold = pick('inodesThreshold', parsePercent, 'a percentage from 1% to 100%');
  const increase = pick('increase', parseIncrease, 'a percentage such as 10% or a quantity such as 5Gi');
  const maxSize = pick('maxSize', positiveBytes, 'a positive quantity such as 100Gi');
  const minScaleUp = pick('minScaleUp', positiveBytes, 'a positive quantity such as 1Gi');
  const cooldownMs = pick('cooldown', parseGoDuration, 'a duration such as 15m');
  return {
    managed,
    managedBy,
    policy: policy?.metadata.name,
    group: group?.metadata.name,
    errors,
    settings: {
      threshold: threshold ?? { value: DEFAULTS.threshold, source: 'default' },
      inodesThreshold: inodesThreshold ?? { value: DEFAULTS.inodesThreshold, source: 'default' },
      increase: increase ?? { value: DEFAULTS.increase, source: 'default' },
      maxSize,
      minScaleUp: minScaleUp ?? { value: DEFAULTS.minScaleUp, source: 'default' },
      cooldownMs: cooldownMs ?? { value: DEFAULTS.cooldownMs, source: 'default' },
    },
  };
}
