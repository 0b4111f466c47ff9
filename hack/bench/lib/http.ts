// One HTTPS request timed from sending to the last byte of the body, without parsing the body
// (parsing is the client's cost, not the server's; the figures compare server-side work).
import { Agent, request } from 'node:https';
import { performance } from 'node:perf_hooks';
import type { TlsClient } from './load.js';

export interface TimedAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  ms: number;
}

export function keepAliveAgent(tls: TlsClient): Agent {
  return new Agent({ ca: tls.ca, cert: tls.cert, key: tls.key, keepAlive: true, maxSockets: 1 });
}

export function timedGet(agent: Agent, url: string, path: string, headers: Record<string, string> = {}): Promise<TimedAnswer> {
  const base = new URL(url);
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: base.hostname, port: base.port, path, method: 'GET', agent, headers: { accept: 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ms: performance.now() - start }));
      res.on('error', reject);
    });
    req.setTimeout(120_000, () => req.destroy(new Error(`no answer to GET ${path} within 120 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** `metadata.continue` of a list body, read from its head (the server writes metadata before items). */
export function continueToken(body: Buffer): string | undefined {
  const head = body.subarray(0, 4096).toString('utf8');
  const match = /"metadata":\{[^{}]*?"continue":"([^"]*)"/.exec(head);
  return match ? match[1] : undefined;
}

/** Resolves once the server's `/readyz` answers 200 (its watch caches synced); throws after 120 s. */
export async function waitReady(server: { url: string }, agent: Agent): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if ((await timedGet(agent, server.url, '/readyz')).status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('server not ready within 120 s');
}
