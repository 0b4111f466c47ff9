// The API server's own Prometheus metrics, with kube-apiserver's names and labels so that existing
// dashboards and alerts work unchanged (k8s.io/apiserver pkg/endpoints/metrics/metrics.go and
// pkg/storage/etcd3/metrics/metrics.go, v0.32):
//   apiserver_request_total{verb,dry_run,group,version,resource,subresource,scope,component,code}
//   apiserver_request_duration_seconds{verb,dry_run,group,version,resource,subresource,scope,component}
//   apiserver_current_inflight_requests{request_kind}           readOnly | mutating, not long-running
//   apiserver_longrunning_requests{verb,group,version,resource,subresource,scope,component}
//   apiserver_watch_events_total{group,version,kind}
//   apiserver_storage_objects{resource}                         from the watch caches, at scrape time
//   operators_object_phase{group,resource,namespace,name,phase}  1 per object with a status.phase
//                                                               (ours, not upstream: what alerts on
//                                                               a Failed topology or group select)
//   etcd_request_duration_seconds{operation,type}               every Backend call, whatever the driver
// Every request is counted, including those the filters turn away (401, 403, 429): the hook runs
// right after request-info, before authentication. The metrics live on one shared registry; several
// servers in one process (tests) share them, so they are looked up before they are created.
import type { FastifyRequest } from 'fastify';
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { KindDeclaration } from '../../registry/kind.js';
import type { KubeObject } from '../../registry/meta.js';
import { resourcePrefix } from '../../registry/store.js';
import { metricsRegistry } from '../metrics.js';
import { isLongRunning, isMutatingVerb, type RequestInfo } from '../request-info.js';
import type { RequestEnd, RequestFilter } from './chain.js';

export const COMPONENT = 'apiserver';

const REQUEST_LABELS = ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component'] as const;
type RequestLabel = (typeof REQUEST_LABELS)[number];
type LongRunningLabel = Exclude<RequestLabel, 'dry_run'>;

/** kube-apiserver's request latency buckets. */
const REQUEST_DURATION_BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];
/** kube-apiserver's etcd request latency buckets. */
const STORAGE_DURATION_BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];

/** Verbs kube-apiserver reports as they are; anything else is `other`. */
const VALID_VERBS = new Set(['APPLY', 'CONNECT', 'CREATE', 'DELETE', 'DELETECOLLECTION', 'GET', 'LIST', 'PATCH', 'POST', 'PROXY', 'PUT', 'UPDATE', 'WATCH', 'WATCHLIST']);
/** Subresources reported as CONNECT (`validConnectRequests`). */
const CONNECT_SUBRESOURCES = new Set(['proxy', 'attach', 'exec', 'portforward']);
/** Our request-info verbs → the route verbs kube-apiserver's installer instruments. */
const ROUTE_VERBS: Record<string, string> = {
  get: 'GET',
  list: 'LIST',
  watch: 'WATCH',
  create: 'POST',
  update: 'PUT',
  patch: 'PATCH',
  delete: 'DELETE',
  deletecollection: 'DELETECOLLECTION',
};

function getOrCreate<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

interface ApiServerMetrics {
  requests: Counter<RequestLabel | 'code'>;
  durations: Histogram<RequestLabel>;
  inflight: Gauge<'request_kind'>;
  inflightCounts: InflightCounts;
  longRunning: Gauge<LongRunningLabel>;
  watchEvents: Counter<'group' | 'version' | 'kind'>;
  storageDurations: Histogram<'operation' | 'type'>;
}

/** What a server's watch caches hold, read at every scrape. */
export interface StoredResource {
  group: string;
  /** `plural.group` (kube-apiserver's `resource` label of apiserver_storage_objects). */
  resource: string;
  count(): number;
  /** Every object (shared, read-only), for the phase gauge. */
  objects(): Iterable<KubeObject>;
}

const storageObjectSources = new Set<() => Iterable<StoredResource>>();

const metricsByRegistry = new WeakMap<Registry, ApiServerMetrics>();

function apiServerMetrics(registry: Registry = metricsRegistry): ApiServerMetrics {
  const cached = metricsByRegistry.get(registry);
  // A registry that was cleared (tests) no longer holds the cached metrics: create them again.
  if (cached && registry.getSingleMetric('apiserver_request_total') === cached.requests) return cached;
  const created = createApiServerMetrics(registry);
  metricsByRegistry.set(registry, created);
  return created;
}

