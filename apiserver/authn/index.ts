// Builds the authentication chain from the options: front proxy and x509 over the client
// certificate configuration (flag files, the host cluster's extension-apiserver-authentication,
// or in standalone mode the server's own CA), bearer tokens from a token file and/or TokenReview,
// then anonymous.
import { AuthenticationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_HOST_REQUEST_TIMEOUT_MS, HostKubeConfig } from '../../controllers/host-client.js';
import { watchFiles, type FileWatch } from '../certificates.js';
import type { SecurityOptions } from '../filters/options.js';
import type { AuthenticationChain, AuthenticationRequest, AuthenticationResult, Authenticator } from './authenticator.js';
import { NOT_MINE } from './authenticator.js';
import { ClientCertificateConfig } from './client-certificates.js';
import { watchAuthenticationConfigMap } from './extension-apiserver-authentication.js';
import { FrontProxyAuthenticator } from './front-proxy.js';
import { parseTokenFile, TokenFileAuthenticator } from './token-file.js';
import { TokenReviewAuthenticator, type TokenReviewer } from './token-review.js';
import type { UserInfo } from './user.js';
import { X509Authenticator } from './x509.js';

export interface Authentication {
  chain: AuthenticationChain;
  clientCertificates: ClientCertificateConfig;
  /** Starts following files and the host cluster's ConfigMap (awaits its first read). */
  start(onError: (err: unknown) => void): Promise<void>;
  stop(): void;
}

/** Tries each bearer-token authenticator; the first user wins, an error only if all fail. */
class BearerTokenUnion implements Authenticator {
  readonly name = 'bearer-token';
  constructor(private readonly authenticators: Authenticator[]) {}
  async authenticate(req: AuthenticationRequest): Promise<AuthenticationResult> {
    let failure: AuthenticationResult = NOT_MINE;
    for (const a of this.authenticators) {
      const result = await a.authenticate(req);
      if (result.kind === 'user') return result;
      if (result.kind === 'error') failure = result;
    }
    return failure;
  }
}

/** The host cluster's kubeconfig; each request of its API clients gets `requestTimeoutMs` (`--host-request-timeout`). */
export function loadKubeconfig(path: string, requestTimeoutMs: number = DEFAULT_HOST_REQUEST_TIMEOUT_MS): KubeConfig {
  const kc = new HostKubeConfig(requestTimeoutMs);
  kc.loadFromFile(path);
  return kc;
}

/** TokenReview through client-node against the host cluster. */
export function tokenReviewer(kubeconfig: KubeConfig): TokenReviewer {
  const api = kubeconfig.makeApiClient(AuthenticationV1Api);
  return async (token, audiences) => {
    const review = await api.createTokenReview({
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences.length ? { audiences } : {}) } },
    });
    return review.status ?? {};
  };
}

export function buildAuthentication(
  options: SecurityOptions,
  server: { certDir: string; tlsCertFile?: string; fileReloadIntervalMs: number; hostRequestTimeoutMs?: number },
): Authentication {
  const flags = options.authentication;
  const delegated = flags.kubeconfig !== undefined;
  const clientCertificates = new ClientCertificateConfig({
    clientCaFile: flags.clientCaFile,
    // The server's own CA (when it made one), which signs the local user's kubeconfig certificate.
    localCaFile: server.tlsCertFile ? undefined : join(server.certDir, 'ca.crt'),
    requestHeaderCaFile: flags.requestHeaderCaFile,
    requestHeaderAllowedNames: flags.requestHeaderAllowedNames,
    requestHeaderUsernameHeaders: flags.requestHeaderUsernameHeaders,
    requestHeaderGroupHeaders: flags.requestHeaderGroupHeaders,
    requestHeaderExtraHeaderPrefixes: flags.requestHeaderExtraHeaderPrefixes,
  });

  let tokens = new Map<string, UserInfo>();
  const tokenAuthenticators: Authenticator[] = [];
  if (flags.tokenAuthFile) {
    tokens = parseTokenFile(readFileSync(flags.tokenAuthFile, 'utf8'));
    tokenAuthenticators.push(new TokenFileAuthenticator(() => tokens));
  }
  const kubeconfig = delegated ? loadKubeconfig(flags.kubeconfig!, server.hostRequestTimeoutMs) : undefined;
  if (kubeconfig) {
    tokenAuthenticators.push(new TokenReviewAuthenticator({ review: tokenReviewer(kubeconfig), cacheTtlMs: flags.tokenCacheTtlMs }));
  }

  const authenticators: Authenticator[] = [
    new FrontProxyAuthenticator(() => clientCertificates.requestHeader()),
    new X509Authenticator(() => clientCertificates.clientCa()),
  ];
  if (tokenAuthenticators.length > 0) authenticators.push(new BearerTokenUnion(tokenAuthenticators));

  const stops: Array<() => void> = [];
  return {
    chain: { authenticators, anonymous: flags.anonymous },
    clientCertificates,
    async start(onError) {
      clientCertificates.watch(options.fileReloadIntervalMs, onError);
      stops.push(() => clientCertificates.stop());
      if (flags.tokenAuthFile) {
        const watch: FileWatch = watchFiles([flags.tokenAuthFile], options.fileReloadIntervalMs, ([text]) => {
          tokens = parseTokenFile(text);
        }, onError);
        stops.push(() => watch.stop());
      }
      if (kubeconfig) {
        const watch = await watchAuthenticationConfigMap(
          kubeconfig,
          flags.configMapResyncMs,
          (published) => clientCertificates.setPublished(published),
          onError,
        );
        stops.push(() => watch.stop());
      }
    },
    stop() {
      for (const stop of stops.splice(0)) stop();
    },
  };
}
