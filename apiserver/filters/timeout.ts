// Request timeout for requests that are not long-running: --request-timeout (default 1m), or the
// request's shorter `timeout` parameter; when it passes before the response started, the client
// gets 504 Timeout (the handler's late answer is dropped).
import { timeout } from '../errors.js';
import { sendStatus } from '../response.js';
import { isLongRunning } from '../request-info.js';
import type { RequestEnd, RequestFilter } from './chain.js';

const GO_DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration (`30s`, `1m30s`, `250ms`) in ms; undefined when malformed. */
export function parseGoDurationMs(text: string): number | undefined {
  if (text === '0') return 0;
  const parts = [...text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * GO_DURATION_UNITS[p[2]], 0);
}

export const TIMEOUT_MESSAGE = 'request did not complete within requested timeout - context deadline exceeded';

export function timeoutFilter(defaultTimeoutMs: number): RequestFilter {
  return (req, reply) => {
    if (isLongRunning(req.requestInfo)) return;
    let ms = defaultTimeoutMs;
    // The query fastify parsed; a repeated parameter counts with its first value.
    const given = (req.query as Record<string, unknown> | undefined)?.timeout;
    const param = Array.isArray(given) ? given[0] : given;
    const requested = typeof param === 'string' ? parseGoDurationMs(param) : undefined;
    // A malformed value is rejected with 400 by the protocol layer; only a valid shorter one applies.
    if (requested !== undefined && requested > 0 && requested < ms) ms = requested;
    req.filterState.timeoutTimer = setTimeout(() => {
      if (reply.sent || reply.raw.headersSent) return;
      req.log.info({ url: req.url, ms }, 'request timed out');
      sendStatus(reply, timeout(`Timeout: ${TIMEOUT_MESSAGE}`).status);
    }, ms);
  };
}

/** Clears the request's timer once its response is done. */
export const timeoutEnd: RequestEnd = (req) => {
  const timer = req.filterState.timeoutTimer;
  if (timer !== undefined) clearTimeout(timer);
};
