// Helpers for the kinds' `rules` (registry/<group>/<kind>/strategy.ts): FieldError constructors in
// the style of k8s.io/apimachinery/pkg/util/validation/field, and the checks several kinds share.
//
// Paths: object fields are dotted (`spec.topology.jar.url`), list items `[i]`, map entries `[key]`
// (field.Path.Key), so that keys with dots (`topology.version`) stay readable.
//
// Rules run on the decoded object: `spec` has passed the kind's schema (defaults filled), or is
// absent when the schema rejected it (the Store reports those errors itself). Rules therefore read
// defensively and never assume a field is present.
import type { FieldError } from '../apiserver/errors.js';
import { dnsLabelErrors, dnsSubdomainErrors, labelValueErrors, qualifiedNameErrors } from './meta.js';

export function required(field: string, detail?: string): FieldError {
  return detail === undefined ? { type: 'FieldValueRequired', field } : { type: 'FieldValueRequired', field, detail };
}

export function invalid(field: string, value: unknown, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, value, detail };
}

export function forbidden(field: string, detail: string): FieldError {
  return { type: 'FieldValueForbidden', field, detail };
}

export function duplicate(field: string, value: unknown): FieldError {
  return { type: 'FieldValueDuplicate', field, value };
}

export function notSupported(field: string, value: unknown, supported: readonly string[]): FieldError {
  return { type: 'FieldValueNotSupported', field, value, detail: `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}` };
}

/** `spec.config[topology.version]`: a map entry's path. */
export function key(field: string, k: string): string {
  return `${field}[${k}]`;
}

/** A plain object (not an array, not null), or undefined. */
export function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** A non-empty string, or undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** `field is immutable` when the value changed (compared as JSON; absent equals absent). */
export function immutable(field: string, value: unknown, old: unknown): FieldError[] {
  if (JSON.stringify(value ?? null) === JSON.stringify(old ?? null)) return [];
  return [invalid(field, value, 'field is immutable')];
}

export function dnsLabel(field: string, value: string): FieldError[] {
  return dnsLabelErrors(value).map((d) => invalid(field, value, d));
}

export function dnsSubdomain(field: string, value: string): FieldError[] {
  return dnsSubdomainErrors(value).map((d) => invalid(field, value, d));
}

const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** Service names (and anything that prefixes one) must be DNS-1035 labels. */
export function dns1035Label(field: string, value: string, maxLength = 63): FieldError[] {
  const out: FieldError[] = [];
  if (value.length > maxLength) out.push(invalid(field, value, `must be no more than ${maxLength} characters`));
  if (!DNS1035_LABEL.test(value)) {
    out.push(
      invalid(
        field,
        value,
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
      ),
    );
  }
  return out;
}

/** A reference to another object of the API by name (`spec.clusterRef`): required, a DNS subdomain. */
export function objectRef(field: string, value: unknown): FieldError[] {
  if (typeof value !== 'string' || value === '') return [required(field)];
  return dnsSubdomain(field, value);
}

/** Label maps (`podLabels`, `nodeSelector`, `customLabels`): valid keys and values. */
export function labelMap(field: string, labels: unknown): FieldError[] {
  const out: FieldError[] = [];
  for (const [k, v] of Object.entries(asRecord(labels) ?? {})) {
    for (const d of qualifiedNameErrors(k)) out.push(invalid(field, k, d));
    if (typeof v === 'string') for (const d of labelValueErrors(v)) out.push(invalid(key(field, k), v, d));
  }
  return out;
}

/** Annotation maps: valid keys. */
export function annotationMap(field: string, annotations: unknown): FieldError[] {
  const out: FieldError[] = [];
  for (const k of Object.keys(asRecord(annotations) ?? {})) for (const d of qualifiedNameErrors(k)) out.push(invalid(field, k, d));
  return out;
}

