// List and map semantics of a kind, read from the same JSON schema OpenAPI publishes: the
// `x-kubernetes-list-type` / `-list-map-keys` / `-patch-strategy` / `-patch-merge-key` extensions the
// kinds declare in zod (`registry/schema.ts` listMap/listSet/atomicList). Strategic merge patch and
// the field manager both walk objects through this one view, so they always agree.
import { schemasOf, storageVersion } from '../conversion.js';
import { hasSpec, hasStatus, type KindDeclaration } from '../kind.js';
import { fromZod, type JsonSchema } from '../../openapi/schema.js';

export type ListType = 'atomic' | 'set' | 'map';

/** ObjectMeta's list semantics, as apimachinery declares them. */
const OBJECT_META_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
    finalizers: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' },
    ownerReferences: {
      type: 'array',
      items: { type: 'object', properties: { uid: { type: 'string' } }, 'x-kubernetes-preserve-unknown-fields': true },
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['uid'],
      'x-kubernetes-patch-strategy': 'merge',
      'x-kubernetes-patch-merge-key': 'uid',
    },
    managedFields: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, 'x-kubernetes-list-type': 'atomic' },
  },
};

function isObject(v: unknown): v is JsonSchema {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * One node of a kind's schema. A missing schema (a field the schema does not know, or the inside of
 * a preserve-unknown-fields value) is "untyped": objects are maps, lists are atomic, as Kubernetes
 * deduces for unstructured content.
 */
export class PatchMeta {
  private readonly node: JsonSchema;

  constructor(
    node: JsonSchema | undefined,
    private readonly definitions: Record<string, JsonSchema> = {},
  ) {
    this.node = resolve(node ?? {}, definitions);
  }

  /** The schema of field `name` of an object (a struct property or a map value). */
  field(name: string): PatchMeta {
    const props = this.node.properties;
    if (isObject(props) && isObject(props[name])) return new PatchMeta(props[name] as JsonSchema, this.definitions);
    if (isObject(this.node.additionalProperties)) return new PatchMeta(this.node.additionalProperties, this.definitions);
    return new PatchMeta(undefined, this.definitions);
  }

  /** The schema of a list's items. */
  items(): PatchMeta {
    return new PatchMeta(isObject(this.node.items) ? this.node.items : undefined, this.definitions);
  }

  /** `map` and `set` lists are granular; everything else (also undeclared lists) is atomic. */
  get listType(): ListType {
    const t = this.node['x-kubernetes-list-type'];
    return t === 'map' || t === 'set' ? t : 'atomic';
  }

  get listMapKeys(): string[] {
    const keys = this.node['x-kubernetes-list-map-keys'];
    return Array.isArray(keys) ? keys.map(String) : [];
  }

  /** `x-kubernetes-patch-strategy` split on commas: `merge`, `retainKeys`, `replace`. */
  get patchStrategies(): string[] {
    const s = this.node['x-kubernetes-patch-strategy'];
    return typeof s === 'string' ? s.split(',').map((p) => p.trim()).filter(Boolean) : [];
  }

  get patchMergeKey(): string | undefined {
    const k = this.node['x-kubernetes-patch-merge-key'];
    return typeof k === 'string' ? k : undefined;
  }

  /** An object whose keys are data (labels, a record), not declared fields: owned key by key, with the map itself. */
  get isGranularMap(): boolean {
    return !isObject(this.node.properties) || Object.keys(this.node.properties).length === 0;
  }
}

function resolve(node: JsonSchema, definitions: Record<string, JsonSchema>): JsonSchema {
  let out = node;
  for (let depth = 0; depth < 16; depth++) {
    if (typeof out.$ref === 'string') {
      const { $ref, ...rest } = out;
      const target = definitions[($ref as string).replace(/^#\/(definitions|components\/schemas)\//, '')] ?? {};
      out = { ...target, ...rest };
      continue;
    }
    if (Array.isArray(out.allOf) && out.allOf.length > 0) {
      const { allOf, ...rest } = out;
      out = Object.assign({}, ...(allOf as JsonSchema[]).map((m) => resolve(m, definitions)), rest);
      continue;
    }
    // A union of object shapes: the fields of every branch (as OpenAPI v2 publishes it).
    for (const key of ['anyOf', 'oneOf'] as const) {
      const branches = out[key];
      if (!isObject(out.properties) && Array.isArray(branches)) {
        const resolved = (branches as JsonSchema[]).map((b) => resolve(b, definitions));
        const properties = Object.assign({}, ...resolved.map((b) => (isObject(b.properties) ? b.properties : {})));
        if (Object.keys(properties).length > 0) out = { ...out, properties };
      }
    }
    return out;
  }
  return out;
}

const cache = new WeakMap<KindDeclaration, Map<string, PatchMeta>>();

/**
 * The patch metadata of a whole object of `decl` in `version` (default: the storage version):
 * metadata, spec, status and any other top-level fields; computed once per kind and version.
 */
export function patchMetaOf(decl: KindDeclaration, version: string = storageVersion(decl)): PatchMeta {
  let byVersion = cache.get(decl);
  if (!byVersion) cache.set(decl, (byVersion = new Map()));
  let meta = byVersion.get(version);
  if (!meta) {
    const definitions: Record<string, JsonSchema> = {};
    const convert = (schema: Parameters<typeof fromZod>[0]) => fromZod(schema, { definitionPrefix: `${decl.group}.${version}.${decl.kind}`, definitions });
    const schemas = schemasOf(decl, version);
    const properties: Record<string, JsonSchema> = { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: OBJECT_META_SCHEMA };
    if (hasSpec(decl)) properties.spec = convert(schemas.spec);
    if (hasStatus(decl)) properties.status = convert(schemas.status);
    for (const [name, schema] of Object.entries(decl.topLevel ?? {})) properties[name] = convert(schema);
    meta = new PatchMeta({ type: 'object', properties }, definitions);
    byVersion.set(version, meta);
  }
  return meta;
}
