// From zod to the schemas Kubernetes clients read.
//
// Three steps. `fromZod` runs `z.toJSONSchema` (OpenAPI 3.0 target, input side, so defaults are
// shown and defaulted fields are optional) and normalizes the result into a *neutral* form:
// OpenAPI-3.0-style keywords (`nullable`, boolean `exclusiveMinimum`), refs as
// `#/definitions/<name>`, int-or-string as `anyOf: [{type: integer}, {type: string}]` with
// `x-kubernetes-int-or-string`, open maps as `x-kubernetes-preserve-unknown-fields`, no
// `additionalProperties: false` (Kubernetes never publishes it; unknown fields are a matter for
// fieldValidation), integer bounds folded into `format: int32|int64`. Then `toV3` and `toV2` turn a
// neutral schema into each format:
//
// - v3 (what `kubectl explain` reads): refs under `#/components/schemas/`, a `$ref` with sibling
//   keys wrapped as `allOf: [{$ref}]` (kube-openapi's v3 form).
// - v2 (what kubectl's client-side validation and the aggregator's merge read; kube-openapi's
//   `proto` parser rejects the whole document on one bad schema): no anyOf/oneOf/allOf/not, as
//   apiextensions' `ToStructuralOpenAPIV2` does: int-or-string untyped with the extension, nullable
//   and preserve-unknown-fields schemas without type/properties/items, arrays always with items.
import { z } from 'zod';

export type JsonSchema = { [key: string]: unknown };

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

const DROPPED_KEYS = new Set([
  '$schema',
  '$id',
  'id',
  '$comment',
  'definitions',
  '$defs',
  'propertyNames',
  'patternProperties',
  'contentEncoding',
  'contentMediaType',
  'unevaluatedProperties',
  'unevaluatedItems',
  'dependentRequired',
  'dependentSchemas',
  'if',
  'then',
  'else',
  'prefixItems',
]);

