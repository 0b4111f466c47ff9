// What a failed Nimbus call becomes: Storm's Thrift exceptions and transport failures as
// NimbusError codes (registry/storm.apache.org/upstreams.ts; `nimbusErrorToStatus` there turns
// them into API Status errors).
import { NimbusError, type NimbusErrorCode } from '../../../registry/storm.apache.org/upstreams.js';
import { thriftRuntime } from './generated.js';

export { NimbusError, nimbusErrorToStatus, isNimbusError } from '../../../registry/storm.apache.org/upstreams.js';

const EXCEPTION_CODES: Record<string, NimbusErrorCode> = {
  NotAliveException: 'NotAlive',
  AlreadyAliveException: 'AlreadyAlive',
  InvalidTopologyException: 'InvalidTopology',
  AuthorizationException: 'Authorization',
};

/** A rejection of a generated client call (a declared Thrift exception, an application exception, or anything else) as a NimbusError. */
export function fromThriftFailure(err: unknown, method: string, endpoint: string): NimbusError {
  if (err instanceof NimbusError) return err;
  const name = (err as { name?: unknown } | null)?.name;
  if (typeof name === 'string' && EXCEPTION_CODES[name]) {
    const msg = (err as { msg?: unknown }).msg;
    return new NimbusError(EXCEPTION_CODES[name], typeof msg === 'string' && msg ? msg : name, { endpoint, cause: err });
  }
  if (err instanceof thriftRuntime.Thrift.TApplicationException) {
    return new NimbusError('Protocol', `${method}: Nimbus answered with an application exception: ${err.message || 'unknown'}`, { endpoint, cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new NimbusError('Protocol', `${method}: ${message}`, { endpoint, cause: err });
}

/** Socket errors (ECONNREFUSED, ECONNRESET, EPIPE, EHOSTUNREACH, …) as Unavailable. */
export function transportError(err: unknown, endpoint: string, what: string): NimbusError {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return new NimbusError('Unavailable', `${what}: ${typeof code === 'string' ? `${code}: ` : ''}${message}`.replace(/(\w+): \1/, '$1'), { endpoint, cause: err });
}
