// Errors of @kubernetes/client-node calls to the host cluster: the HTTP status they carry, a
// read that treats 404 as "absent", whether the host itself is away, and the error of a host call
// that outlived its deadline.
import { StatusError } from '../apiserver/errors.js';

/** The HTTP status of a client-node ApiException (`err.code`), or undefined for other errors. */
export function httpCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Reads a host object; undefined on 404, any other error is thrown. */
export async function readOrUndefined<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if (httpCode(err) === 404) return undefined;
    throw err;
  }
}

/**
 * A host call that got no complete answer within its deadline (`--host-request-timeout`,
 * controllers/host-client.ts): the host accepted the connection, or not even that, and stayed
 * silent. The call was aborted; `cause` is the fetch library's abort error.
 */
export class HostRequestTimeoutError extends Error {
  override readonly name = 'HostRequestTimeoutError';
  /** As a socket timeout reports itself, so code that looks at `code` sees a transport failure. */
  readonly code = 'ETIMEDOUT';
  constructor(
    readonly method: string,
    readonly path: string,
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(`the host cluster did not answer ${method} ${path} within ${timeoutMs / 1000}s`, options);
  }
}

/** Transport failures: the host cluster did not answer at all (refused, reset, timed out, DNS). */
const TRANSPORT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * True when a host call failed because the host cluster is away — no connection, or an answer
 * that says it cannot serve now (502, 503, 504) — rather than
 * because of what was asked (4xx). Controllers report it and poll again instead of backing off.
 */
export function isHostUnavailable(err: unknown): boolean {
  // Our own storage's errors (StatusError, e.g. 503 while etcd is away) are not the host's.
  if (err instanceof StatusError) return false;
  if (err instanceof HostRequestTimeoutError) return true;
  const code = httpCode(err);
  if (code !== undefined) return code === 502 || code === 503 || code === 504;
  const e = err as { name?: unknown; code?: unknown; type?: unknown; cause?: { code?: unknown } } | null;
  if (!e) return false;
  if (typeof e.code === 'string' && TRANSPORT_CODES.has(e.code)) return true;
  if (typeof e.cause?.code === 'string' && TRANSPORT_CODES.has(e.cause.code)) return true;
  return e.name === 'FetchError' && e.type === 'system';
}

/** A short, stable description of a host call's failure (an ApiException's message carries every header). */
export function describeHostError(err: unknown): string {
  if (err instanceof HostRequestTimeoutError) return err.message;
  const code = httpCode(err);
  if (code !== undefined) {
    const body = (err as { body?: unknown }).body;
    let message: unknown;
    try {
      message = (typeof body === 'string' ? JSON.parse(body) : body)?.message;
    } catch {
      message = undefined;
    }
    return `HTTP ${code}${typeof message === 'string' && message ? `: ${message}` : ''}`;
  }
  const e = err as { code?: unknown; message?: unknown } | null;
  const reason = /reason: (.*)$/.exec(String(e?.message ?? ''))?.[1];
  return reason ?? (typeof e?.code === 'string' ? e.code : String(e?.message ?? err));
}
