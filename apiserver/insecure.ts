// `--insecure-port`: a plaintext HTTP listener for local development, as kube-apiserver had until
// 1.20. Requests on it skip authentication and are served as the `system:unsecured` super-user
// (groups system:masters, system:authenticated), exactly as kube-apiserver's insecure port did,
// so it is refused anywhere but on a loopback address (see `checkInsecureBindAddress`). The same
// fastify instance serves both listeners: the same routes, filters (audit, limits, metrics) and
// handlers; only authentication differs.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { AUTHENTICATED_GROUP, MASTERS_GROUP, type UserInfo } from './authn/user.js';

export const INSECURE_SUPERUSER: UserInfo = Object.freeze({
  username: 'system:unsecured',
  groups: Object.freeze([MASTERS_GROUP, AUTHENTICATED_GROUP]) as string[],
});

/** Requests that arrived on the plaintext listener; the authentication filter asks. */
const insecureRequests = new WeakSet<IncomingMessage>();

export function arrivedOnInsecurePort(request: IncomingMessage): boolean {
  return insecureRequests.has(request);
}

/** Why `address` may not carry the plaintext listener, or undefined when it is a loopback address. */
export function checkInsecureBindAddress(address: string): string | undefined {
  const loopback = address === 'localhost' || address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);
  if (loopback) return undefined;
  return `--insecure-bind-address=${address}: the insecure port serves every request as a super-user without TLS and is for local development only; it binds only to a loopback address (127.0.0.1, ::1 or localhost)`;
}

export interface InsecureListener {
  /** `http://host:port` */
  url: string;
  close(): Promise<void>;
}

/** Starts the plaintext listener on `host:port` (0 = any free port) in front of `app`, which must be ready. */
export async function listenInsecure(app: FastifyInstance, host: string, port: number): Promise<InsecureListener> {
  const reason = checkInsecureBindAddress(host);
  if (reason) throw new Error(reason);
  const server: Server = createServer((req, res) => {
    insecureRequests.add(req);
    app.routing(req, res);
  });
  // The same header and keep-alive limits as the TLS listener.
  server.headersTimeout = app.server.headersTimeout;
  server.requestTimeout = app.server.requestTimeout;
  server.keepAliveTimeout = app.server.keepAliveTimeout;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${boundPort}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
