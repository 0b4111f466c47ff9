// Decoding request bodies into typed objects of a kind: apiVersion/kind checks, schema validation
// with field paths, defaults, and unknown-field handling per `fieldValidation`.
import type { z } from 'zod';
import { badRequest, type FieldError } from '../apiserver/errors.js';
import { convertFromVersion, fieldPathToVersion, isStorageVersion, schemasOf } from './conversion.js';
import { groupVersionOf, hasSpec, hasStatus, type KindDeclaration } from './kind.js';
import type { KubeObject } from './meta.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface Decoded {
  /** The decoded object, in the storage version whatever the version of the request. */
  object: KubeObject;
  /** Schema violations with field paths; the Store reports them with the strategy's errors. */
  errors: FieldError[];
  /** `unknown field "spec.x"` / `duplicate field "..."` texts under fieldValidation=Warn. */
  warnings: string[];
}

const OBJECT_FIELDS = ['apiVersion', 'kind', 'metadata'];

/** The top-level fields an object of `decl` may have; anything else is an unknown field. */
function topLevelFields(decl: KindDeclaration): Set<string> {
  const fields = new Set(OBJECT_FIELDS);
  if (hasSpec(decl)) fields.add('spec');
  if (hasStatus(decl)) fields.add('status');
  for (const name of Object.keys(decl.topLevel ?? {})) fields.add(name);
  return fields;
}
const METADATA_FIELDS: Record<string, 'string' | 'number' | 'object' | 'array'> = {
  name: 'string',
  generateName: 'string',
  namespace: 'string',
  uid: 'string',
  resourceVersion: 'string',
  generation: 'number',
  creationTimestamp: 'string',
  deletionTimestamp: 'string',
  deletionGracePeriodSeconds: 'number',
  labels: 'object',
  annotations: 'object',
  finalizers: 'array',
  ownerReferences: 'array',
  managedFields: 'array',
  selfLink: 'string',
};

/**
 * `spec.workers.tolerations[2].key` from a zod path. Map keys that are not plain identifiers
 * (`topology.version`, `example.com/x`) are written in brackets, as Kubernetes field paths do:
 * `spec.config[topology.version]`.
 */
export function fieldPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const step of path) {
    if (typeof step === 'number') out += `[${step}]`;
    else if (!/^[A-Za-z_$][\w$-]*$/.test(String(step))) out += `[${String(step)}]`;
    else out += out ? `.${String(step)}` : String(step);
  }
  return out;
}

/** zod's own messages start like this; a schema author's message is passed through instead. */
function isDefaultZodMessage(message: string): boolean {
  return message.startsWith('Invalid input') || message.startsWith('Invalid option') || message.startsWith('Too ');
}

/**
 * Turns a request body (already parsed JSON) in `version` into an object of `decl`, validated
 * against `version`'s schema and returned in the storage version (`conversion.ts`).
 * Throws 400 BadRequest for a body that is not an object of this kind, and for unknown or
 * duplicate fields under Strict. `duplicateFields` are paths the body parser found twice.
 */
export function decodeObject(
  decl: KindDeclaration,
  version: string,
  body: unknown,
  fieldValidation: FieldValidation,
  duplicateFields: string[] = [],
): Decoded {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest(`the body of the request must be a JSON or YAML object of kind ${decl.kind}`);
  }
  const input = body as Record<string, unknown>;
  const expectedApiVersion = groupVersionOf(decl.group, version);
  if (input.apiVersion !== undefined && input.apiVersion !== expectedApiVersion) {
    throw badRequest(
      `the API version in the data (${String(input.apiVersion)}) does not match the expected API version (${expectedApiVersion})`,
    );
  }
  if (input.kind !== undefined && input.kind !== decl.kind) {
    throw badRequest(`the kind in the data (${String(input.kind)}) does not match the expected kind (${decl.kind})`);
  }

  const unknown: string[] = [];
  const errors: FieldError[] = [];
  const known = topLevelFields(decl);
  for (const key of Object.keys(input)) if (!known.has(key)) unknown.push(key);

  const metadata = decodeMetadata(input.metadata, unknown, errors);
  const object: KubeObject = { apiVersion: expectedApiVersion, kind: decl.kind, metadata };

  const schemas = schemasOf(decl, version);
  const parts: Array<[string, z.ZodType]> = [];
  if (hasSpec(decl)) parts.push(['spec', schemas.spec]);
  if (hasStatus(decl)) parts.push(['status', schemas.status]);
  parts.push(...Object.entries(decl.topLevel ?? {}));
  for (const [part, schema] of parts) {
    const value = input[part];
    if (value === undefined && part === 'status') continue;
    const parsed = parsePart(schema, part, value, unknown, errors);
    if (parsed !== undefined) object[part] = parsed;
  }
  const stored = toStorageVersion(decl, version, object, unknown, errors);
  if (errors.length === 0) decl.normalize?.(stored);

  const reported = [...unknown.map((f) => `unknown field "${f}"`), ...duplicateFields.map((f) => `duplicate field "${f}"`)];
  if (reported.length > 0 && fieldValidation === 'Strict') {
    throw badRequest(`strict decoding error: ${reported.join(', ')}`);
  }
  return { object: stored, errors, warnings: fieldValidation === 'Warn' ? reported : [] };
}

/**
 * An object decoded in `version`, converted to the storage version. The storage schema then
 * applies its defaults to what `version` cannot express; its errors (a field restored from the
 * conversion annotation with a wrong value) are named by `version`'s paths where it has them.
 */
