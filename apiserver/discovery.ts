// API discovery, derived from the kind declarations: `/apis` (legacy APIGroupList, or the
// aggregated apidiscovery.k8s.io/v2 APIGroupDiscoveryList when Accept asks for it), `/apis/<g>`
// (APIGroup) and `/apis/<g>/<v>` (APIResourceList, which the kube-aggregator's availability probe
// and its legacy fallback read). Kinds of the core group (`group: ''`, only the test host cluster
// declares any) are served at `/api` (APIVersions, or the aggregated list of the core group) and
// `/api/<v>` instead. Every body and ETag but `/api`'s APIVersions is built once, at install time.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { groupVersionOf, groupVersionPath, hasStatus, isCoreGroup, type KindDeclaration } from '../registry/kind.js';
import { notAcceptable, pathNotFound } from './errors.js';
import { send, sendStatus } from './response.js';
import { parseAccept, rangeMatches, sendStatic, staticDocument, type StaticDocument } from './static.js';

/** Verbs of every main resource, sorted. */
export const RESOURCE_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
/** Verbs of the `status` and `scale` subresources. */
export const SUBRESOURCE_VERBS = ['get', 'patch', 'update'];

export const AGGREGATED_DISCOVERY_GROUP = 'apidiscovery.k8s.io';
export const AGGREGATED_DISCOVERY_KIND = 'APIGroupDiscoveryList';
/** The versions of aggregated discovery served; client-go 1.32 asks for v2, then v2beta1. */
export const AGGREGATED_DISCOVERY_VERSIONS = ['v2', 'v2beta1'] as const;
export type AggregatedDiscoveryVersion = (typeof AGGREGATED_DISCOVERY_VERSIONS)[number];

export function aggregatedContentType(version: AggregatedDiscoveryVersion): string {
  return `application/json;g=${AGGREGATED_DISCOVERY_GROUP};v=${version};as=${AGGREGATED_DISCOVERY_KIND}`;
}

/** The media types the discovery endpoints can produce (for 406 messages). */
const DISCOVERY_MEDIA_TYPES = ['application/json', ...AGGREGATED_DISCOVERY_VERSIONS.map(aggregatedContentType)];

// ---- versions and groups ----------------------------------------------------------------------

const KUBE_VERSION = /^v(\d+)(?:(alpha|beta)(\d+))?$/;

/**
 * Kubernetes' version priority (apimachinery `CompareKubeAwareVersionStrings`): GA before beta
 * before alpha, higher numbers first; versions that do not look like `v1beta2` sort last, by name.
 * Negative when `a` has the higher priority.
 */
export function compareVersionPriority(a: string, b: string): number {
  const ma = KUBE_VERSION.exec(a);
  const mb = KUBE_VERSION.exec(b);
  if (!ma || !mb) {
    if (ma) return -1;
    if (mb) return 1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  const stability = (m: RegExpExecArray) => (m[2] === undefined ? 2 : m[2] === 'beta' ? 1 : 0);
  if (stability(ma) !== stability(mb)) return stability(mb) - stability(ma);
  if (ma[1] !== mb[1]) return Number(mb[1]) - Number(ma[1]);
  return Number(mb[3] ?? 0) - Number(ma[3] ?? 0);
}

export interface GroupVersions {
  group: string;
  /** Preferred first: the first version of the group's first kind, the rest by version priority. */
  versions: string[];
}

/** The API groups of `kinds`, in the order their first kind appears. */
export function groupsOf(kinds: KindDeclaration[]): GroupVersions[] {
  const groups = new Map<string, { preferred: string; versions: Set<string> }>();
  for (const k of kinds) {
    let g = groups.get(k.group);
    if (!g) {
      g = { preferred: k.versions[0], versions: new Set() };
      groups.set(k.group, g);
    }
    for (const v of k.versions) g.versions.add(v);
  }
  return [...groups].map(([group, g]) => ({
    group,
    versions: [g.preferred, ...[...g.versions].filter((v) => v !== g.preferred).sort(compareVersionPriority)],
  }));
}

/** The kinds served at `group/version`, sorted by resource name. */
export function kindsAt(kinds: KindDeclaration[], group: string, version: string): KindDeclaration[] {
  return kinds.filter((k) => k.group === group && k.versions.includes(version)).sort((a, b) => (a.plural < b.plural ? -1 : a.plural > b.plural ? 1 : 0));
}

/**
 * `storageVersionHash` as kube-apiserver computes it (`discovery.StorageVersionHash`): base64 of the
 * first 8 bytes of SHA-256 of `<group>/<storage version>/<kind>`.
 */
export function storageVersionHash(group: string, version: string, kind: string): string {
  return createHash('sha256').update(`${group}/${version}/${kind}`).digest().subarray(0, 8).toString('base64');
}

// ---- legacy documents -------------------------------------------------------------------------

function groupVersionEntry(group: string, version: string) {
  return { groupVersion: groupVersionOf(group, version), version };
}

function apiGroupBody(g: GroupVersions) {
  return {
    name: g.group,
    versions: g.versions.map((v) => groupVersionEntry(g.group, v)),
    preferredVersion: groupVersionEntry(g.group, g.versions[0]),
  };
}

/** The named groups (`/apis`); the core group is listed at `/api` instead. */
export function apiGroupList(kinds: KindDeclaration[]) {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groupsOf(kinds).filter((g) => !isCoreGroup(g.group)).map(apiGroupBody) };
}

