// What the Hourglass kinds need from the outside world: a gRPC health check of a performer
// (`grpc.health.v1.Health/Check`). The implementation (a pooled @grpc/grpc-js client) lives in
// `controllers/hourglass/grpc-pool.ts`; the `connection` subresource and the performer controller
// both reach it as `upstream(PERFORMER_HEALTH)`, and tests replace it through
// `ServerExtensions.upstreams`.
import { upstreamKey } from '../subresource.js';

/** `grpc.health.v1` serving status, or UNREACHABLE when no answer came (see `grpcCode`). */
export type PerformerHealthStatus = 'SERVING' | 'NOT_SERVING' | 'UNKNOWN' | 'SERVICE_UNKNOWN' | 'UNREACHABLE';

export interface PerformerHealthOptions {
  /** The whole check, retries included, ends by this many milliseconds. */
  deadlineMs: number;
  /** The health service name; '' (the server as a whole) when absent. */
  service?: string;
  /** Ends the check early (the client went away). */
  signal?: AbortSignal;
}

export interface PerformerHealthResult {
  status: PerformerHealthStatus;
  /** The gRPC status code name when the call failed (`UNAVAILABLE`, `DEADLINE_EXCEEDED`, …). */
  grpcCode?: string;
  /** The gRPC error details when the call failed. */
  message?: string;
  /** Round-trip time of the last attempt in milliseconds. */
  latencyMs: number;
  /** Calls made (more than 1 after retries on UNAVAILABLE). */
  attempts: number;
  /** When the answer (or the failure) came: RFC 3339 with milliseconds. */
  checkedAt: string;
}

export interface PerformerHealth {
  /**
   * Calls `Health/Check` on `endpoint` (`host:port`, e.g.
   * `performer-x.ns.svc.cluster.local:9090` or a pod's `10.1.2.3:9090`). Resolves with the answer
   * or with UNREACHABLE and the gRPC code; rejects only when the check cannot be made at all
   * (the client is closed, the endpoint cannot be parsed).
   */
  check(endpoint: string, options: PerformerHealthOptions): Promise<PerformerHealthResult>;
}

export const PERFORMER_HEALTH = upstreamKey<PerformerHealth>('hourglass.performer-health');
