// The Nimbus upstream: what the Storm controllers and the `stormtopologies/metrics` subresource ask
// Nimbus (Storm's master daemon, Thrift on port 6627). The implementation — framed strict binary
// Thrift with a per-address connection pool — is `controllers/storm/nimbus/`; tests use the stand-in
// Nimbus of `test/stand-ins/nimbus/`. Registry code only sees these types.
//
// Types are the Thrift structs of Storm's storm.thrift (v2.8) in camelCase; absent optional fields
// stay undefined. Statistics are keyed by window: "600", "10800", "86400", ":all-time".
import { badRequest, conflict, forbidden, internalError, serviceUnavailable, toStatusError, type ResourceRef, type StatusError } from '../../apiserver/errors.js';
import type { KubeObject } from '../meta.js';
import { upstreamKey } from '../subresource.js';

/** Client settings of one cluster: spec.nimbus.thrift (seconds, as the spec states them). */
export interface NimbusClientSettings {
  connectionTimeout?: number;
  requestTimeout?: number;
  maxConnections?: number;
  minIdleConnections?: number;
  maxIdleTime?: number;
  maxRetries?: number;
  retryDelay?: number;
}

/**
 * TLS to Nimbus (spec.nimbus.thrift.useTLS with spec.nimbus.thrift.tls). The client material is
 * the host-cluster Secret `certSecret` in `secretNamespace` (the StormCluster's namespace):
 * `ca.crt` (the CAs trusted for the Nimbus certificate; without it the system CAs), `tls.crt` +
 * `tls.key` (a client certificate, optional; both or neither) — a `kubernetes.io/tls` Secret.
 */
export interface NimbusTlsSettings {
  certSecret?: string;
  secretNamespace: string;
  /** Accept any Nimbus certificate (no chain or name check). */
  insecureSkipVerify: boolean;
  /** The name the Nimbus certificate must be valid for: the host as the cluster names it. */
  serverName: string;
}

export interface NimbusAddress {
  host: string;
  port: number;
  /** Pool and timeout settings; defaults as in the StormCluster schema when absent. */
  settings?: NimbusClientSettings;
  /** Present when Nimbus is spoken to over TLS; plaintext otherwise. */
  tls?: NimbusTlsSettings;
}

export interface ErrorInfo {
  error: string;
  errorTimeSecs: number;
  host?: string;
  port?: number;
}

export interface SupervisorSummary {
  host: string;
  uptimeSecs: number;
  /** Worker slots. */
  numWorkers: number;
  numUsedWorkers: number;
  supervisorId: string;
  version?: string;
  totalResources?: Record<string, number>;
  usedMem?: number;
  usedCpu?: number;
  blacklisted?: boolean;
}

export interface NimbusSummary {
  host: string;
  port: number;
  uptimeSecs: number;
  isLeader: boolean;
  version: string;
  tlsPort?: number;
}

/** Storm's TopologyStatus names; other strings may appear (Nimbus sends a string). */
export type TopologyStatusName = 'ACTIVE' | 'INACTIVE' | 'REBALANCING' | 'KILLED';

export interface TopologySummary {
  id: string;
  name: string;
  numTasks: number;
  numExecutors: number;
  numWorkers: number;
  uptimeSecs: number;
  status: TopologyStatusName | (string & {});
  stormVersion?: string;
  topologyVersion?: string;
  schedStatus?: string;
  owner?: string;
}

export interface ClusterSummary {
  supervisors: SupervisorSummary[];
  topologies: TopologySummary[];
  nimbuses: NimbusSummary[];
}

/** window → stream → count. */
export type WindowedStreamCounts = Record<string, Record<string, number>>;
/** window → "component:stream" → value: BoltStats' GlobalStreamId-keyed maps, decoded by hand. */
export type WindowedGlobalStreamValues = Record<string, Record<string, number>>;

export interface BoltStats {
  acked: WindowedGlobalStreamValues;
  failed: WindowedGlobalStreamValues;
  processMsAvg: WindowedGlobalStreamValues;
  executed: WindowedGlobalStreamValues;
  executeMsAvg: WindowedGlobalStreamValues;
}

export interface SpoutStats {
  acked: WindowedStreamCounts;
  failed: WindowedStreamCounts;
  completeMsAvg: WindowedStreamCounts;
}

export interface ExecutorStats {
  emitted: WindowedStreamCounts;
  transferred: WindowedStreamCounts;
  bolt?: BoltStats;
  spout?: SpoutStats;
  rate: number;
}