function isObject(v: unknown): v is JsonSchema {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isEmptySchema(v: unknown): boolean {
  return v === true || (isObject(v) && Object.keys(v).length === 0);
}

/** A schema that only says "null": `{type: 'null'}`, `{nullable: true}`, `{enum: [null]}`. */
function isNullOnly(v: unknown): boolean {
  if (!isObject(v)) return false;
  const keys = Object.keys(v);
  if (v.type === 'null' && keys.length === 1) return true;
  if (v.nullable === true && keys.length === 1) return true;
  return Array.isArray(v.enum) && v.enum.length === 1 && v.enum[0] === null && keys.every((k) => k === 'enum' || k === 'nullable');
}

export interface FromZodOptions {
  /** Prefix of the names of definitions zod extracts (schemas with a meta `id`). */
  definitionPrefix: string;
  /** Receives those definitions, already normalized. */
  definitions: Record<string, JsonSchema>;
}

/** Converts a zod schema to the neutral OpenAPI form described above. */
export function fromZod(schema: z.ZodType, options: FromZodOptions): JsonSchema {
  const raw = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const rename = (name: string) => `${options.definitionPrefix}.${name}`;
  for (const key of ['definitions', '$defs']) {
    const defs = raw[key];
    if (!isObject(defs)) continue;
    for (const [name, def] of Object.entries(defs)) options.definitions[rename(name)] = normalize(def, rename);
  }
  return normalize(raw, rename);
}

/** Normalizes one JSON-schema node (recursively) into the neutral form. */
export function normalize(input: unknown, rename: (name: string) => string = (n) => n): JsonSchema {
  if (input === true || input === undefined) return {};
  if (!isObject(input)) throw new Error(`unsupported JSON schema node: ${JSON.stringify(input)}`);
  const node: JsonSchema = {};
  for (const [k, v] of Object.entries(input)) if (!DROPPED_KEYS.has(k)) node[k] = v;

  if (typeof node.$ref === 'string') {
    const m = /^#\/(?:definitions|\$defs)\/(.+)$/.exec(node.$ref);
    if (!m) throw new Error(`recursive or external schema reference ${node.$ref} cannot be published (Kubernetes schemas are trees)`);
    node.$ref = `#/definitions/${rename(decodeURIComponent(m[1]))}`;
  }

  // `type: [x, 'null']` (JSON Schema) → `type: x, nullable: true`.
  if (Array.isArray(node.type)) {
    const types = node.type.filter((t) => t !== 'null');
    if (types.length < node.type.length) node.nullable = true;
    if (types.length === 1) node.type = types[0];
    else if (types.length === 0) delete node.type;
    else {
      node.anyOf = types.map((t) => ({ type: t }));
      delete node.type;
    }
  }
  if ('const' in node) {
    node.enum = [node.const];
    delete node.const;
  }
  if (Array.isArray(node.examples)) {
    if (node.examples.length > 0 && !('example' in node)) node.example = node.examples[0];
    delete node.examples;
  }

  // Null branches of unions become `nullable`; a union left with one branch is that branch.
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = node[key];
    if (!Array.isArray(branches)) continue;
    const kept = branches.filter((b) => !isNullOnly(b));
    if (kept.length < branches.length) node.nullable = true;
    if (kept.length === 1 && isObject(kept[0])) {
      delete node[key];
      for (const [k, v] of Object.entries(kept[0])) if (!(k in node)) node[k] = v;
    } else node[key] = kept;
  }

  if (node['x-kubernetes-int-or-string'] === true) {
    // As controller-gen writes int-or-string (and quantities): the two branch types only, the
    // string branch's pattern on the node itself.
    const branches = [...(Array.isArray(node.anyOf) ? node.anyOf : []), ...(Array.isArray(node.oneOf) ? node.oneOf : [])];
    for (const b of branches) {
      if (isObject(b) && b.type === 'string' && typeof b.pattern === 'string' && node.pattern === undefined) node.pattern = b.pattern;
    }
    delete node.oneOf;
    delete node.type;
    delete node.format;
    node.anyOf = [{ type: 'integer' }, { type: 'string' }];
    return node;
  }

  if (node.type === 'integer' && node.format === undefined) {
    if (node.minimum === INT32_MIN || node.maximum === INT32_MAX) node.format = 'int32';
    else if (node.minimum === Number.MIN_SAFE_INTEGER || node.maximum === Number.MAX_SAFE_INTEGER) node.format = 'int64';
  }
  if (node.type === 'integer' || node.type === 'number') {
    if (node.minimum === INT32_MIN || node.minimum === Number.MIN_SAFE_INTEGER || node.minimum === -Number.MAX_VALUE) delete node.minimum;
    if (node.maximum === INT32_MAX || node.maximum === Number.MAX_SAFE_INTEGER || node.maximum === Number.MAX_VALUE) delete node.maximum;
  }

  if ('additionalProperties' in node) {
    const ap = node.additionalProperties;
    if (ap === false) delete node.additionalProperties;
    else if (isEmptySchema(ap)) {
      delete node.additionalProperties;
      node['x-kubernetes-preserve-unknown-fields'] = true;
    } else node.additionalProperties = normalize(ap, rename);
  }
  if (isObject(node.properties)) {
    const props: JsonSchema = {};
    for (const [name, sub] of Object.entries(node.properties)) props[name] = normalize(sub, rename);
    node.properties = props;
  }
  if (Array.isArray(node.required) && node.required.length === 0) delete node.required;
  if (node.items !== undefined) {
    node.items = Array.isArray(node.items)
      ? node.items.length === 1
        ? normalize(node.items[0], rename)
        : { anyOf: node.items.map((i) => normalize(i, rename)) }
      : normalize(node.items, rename);
  }
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    if (Array.isArray(node[key])) node[key] = (node[key] as unknown[]).map((b) => normalize(b, rename));
  }
  if (node.not !== undefined) node.not = normalize(node.not, rename);
  return node;
}

