// Builds the OpenAPI documents from the kind declarations: one Swagger 2.0 document for
// `/openapi/v2` and one OpenAPI 3.0 document per group version for `/openapi/v3/apis/<g>/<v>`.
// Both come from one model of the routes (`routesOf`), so they always list the same operations,
// and from the kinds' zod schemas converted by `schema.ts`. Names follow Kubernetes: definitions
// `<reversed group>.<version>.<Kind>` (as apiextensions names CRD definitions), operation ids
// `readStormApacheOrgV1beta1NamespacedStormTopologyStatus`, tags `stormApacheOrg_v1beta1`.
import { versionSchemaOf } from '../registry/conversion.js';
import { groupVersionPath, hasSpec, hasStatus, isCoreGroup, type KindDeclaration } from '../registry/kind.js';
import {
  API_VERSION_DESCRIPTION,
  apimachineryDefinitions,
  DELETE_OPTIONS,
  KIND_DESCRIPTION,
  LIST_META,
  LIST_META_DESCRIPTION,
  OBJECT_META,
  OBJECT_META_DESCRIPTION,
  PATCH,
  ref,
  SCALE,
  STATUS,
} from './apimachinery.js';
import { fromZod, refsOf, toV2, toV3, type JsonSchema } from './schema.js';

/**
 * The PATCH body types listed in the documents: the four kube-apiserver accepts for built-in types
 * (`apiserver/handlers/patch.ts` PATCH_TYPES). kubectl's client-side apply sends strategic merge
 * patch only if it is listed.
 */
export const DEFAULT_PATCH_CONTENT_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];

export interface OpenAPIOptions {
  /** PATCH request body types to publish; grows as the server learns SMP and server-side apply. */
  patchContentTypes?: string[];
  /** `info.title` of the documents. */
  title?: string;
  /** `info.version` of the documents. */
  version?: string;
}

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

// ---- names ------------------------------------------------------------------------------------

/** `storm.apache.org` → `org.apache.storm` (apimachinery's `ToRESTFriendlyName`). */
export function reverseDomain(group: string): string {
  return group.split('.').reverse().join('.');
}

/** `org.apache.storm.v1beta1`; the core group's definitions are kube's own `io.k8s.api.core.v1`. */
export function definitionPrefix(group: string, version: string): string {
  return isCoreGroup(group) ? `io.k8s.api.core.${version}` : `${reverseDomain(group)}.${version}`;
}

/** `org.apache.storm.v1beta1.StormTopology`. */
export function definitionName(group: string, version: string, kind: string): string {
  return `${definitionPrefix(group, version)}.${kind}`;
}

