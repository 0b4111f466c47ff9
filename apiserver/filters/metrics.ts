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
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { KindDeclaration } from '../../registry/kind.js';
import type { KubeObject } from '../../registry/meta.js';
import { resourcePrefix } from '../../registry/store.js';
import { metricsRegistry } from '../metrics.js';
import { isLongRunning, isMutatingVerb, type RequestInfo } from '../request-info.js';

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

function createApiServerMetrics(registry: Registry): ApiServerMetrics {
  const registers = [registry];
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
    inflight: getOrCreate(registry, 'apiserver_current_inflight_requests', () =>
      new Gauge({
        name: 'apiserver_current_inflight_requests',
        help: 'Number of requests currently being served (not long-running) of this apiserver per request kind.',
        labelNames: ['request_kind'],
        registers,
      }),
    ),
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
 * Counts and times every request from right after request-info until its response is done (or the
 * connection goes away): also hijacked responses (watch), which skip fastify's onResponse hooks.
 */
export function installRequestMetricsFilter(app: FastifyInstance, registry: Registry = metricsRegistry): void {
  const metrics = apiServerMetrics(registry);
  ensureStorageObjectsGauges(registry);
  for (const kind of ['readOnly', 'mutating']) metrics.inflight.inc({ request_kind: kind }, 0);
  app.addHook('onRequest', (req, reply, done) => {
    const startedAt = process.hrtime.bigint();
    const info = req.requestInfo;
    const longRunning = isLongRunning(info);
    const kind = isMutatingVerb(info.verb) ? 'mutating' : 'readOnly';
    let longRunningLabels: Record<LongRunningLabel, string> | undefined;
    if (longRunning) {
      const { dry_run: _ignored, ...rest } = labelsOf(req);
      longRunningLabels = rest;
      metrics.longRunning.inc(longRunningLabels);
    } else {
      metrics.inflight.inc({ request_kind: kind });
    }
    reply.raw.once('close', () => {
      if (longRunningLabels) metrics.longRunning.dec(longRunningLabels);
      else metrics.inflight.dec({ request_kind: kind });
      const labels = labelsOf(req);
      const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
      metrics.requests.inc({ ...labels, code: String(reply.raw.statusCode) });
      metrics.durations.observe(labels, seconds);
    });
    done();
  });
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
