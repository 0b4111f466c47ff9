// Structured logs: fastify's pino logger writes one JSON object per line (`level`, `time`, `msg`,
// `reqId`, ...). This file adds what the operators need on top:
// - `--v=N` verbosity, klog style, mapped to pino levels (0-3 info, 4-5 debug, 6+ trace);
//   `LOG_LEVEL` (a pino level name) still overrides it, which is how the tests silence servers.
// - the request's `auditID` on every line logged while serving it, so logs join the audit log and
//   the `Audit-ID` response header;
// - redaction of credentials wherever a caller logs them (authorization headers, tokens,
//   passwords, private and operator keys): the value is replaced by `[REDACTED]`.
import type { FastifyInstance, FastifyServerOptions } from 'fastify';

/** Field paths whose values never reach a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-remote-user"]',
  'headers.authorization',
  'headers.Authorization',
  'authorization',
  'token',
  'bearerToken',
  'password',
  'privateKey',
  'operatorKey',
  'operatorPrivateKey',
  'client-key-data',
  '*.authorization',
  '*.Authorization',
  '*.token',
  '*.bearerToken',
  '*.password',
  '*.privateKey',
  '*.operatorKey',
  '*.operatorPrivateKey',
  '*["client-key-data"]',
];

/** The pino level for a klog verbosity. */
export function levelForVerbosity(verbosity: number): 'info' | 'debug' | 'trace' {
  if (verbosity >= 6) return 'trace';
  if (verbosity >= 4) return 'debug';
  return 'info';
}

export function loggerOptions(verbosity: number, env: NodeJS.ProcessEnv = process.env): Exclude<FastifyServerOptions['logger'], boolean | undefined> {
  return {
    level: env.LOG_LEVEL ?? levelForVerbosity(verbosity),
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
  };
}

/**
 * After the audit filter has given the request its Audit-ID: every later line logged for the
 * request (by handlers, and fastify's `request completed`) carries `auditID`.
 */
export function installRequestLogContext(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    if (!req.auditID) return;
    const child = req.log.child({ auditID: req.auditID });
    req.log = child;
    reply.log = child;
  });
}