function toStorageVersion(decl: KindDeclaration, version: string, object: KubeObject, unknown: string[], errors: FieldError[]): KubeObject {
  if (isStorageVersion(decl, version)) return object;
  const stored = convertFromVersion(decl, object, version);
  if (errors.length > 0) return stored;
  const storageErrors: FieldError[] = [];
  for (const part of ['spec', 'status'] as const) {
    if (stored[part] === undefined) continue;
    const parsed = parsePart(decl[part], part, stored[part], unknown, storageErrors);
    if (parsed !== undefined) stored[part] = parsed as Record<string, unknown>;
  }
  for (const e of storageErrors) errors.push({ ...e, field: fieldPathToVersion(decl, e.field, version) });
  return stored;
}

function decodeMetadata(raw: unknown, unknown: string[], errors: FieldError[]): KubeObject['metadata'] {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    errors.push({ type: 'FieldValueTypeInvalid', field: 'metadata', value: raw, detail: 'must be an object' });
    return {};
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const expected = METADATA_FIELDS[key];
    if (!expected) {
      unknown.push(`metadata.${key}`);
      continue;
    }
    if (value === null || value === undefined) continue;
    const actual = Array.isArray(value) ? 'array' : typeof value;
    if (actual !== expected) {
      errors.push({ type: 'FieldValueTypeInvalid', field: `metadata.${key}`, value, detail: `must be of type ${expected}` });
      continue;
    }
    if (key === 'selfLink') continue;
    // The lists' items have a type too: finalizers are strings, the other lists hold objects.
    if (Array.isArray(value)) {
      const item = key === 'finalizers' ? 'string' : 'object';
      const bad = value.findIndex((v) => (item === 'object' ? v === null || typeof v !== 'object' || Array.isArray(v) : typeof v !== item));
      if (bad >= 0) {
        errors.push({ type: 'FieldValueTypeInvalid', field: `metadata.${key}[${bad}]`, value: value[bad], detail: `must be of type ${item}` });
        continue;
      }
    }
    out[key] = value;
  }
  return out as KubeObject['metadata'];
}

/**
 * Parses `spec` or `status` with the kind's schema. Unknown keys (zod `unrecognized_keys`) are
 * collected and removed, then the value is parsed again so defaults still apply to the rest.
 */
export function parsePart(schema: z.ZodType, part: string, value: unknown, unknown: string[], errors: FieldError[]): unknown {
  let candidate = value === undefined ? undefined : structuredClone(value);
  for (let attempt = 0; attempt < 2; attempt++) {
    const result = schema.safeParse(candidate);
    if (result.success) return result.data;
    const unknownIssues = result.error.issues.filter((i) => i.code === 'unrecognized_keys');
    const otherIssues = result.error.issues.filter((i) => i.code !== 'unrecognized_keys');
    if (unknownIssues.length > 0 && attempt === 0) {
      for (const issue of unknownIssues) {
        const parent = valueAt(candidate, issue.path) as Record<string, unknown>;
        for (const key of (issue as { keys: string[] }).keys) {
          unknown.push(fieldPath(part, [...issue.path, key]));
          delete parent[key];
        }
      }
      if (otherIssues.length === 0) continue;
    }
    for (const issue of otherIssues) errors.push(issueToFieldError(part, issue, candidate));
    return undefined;
  }
  return undefined;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur = root;
  for (const step of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[step];
  }
  return cur;
}

function issueToFieldError(part: string, issue: z.core.$ZodIssue, root: unknown): FieldError {
  const field = fieldPath(part, issue.path);
  const value = valueAt(root, issue.path);
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return { type: 'FieldValueRequired', field };
      // The value itself is never echoed for a type error (it may be a secret sent in the wrong
      // place); only its JSON type, as kube-apiserver does.
      return {
        type: 'FieldValueTypeInvalid',
        field,
        value: typeOf(value),
        detail: isDefaultZodMessage(issue.message)
          ? `${field} in body must be of type ${jsonType(issue.expected)}: "${typeOf(value)}"`
          : issue.message,
      };
    case 'invalid_value':
      return {
        type: 'FieldValueNotSupported',
        field,
        value,
        detail: `supported values: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'too_small':
      return { type: 'FieldValueInvalid', field, value, detail: isDefaultZodMessage(issue.message) ? boundDetail(issue, 'greater') : issue.message };
    case 'too_big':
      return {
        type: typeof value === 'string' ? 'FieldValueTooLong' : 'FieldValueInvalid',
        field,
        value,
        detail: isDefaultZodMessage(issue.message) ? boundDetail(issue, 'less') : issue.message,
      };
    default:
      return { type: 'FieldValueInvalid', field, value, detail: issue.message };
  }
}

function boundDetail(issue: { minimum?: unknown; maximum?: unknown; inclusive?: boolean; origin?: string }, side: 'greater' | 'less'): string {
  const bound = side === 'greater' ? issue.minimum : issue.maximum;
  const or = issue.inclusive === false ? '' : ' or equal to';
  if (issue.origin === 'string') return `must have ${side === 'greater' ? 'at least' : 'at most'} ${String(bound)} characters`;
  if (issue.origin === 'array') return `must have ${side === 'greater' ? 'at least' : 'at most'} ${String(bound)} items`;
  return `should be ${side} than${or} ${String(bound)}`;
}

function jsonType(zodExpected: string): string {
  if (zodExpected === 'int') return 'integer';
  if (zodExpected === 'record') return 'object';
  return zodExpected;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}