function camel(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** `storm.apache.org` → `StormApacheOrg`, `pvc-chonker.io` → `PvcChonkerIo`, core → `Core`. */
function groupCamel(group: string): string {
  if (isCoreGroup(group)) return 'Core';
  return group
    .split(/[.-]/)
    .filter(Boolean)
    .map(camel)
    .join('');
}

/** `stormApacheOrg_v1beta1`. */
export function tagOf(group: string, version: string): string {
  const g = groupCamel(group);
  return `${g.charAt(0).toLowerCase()}${g.slice(1)}_${version}`;
}

// ---- the route model --------------------------------------------------------------------------

type ParamType = 'string' | 'integer' | 'boolean';

export interface Param {
  name: string;
  in: 'query' | 'path';
  type: ParamType;
  description: string;
  required?: boolean;
}

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
export type Action = 'get' | 'list' | 'post' | 'put' | 'patch' | 'delete' | 'deletecollection';

export interface Operation {
  method: Method;
  operationId: string;
  description: string;
  action: Action;
  gvk: GroupVersionKind;
  tag: string;
  /** Query parameters of this operation only (path-level ones are on the route). */
  params: Param[];
  body?: { definition: string; contentTypes: string[] };
  responses: { code: string; description: string; definition?: string }[];
  /** Response media types. */
  produces: string[];
}

export interface Route {
  path: string;
  group: string;
  version: string;
  /** Parameters shared by every operation of the path (path params, `pretty`). */
  params: Param[];
  operations: Operation[];
}

const q = (name: string, type: ParamType, description: string): Param => ({ name, in: 'query', type, description });

/** The query parameters, with descriptions a reader of `kubectl explain`-style docs expects. */
export const QUERY_PARAMS = {
  allowWatchBookmarks: q(
    'allowWatchBookmarks',
    'boolean',
    'allowWatchBookmarks requests watch events with type "BOOKMARK". Servers may send bookmarks at their discretion; clients must not assume any interval. Ignored unless watch is true.',
  ),
  continue: q(
    'continue',
    'string',
    'The continue option should be set when retrieving more results from the server. Its value is the metadata.continue of the previous response, with the same query parameters otherwise. A 410 ResourceExpired means the token expired and the list must be restarted.',
  ),
  dryRun: q(
    'dryRun',
    'string',
    'When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive results in an error response. Valid values are: - All: all dry run stages will be processed',
  ),
  fieldManager: q(
    'fieldManager',
    'string',
    'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters. Required for apply requests (application/apply-patch).',
  ),
  fieldSelector: q('fieldSelector', 'string', 'A selector to restrict the list of returned objects by their fields. Defaults to everything.'),
  fieldValidation: q(
    'fieldValidation',
    'string',
    'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: - Ignore: drops unknown fields silently. - Warn: drops unknown fields and sends a warning for each one in a Warning header (the default). - Strict: fails the request with a BadRequest error naming every unknown or duplicate field.',
  ),
  force: q(
    'force',
    'boolean',
    'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.',
  ),
  gracePeriodSeconds: q(
    'gracePeriodSeconds',
    'integer',
    'The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used.',
  ),
  ignoreStoreReadErrorWithClusterBreakingPotential: q(
    'ignoreStoreReadErrorWithClusterBreakingPotential',
    'boolean',
    'if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error.',
  ),
  labelSelector: q('labelSelector', 'string', 'A selector to restrict the list of returned objects by their labels. Defaults to everything.'),
  limit: q(
    'limit',
    'integer',
    'limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results.',
  ),
  orphanDependents: q(
    'orphanDependents',
    'boolean',
    'Deprecated: please use the PropagationPolicy. Should the dependent objects be orphaned. If true/false, the "orphan" finalizer will be added to/removed from the object\'s finalizers list.',
  ),
  pretty: q('pretty', 'string', "If 'true', then the output is pretty printed."),
  propagationPolicy: q(
    'propagationPolicy',
    'string',
    "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground.",
  ),
  resourceVersion: q(
    'resourceVersion',
    'string',
    'resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details. Defaults to unset',
  ),
  resourceVersionMatch: q(
    'resourceVersionMatch',
    'string',
    'resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details. Defaults to unset',
  ),
  sendInitialEvents: q(
    'sendInitialEvents',
    'boolean',
    '`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection, followed by a BOOKMARK event annotated "k8s.io/initial-events-end": "true". Requires resourceVersionMatch=NotOlderThan.',
  ),
  timeoutSeconds: q(
    'timeoutSeconds',
    'integer',
    'Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.',
  ),
  watch: q(
    'watch',
    'boolean',
    'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.',
  ),
} satisfies Record<string, Param>;

const P = QUERY_PARAMS;
const LIST_PARAMS = [
  P.allowWatchBookmarks,
  P.continue,
  P.fieldSelector,
  P.labelSelector,
  P.limit,
  P.resourceVersion,
  P.resourceVersionMatch,
  P.sendInitialEvents,
  P.timeoutSeconds,
  P.watch,
];
const WRITE_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation];
const PATCH_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation, P.force];
const DELETE_PARAMS = [P.dryRun, P.gracePeriodSeconds, P.ignoreStoreReadErrorWithClusterBreakingPotential, P.orphanDependents, P.propagationPolicy];
const DELETE_COLLECTION_PARAMS = [
  P.continue,
  P.dryRun,
  P.fieldSelector,
  P.gracePeriodSeconds,
  P.ignoreStoreReadErrorWithClusterBreakingPotential,
  P.labelSelector,
  P.limit,
  P.orphanDependents,
  P.propagationPolicy,
  P.resourceVersion,
  P.resourceVersionMatch,
  P.sendInitialEvents,
  P.timeoutSeconds,
];

