// Filter 3: authentication. Runs the chain (front proxy → x509 → bearer token → anonymous) on the
// request's TLS client certificate chain and headers; 401 Unauthorized when it fails. Front-proxy
// headers are removed from every request the front-proxy authenticator did not authenticate, so
// nothing downstream can read a forged X-Remote-User.
import type { FastifyRequest } from 'fastify';
import type { TLSSocket } from 'node:tls';
import { authenticateRequestNow, type AuthenticationChain, type AuthenticationOutcome, type DistinctHeaders } from '../authn/authenticator.js';
import { isRequestHeader, type RequestHeaderConfig } from '../authn/front-proxy.js';
import { peerCertificateChain } from '../certificates.js';
import { unauthorized } from '../errors.js';
import { arrivedOnInsecurePort, INSECURE_SUPERUSER } from '../insecure.js';
import type { RequestFilter } from './chain.js';

export interface AuthenticationFilterOptions {
  chain: AuthenticationChain;
  requestHeader: () => RequestHeaderConfig | undefined;
}

export function authenticationFilter(options: AuthenticationFilterOptions): RequestFilter {
  /** Nothing downstream may read front-proxy headers the front-proxy authenticator did not vouch for. */
  const dropRequestHeaders = (headers: Record<string, unknown>) => {
    const config = options.requestHeader();
    for (const name of Object.keys(headers)) if (isRequestHeader(config, name)) delete headers[name];
  };
  const settle = (req: FastifyRequest, result: AuthenticationOutcome): void => {
    if (!('user' in result) || result.authenticator !== 'requestheader') dropRequestHeaders(req.headers);
    if ('error' in result) {
      req.log.debug({ reason: result.error }, 'authentication failed');
      throw unauthorized();
    }
    req.user = result.user;
  };
  // No promise and no microtask unless an authenticator answers asynchronously.
  return (req) => {
    if (arrivedOnInsecurePort(req.raw)) {
      dropRequestHeaders(req.headers);
      req.user = INSECURE_SUPERUSER;
      return undefined;
    }
    const headers = (req.raw.headersDistinct ?? {}) as DistinctHeaders;
    const peerCertificates = peerCertificateChain(req.raw.socket as TLSSocket);
    const outcome = authenticateRequestNow(options.chain, { headers, peerCertificates });
    if (outcome instanceof Promise) return outcome.then((result) => settle(req, result));
    settle(req, outcome);
    return undefined;
  };
}
