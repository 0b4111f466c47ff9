// GET …/performers/{name}/connection → PerformerConnection: the performer's gRPC endpoint and a
// `grpc.health.v1.Health/Check` made now, for this request (never a cached answer), with its
// round-trip latency. A performer that does not answer is reported, not an error: status
// UNREACHABLE with the gRPC code (UNAVAILABLE, DEADLINE_EXCEEDED). 503 only when this server
// cannot make the call at all (no health client, or the client fails).
import { z } from 'zod';
import { badRequest, serviceUnavailable } from '../../../apiserver/errors.js';
import type { KubeObject } from '../../meta.js';
import type { SubresourceDeclaration } from '../../subresource.js';
import { PERFORMER_HEALTH } from '../upstreams.js';
import { NAME_PREFIX } from './strategy.js';

export const DEFAULT_TIMEOUT_SECONDS = 2;
export const MAX_TIMEOUT_SECONDS = 30;

/** `<service>.<namespace>.svc.cluster.local:<grpcPort>`: what the controller writes to status.grpcEndpoint. */
export function serviceEndpoint(obj: KubeObject): string {
  const port = Number((obj.spec?.config as { grpcPort?: number } | undefined)?.grpcPort ?? 9090);
  return `${NAME_PREFIX}${obj.metadata.name}.${obj.metadata.namespace}.svc.cluster.local:${port}`;
}

const response = z.strictObject({
  metadata: z.strictObject({ name: z.string(), namespace: z.string().optional() }),
  status: z
    .strictObject({
      endpoint: z.string().meta({ description: 'The gRPC endpoint checked: the Service DNS name and port.' }),
      version: z.string().optional().meta({ description: 'Version the Service sends traffic to (status.currentVersion, else spec.version).' }),
      health: z
        .enum(['SERVING', 'NOT_SERVING', 'UNKNOWN', 'SERVICE_UNKNOWN', 'UNREACHABLE'])
        .meta({ description: 'grpc.health.v1 serving status, or UNREACHABLE when the call failed (see grpcCode).' }),
      grpcCode: z.string().optional().meta({ description: 'gRPC status code of a failed call, e.g. UNAVAILABLE or DEADLINE_EXCEEDED.' }),
      message: z.string().optional().meta({ description: 'Details of a failed call.' }),
      latencyMs: z.number().meta({ description: 'Round-trip time of the check in milliseconds.' }),
      attempts: z.int().meta({ description: 'Calls made; more than one after retries on UNAVAILABLE.' }),
      timeoutSeconds: z.number().meta({ description: 'The deadline the check had.' }),
      checkedAt: z.string().meta({ format: 'date-time', description: 'When the check was answered (or failed).' }),
    })
    .meta({ description: 'The result of the health check made for this request.' }),
});

function timeoutSeconds(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_TIMEOUT_SECONDS;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > MAX_TIMEOUT_SECONDS) {
    throw badRequest(`timeoutSeconds: must be a number of seconds greater than 0 and at most ${MAX_TIMEOUT_SECONDS}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

export const connection: SubresourceDeclaration = {
  name: 'connection',
  verb: 'get',
  kind: 'PerformerConnection',
  description:
    "The performer's gRPC endpoint and a grpc.health.v1 Health/Check made at request time: serving status (or UNREACHABLE with the gRPC code) and round-trip latency.",
  response,
  queryParameters: {
    timeoutSeconds: `Deadline of the health check in seconds (default ${DEFAULT_TIMEOUT_SECONDS}, at most ${MAX_TIMEOUT_SECONDS}).`,
  },
  connect(services) {
    return async (request) => {
      const timeout = timeoutSeconds(request.query.timeoutSeconds);
      const obj = await services.store.get({ namespace: request.namespace, name: request.name });
      const health = services.upstream(PERFORMER_HEALTH);
      if (!health) throw serviceUnavailable('this server has no gRPC client for performers');
      const endpoint = typeof obj.status?.grpcEndpoint === 'string' && obj.status.grpcEndpoint !== '' ? obj.status.grpcEndpoint : serviceEndpoint(obj);
      let result;
      try {
        result = await health.check(endpoint, { deadlineMs: timeout * 1000, signal: request.signal });
      } catch (err) {
        throw serviceUnavailable(`cannot check the performer's health: ${(err as Error).message ?? String(err)}`);
      }
      // What the Service reaches: the serving version (during an upgrade the spec already names the new one).
      const serving = (obj.status?.currentVersion as { version?: string } | undefined)?.version;
      const version = serving ?? obj.spec?.version;
      return {
        object: {
          metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace },
          status: {
            endpoint,
            ...(typeof version === 'string' ? { version } : {}),
            health: result.status,
            ...(result.grpcCode !== undefined ? { grpcCode: result.grpcCode } : {}),
            ...(result.message ? { message: result.message } : {}),
            latencyMs: result.latencyMs,
            attempts: result.attempts,
            timeoutSeconds: timeout,
            checkedAt: result.checkedAt,
          },
        },
      };
    };
  },
};