const OBJECT_MEDIA = ['application/json', 'application/yaml'];
const LIST_MEDIA = ['application/json', 'application/yaml', 'application/json;stream=watch'];
const BODY_MEDIA = ['*/*'];

const ok = (definition: string) => ({ code: '200', description: 'OK', definition });
const created = (definition: string) => ({ code: '201', description: 'Created', definition });
const accepted = (definition: string) => ({ code: '202', description: 'Accepted', definition });
const unauthorized = { code: '401', description: 'Unauthorized' };

/** Every route the server installs for `kinds`, in a stable order. */
export function routesOf(kinds: KindDeclaration[], options: OpenAPIOptions = {}): Route[] {
  const patchTypes = options.patchContentTypes ?? DEFAULT_PATCH_CONTENT_TYPES;
  const routes: Route[] = [];
  for (const k of kinds) {
    for (const version of k.versions) {
      const gvk = { group: k.group, version, kind: k.kind };
      const scaleGvk = { group: 'autoscaling', version: 'v1', kind: 'Scale' };
      const def = definitionName(k.group, version, k.kind);
      const listDef = definitionName(k.group, version, k.listKind);
      const tag = tagOf(k.group, version);
      const gv = `${groupCamel(k.group)}${camel(version)}`;
      const ns = k.namespaced ? 'Namespaced' : '';
      const base = groupVersionPath(k.group, version);
      const collection = k.namespaced ? `${base}/namespaces/{namespace}/${k.plural}` : `${base}/${k.plural}`;
      const item = `${collection}/{name}`;
      const nsParam: Param[] = k.namespaced
        ? [{ name: 'namespace', in: 'path', type: 'string', required: true, description: 'object name and auth scope, such as for teams and projects' }]
        : [];
      const nameParam = (what: string): Param => ({ name: 'name', in: 'path', type: 'string', required: true, description: `name of the ${what}` });
      const op = (o: Omit<Operation, 'tag'>): Operation => ({ ...o, tag });

      routes.push({
        path: collection,
        group: k.group,
        version,
        params: [...nsParam, P.pretty],
        operations: [
          op({
            method: 'get',
            operationId: `list${gv}${ns}${k.kind}`,
            description: `list or watch objects of kind ${k.kind}`,
            action: 'list',
            gvk,
            params: LIST_PARAMS,
            responses: [ok(listDef), unauthorized],
            produces: LIST_MEDIA,
          }),
          op({
            method: 'post',
            operationId: `create${gv}${ns}${k.kind}`,
            description: `create a ${k.kind}`,
            action: 'post',
            gvk,
            params: WRITE_PARAMS,
            body: { definition: def, contentTypes: BODY_MEDIA },
            responses: [ok(def), created(def), accepted(def), unauthorized],
            produces: OBJECT_MEDIA,
          }),
          op({
            method: 'delete',
            operationId: `delete${gv}Collection${ns}${k.kind}`,
            description: `delete collection of ${k.kind}`,
            action: 'deletecollection',
            gvk,
            params: DELETE_COLLECTION_PARAMS,
            body: { definition: DELETE_OPTIONS, contentTypes: BODY_MEDIA },
            responses: [ok(STATUS), unauthorized],
            produces: OBJECT_MEDIA,
          }),
        ],
      });
      if (k.namespaced) {
        routes.push({
          path: `${base}/${k.plural}`,
          group: k.group,
          version,
          params: [P.pretty],
          operations: [
            op({
              method: 'get',
              operationId: `list${gv}${k.kind}ForAllNamespaces`,
              description: `list or watch objects of kind ${k.kind}`,
              action: 'list',
              gvk,
              params: LIST_PARAMS,
              responses: [ok(listDef), unauthorized],
              produces: LIST_MEDIA,
            }),
          ],
        });
      }
      routes.push({
        path: item,
        group: k.group,
        version,
        params: [nameParam(k.kind), ...nsParam, P.pretty],
        operations: [
          op({
            method: 'get',
            operationId: `read${gv}${ns}${k.kind}`,
            description: `read the specified ${k.kind}`,
            action: 'get',
            gvk,
            params: [P.resourceVersion],
            responses: [ok(def), unauthorized],
            produces: OBJECT_MEDIA,
          }),
          op({
            method: 'put',
            operationId: `replace${gv}${ns}${k.kind}`,
            description: `replace the specified ${k.kind}`,
            action: 'put',
            gvk,
            params: WRITE_PARAMS,
            body: { definition: def, contentTypes: BODY_MEDIA },
            responses: [ok(def), created(def), unauthorized],
            produces: OBJECT_MEDIA,
          }),
          op({
            method: 'delete',
            operationId: `delete${gv}${ns}${k.kind}`,
            description: `delete a ${k.kind}`,
            action: 'delete',
            gvk,
            params: DELETE_PARAMS,
            body: { definition: DELETE_OPTIONS, contentTypes: BODY_MEDIA },
            responses: [ok(STATUS), accepted(STATUS), unauthorized],
            produces: OBJECT_MEDIA,
          }),
          op({
            method: 'patch',
            operationId: `patch${gv}${ns}${k.kind}`,
            description: `partially update the specified ${k.kind}`,
            action: 'patch',
            gvk,
            params: PATCH_PARAMS,
            body: { definition: PATCH, contentTypes: patchTypes },
            responses: [ok(def), created(def), unauthorized],
            produces: OBJECT_MEDIA,
          }),
        ],
      });
      const subresources: { name: string; title: string; gvk: GroupVersionKind; def: string }[] = [];
      if (hasStatus(k)) subresources.push({ name: 'status', title: 'Status', gvk, def });
      if (k.scale) subresources.push({ name: 'scale', title: 'Scale', gvk: scaleGvk, def: SCALE });
      for (const sub of subresources) {
        routes.push({
          path: `${item}/${sub.name}`,
          group: k.group,
          version,
          params: [nameParam(k.kind), ...nsParam, P.pretty],
          operations: [
            op({
              method: 'get',
              operationId: `read${gv}${ns}${k.kind}${sub.title}`,
              description: `read ${sub.name} of the specified ${k.kind}`,
              action: 'get',
              gvk: sub.gvk,
              params: [P.resourceVersion],
              responses: [ok(sub.def), unauthorized],
              produces: OBJECT_MEDIA,
            }),
            op({
              method: 'put',
              operationId: `replace${gv}${ns}${k.kind}${sub.title}`,
              description: `replace ${sub.name} of the specified ${k.kind}`,
              action: 'put',
              gvk: sub.gvk,
              params: WRITE_PARAMS,
              body: { definition: sub.def, contentTypes: BODY_MEDIA },
              responses: [ok(sub.def), created(sub.def), unauthorized],
              produces: OBJECT_MEDIA,
            }),
            op({
              method: 'patch',
              operationId: `patch${gv}${ns}${k.kind}${sub.title}`,
              description: `partially update ${sub.name} of the specified ${k.kind}`,
              action: 'patch',
              gvk: sub.gvk,
              params: PATCH_PARAMS,
              body: { definition: PATCH, contentTypes: patchTypes },
              responses: [ok(sub.def), created(sub.def), unauthorized],
              produces: OBJECT_MEDIA,
            }),
          ],
        });
      }
      for (const sub of k.subresources ?? []) {
        const subGvk = { group: k.group, version, kind: sub.kind };
        const subDef = definitionName(k.group, version, sub.kind);
        const title = camel(sub.name);
        const operation =
          sub.verb === 'get'
            ? op({
                method: 'get',
                operationId: `read${gv}${ns}${k.kind}${title}`,
                description: sub.description,
                action: 'get',
                gvk: subGvk,
                params: Object.entries(sub.queryParameters ?? {}).map(([name, description]) => ({ name, in: 'query' as const, type: 'string' as const, description })),
                responses: [ok(subDef), unauthorized],
                produces: OBJECT_MEDIA,
              })
            : op({
                method: 'post',
                operationId: `create${gv}${ns}${k.kind}${title}`,
                description: sub.description,
                action: 'post',
                gvk: subGvk,
                params: [P.dryRun],
                body: { definition: subDef, contentTypes: BODY_MEDIA },
                responses: [ok(subDef), created(subDef), accepted(subDef), unauthorized],
                produces: OBJECT_MEDIA,
              });
        routes.push({ path: `${item}/${sub.name}`, group: k.group, version, params: [nameParam(k.kind), ...nsParam, P.pretty], operations: [operation] });
      }
    }
  }
  return routes;
}

