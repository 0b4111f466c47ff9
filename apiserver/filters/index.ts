// The filter chain of the server, outer → inner: request-info → request metrics → timeout → audit
// (+ the Audit-ID on the request's logger) → authentication → max-in-flight → authorization, as
// three fastify onRequest hooks (chain.ts: the filters in order, one `close` listener per request
// for what metrics, timeout and max-in-flight finish), plus what they
// need at the TLS layer (serving certificate and accepted client CAs, both reloaded on change)
// and the SelfSubjectAccessReview endpoint that answers with the same authorizer.
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { buildAuthentication, type Authentication } from '../authn/index.js';
import { buildAuthorization, type Authorization } from '../authz/index.js';
import type { Authorizer } from '../authz/authorizer.js';
import { DynamicServingTls, type ServingFiles } from '../certificates.js';
import type { CompletedOptions } from '../options.js';
import { installSelfSubjectAccessReview } from '../selfsubjectaccessreview.js';
import { auditFilter, fileAuditSink, type AuditSink } from './audit.js';
import { loadAuditPolicy, uniformPolicy, type AuditPolicy } from './audit-policy.js';
import { authenticationFilter } from './authentication.js';
import { authorizationFilter } from './authorization.js';
import { installFilters, requestEnds } from './chain.js';
import { maxInFlightEnd, maxInFlightFilter } from './max-in-flight.js';
import { requestMetricsFilter } from './metrics.js';
import { installRequestLogContext } from '../logging.js';
import { decorateRequests } from './request-context.js';
import { requestInfoFilter } from './request-info.js';
import { timeoutEnd, timeoutFilter } from './timeout.js';

export interface Security {
  /** The HTTPS server's TLS options (current serving certificate, accepted client CAs). */
  tls: DynamicServingTls;
  authorizer: Authorizer;
  /** Installs the hooks and the SelfSubjectAccessReview route on `app`. */
  install(app: FastifyInstance): void;
  /** Starts reloading files (serving certificate, CAs, tokens, policy) into the listening server. */
  start(app: FastifyInstance): void;
  close(): Promise<void>;
}

/**
 * Reads every file the filters need and, in delegated mode, the host cluster's
 * extension-apiserver-authentication ConfigMap; fails when one is missing or malformed.
 */
export async function createSecurity(
  options: CompletedOptions,
  serving: { cert: string; key: string },
  log: () => FastifyBaseLogger | undefined,
): Promise<Security> {
  const security = options.security;
  const onError = (what: string) => (err: unknown) => log()?.warn({ err }, `${what}: keeping the previous version`);
  const authentication: Authentication = buildAuthentication(security, {
    certDir: options.certDir,
    tlsCertFile: options.tlsCertFile,
    fileReloadIntervalMs: security.fileReloadIntervalMs,
    hostRequestTimeoutMs: options.controllers.hostRequestTimeoutMs,
  });
  const authorization: Authorization = buildAuthorization(security, options.controllers.hostRequestTimeoutMs);
  await authentication.start(onError('authentication configuration reload failed'));
  authorization.start(onError('RBAC policy reload failed'));

  const servingFiles: ServingFiles = options.tlsCertFile && options.tlsPrivateKeyFile
    ? { certFile: options.tlsCertFile, keyFile: options.tlsPrivateKeyFile }
    : { certFile: join(options.certDir, 'apiserver.crt'), keyFile: join(options.certDir, 'apiserver.key') };
  const tls = new DynamicServingTls(serving, servingFiles, () => authentication.clientCertificates.acceptedCasPem());
  authentication.clientCertificates.onChange(() => tls.refresh());

  const auditPolicy: AuditPolicy = security.audit.policyFile ? loadAuditPolicy(security.audit.policyFile) : uniformPolicy(security.audit.level);
  const auditSink: AuditSink | undefined = security.audit.logPath ? fileAuditSink(security.audit.logPath) : undefined;

  return {
    tls,
    authorizer: authorization.authorizer,
    install(app) {
      decorateRequests(app);
      const metrics = requestMetricsFilter();
      installFilters(app, [
        requestInfoFilter(),
        requestEnds([metrics.end, timeoutEnd, maxInFlightEnd]),
        metrics.filter,
        timeoutFilter(security.requestTimeoutMs),
        auditFilter(app, { policy: auditPolicy, sink: auditSink }),
      ]);
      // Its own hook (logging.ts): the request's logger carries the Audit-ID from here on.
      installRequestLogContext(app);
      installFilters(app, [
        authenticationFilter({
          chain: authentication.chain,
          requestHeader: () => authentication.clientCertificates.requestHeader(),
        }),
        maxInFlightFilter({ readOnly: security.maxRequestsInflight, mutating: security.maxMutatingRequestsInflight }),
        authorizationFilter(authorization.authorizer),
      ]);
      installSelfSubjectAccessReview(app, authorization.authorizer);
    },
    start(app) {
      tls.attach(app.server as unknown as { setSecureContext(o: object): void }, security.fileReloadIntervalMs, onError('serving certificate reload failed'), () =>
        app.log.info('serving certificate reloaded'),
      );
    },
    async close() {
      tls.stop();
      authentication.stop();
      authorization.stop();
      await auditSink?.close();
    },
  };
}