/**
 * Requests in flight per kind, counted in plain numbers (per gauge) and read into
 * apiserver_current_inflight_requests at scrape time: no label hashing per request.
 */
type InflightCounts = Record<'readOnly' | 'mutating', number>;
const inflightCounts = new WeakMap<object, InflightCounts>();

function inflightCountsOf(gauge: Gauge<'request_kind'>): InflightCounts {
  let counts = inflightCounts.get(gauge);
  if (counts === undefined) {
    const created: InflightCounts = { readOnly: 0, mutating: 0 };
    counts = created;
    inflightCounts.set(gauge, created);
    (gauge as unknown as { collect: () => void }).collect = () => {
      for (const kind of ['readOnly', 'mutating'] as const) gauge.set({ request_kind: kind }, created[kind]);
    };
  }
  return counts;
}

function createApiServerMetrics(registry: Registry): ApiServerMetrics {
  const registers = [registry];
  const inflight = getOrCreate(registry, 'apiserver_current_inflight_requests', () =>
    new Gauge({
      name: 'apiserver_current_inflight_requests',
      help: 'Number of requests currently being served (not long-running) of this apiserver per request kind.',
      labelNames: ['request_kind'],
      registers,
    }),
  );
  return {
    requests: getOrCreate(registry, 'apiserver_request_total', () =>
      new Counter({
        name: 'apiserver_request_total',
        help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
        labelNames: [...REQUEST_LABELS, 'code'],
        registers,
      }),
    ),
    durations: getOrCreate(registry, 'apiserver_request_duration_seconds', () =>
      new Histogram({
        name: 'apiserver_request_duration_seconds',
        help: 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
        labelNames: [...REQUEST_LABELS],
        buckets: REQUEST_DURATION_BUCKETS,
        registers,
      }),
    ),
    inflight,
    inflightCounts: inflightCountsOf(inflight),
    longRunning: getOrCreate(registry, 'apiserver_longrunning_requests', () =>
      new Gauge({
        name: 'apiserver_longrunning_requests',
        help: 'Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component.',
        labelNames: REQUEST_LABELS.filter((l): l is LongRunningLabel => l !== 'dry_run'),
        registers,
      }),
    ),
    watchEvents: getOrCreate(registry, 'apiserver_watch_events_total', () =>
      new Counter({
        name: 'apiserver_watch_events_total',
        help: 'Number of events sent in watch clients',
        labelNames: ['group', 'version', 'kind'],
        registers,
      }),
    ),
    storageDurations: getOrCreate(registry, 'etcd_request_duration_seconds', () =>
      new Histogram({
        name: 'etcd_request_duration_seconds',
        help: 'Storage request latency in seconds for each operation and object type (every storage driver, not only etcd).',
        labelNames: ['operation', 'type'],
        buckets: STORAGE_DURATION_BUCKETS,
        registers,
      }),
    ),
  };
}

function ensureStorageObjectsGauges(registry: Registry = metricsRegistry): void {
  getOrCreate(registry, 'apiserver_storage_objects', () =>
    new Gauge({
      name: 'apiserver_storage_objects',
      help: 'Number of stored objects at the time of last check split by kind.',
      labelNames: ['resource'],
      registers: [registry],
      collect() {
        this.reset();
        const totals = new Map<string, number>();
        for (const source of storageObjectSources) {
          for (const r of source()) totals.set(r.resource, (totals.get(r.resource) ?? 0) + r.count());
        }
        for (const [resource, count] of totals) this.set({ resource }, count);
      },
    }),
  );
  getOrCreate(registry, 'operators_object_phase', () =>
    new Gauge({
      name: 'operators_object_phase',
      help: 'The status.phase of every stored object that has one (value 1), e.g. a Failed StormTopology.',
      labelNames: ['group', 'resource', 'namespace', 'name', 'phase'],
      registers: [registry],
      collect() {
        this.reset();
        for (const source of storageObjectSources) {
          for (const r of source()) {
            for (const obj of readableObjects(r)) {
              const phase = (obj as { status?: { phase?: unknown } }).status?.phase;
              if (typeof phase !== 'string' || phase === '') continue;
              this.set({ group: r.group, resource: r.resource.split('.')[0], namespace: obj.metadata.namespace ?? '', name: obj.metadata.name ?? '', phase }, 1);
            }
          }
        }
      },
    }),
  );
}