/**
 * The objects of the computed subresources and custom verbs (`TopologyPromotion`, …), one per
 * served version: apiVersion, kind, metadata, then the declaration's response fields (and `spec`
 * from its request schema when the response does not describe it).
 */
function subresourceDefinitions(k: KindDeclaration, defs: Record<string, JsonSchema>): void {
  for (const sub of k.subresources ?? []) {
    const extracted: Record<string, JsonSchema> = {};
    const prefix = definitionName(k.group, k.versions[0], sub.kind);
    const response = fromZod(sub.response, { definitionPrefix: prefix, definitions: extracted });
    const fields = { ...((response.properties as Record<string, JsonSchema> | undefined) ?? {}) };
    if (sub.requestSpec && !fields.spec) fields.spec = fromZod(sub.requestSpec, { definitionPrefix: prefix, definitions: extracted });
    delete fields.apiVersion;
    delete fields.kind;
    delete fields.metadata;
    Object.assign(defs, extracted);
    for (const version of k.versions) {
      defs[definitionName(k.group, version, sub.kind)] = {
        type: 'object',
        description: sub.description,
        properties: {
          apiVersion: { type: 'string', description: API_VERSION_DESCRIPTION },
          kind: { type: 'string', description: KIND_DESCRIPTION },
          metadata: { ...ref(OBJECT_META), description: OBJECT_META_DESCRIPTION },
          ...fields,
        },
        'x-kubernetes-group-version-kind': [{ group: k.group, kind: sub.kind, version }],
      };
    }
  }
}

