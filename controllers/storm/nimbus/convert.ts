// Generated Thrift structs (snake_case, i64 as node-int64) → the upstream's camelCase types.
// Optional fields Nimbus left unset stay undefined; i64 become numbers (exact up to 2^53).
import type {
  BoltStats,
  ClusterSummary,
  ComponentAggregateStats,
  ErrorInfo,
  ExecutorStats,
  ExecutorSummary,
  NimbusSummary,
  SpoutStats,
  SupervisorSummary,
  TopologyInfo,
  TopologyPageInfo,
  TopologyStats,
  TopologySummary,
  WindowedGlobalStreamValues,
  WindowedStreamCounts,
} from '../../../registry/storm.apache.org/upstreams.js';
import type { WindowedEntries } from './bolt-stats-codec.js';

type Raw = Record<string, any> | null | undefined;

/** An i32/i64/double field: numbers stay, node-int64 values convert, null is undefined. */
export function toNumber(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number') return value;
  if (typeof (value as { toNumber?: unknown }).toNumber === 'function') return (value as { toNumber(allowImprecise: boolean): number }).toNumber(true);
  const n = Number(value);
  return Number.isNaN(n) ? undefined : n;
}

function str(value: unknown): string | undefined {
  return value === null || value === undefined ? undefined : String(value);
}

function numberMap(raw: Raw): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(raw ?? {})) {
    const n = toNumber(value);
    if (n !== undefined) out[key] = n;
  }
  return out;
}

function windowed(raw: Raw): WindowedStreamCounts {
  const out: WindowedStreamCounts = {};
  for (const [window, streams] of Object.entries(raw ?? {})) out[window] = numberMap(streams);
  return out;
}

/** BoltStats entries keyed "component:stream" (the Storm UI's notation). */
function windowedGlobal(raw: WindowedEntries | null | undefined): WindowedGlobalStreamValues {
  const out: WindowedGlobalStreamValues = {};
  for (const [window, entries] of Object.entries(raw ?? {})) {
    const values: Record<string, number> = {};
    for (const { componentId, streamId, value } of entries) values[`${componentId}:${streamId}`] = value;
    out[window] = values;
  }
  return out;
}

function defined<T extends object>(obj: T): T {
  for (const key of Object.keys(obj) as Array<keyof T>) if (obj[key] === undefined) delete obj[key];
  return obj;
}

export function errorInfo(raw: Raw): ErrorInfo {
  return defined({ error: str(raw?.error) ?? '', errorTimeSecs: toNumber(raw?.error_time_secs) ?? 0, host: str(raw?.host), port: toNumber(raw?.port) });
}

export function supervisorSummary(raw: Raw): SupervisorSummary {
  return defined({
    host: str(raw?.host) ?? '',
    uptimeSecs: toNumber(raw?.uptime_secs) ?? 0,
    numWorkers: toNumber(raw?.num_workers) ?? 0,
    numUsedWorkers: toNumber(raw?.num_used_workers) ?? 0,
    supervisorId: str(raw?.supervisor_id) ?? '',
    version: str(raw?.version),
    totalResources: raw?.total_resources ? numberMap(raw.total_resources) : undefined,
    usedMem: toNumber(raw?.used_mem),
    usedCpu: toNumber(raw?.used_cpu),
    blacklisted: raw?.blacklisted ?? undefined,
  });
}

export function nimbusSummary(raw: Raw): NimbusSummary {
  return defined({
    host: str(raw?.host) ?? '',
    port: toNumber(raw?.port) ?? 0,
    uptimeSecs: toNumber(raw?.uptime_secs) ?? 0,
    isLeader: Boolean(raw?.isLeader),
    version: str(raw?.version) ?? '',
    tlsPort: toNumber(raw?.tlsPort),
  });
}

export function topologySummary(raw: Raw): TopologySummary {
  return defined({
    id: str(raw?.id) ?? '',
    name: str(raw?.name) ?? '',
    numTasks: toNumber(raw?.num_tasks) ?? 0,
    numExecutors: toNumber(raw?.num_executors) ?? 0,
    numWorkers: toNumber(raw?.num_workers) ?? 0,
    uptimeSecs: toNumber(raw?.uptime_secs) ?? 0,
    status: str(raw?.status) ?? '',
    stormVersion: str(raw?.storm_version),
    topologyVersion: str(raw?.topology_version),
    schedStatus: str(raw?.sched_status),
    owner: str(raw?.owner),
  });
}

export function clusterSummary(raw: Raw): ClusterSummary {
  return {
    supervisors: (raw?.supervisors ?? []).map(supervisorSummary),
    topologies: (raw?.topologies ?? []).map(topologySummary),
    nimbuses: (raw?.nimbuses ?? []).map(nimbusSummary),
  };
}