/**
 * The objects of `r`, or none while its watch cache cannot be read (before the first sync, after
 * its server stopped): a scrape must never fail because one cache is not ready.
 */
function readableObjects(r: StoredResource): Iterable<KubeObject> {
  try {
    return r.objects();
  } catch {
    return [];
  }
}

/** kube-apiserver's CleanScope. */
export function requestScope(info: RequestInfo): string {
  if (info.name !== '' || (info.isResourceRequest && info.verb === 'create')) return 'resource';
  if (info.namespace !== '') return 'namespace';
  if (info.isResourceRequest) return 'cluster';
  return '';
}

/** kube-apiserver's reported verb (route verb, then CleanVerb: WATCH, APPLY, CONNECT; else `other`). */
export function requestVerb(info: RequestInfo, method: string, contentType: string | undefined): string {
  let verb: string;
  if (info.isResourceRequest) {
    verb = ROUTE_VERBS[info.verb] ?? info.verb.toUpperCase();
    if (verb === 'PATCH' && (contentType ?? '').split(';')[0].trim().toLowerCase() === 'application/apply-patch+yaml') verb = 'APPLY';
    if (info.subresource !== '' && CONNECT_SUBRESOURCES.has(info.subresource)) verb = 'CONNECT';
  } else {
    verb = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  }
  return VALID_VERBS.has(verb) ? verb : 'other';
}

/** kube-apiserver's cleanDryRun: `All`, '' when absent, `invalid` for anything else. */
export function dryRunLabel(url: string): string {
  if (!url.includes('dryRun')) return '';
  const values = new URL(url, 'http://request.invalid').searchParams.getAll('dryRun');
  if (values.length === 0) return '';
  return values.every((v) => v === 'All') ? 'All' : 'invalid';
}

function labelsOf(req: FastifyRequest): Record<RequestLabel, string> {
  const info = req.requestInfo;
  return {
    verb: requestVerb(info, req.method, req.headers['content-type']),
    dry_run: dryRunLabel(req.url),
    group: info.apiGroup,
    version: info.apiVersion,
    resource: info.isResourceRequest ? info.resource : '',
    // Non-resource requests carry their route (not the raw path, which would be unbounded).
    subresource: info.isResourceRequest ? info.subresource : (req.routeOptions.url ?? ''),
    scope: requestScope(info),
    component: COMPONENT,
  };
}

/**
 * Request counts not yet added to apiserver_request_total, per label set (the remembered label
 * objects of `requestLabels`): added when the counter is read (its `collect`, at every scrape) or
 * when too many label sets wait. A plain number per request instead of prom-client's label
 * validation and hashing.
 */
const MAX_PENDING_SERIES = 4096;
const pendingCounts = new WeakMap<object, Map<Record<string, string>, number>>();

function pendingCountsOf(counter: Counter<RequestLabel | 'code'>): Map<Record<string, string>, number> {
  let pending = pendingCounts.get(counter);
  if (pending === undefined) {
    const created = new Map<Record<string, string>, number>();
    pending = created;
    pendingCounts.set(counter, created);
    (counter as unknown as { collect: () => void }).collect = () => flushCounts(counter, created);
  }
  return pending;
}

function flushCounts(counter: Counter<RequestLabel | 'code'>, pending: Map<Record<string, string>, number>): void {
  for (const [labels, count] of pending) counter.inc(labels, count);
  pending.clear();
}

/** The label sets of one request shape, and of it with each response code seen. */
interface KnownLabels {
  /** Remembered (the same objects for later requests of this shape), so counts may wait. */
  remembered: boolean;
  /** The route of a non-resource request (part of its labels); undefined for resource requests. */
  route: string | undefined;
  labels: Record<RequestLabel, string>;
  withCode: Map<number, Record<RequestLabel | 'code', string>>;
}

/**
 * Label sets by request attributes. RequestInfo objects are shared by every request with the same
 * method and URL (filters/request-info.ts), and the labels are a function of them, the URL and the
 * route; a PATCH's also of its Content-Type (APPLY), so those are computed every time.
 */
const knownLabels = new WeakMap<object, KnownLabels>();

