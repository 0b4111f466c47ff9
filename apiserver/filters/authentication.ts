// Filter 3: authentication. Runs the chain (front proxy → x509 → bearer token → anonymous) on the
// request's TLS client certificate chain and headers; 401 Unauthorized when it fails. Front-proxy
// headers are removed from every request the front-proxy authenticator did not authenticate, so
// nothing downstream can read a forged X-Remote-User.
import type { FastifyInstance } from 'fastify';
import type { TLSSocket } from 'node:tls';
import { authenticateRequest, type AuthenticationChain, type DistinctHeaders } from '../authn/authenticator.js';
import { isRequestHeader, type RequestHeaderConfig } from '../authn/front-proxy.js';
import { peerCertificateChain } from '../certificates.js';
import { unauthorized } from '../errors.js';
import { arrivedOnInsecurePort, INSECURE_SUPERUSER } from '../insecure.js';

export interface AuthenticationFilterOptions {
  chain: AuthenticationChain;
  requestHeader: () => RequestHeaderConfig | undefined;
}

export function installAuthenticationFilter(app: FastifyInstance, options: AuthenticationFilterOptions): void {
  /** Nothing downstream may read front-proxy headers the front-proxy authenticator did not vouch for. */
  const dropRequestHeaders = (headers: Record<string, unknown>) => {
    const config = options.requestHeader();
    for (const name of Object.keys(headers)) if (isRequestHeader(config, name)) delete headers[name];
  };
  app.addHook('onRequest', async (req) => {
    if (arrivedOnInsecurePort(req.raw)) {
      dropRequestHeaders(req.headers);
      req.user = INSECURE_SUPERUSER;
      return;
    }
    const headers = (req.raw.headersDistinct ?? {}) as DistinctHeaders;
    const peerCertificates = peerCertificateChain(req.raw.socket as TLSSocket);
    const result = await authenticateRequest(options.chain, { headers, peerCertificates });
    if (!('user' in result) || result.authenticator !== 'requestheader') dropRequestHeaders(req.headers);
    if ('error' in result) {
      req.log.debug({ reason: result.error }, 'authentication failed');
      throw unauthorized();
    }
    req.user = result.user;
  });
}
