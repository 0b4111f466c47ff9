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

/** Socket-level failures (not TLS): the peer is away or the network failed. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** Whether an error of a TLS socket is about TLS itself (certificate, handshake, alert) rather than the network. */
export function isTlsFailure(err: unknown): boolean {
  const e = err as { code?: unknown; library?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (SOCKET_CODES.has(code)) return false;
  return code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || e?.library === 'SSL routines' || /CERT|SIGNATURE|_CA$|^INVALID_|^UNABLE_TO_/.test(code);
}

/**
 * A failure of a TLS connection to Nimbus. TLS failures (an untrusted or misnamed certificate, a
 * refused client certificate) become code TLS, naming the verification code; network failures stay
 * Unavailable, with a hint when the connection broke during the handshake (a plaintext port).
 */
export function tlsConnectionError(err: unknown, endpoint: string, duringHandshake: boolean): NimbusError {
  const code = (err as { code?: unknown } | null)?.code;
  const message = (err instanceof Error ? err.message : String(err)).trim();
  if (isTlsFailure(err)) {
    const what = duringHandshake ? 'the TLS handshake with Nimbus failed' : 'TLS with Nimbus failed';
    const detail = `${typeof code === 'string' && !message.includes(code) ? `${code}: ` : ''}${message}`;
    return new NimbusError('TLS', `${what}: ${detail}${tlsHint(typeof code === 'string' ? code : '', message)}`, { endpoint, cause: err });
  }
  const base = transportError(err, endpoint, duringHandshake ? 'cannot connect to Nimbus over TLS' : 'connection to Nimbus failed');
  if (!duringHandshake || (code !== 'ECONNRESET' && code !== 'EPIPE')) return base;
  return new NimbusError('Unavailable', `${base.message} (the connection closed during the TLS handshake: does Nimbus serve TLS on this port?)`, { endpoint, cause: err });
}

/** What a TLS failure most likely means, in the spec's terms. */
function tlsHint(code: string, message: string): string {
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return ' (the Nimbus certificate is not valid for the host name the cluster is dialled by)';
  if (/ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|HANDSHAKE_FAILURE)/.test(code) || /alert (certificate required|bad certificate|unknown ca)/.test(message)) {
    return ' (Nimbus refused the client certificate: tls.crt and tls.key of spec.nimbus.thrift.tls.certSecret)';
  }
  if (/CERT|SIGNATURE|_CA$|^UNABLE_TO_/.test(code)) {
    return ' (the Nimbus certificate is not trusted: its CA must be in ca.crt of spec.nimbus.thrift.tls.certSecret, else among the system CAs; tls.insecureSkipVerify skips the check)';
  }
  return '';
}
