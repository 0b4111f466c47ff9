// GET …/stormtopologies/{name}/metrics[?window=600|10800|86400|all-time] (TopologyMetrics): the
// topology's statistics read live from the Nimbus of its cluster — never from status, so a number
// shown is a number Nimbus just reported. Totals and per-component aggregates come from
// getTopologyPageInfo (string-keyed aggregates, as the Storm UI reads them), the errors from
// getTopologyInfoByName. 404 when the StormTopology does not exist, 400 for an unknown window,
// 409 when Nimbus has no such topology, 503 when Nimbus cannot be reached.
import { z } from 'zod';
import { badRequest } from '../../../apiserver/errors.js';
import type { KubeObject } from '../../meta.js';
import type { SubresourceDeclaration } from '../../subresource.js';
import { GROUP } from '../common.js';
import { nimbusErrorToStatus, type ComponentAggregateStats, type Nimbus, type TopologyInfo, type TopologyPageInfo } from '../upstreams.js';
import { getTopology, nimbusOf } from './verbs.js';

/** The `window` values accepted, and Storm's name of each window. */
export const METRICS_WINDOWS: Record<string, string> = { '600': '600', '10800': '10800', '86400': '86400', 'all-time': ':all-time' };
export const DEFAULT_METRICS_WINDOW = 'all-time';

const count = () => z.number().int().min(0);
const ms = () => z.number().min(0);

const componentMetrics = z.strictObject({
  id: z.string().meta({ description: 'Component id.' }),
  type: z.enum(['spout', 'bolt']).meta({ description: 'spout or bolt.' }),
  executors: count().optional().meta({ description: 'Executors running the component.' }),
  tasks: count().optional().meta({ description: 'Tasks of the component.' }),
  emitted: count().optional().meta({ description: 'Tuples emitted in the window.' }),
  transferred: count().optional().meta({ description: 'Tuples transferred in the window.' }),
  acked: count().optional().meta({ description: 'Tuples acked in the window.' }),
  failed: count().optional().meta({ description: 'Tuples failed in the window.' }),
  executed: count().optional().meta({ description: 'Bolts: tuples executed in the window.' }),
  capacity: z.number().min(0).optional().meta({ description: 'Bolts: fraction of the window spent executing (1 = saturated).' }),
  executeLatencyMs: ms().optional().meta({ description: 'Bolts: average execute latency, in milliseconds.' }),
  processLatencyMs: ms().optional().meta({ description: 'Bolts: average process latency (until ack), in milliseconds.' }),
  completeLatencyMs: ms().optional().meta({ description: 'Spouts: average complete latency of tuple trees, in milliseconds.' }),
  lastError: z.string().optional().meta({ description: 'The last error the component reported.' }),
});

const topologyError = z.strictObject({
  component: z.string().meta({ description: 'Component that reported the error.' }),
  error: z.string().meta({ description: 'The error (usually a stack trace).' }),
  time: z.string().meta({ description: 'When it was reported (RFC 3339).' }),
  host: z.string().optional().meta({ description: 'Worker host.' }),
  port: z.number().int().optional().meta({ description: 'Worker port.' }),
});

export const topologyMetricsResponse = z
  .strictObject({
    metadata: z.strictObject({ name: z.string(), namespace: z.string().optional() }),
    timestamp: z.string().meta({ description: 'When Nimbus was read (RFC 3339).' }),
    window: z.enum(Object.keys(METRICS_WINDOWS) as [string, ...string[]]).meta({ description: 'The statistics window, in seconds, or all-time.' }),
    topology: z.strictObject({
      name: z.string().meta({ description: 'Storm topology name.' }),
      id: z.string().meta({ description: 'Storm topology id.' }),
      status: z.string().meta({ description: 'Nimbus status: ACTIVE, INACTIVE, REBALANCING or KILLED.' }),
      uptimeSeconds: count().optional(),
      workers: count().optional(),
      executors: count().optional(),
      tasks: count().optional(),
    }),
    totals: z
      .strictObject({
        emitted: count().optional(),
        transferred: count().optional(),
        acked: count().optional(),
        failed: count().optional(),
        completeLatencyMs: ms().optional().meta({ description: 'Average complete latency of the spouts, in milliseconds.' }),
        pendingTuples: count().optional().meta({ description: 'Σ over spouts of emitted − acked − failed in the window (at least 0).' }),
        capacityPercent: count().optional().meta({ description: 'Highest bolt capacity, in percent.' }),
      })
      .meta({ description: 'Topology totals in the window.' }),
    components: z.array(componentMetrics).meta({ description: 'Spouts, then bolts, by id.' }),
    errors: z.array(topologyError).meta({ description: 'Errors Nimbus reports for the topology, newest first.' }),
  })
  .meta({ description: 'Live statistics of a Storm topology, read from Nimbus.' });

export type TopologyMetrics = z.infer<typeof topologyMetricsResponse>;

/** The Storm name the object runs as: the active blue-green name, else the recorded or the spec name. */
export function stormTopologyName(topology: KubeObject): string {
  const status = (topology.status ?? {}) as { topologyName?: string; blueGreen?: { activeTopologyName?: string } };
  const spec = (topology.spec ?? {}) as { topology?: { name?: string } };
  return status.blueGreen?.activeTopologyName || status.topologyName || spec.topology?.name || topology.metadata.name || '';
}

