// Structured logs: fastify's pino logger writes one JSON object per line (`level`, `time`, `msg`,
// `reqId`, ...). This file adds what the operators need on top:
// - `--v=N` verbosity, klog style, mapped to pino levels (0-3 info, 4-5 debug, 6+ trace);
//   `LOG_LEVEL` (a pino level name) still overrides it, which is how the tests silence servers.
//   fastify's per-request lines (`incoming request`, `request completed`) only from `--v=3`, as
//   kube-apiserver logs its request lines (httplog) only from `--v=3`;
// - the request's `auditID` on every line logged while serving it, so logs join the audit log and
//   the `Audit-ID` response header;
// - redaction of credentials wherever a caller logs them (authorization headers, tokens,
//   passwords, private and operator keys): the value is replaced by `[REDACTED]`.
import type { FastifyBaseLogger, FastifyInstance, FastifyServerOptions } from 'fastify';

type ChildLoggerOptions = Parameters<FastifyBaseLogger['child']>[1];

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

/** Whether fastify logs a line per request received and completed (kube-apiserver's httplog: `--v=3`). */
export function logsRequests(verbosity: number): boolean {
  return verbosity >= 3;
}

export function loggerOptions(verbosity: number, env: NodeJS.ProcessEnv = process.env): Exclude<FastifyServerOptions['logger'], boolean | undefined> {
  return {
    level: env.LOG_LEVEL ?? levelForVerbosity(verbosity),
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
  };
}

type LogMethod = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * A request's logger that becomes a real pino child (with the request's bindings: `reqId`,
 * `auditID`) only when something logs through it at an enabled level. Most requests log nothing
 * (fastify's request lines are off below `--v=3`), and a pino child with redaction costs more than
 * the rest of a cached GET's bookkeeping.
 */
export class LazyRequestLogger {
  private real: FastifyBaseLogger | undefined;
  constructor(
    private readonly parent: FastifyBaseLogger,
    private bindings: Record<string, unknown>,
    private readonly options: ChildLoggerOptions,
  ) {}

  /** Adds bindings to every line logged from now on. */
  bind(bindings: Record<string, unknown>): void {
    if (this.real) this.real = this.real.child(bindings);
    else this.bindings = Object.assign({}, this.bindings, bindings);
  }

  private logger(): FastifyBaseLogger {
    this.real ??= this.parent.child(this.bindings, this.options);
    return this.real;
  }

  private write(method: LogMethod, args: unknown[]): void {
    if (!this.real && !isLevelEnabled(this.parent, method)) return;
    (this.logger()[method] as (...a: unknown[]) => void)(...args);
  }

  get level(): string {
    return this.real?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.logger().level = level;
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {}

  child(bindings: Record<string, unknown>, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger().child(bindings, options);
  }

  isLevelEnabled(level: string): boolean {
    return isLevelEnabled(this.real ?? this.parent, level);
  }
}

function isLevelEnabled(logger: FastifyBaseLogger, level: string): boolean {
  const check = (logger as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
  return typeof check === 'function' ? check.call(logger, level) : true;
}

/**
 * After the audit filter has given the request its Audit-ID: every later line logged for the
 * request (by handlers, and fastify's `request completed`) carries `auditID`. Requests get lazy
 * loggers (`LazyRequestLogger`); install before any route.
 */
export function installRequestLogContext(app: FastifyInstance): void {
  app.setChildLoggerFactory((logger, bindings, options) => new LazyRequestLogger(logger, bindings, options) as unknown as FastifyBaseLogger);
  app.addHook('onRequest', (req, reply, done) => {
    if (!req.auditID) return done();
    if (req.log instanceof LazyRequestLogger) {
      // fastify hands the request and its reply the same logger.
      req.log.bind({ auditID: req.auditID });
      if (reply.log !== req.log) reply.log = req.log;
      return done();
    }
    const child = req.log.child({ auditID: req.auditID });
    req.log = child;
    reply.log = child;
    done();
  });
}
