import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { completeOptions } from '../../apiserver/options.js';
import { startServer, type RunningServer, type ServerExtensions } from '../../apiserver/server.js';
import type { KindDeclaration } from '../../registry/kind.js';
import { loadOrCreateLocalUser } from '../../apiserver/tls.js';
import { startEtcd } from './etcd.js';

export interface ClientCertificate {
  cert: string;
  key: string;
}

export interface TestServer extends RunningServer {
  dir: string;
  kubeconfigPath: string;
  /**
   * The local user's client certificate (CN=operators-local, O=system:masters, signed by the
   * server's own CA), which `httpsRequest` and the conformance client present; the kubeconfig
   * carries it too. Undefined when `tls-cert-file` is given (the server then has no CA of its own).
   */
  clientCert: ClientCertificate | undefined;
  /** Stops the server and removes its temporary directory. */
  stop(): Promise<void>;
}

/**
 * Starts the real server on a free loopback port with its certificates and kubeconfig in a
 * temporary directory. `storage` defaults to a SQLite file in that directory, and no controllers
 * run unless `flags.controllers` names them.
 */
export async function startTestServer(
  flags: Record<string, string> = {},
  startup: { waitForReady?: boolean; kinds?: KindDeclaration[]; extensions?: ServerExtensions } = {},
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'apiserver-test-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  const options = completeOptions({
    storage: `sqlite://${join(dir, 'state.db')}`,
    'secure-port': '0',
    'cert-dir': join(dir, 'certs'),
    'write-kubeconfig': kubeconfigPath,
    // API tests see only their own writes; a test that wants controllers names them.
    controllers: '',
    ...flags,
  });
  process.env.LOG_LEVEL ??= 'silent';
  const server = await startServer(options, startup.kinds, startup.extensions);
  if (startup.waitForReady !== false) await server.ready;
  return {
    ...server,
    dir,
    kubeconfigPath,
    clientCert: options.tlsCertFile ? undefined : loadOrCreateLocalUser(join(dir, 'certs')),
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One HTTPS request trusting only the server's CA, authenticated with `clientCert` when the
 * endpoint has one (a TestServer has the local system:masters user's; pass `clientCert:
 * undefined` in a copy of the endpoint for an anonymous request).
 */
export function httpsRequest(
  server: { url: string; caPem: string; clientCert?: ClientCertificate },
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, server.url), { method, ca: server.caPem, headers: options.headers, cert: server.clientCert?.cert, key: server.clientCert?.key }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * A test server on its own real etcd (started on free loopback ports); `stop` stops both, and a
 * failed start leaves nothing running.
 */
export async function startTestServerOnEtcd(flags: Record<string, string> = {}): Promise<{ server: TestServer; stop(): Promise<void> }> {
  const etcd = await startEtcd();
  try {
    const server = await startTestServer({ storage: etcd.url, ...flags });
    return {
      server,
      async stop() {
        try {
          await server.stop();
        } finally {
          await etcd.stop();
        }
      },
    };
  } catch (err) {
    await etcd.stop();
    throw err;
  }
}