// ---- definitions ------------------------------------------------------------------------------

/** The neutral definitions of the kinds (object and list per served version) and what zod extracted. */
export function kindDefinitions(kinds: KindDeclaration[]): Record<string, JsonSchema> {
  const defs: Record<string, JsonSchema> = {};
  for (const k of kinds) {
    // One conversion per kind, shared by every served version without a schema of its own.
    const extracted: Record<string, JsonSchema> = {};
    const prefix = definitionName(k.group, k.versions[0], k.kind);
    const fields: Record<string, JsonSchema> = {};
    if (hasSpec(k)) {
      fields.spec = fromZod(k.spec, { definitionPrefix: prefix, definitions: extracted });
      fields.spec.description ??= `spec defines the desired state of the ${k.kind}.`;
    }
    if (hasStatus(k)) {
      fields.status = fromZod(k.status, { definitionPrefix: prefix, definitions: extracted });
      fields.status.description ??= `status is the observed state of the ${k.kind}, written by its controller through the status subresource.`;
    }
    for (const [name, schema] of Object.entries(k.topLevel ?? {})) {
      fields[name] = fromZod(schema, { definitionPrefix: prefix, definitions: extracted });
    }
    Object.assign(defs, extracted);
    subresourceDefinitions(k, defs);
    for (const version of k.versions) {
      const name = definitionName(k.group, version, k.kind);
      defs[name] = {
        type: 'object',
        description: k.description,
        properties: {
          apiVersion: { type: 'string', description: API_VERSION_DESCRIPTION },
          kind: { type: 'string', description: KIND_DESCRIPTION },
          metadata: { ...ref(OBJECT_META), description: OBJECT_META_DESCRIPTION },
          ...(ownVersionFields(k, version, defs) ?? fields),
        },
        'x-kubernetes-group-version-kind': [{ group: k.group, kind: k.kind, version }],
      };
      defs[definitionName(k.group, version, k.listKind)] = {
        type: 'object',
        description: `${k.listKind} is a list of ${k.kind}`,
        required: ['items'],
        properties: {
          apiVersion: { type: 'string', description: API_VERSION_DESCRIPTION },
          items: {
            type: 'array',
            description: `List of ${k.plural}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`,
            items: ref(name),
          },
          kind: { type: 'string', description: KIND_DESCRIPTION },
          metadata: { ...ref(LIST_META), description: LIST_META_DESCRIPTION },
        },
        'x-kubernetes-group-version-kind': [{ group: k.group, kind: k.listKind, version }],
      };
    }
  }
  return defs;
}