/** The definition names a neutral (or v2) schema refers to, directly. */
export function refsOf(schema: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) {
    for (const s of schema) refsOf(s, out);
  } else if (isObject(schema)) {
    for (const [k, v] of Object.entries(schema)) {
      if (k === '$ref' && typeof v === 'string') out.add(v.replace(/^#\/(definitions|components\/schemas)\//, ''));
      else if (typeof v === 'object') refsOf(v, out);
    }
  }
  return out;
}

// ---- OpenAPI v3 -------------------------------------------------------------------------------

/** A neutral schema in OpenAPI 3.0 form. */
export function toV3(schema: JsonSchema): JsonSchema {
  const node: JsonSchema = { ...schema };
  if (typeof node.$ref === 'string') {
    const target = node.$ref.replace(/^#\/definitions\//, '#/components/schemas/');
    delete node.$ref;
    if (Object.keys(node).length === 0) return { $ref: target };
    return { allOf: [{ $ref: target }], ...node };
  }
  if (isObject(node.properties)) {
    node.properties = Object.fromEntries(Object.entries(node.properties).map(([k, v]) => [k, toV3(v as JsonSchema)]));
  }
  if (isObject(node.additionalProperties)) node.additionalProperties = toV3(node.additionalProperties);
  if (isObject(node.items)) node.items = toV3(node.items);
  for (const key of ['anyOf', 'oneOf', 'allOf']) {
    if (Array.isArray(node[key])) node[key] = (node[key] as JsonSchema[]).map(toV3);
  }
  if (isObject(node.not)) node.not = toV3(node.not);
  return node;
}

// ---- OpenAPI v2 -------------------------------------------------------------------------------

function singleType(branches: JsonSchema[]): string | undefined {
  const types = new Set(branches.map((b) => (typeof b.type === 'string' ? b.type : b.$ref !== undefined ? '$ref' : '')));
  if (types.size !== 1) return undefined;
  const [t] = types;
  return t === '' || t === '$ref' ? undefined : t;
}

/** A neutral schema in Swagger 2.0 form that kube-openapi's `proto` parser and kubectl accept. */
export function toV2(schema: JsonSchema): JsonSchema {
  let node: JsonSchema = { ...schema };
  delete node.writeOnly;
  delete node.not;

  if (typeof node.$ref === 'string') {
    // A reference may carry a description and extensions, never a type or fields.
    for (const k of ['type', 'properties', 'items', 'additionalProperties', 'anyOf', 'oneOf', 'allOf', 'nullable']) delete node[k];
    return node;
  }

  if (Array.isArray(node.allOf)) {
    const members = (node.allOf as JsonSchema[]).map(toV2);
    delete node.allOf;
    if (members.length === 1 && typeof members[0].$ref === 'string' && node.type === undefined && node.properties === undefined) {
      return toV2({ ...node, $ref: members[0].$ref });
    }
    for (const m of members) node = mergeInto(node, m);
  }

  if (node['x-kubernetes-int-or-string'] === true) {
    delete node.anyOf;
    delete node.oneOf;
    delete node.type;
  }
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = node[key];
    if (!Array.isArray(branches)) continue;
    delete node[key];
    const converted = (branches as JsonSchema[]).map(toV2);
    const t = node.type === undefined ? singleType(converted) : undefined;
    if (t !== undefined) {
      node.type = t;
      if (t === 'object') {
        const props: JsonSchema = {};
        for (const b of converted) if (isObject(b.properties)) Object.assign(props, b.properties);
        if (Object.keys(props).length > 0 && node.properties === undefined) node.properties = props;
      }
      if (t === 'array' && node.items === undefined) node.items = converted.find((b) => isObject(b.items))?.items ?? {};
    }
  }

  if (node.nullable === true) {
    // apiextensions ToStructuralOpenAPIV2: a nullable value is untyped in v2, or kubectl's client-side
    // validation rejects the null.
    for (const k of ['type', 'properties', 'items', 'additionalProperties', 'required']) delete node[k];
  }
  delete node.nullable;
  if (node['x-kubernetes-preserve-unknown-fields'] === true) {
    // Unknown fields would be reported by kubectl's v2 validation if properties were listed.
    delete node.properties;
    delete node.items;
    delete node.required;
  }
  if (node.type === 'array' && node.items === undefined) delete node.type;

  if (isObject(node.properties)) {
    node.properties = Object.fromEntries(Object.entries(node.properties).map(([k, v]) => [k, toV2(v as JsonSchema)]));
  }
  if (isObject(node.additionalProperties)) node.additionalProperties = toV2(node.additionalProperties);
  if (isObject(node.items)) node.items = toV2(node.items);
  return node;
}

function mergeInto(base: JsonSchema, extra: JsonSchema): JsonSchema {
  const out: JsonSchema = { ...extra, ...base };
  if (isObject(base.properties) || isObject(extra.properties)) {
    out.properties = { ...(isObject(extra.properties) ? extra.properties : {}), ...(isObject(base.properties) ? base.properties : {}) };
  }
  const required = [
    ...(Array.isArray(base.required) ? base.required : []),
    ...(Array.isArray(extra.required) ? extra.required : []),
  ];
  if (required.length > 0) out.required = [...new Set(required)];
  if (typeof out.$ref === 'string' && (out.type !== undefined || out.properties !== undefined)) delete out.$ref;
  return out;
}

/** Walks every node of a schema; for checks in tests and at build time. */
export function walkSchema(schema: JsonSchema, visit: (node: JsonSchema, path: string) => void, path = ''): void {
  visit(schema, path);
  if (isObject(schema.properties)) {
    for (const [k, v] of Object.entries(schema.properties)) walkSchema(v as JsonSchema, visit, `${path}.${k}`);
  }
  if (isObject(schema.additionalProperties)) walkSchema(schema.additionalProperties, visit, `${path}{}`);
  if (isObject(schema.items)) walkSchema(schema.items, visit, `${path}[]`);
  for (const key of ['anyOf', 'oneOf', 'allOf']) {
    if (Array.isArray(schema[key])) (schema[key] as JsonSchema[]).forEach((b, i) => walkSchema(b, visit, `${path}<${key}${i}>`));
  }
}