export interface ExecutorSummary {
  taskStart: number;
  taskEnd: number;
  componentId: string;
  host: string;
  port: number;
  uptimeSecs: number;
  stats?: ExecutorStats;
}

export interface TopologyInfo {
  id: string;
  name: string;
  uptimeSecs: number;
  executors: ExecutorSummary[];
  status: TopologyStatusName | (string & {});
  /** component id → errors, newest last as Nimbus reports them. */
  errors: Record<string, ErrorInfo[]>;
  stormVersion?: string;
  owner?: string;
}

/** TopologyStats: window → value. */
export interface TopologyStats {
  windowToEmitted: Record<string, number>;
  windowToTransferred: Record<string, number>;
  windowToCompleteLatenciesMs: Record<string, number>;
  windowToAcked: Record<string, number>;
  windowToFailed: Record<string, number>;
}

export interface ComponentAggregateStats {
  type?: 'BOLT' | 'SPOUT';
  numExecutors?: number;
  numTasks?: number;
  emitted?: number;
  transferred?: number;
  acked?: number;
  failed?: number;
  /** Bolts. */
  executeLatencyMs?: number;
  processLatencyMs?: number;
  executed?: number;
  capacity?: number;
  /** Spouts. */
  completeLatencyMs?: number;
  lastError?: ErrorInfo;
}

export interface TopologyPageInfo {
  id: string;
  name?: string;
  uptimeSecs?: number;
  status?: string;
  numTasks?: number;
  numWorkers?: number;
  numExecutors?: number;
  /** The statistics of the window asked for (and whatever else Nimbus sends). */
  topologyStats?: TopologyStats;
  spoutAggStats: Record<string, ComponentAggregateStats>;
  boltAggStats: Record<string, ComponentAggregateStats>;
  stormVersion?: string;
  topologyVersion?: string;
  owner?: string;
}

export interface RebalanceOptions {
  waitSecs?: number;
  numWorkers?: number;
  numExecutors?: Record<string, number>;
}

/** One cluster's Nimbus, over a pooled connection. */
export interface Nimbus {
  getClusterInfo(): Promise<ClusterSummary>;
  getLeader(): Promise<NimbusSummary>;
  getTopologySummaryByName(name: string): Promise<TopologySummary>;
  getTopologyPageInfo(id: string, window: string, includeSys: boolean): Promise<TopologyPageInfo>;
  getTopologyInfoByName(name: string, options?: { numErrChoice?: 'ALL' | 'NONE' | 'ONE' }): Promise<TopologyInfo>;
  killTopologyWithOpts(name: string, options: { waitSecs?: number }): Promise<void>;
  activate(name: string): Promise<void>;
  deactivate(name: string): Promise<void>;
  rebalance(name: string, options: RebalanceOptions): Promise<void>;
  isTopologyNameAllowed(name: string): Promise<boolean>;
}

export interface NimbusPool {
  /** The Nimbus at `address`; calls share that address's pooled connections. */
  forCluster(address: NimbusAddress): Nimbus;
  close(): Promise<void>;
}

export const NIMBUS = upstreamKey<NimbusPool>('storm.nimbus');

/**
 * - NotAlive: no such topology (NotAliveException). AlreadyAlive: name taken (AlreadyAliveException).
 * - InvalidTopology, Authorization: the Thrift exceptions of those names.
 * - Unavailable: Nimbus cannot be reached (connection refused/reset, closed). Timeout: no answer in time.
 * - Protocol: a malformed or oversized frame, an unknown method, an application exception.
 * - TLS: TLS cannot be set up: the handshake failed (certificate not trusted, wrong name, client
 *   certificate refused) or the TLS Secret is missing, malformed or unreadable. Not retried.
 */
export type NimbusErrorCode = 'NotAlive' | 'AlreadyAlive' | 'InvalidTopology' | 'Authorization' | 'Unavailable' | 'Timeout' | 'Protocol' | 'TLS';

export class NimbusError extends Error {
  readonly code: NimbusErrorCode;
  /** The Nimbus that failed, host:port. */
  readonly endpoint?: string;