function boltStats(raw: Raw): BoltStats {
  return {
    acked: windowedGlobal(raw?.acked),
    failed: windowedGlobal(raw?.failed),
    processMsAvg: windowedGlobal(raw?.process_ms_avg),
    executed: windowedGlobal(raw?.executed),
    executeMsAvg: windowedGlobal(raw?.execute_ms_avg),
  };
}

function spoutStats(raw: Raw): SpoutStats {
  return { acked: windowed(raw?.acked), failed: windowed(raw?.failed), completeMsAvg: windowed(raw?.complete_ms_avg) };
}

function executorStats(raw: Raw): ExecutorStats {
  return defined({
    emitted: windowed(raw?.emitted),
    transferred: windowed(raw?.transferred),
    bolt: raw?.specific?.bolt ? boltStats(raw.specific.bolt) : undefined,
    spout: raw?.specific?.spout ? spoutStats(raw.specific.spout) : undefined,
    rate: toNumber(raw?.rate) ?? 0,
  });
}

function executorSummary(raw: Raw): ExecutorSummary {
  return defined({
    taskStart: toNumber(raw?.executor_info?.task_start) ?? 0,
    taskEnd: toNumber(raw?.executor_info?.task_end) ?? 0,
    componentId: str(raw?.component_id) ?? '',
    host: str(raw?.host) ?? '',
    port: toNumber(raw?.port) ?? 0,
    uptimeSecs: toNumber(raw?.uptime_secs) ?? 0,
    stats: raw?.stats ? executorStats(raw.stats) : undefined,
  });
}

export function topologyInfo(raw: Raw): TopologyInfo {
  const errors: Record<string, ErrorInfo[]> = {};
  for (const [component, list] of Object.entries(raw?.errors ?? {})) errors[component] = ((list as Raw[]) ?? []).map(errorInfo);
  return defined({
    id: str(raw?.id) ?? '',
    name: str(raw?.name) ?? '',
    uptimeSecs: toNumber(raw?.uptime_secs) ?? 0,
    executors: (raw?.executors ?? []).map(executorSummary),
    status: str(raw?.status) ?? '',
    errors,
    stormVersion: str(raw?.storm_version),
    owner: str(raw?.owner),
  });
}

function topologyStats(raw: Raw): TopologyStats {
  return {
    windowToEmitted: numberMap(raw?.window_to_emitted),
    windowToTransferred: numberMap(raw?.window_to_transferred),
    windowToCompleteLatenciesMs: numberMap(raw?.window_to_complete_latencies_ms),
    windowToAcked: numberMap(raw?.window_to_acked),
    windowToFailed: numberMap(raw?.window_to_failed),
  };
}

const COMPONENT_TYPES: Record<number, 'BOLT' | 'SPOUT'> = { 1: 'BOLT', 2: 'SPOUT' };

function componentAggregateStats(raw: Raw): ComponentAggregateStats {
  const common = raw?.common_stats;
  const bolt = raw?.specific_stats?.bolt;
  const spout = raw?.specific_stats?.spout;
  return defined({
    type: COMPONENT_TYPES[toNumber(raw?.type) ?? 0],
    numExecutors: toNumber(common?.num_executors),
    numTasks: toNumber(common?.num_tasks),
    emitted: toNumber(common?.emitted),
    transferred: toNumber(common?.transferred),
    acked: toNumber(common?.acked),
    failed: toNumber(common?.failed),
    executeLatencyMs: toNumber(bolt?.execute_latency_ms),
    processLatencyMs: toNumber(bolt?.process_latency_ms),
    executed: toNumber(bolt?.executed),
    capacity: toNumber(bolt?.capacity),
    completeLatencyMs: toNumber(spout?.complete_latency_ms),
    lastError: raw?.last_error ? errorInfo(raw.last_error) : undefined,
  });
}

function componentMap(raw: Raw): Record<string, ComponentAggregateStats> {
  const out: Record<string, ComponentAggregateStats> = {};
  for (const [id, stats] of Object.entries(raw ?? {})) out[id] = componentAggregateStats(stats);
  return out;
}

export function topologyPageInfo(raw: Raw): TopologyPageInfo {
  return defined({
    id: str(raw?.id) ?? '',
    name: str(raw?.name),
    uptimeSecs: toNumber(raw?.uptime_secs),
    status: str(raw?.status),
    numTasks: toNumber(raw?.num_tasks),
    numWorkers: toNumber(raw?.num_workers),
    numExecutors: toNumber(raw?.num_executors),
    topologyStats: raw?.topology_stats ? topologyStats(raw.topology_stats) : undefined,
    spoutAggStats: componentMap(raw?.id_to_spout_agg_stats),
    boltAggStats: componentMap(raw?.id_to_bolt_agg_stats),
    stormVersion: str(raw?.storm_version),
    topologyVersion: str(raw?.topology_version),
    owner: str(raw?.owner),
  });
}
