// End-to-end support: a fastify HTTPS server serving only discovery and OpenAPI for the given
// kinds, a kubeconfig for it, and a kubectl runner with a private discovery cache.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { installDiscovery } from '../../apiserver/discovery.js';
import { writeKubeconfig } from '../../apiserver/kubeconfig.js';
import { sendStatus } from '../../apiserver/response.js';
import { pathNotFound } from '../../apiserver/errors.js';
import { loadOrCreateSelfSigned } from '../../apiserver/tls.js';
import type { KindDeclaration } from '../../registry/kind.js';
import { installOpenAPI, type OpenAPIOptions } from '../../openapi/index.js';


export interface RecordedRequest {
  method: string;
  url: string;
  accept: string | undefined;
}

export interface E2EServer {
  app: FastifyInstance;
  url: string;
  caPem: string;
  dir: string;
  kubeconfig: string;
  requests: RecordedRequest[];
  /** Runs kubectl against the server with a fresh discovery cache per call. */
  kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

/** Only the two plugins under test, over HTTPS, like the real server's protocol layer for 404s. */
export async function startE2EServer(kubectlBin: string, kinds: KindDeclaration[], options?: OpenAPIOptions): Promise<E2EServer> {
  const dir = mkdtempSync(join(tmpdir(), 'discovery-e2e-'));
  const cert = loadOrCreateSelfSigned(join(dir, 'certs'));
  const app = Fastify({ https: { cert: cert.cert, key: cert.key } });
  const requests: RecordedRequest[] = [];
  app.addHook('onRequest', async (req) => {
    requests.push({ method: req.method, url: req.url, accept: req.headers.accept });
  });
  app.setNotFoundHandler((_req, reply) => sendStatus(reply, pathNotFound().status));
  installDiscovery(app, kinds);
  installOpenAPI(app, kinds, options);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `https://127.0.0.1:${port}`;
  const kubeconfig = join(dir, 'kubeconfig');
  writeKubeconfig(kubeconfig, url, cert.ca);
  let cacheCount = 0;
  return {
    app,
    url,
    caPem: cert.ca,
    dir,
    kubeconfig,
    requests,
    kubectl(args) {
      const cacheDir = join(dir, `cache-${cacheCount++}`);
      // The kubeconfig's user carries no credentials, and kubectl then prompts for a username
      // on stdin (EOF in a test); a token the server ignores keeps it non-interactive.
      const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: kubeconfig, HOME: dir };
      delete env.KUBECTL_EXPLAIN_OPENAPIV3;
      return new Promise((resolve) => {
        execFile(
          kubectlBin,
          ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, '--token', 'e2e-test', ...args],
          { env, timeout: 60_000, encoding: 'utf8' },
          (err, stdout, stderr) => {
            const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
            resolve({ code, stdout, stderr });
          },
        );
      });
    },
    async stop() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Splits kubectl's column output (`NAME   SHORTNAMES ...`) into rows keyed by header. */
export function parseColumns(output: string): Record<string, string>[] {
  const lines = output.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return [];
  const header = lines[0];
  const starts: { name: string; at: number }[] = [];
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(header))) starts.push({ name: m[0], at: m.index });
  return lines.slice(1).map((line) => {
    const row: Record<string, string> = {};
    starts.forEach((s, i) => {
      const end = i + 1 < starts.length ? starts[i + 1].at : undefined;
      row[s.name] = line.slice(s.at, end).trim();
    });
    return row;
  });
}