/** Reads the metrics of the Storm topology `stormName` in `window` (an accepted `window` value). */
export async function readTopologyMetrics(nimbus: Nimbus, stormName: string, window: string, now: Date): Promise<Omit<TopologyMetrics, 'metadata'>> {
  const stormWindow = METRICS_WINDOWS[window]!;
  const summary = await nimbus.getTopologySummaryByName(stormName);
  const [page, info] = await Promise.all([
    nimbus.getTopologyPageInfo(summary.id, stormWindow, false),
    nimbus.getTopologyInfoByName(stormName, { numErrChoice: 'ALL' }),
  ]);
  return {
    timestamp: now.toISOString(),
    window,
    topology: defined({
      name: summary.name,
      id: summary.id,
      status: summary.status,
      uptimeSeconds: page.uptimeSecs ?? summary.uptimeSecs,
      workers: page.numWorkers ?? summary.numWorkers,
      executors: page.numExecutors ?? summary.numExecutors,
      tasks: page.numTasks ?? summary.numTasks,
    }),
    totals: totals(page, stormWindow),
    components: [
      ...sortedEntries(page.spoutAggStats).map(([id, stats]) => component(id, 'spout', stats)),
      ...sortedEntries(page.boltAggStats).map(([id, stats]) => component(id, 'bolt', stats)),
    ],
    errors: errors(info),
  };
}

function totals(page: TopologyPageInfo, stormWindow: string): TopologyMetrics['totals'] {
  const stats = page.topologyStats;
  const spouts = Object.values(page.spoutAggStats);
  const capacities = Object.values(page.boltAggStats)
    .map((b) => b.capacity)
    .filter((c): c is number => typeof c === 'number' && Number.isFinite(c));
  return defined({
    emitted: stats?.windowToEmitted[stormWindow],
    transferred: stats?.windowToTransferred[stormWindow],
    acked: stats?.windowToAcked[stormWindow],
    failed: stats?.windowToFailed[stormWindow],
    completeLatencyMs: stats?.windowToCompleteLatenciesMs[stormWindow],
    pendingTuples: spouts.length > 0 ? Math.max(0, spouts.reduce((n, s) => n + (s.emitted ?? 0) - (s.acked ?? 0) - (s.failed ?? 0), 0)) : undefined,
    capacityPercent: capacities.length > 0 ? Math.round(Math.max(...capacities) * 100) : undefined,
  });
}

function component(id: string, type: 'spout' | 'bolt', s: ComponentAggregateStats): TopologyMetrics['components'][number] {
  return defined({
    id,
    type,
    executors: s.numExecutors,
    tasks: s.numTasks,
    emitted: s.emitted,
    transferred: s.transferred,
    acked: s.acked,
    failed: s.failed,
    executed: type === 'bolt' ? s.executed : undefined,
    capacity: type === 'bolt' ? s.capacity : undefined,
    executeLatencyMs: type === 'bolt' ? s.executeLatencyMs : undefined,
    processLatencyMs: type === 'bolt' ? s.processLatencyMs : undefined,
    completeLatencyMs: type === 'spout' ? s.completeLatencyMs : undefined,
    lastError: s.lastError?.error || undefined,
  });
}

function errors(info: TopologyInfo): TopologyMetrics['errors'] {
  const out = Object.entries(info.errors).flatMap(([componentId, list]) =>
    list.map((e) => ({ ...defined({ component: componentId, error: e.error, time: new Date(e.errorTimeSecs * 1000).toISOString(), host: e.host, port: e.port }), at: e.errorTimeSecs })),
  );
  out.sort((a, b) => b.at - a.at || a.component.localeCompare(b.component));
  return out.map(({ at: _at, ...e }) => e);
}

function sortedEntries<T>(map: Record<string, T>): Array<[string, T]> {
  return Object.entries(map).sort(([a], [b]) => a.localeCompare(b));
}

function defined<T extends object>(obj: T): T {
  for (const key of Object.keys(obj) as Array<keyof T>) if (obj[key] === undefined) delete obj[key];
  return obj;
}

export const metrics: SubresourceDeclaration = {
  name: 'metrics',
  verb: 'get',
  kind: 'TopologyMetrics',
  description:
    'Live statistics of the topology read from Nimbus: totals (emitted, transferred, acked, failed, complete latency, pending) and per spout and bolt, and the errors Nimbus reports.',
  response: topologyMetricsResponse,
  queryParameters: { window: 'Statistics window: 600, 10800 or 86400 (seconds), or all-time (the default).' },
  connect(services) {
    return async (request) => {
      const window = request.query.window || DEFAULT_METRICS_WINDOW;
      if (!(window in METRICS_WINDOWS)) {
        throw badRequest(`window "${window}" is not one of ${Object.keys(METRICS_WINDOWS).join(', ')}`, [
          { reason: 'FieldValueNotSupported', field: 'window', message: `Unsupported value: "${window}"` },
        ]);
      }
      const topology = await getTopology(services, request);
      const nimbus = await nimbusOf(services, topology);
      const stormName = stormTopologyName(topology);
      try {
        const read = await readTopologyMetrics(nimbus, stormName, window, services.now());
        return { object: { metadata: { name: request.name, ...(request.namespace ? { namespace: request.namespace } : {}) }, ...read } };
      } catch (err) {
        throw nimbusErrorToStatus(err, { group: GROUP, resource: 'stormtopologies', name: request.name });
      }
    };
  },
};
