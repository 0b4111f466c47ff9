import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import { openBackend, type Backend } from '../registry/storage/index.js';
import { installHealth } from './health.js';
import { writeKubeconfig } from './kubeconfig.js';
import type { CompletedOptions } from './options.js';
import { loadOrCreateLocalUser, loadOrCreateSelfSigned, type ServingCertificate } from './tls.js';

export interface RunningServer {
  app: FastifyInstance;
  backend: Backend;
  /** `https://host:port` the server listens on. */
  url: string;
  /** PEM of the CA clients should trust for `url`. */
  caPem: string;
  close(): Promise<void>;
}

/** Opens the store, builds the HTTPS server and starts listening. */
export async function startServer(options: CompletedOptions): Promise<RunningServer> {
  const serving = servingCertificate(options);
  const backend = await openBackend(options.storage);
  const app = Fastify({
    https: { cert: serving.cert, key: serving.key, minVersion: 'TLSv1.2' },
    logger: { level: process.env.LOG_LEVEL ?? 'info' },
    bodyLimit: 3 * 1024 * 1024,
  });
  installHealth(app, {
    live: [{ name: 'ping', check: async () => {} }],
    ready: [{ name: 'storage', check: () => backend.ping() }],
  });
  try {
    await app.listen({ host: options.bindAddress, port: options.securePort });
  } catch (err) {
    await backend.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.securePort;
  const host = options.bindAddress.includes(':') ? `[${options.bindAddress}]` : options.bindAddress;
  const url = `https://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  if (options.writeKubeconfig) {
    const localUser = options.tlsCertFile ? undefined : loadOrCreateLocalUser(options.certDir);
    writeKubeconfig(options.writeKubeconfig, url, serving.ca, localUser);
  }
  let closing: Promise<void> | undefined;
  return {
    app,
    backend,
    url,
    caPem: serving.ca,
    close() {
      closing ??= app.close().then(() => backend.close());
      return closing;
    },
  };
}

function servingCertificate(options: CompletedOptions): ServingCertificate {
  if (options.tlsCertFile && options.tlsPrivateKeyFile) {
    const cert = readFileSync(options.tlsCertFile, 'utf8');
    return { cert, key: readFileSync(options.tlsPrivateKeyFile, 'utf8'), ca: cert };
  }
  return loadOrCreateSelfSigned(options.certDir);
}