/**
 * `spec` and `status` of a version with its own schema (`KindDeclaration.versionSchemas`), its
 * extracted definitions added to `defs` under the version's prefix; undefined for a version that
 * shares the storage version's schema.
 */
function ownVersionFields(k: KindDeclaration, version: string, defs: Record<string, JsonSchema>): Record<string, JsonSchema> | undefined {
  const own = versionSchemaOf(k, version);
  if (!own) return undefined;
  const extracted: Record<string, JsonSchema> = {};
  const prefix = definitionName(k.group, version, k.kind);
  const spec = fromZod(own.spec, { definitionPrefix: prefix, definitions: extracted });
  spec.description ??= `spec defines the desired state of the ${k.kind}.`;
  const status = fromZod(own.status, { definitionPrefix: prefix, definitions: extracted });
  status.description ??= `status is the observed state of the ${k.kind}, written by its controller through the status subresource.`;
  Object.assign(defs, extracted);
  return { spec, status };
}

/** The definitions reachable from `roots`, in sorted order; throws on a dangling reference. */
function closure(roots: Iterable<string>, all: Record<string, JsonSchema>): Record<string, JsonSchema> {
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (seen.has(name)) continue;
    const def = all[name];
    if (!def) throw new Error(`OpenAPI: reference to unknown definition ${name}`);
    seen.add(name);
    for (const r of refsOf(def)) queue.push(r);
  }
  return Object.fromEntries([...seen].sort().map((n) => [n, all[n]]));
}

function routeRefs(routes: Route[]): Set<string> {
  const out = new Set<string>();
  for (const r of routes) {
    for (const o of r.operations) {
      if (o.body) out.add(o.body.definition);
      for (const res of o.responses) if (res.definition) out.add(res.definition);
    }
  }
  return out;
}

// ---- documents --------------------------------------------------------------------------------

function gvkExtension(gvk: GroupVersionKind) {
  return { group: gvk.group, kind: gvk.kind, version: gvk.version };
}

function v2Param(p: Param): JsonSchema {
  const out: JsonSchema = { uniqueItems: true, type: p.type, description: p.description, name: p.name, in: p.in };
  if (p.required) out.required = true;
  return out;
}

function v3Param(p: Param): JsonSchema {
  const out: JsonSchema = { name: p.name, in: p.in, description: p.description };
  if (p.required) out.required = true;
  out.schema = { type: p.type, uniqueItems: true };
  return out;
}

const SECURITY_V2 = { securityDefinitions: { BearerToken: { type: 'apiKey', name: 'authorization', in: 'header', description: 'Bearer Token authentication' } } };