  constructor(code: NimbusErrorCode, message: string, options: { endpoint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NimbusError';
    this.code = code;
    this.endpoint = options.endpoint;
  }

  /** Transport failures: the call may be retried and Nimbus may come back. */
  get transient(): boolean {
    return this.code === 'Unavailable' || this.code === 'Timeout';
  }
}

export function isNimbusError(error: unknown, code?: NimbusErrorCode): error is NimbusError {
  return error instanceof NimbusError && (code === undefined || error.code === code);
}

interface ClusterSpecView {
  managementMode?: string;
  resourceNames?: { nimbusService?: string };
  nimbus?: { thrift?: NimbusClientSettings & { port?: number; useTLS?: boolean; tls?: { certSecret?: string; insecureSkipVerify?: boolean } } };
}

/** Annotation `host:port` that overrides where the server dials a cluster's Nimbus (a server outside the host cluster, a port-forward). */
export const NIMBUS_ENDPOINT_ANNOTATION = 'storm.apache.org/nimbus-endpoint';

/**
 * Where a StormCluster's Nimbus answers, from its spec: the Nimbus Service's cluster DNS name
 * (`<name>-nimbus` in create mode, `spec.resourceNames.nimbusService` in reference mode) and
 * `spec.nimbus.thrift.port`, with the thrift client settings and, with `useTLS`, the TLS settings
 * (the certificate must be valid for that host name); the annotation
 * `storm.apache.org/nimbus-endpoint: host:port` overrides host and port.
 */
export function nimbusAddressOf(cluster: KubeObject): NimbusAddress {
  const spec = (cluster.spec ?? {}) as ClusterSpecView;
  const namespace = cluster.metadata.namespace ?? 'default';
  const service = spec.managementMode === 'reference' && spec.resourceNames?.nimbusService ? spec.resourceNames.nimbusService : nimbusServiceName(cluster.metadata.name ?? '');
  const { port, ...settings } = spec.nimbus?.thrift ?? {};
  const override = /^(.+):(\d{1,5})$/.exec(cluster.metadata.annotations?.[NIMBUS_ENDPOINT_ANNOTATION] ?? '');
  const host = override ? override[1]!.replace(/^\[(.*)\]$/, '$1') : `${service}.${namespace}.svc`;
  const address: NimbusAddress = { host, port: override ? Number(override[2]) : (port ?? 6627), settings: withoutTls(settings) };
  const thrift = spec.nimbus?.thrift;
  if (thrift?.useTLS) {
    address.tls = {
      ...(thrift.tls?.certSecret ? { certSecret: thrift.tls.certSecret } : {}),
      secretNamespace: namespace,
      insecureSkipVerify: thrift.tls?.insecureSkipVerify === true,
      serverName: host,
    };
  }
  return address;
}

/** Name of the Nimbus Service the server creates for a cluster in create mode. */
export function nimbusServiceName(clusterName: string): string {
  return `${clusterName}-nimbus`;
}

function withoutTls(settings: Record<string, unknown>): NimbusClientSettings {
  const { useTLS: _useTLS, tls: _tls, ...rest } = settings;
  return rest as NimbusClientSettings;
}

/**
 * The API error for a failed Nimbus call about `ref` (the object the request named):
 * NotAlive and AlreadyAlive → 409 Conflict, InvalidTopology → 400 BadRequest, Authorization →
 * 403 Forbidden, Unavailable, Timeout and TLS → 503 ServiceUnavailable, Protocol → 500 InternalError.
 * Anything that is not a NimbusError goes through `toStatusError`.
 */
export function nimbusErrorToStatus(err: unknown, ref: ResourceRef & { name: string }): StatusError {
  if (!(err instanceof NimbusError)) return toStatusError(err);
  const where = err.endpoint ? `Nimbus at ${err.endpoint}` : 'Nimbus';
  switch (err.code) {
    case 'NotAlive':
      return conflict(ref, `the topology is not alive in ${where}: ${err.message}`);
    case 'AlreadyAlive':
      return conflict(ref, `a topology of that name is already alive in ${where}: ${err.message}`);
    case 'InvalidTopology':
      return badRequest(`${where} rejected the topology as invalid: ${err.message}`);
    case 'Authorization':
      return forbidden(ref, `${where} denied the request: ${err.message}`);
    case 'Unavailable':
    case 'Timeout':
      return serviceUnavailable(`${where} is unavailable: ${err.message}`);
    case 'TLS':
      return serviceUnavailable(`${where} cannot be reached over TLS: ${err.message}`);
    case 'Protocol':
      return internalError(`unexpected answer from ${where}: ${err.message}`);
  }
}