/**
 * `/api`'s legacy document (metav1.APIVersions) for a server whose kinds include the core group;
 * `serverAddress` is the host the client reached, as kube-apiserver reports it.
 */
export function apiVersions(kinds: KindDeclaration[], serverAddress: string) {
  const core = groupsOf(kinds).find((g) => isCoreGroup(g.group));
  return {
    kind: 'APIVersions',
    versions: core?.versions ?? [],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

export function apiGroup(kinds: KindDeclaration[], group: string) {
  const g = groupsOf(kinds).find((x) => x.group === group);
  if (!g) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroupBody(g) };
}

export function apiResourceList(kinds: KindDeclaration[], group: string, version: string) {
  const resources: Record<string, unknown>[] = [];
  for (const k of kindsAt(kinds, group, version)) {
    const main: Record<string, unknown> = {
      name: k.plural,
      singularName: k.singular,
      namespaced: k.namespaced,
      kind: k.kind,
      verbs: RESOURCE_VERBS,
    };
    if (k.shortNames.length > 0) main.shortNames = k.shortNames;
    if (k.categories.length > 0) main.categories = k.categories;
    main.storageVersionHash = storageVersionHash(k.group, k.versions[0], k.kind);
    resources.push(main);
    if (hasStatus(k)) {
      resources.push({ name: `${k.plural}/status`, singularName: '', namespaced: k.namespaced, kind: k.kind, verbs: SUBRESOURCE_VERBS });
    }
    if (k.scale) {
      resources.push({
        name: `${k.plural}/scale`,
        singularName: '',
        namespaced: k.namespaced,
        group: 'autoscaling',
        version: 'v1',
        kind: 'Scale',
        verbs: SUBRESOURCE_VERBS,
      });
    }
    for (const sub of k.subresources ?? []) {
      resources.push({ name: `${k.plural}/${sub.name}`, singularName: '', namespaced: k.namespaced, kind: sub.kind, verbs: [sub.verb] });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersionOf(group, version), resources };
}

// ---- aggregated discovery ---------------------------------------------------------------------

/**
 * The aggregated discovery document of the named groups (`/apis`), or with `scope: 'core'` of the
 * core group alone (`/api`, whose one item has no name).
 */
export function aggregatedDiscovery(kinds: KindDeclaration[], version: AggregatedDiscoveryVersion = 'v2', scope: 'named' | 'core' = 'named') {
  return {
    kind: AGGREGATED_DISCOVERY_KIND,
    apiVersion: `${AGGREGATED_DISCOVERY_GROUP}/${version}`,
    metadata: {},
    items: groupsOf(kinds).filter((g) => isCoreGroup(g.group) === (scope === 'core')).map((g) => ({
      metadata: isCoreGroup(g.group) ? {} : { name: g.group },
      versions: g.versions.map((v) => ({
        version: v,
        resources: kindsAt(kinds, g.group, v).map((k) => {
          const resource: Record<string, unknown> = {
            resource: k.plural,
            responseKind: { group: k.group, version: v, kind: k.kind },
            scope: k.namespaced ? 'Namespaced' : 'Cluster',
            singularResource: k.singular,
            verbs: RESOURCE_VERBS,
          };
          if (k.shortNames.length > 0) resource.shortNames = k.shortNames;
          if (k.categories.length > 0) resource.categories = k.categories;
          const subresources: Record<string, unknown>[] = [];
          if (hasStatus(k)) {
            subresources.push({ subresource: 'status', responseKind: { group: k.group, version: v, kind: k.kind }, verbs: SUBRESOURCE_VERBS });
          }
          if (k.scale) {
            subresources.push({
              subresource: 'scale',
              responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
              verbs: SUBRESOURCE_VERBS,
            });
          }
          for (const sub of k.subresources ?? []) {
            subresources.push({ subresource: sub.name, responseKind: { group: k.group, version: v, kind: sub.kind }, verbs: [sub.verb] });
          }
          if (subresources.length > 0) resource.subresources = subresources;
          return resource;
        }),
        freshness: 'Current',
      })),
    })),
  };
}

// ---- negotiation and serving ------------------------------------------------------------------

export type DiscoveryFormat = { aggregated: false } | { aggregated: true; version: AggregatedDiscoveryVersion };

/**
 * What `/apis` answers for an Accept header: the first acceptable range wins. A range with
 * `g=apidiscovery.k8s.io;v=v2|v2beta1;as=APIGroupDiscoveryList` (parameters in any order) gets the
 * aggregated list; plain JSON (or a wildcard) gets the legacy APIGroupList; ranges for other
 * representations (protobuf, other `as=`) are skipped. `undefined` when nothing is acceptable.
 */
export function negotiateDiscovery(accept: string | string[] | undefined, allowAggregated: boolean): DiscoveryFormat | undefined {
  for (const range of parseAccept(accept)) {
    if (!rangeMatches(range, 'application', 'json')) continue;
    const { g, v, as } = range.params;
    if (as === undefined && g === undefined && v === undefined) return { aggregated: false };
    if (
      allowAggregated &&
      as === AGGREGATED_DISCOVERY_KIND &&
      g === AGGREGATED_DISCOVERY_GROUP &&
      (AGGREGATED_DISCOVERY_VERSIONS as readonly string[]).includes(v ?? '')
    ) {
      return { aggregated: true, version: v as AggregatedDiscoveryVersion };
    }
  }
  return undefined;
}

const AGGREGATED_HEADERS = { vary: 'Accept', 'cache-control': 'public' };

/** The documents discovery serves, precomputed. Exported for tests and benchmarks. */
export interface DiscoveryDocuments {
  groupList: StaticDocument;
  aggregated: Record<AggregatedDiscoveryVersion, StaticDocument>;
  /** `/api`'s aggregated document; present when some kind is of the core group. */
  coreAggregated?: Record<AggregatedDiscoveryVersion, StaticDocument>;
  /** Named groups only. */
  groups: Map<string, StaticDocument>;
  /** Keyed by URL path: `/apis/<group>/<version>`, `/api/<version>`. */
  resourceLists: Map<string, StaticDocument>;
}

export function buildDiscoveryDocuments(kinds: KindDeclaration[]): DiscoveryDocuments {
  const groups = new Map<string, StaticDocument>();
  const resourceLists = new Map<string, StaticDocument>();
  for (const g of groupsOf(kinds)) {
    if (!isCoreGroup(g.group)) groups.set(g.group, staticDocument(apiGroup(kinds, g.group), 'application/json'));
    for (const v of g.versions) {
      resourceLists.set(groupVersionPath(g.group, v), staticDocument(apiResourceList(kinds, g.group, v), 'application/json'));
    }
  }
  const aggregated = (scope: 'named' | 'core') => ({
    v2: staticDocument(aggregatedDiscovery(kinds, 'v2', scope), aggregatedContentType('v2')),
    v2beta1: staticDocument(aggregatedDiscovery(kinds, 'v2beta1', scope), aggregatedContentType('v2beta1')),
  });
  return {
    groupList: staticDocument(apiGroupList(kinds), 'application/json'),
    aggregated: aggregated('named'),
    coreAggregated: kinds.some((k) => isCoreGroup(k.group)) ? aggregated('core') : undefined,
    groups,
    resourceLists,
  };
}

/**
 * Serves `/apis`, `/apis/<group>` and `/apis/<group>/<version>` for `kinds`, and `/api`,
 * `/api/<version>` when some kind is of the core group. Otherwise `/api` (this server does not
 * serve the core group) and unknown groups or versions answer a 404 Status; client-go tolerates
 * the 404 on `/api`.
 */
export function installDiscovery(app: FastifyInstance, kinds: KindDeclaration[]): DiscoveryDocuments {
  const docs = buildDiscoveryDocuments(kinds);

  const notFound = (_req: FastifyRequest, reply: FastifyReply) => sendStatus(reply, pathNotFound().status);
  const plainJson = (doc: StaticDocument) => (req: FastifyRequest, reply: FastifyReply) => {
    const format = negotiateDiscovery(req.headers.accept, false);
    if (!format) return sendStatus(reply, notAcceptable(['application/json']).status);
    return sendStatic(req, reply, doc);
  };

  app.get('/apis', (req, reply) => {
    const format = negotiateDiscovery(req.headers.accept, true);
    if (!format) return sendStatus(reply, notAcceptable(DISCOVERY_MEDIA_TYPES).status);
    if (format.aggregated) return sendStatic(req, reply, docs.aggregated[format.version], AGGREGATED_HEADERS);
    // The legacy list varies by Accept too (it is what a non-aggregated Accept gets).
    return sendStatic(req, reply, docs.groupList, { vary: 'Accept' });
  });
  const core = docs.coreAggregated;
  if (core) {
    app.get('/api', (req, reply) => {
      const format = negotiateDiscovery(req.headers.accept, true);
      if (!format) return sendStatus(reply, notAcceptable(DISCOVERY_MEDIA_TYPES).status);
      if (format.aggregated) return sendStatic(req, reply, core[format.version], AGGREGATED_HEADERS);
      reply.header('vary', 'Accept');
      return send(reply, 200, apiVersions(kinds, req.host));
    });
    app.get('/api/:version', notFound);
  } else {
    app.get('/api', notFound);
  }
  for (const [group, doc] of docs.groups) app.get(`/apis/${group}`, plainJson(doc));
  for (const [path, doc] of docs.resourceLists) app.get(path, plainJson(doc));
  // Static routes win over these in the router; they only catch unknown groups and versions.
  app.get('/apis/:group', notFound);
  app.get('/apis/:group/:version', notFound);
  return docs;
}