/** The Swagger 2.0 document of every kind (`/openapi/v2`). */
export function buildV2(kinds: KindDeclaration[], options: OpenAPIOptions = {}): JsonSchema {
  const routes = routesOf(kinds, options);
  const all = { ...apimachineryDefinitions, ...kindDefinitions(kinds) };
  const kindRoots = Object.keys(all).filter((n) => !(n in apimachineryDefinitions));
  const defs = closure([...routeRefs(routes), ...kindRoots, OBJECT_META, LIST_META, STATUS, DELETE_OPTIONS, 'io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent'], all);
  const paths: JsonSchema = {};
  for (const r of routes) {
    const item: JsonSchema = {};
    for (const o of r.operations) {
      const params = o.params.map(v2Param);
      if (o.body) params.unshift({ name: 'body', in: 'body', required: o.method !== 'delete', schema: ref(o.body.definition) });
      const responses: JsonSchema = {};
      for (const res of o.responses) responses[res.code] = res.definition ? { description: res.description, schema: ref(res.definition) } : { description: res.description };
      item[o.method] = {
        description: o.description,
        consumes: o.body ? o.body.contentTypes : ['*/*'],
        produces: o.produces,
        schemes: ['https'],
        tags: [o.tag],
        operationId: o.operationId,
        parameters: params,
        responses,
        'x-kubernetes-action': o.action,
        'x-kubernetes-group-version-kind': gvkExtension(o.gvk),
      };
    }
    item.parameters = r.params.map(v2Param);
    paths[r.path] = item;
  }
  return {
    swagger: '2.0',
    info: { title: options.title ?? 'operators-apiserver', version: options.version ?? 'unversioned' },
    paths,
    definitions: Object.fromEntries(Object.entries(defs).map(([n, d]) => [n, toV2(d)])),
    ...SECURITY_V2,
    security: [{ BearerToken: [] }],
  };
}

/** The OpenAPI 3.0 document of one group version (`/openapi/v3/apis/<group>/<version>`). */
export function buildV3(kinds: KindDeclaration[], group: string, version: string, options: OpenAPIOptions = {}): JsonSchema {
  const served = kinds.filter((k) => k.group === group && k.versions.includes(version));
  const routes = routesOf(served, options).filter((r) => r.group === group && r.version === version);
  const all = { ...apimachineryDefinitions, ...kindDefinitions(served) };
  const kindRoots = Object.keys(all).filter((n) => !(n in apimachineryDefinitions) && n.startsWith(`${definitionPrefix(group, version)}.`));
  const defs = closure([...routeRefs(routes), ...kindRoots], all);
  const paths: JsonSchema = {};
  for (const r of routes) {
    const item: JsonSchema = {};
    for (const o of r.operations) {
      const operation: JsonSchema = {
        tags: [o.tag],
        description: o.description,
        operationId: o.operationId,
        parameters: o.params.map(v3Param),
      };
      if (o.body) {
        const schema = { $ref: `#/components/schemas/${o.body.definition}` };
        operation.requestBody = {
          content: Object.fromEntries(o.body.contentTypes.map((t) => [t, { schema }])),
          required: o.method !== 'delete',
        };
      }
      const responses: JsonSchema = {};
      for (const res of o.responses) {
        responses[res.code] = res.definition
          ? {
              description: res.description,
              content: Object.fromEntries(o.produces.map((t) => [t, { schema: { $ref: `#/components/schemas/${res.definition}` } }])),
            }
          : { description: res.description };
      }
      operation.responses = responses;
      operation['x-kubernetes-action'] = o.action;
      operation['x-kubernetes-group-version-kind'] = gvkExtension(o.gvk);
      item[o.method] = operation;
    }
    item.parameters = r.params.map(v3Param);
    paths[r.path] = item;
  }
  return {
    openapi: '3.0.0',
    info: { title: options.title ?? 'operators-apiserver', version: options.version ?? 'unversioned' },
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(defs).map(([n, d]) => [n, toV3(d)])),
      securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
    },
    security: [{ BearerToken: [] }],
  };
}