function requestLabels(req: FastifyRequest): KnownLabels {
  const info = req.requestInfo;
  const route = info.isResourceRequest ? undefined : (req.routeOptions.url ?? '');
  const known = knownLabels.get(info);
  if (known !== undefined && known.route === route) return known;
  const remembered = info.verb !== 'patch';
  const fresh: KnownLabels = { remembered, route, labels: labelsOf(req), withCode: new Map() };
  if (remembered) knownLabels.set(info, fresh);
  return fresh;
}

/** Counts one request: later (pending) for remembered label sets, else now. */
function countRequest(counter: Counter<RequestLabel | 'code'>, pending: Map<Record<string, string>, number>, known: KnownLabels, code: number): void {
  const labels = known.withCode.get(code);
  if (labels !== undefined) {
    pending.set(labels, (pending.get(labels) ?? 0) + 1);
    if (pending.size > MAX_PENDING_SERIES) flushCounts(counter, pending);
    return;
  }
  const created = { ...known.labels, code: String(code) };
  if (known.remembered && known.withCode.size < 64) {
    known.withCode.set(code, created);
    pending.set(created, (pending.get(created) ?? 0) + 1);
  } else {
    counter.inc(created);
  }
}

/**
 * Counts and times every request from right after request-info until its response is done (or the
 * connection goes away): also hijacked responses (watch), which skip fastify's onResponse hooks.
 * The filter starts the clock and counts the request in flight; its `end` does the rest.
 */
export function requestMetricsFilter(registry: Registry = metricsRegistry): { filter: RequestFilter; end: RequestEnd } {
  const metrics = apiServerMetrics(registry);
  ensureStorageObjectsGauges(registry);
  const inflight = metrics.inflightCounts;
  const pendingRequests = pendingCountsOf(metrics.requests);
  const filter: RequestFilter = (req) => {
    const state = req.filterState;
    state.startedAt = performance.now();
    const info = req.requestInfo;
    if (isLongRunning(info)) {
      const { dry_run: _ignored, ...rest } = labelsOf(req);
      state.longRunningLabels = rest;
      metrics.longRunning.inc(rest);
    } else {
      const kind = isMutatingVerb(info.verb) ? 'mutating' : 'readOnly';
      state.inflightKind = kind;
      inflight[kind]++;
    }
  };
  const end: RequestEnd = (req, reply) => {
    const state = req.filterState;
    if (state.longRunningLabels) metrics.longRunning.dec(state.longRunningLabels);
    else if (state.inflightKind) inflight[state.inflightKind]--;
    const known = requestLabels(req);
    const seconds = (performance.now() - state.startedAt) / 1000;
    countRequest(metrics.requests, pendingRequests, known, reply.raw.statusCode);
    metrics.durations.observe(known.labels, seconds);
  };
  return { filter, end };
}

/** Counts `count` events written to a watch stream of `group/version` `kind` (one update per batch). */
export function recordWatchEvents(group: string, version: string, kind: string, count = 1, registry: Registry = metricsRegistry): void {
  apiServerMetrics(registry).watchEvents.inc({ group, version, kind }, count);
}

/** The observer the instrumented storage backend reports each call to. */
export function storageRequestObserver(registry: Registry = metricsRegistry): (operation: string, type: string, seconds: number) => void {
  const { storageDurations } = apiServerMetrics(registry);
  return (operation, type, seconds) => storageDurations.observe({ operation, type }, seconds);
}

/**
 * Adds a source of `apiserver_storage_objects` and `operators_object_phase` (read at every
 * scrape); returns the function that removes it again (when its server closes).
 */
export function trackStorageObjects(source: () => Iterable<StoredResource>, registry: Registry = metricsRegistry): () => void {
  ensureStorageObjectsGauges(registry);
  storageObjectSources.add(source);
  return () => storageObjectSources.delete(source);
}

/** The `resource` / `type` label of a kind, as kube-apiserver writes it: `plural.group` (core: `plural`). */
export function groupResourceLabel(decl: Pick<KindDeclaration, 'group' | 'plural'>): string {
  return decl.group ? `${decl.plural}.${decl.group}` : decl.plural;
}

/** For the instrumented backend: the kind a storage key or prefix belongs to; `other` for the rest (leases, compaction). */
export function storageTypeOf(kinds: KindDeclaration[]): (key: string) => string {
  const prefixes = kinds.map((decl) => [resourcePrefix(decl), groupResourceLabel(decl)] as const);
  return (key) => prefixes.find(([prefix]) => key.startsWith(prefix))?.[1] ?? 'other';
}