/** metav1.LabelSelector validation (ValidateLabelSelector). */
export function labelSelector(field: string, selector: unknown): FieldError[] {
  const sel = asRecord(selector);
  if (!sel) return [];
  const out = labelMap(`${field}.matchLabels`, sel.matchLabels);
  asArray(sel.matchExpressions).forEach((raw, i) => {
    const expr = asRecord(raw);
    if (!expr) return;
    const path = `${field}.matchExpressions[${i}]`;
    const values = asArray(expr.values);
    if (expr.operator === 'In' || expr.operator === 'NotIn') {
      if (values.length === 0) out.push(required(`${path}.values`, 'must be specified when `operator` is \'In\' or \'NotIn\''));
    } else if (expr.operator === 'Exists' || expr.operator === 'DoesNotExist') {
      if (values.length > 0) out.push(forbidden(`${path}.values`, 'may not be specified when `operator` is \'Exists\' or \'DoesNotExist\''));
    }
    if (typeof expr.key === 'string') for (const d of qualifiedNameErrors(expr.key)) out.push(invalid(`${path}.key`, expr.key, d));
    values.forEach((v, j) => {
      if (typeof v === 'string') for (const d of labelValueErrors(v)) out.push(invalid(`${path}.values[${j}]`, v, d));
    });
  });
  return out;
}

/** True when a label selector selects everything (no matchLabels, no matchExpressions). */
export function selectsEverything(selector: unknown): boolean {
  const sel = asRecord(selector) ?? {};
  return Object.keys(asRecord(sel.matchLabels) ?? {}).length === 0 && asArray(sel.matchExpressions).length === 0;
}

/** Environment variable names (C identifiers and the relaxed `[-._a-zA-Z][-._a-zA-Z0-9]*`). */
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** core/v1 EnvVar lists: valid, unique names; `value` and `valueFrom` not both. */
export function envVars(field: string, env: unknown): FieldError[] {
  const out: FieldError[] = [];
  const seen = new Set<string>();
  asArray(env).forEach((raw, i) => {
    const e = asRecord(raw);
    if (!e) return;
    const path = `${field}[${i}]`;
    if (typeof e.name === 'string') {
      if (!ENV_NAME.test(e.name)) {
        out.push(
          invalid(
            `${path}.name`,
            e.name,
            "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit",
          ),
        );
      }
      if (seen.has(e.name)) out.push(duplicate(`${path}.name`, e.name));
      seen.add(e.name);
    }
    if (e.value !== undefined && e.value !== '' && e.valueFrom !== undefined) {
      out.push(invalid(`${path}.valueFrom`, '', 'may not be specified when `value` is not empty'));
    }
  });
  return out;
}

/** Port numbers: 1..65535. */
export function port(field: string, value: unknown): FieldError[] {
  const p = num(value);
  if (p === undefined) return [];
  return p >= 1 && p <= 65535 ? [] : [invalid(field, p, 'must be between 1 and 65535, inclusive')];
}

/** `0x` followed by 40 hexadecimal digits: an Ethereum account or contract address. */
export const ETHEREUM_ADDRESS = /^0x[0-9a-fA-F]{40}$/;

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))([eE][+-]?\d+|[KMGTPE]i|[mkMGTPE])?$/;
const SUFFIX: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The value of a resource.Quantity as a number (`10Gi` → 10737418240); undefined if malformed. */
export function quantityValue(q: unknown): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) ? q : undefined;
  if (typeof q !== 'string') return undefined;
  const m = QUANTITY.exec(q);
  if (!m) return undefined;
  const base = Number(m[1]);
  const suffix = m[2] ?? '';
  if (suffix.startsWith('e') || suffix.startsWith('E')) {
    if (suffix.length > 1 && /^[eE][+-]?\d+$/.test(suffix)) return base * 10 ** Number(suffix.slice(1));
  }
  const mult = SUFFIX[suffix];
  return mult === undefined ? undefined : base * mult;
}

/** `80%` or `80` → 80; undefined if it is not a plain non-negative number with an optional `%`. */
export function percentValue(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(v);
  return m ? Number(m[1]) : undefined;
}
