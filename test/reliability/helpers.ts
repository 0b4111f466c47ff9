// Shared pieces of the reliability suite: a keep-alive HTTPS client that never throws on an HTTP
// status (only on a transport failure), the server run as a child process (for SIGKILL), the
// test object, scale parameters (CI runs the issue's figures, local runs smaller ones) and
// latency percentiles.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';

export interface Endpoint {
  url: string;
  caPem: string;
  clientCert?: { cert: string; key: string };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: any;
}

/** A client with its own keep-alive connection pool. */
export class Client {
  readonly agent: Agent;
  constructor(
    readonly endpoint: Endpoint,
    options: { maxSockets?: number } = {},
  ) {
    this.agent = new Agent({
      ca: endpoint.caPem,
      cert: endpoint.clientCert?.cert,
      key: endpoint.clientCert?.key,
      keepAlive: true,
      maxSockets: options.maxSockets ?? 64,
    });
  }

  /**
   * One request; resolves with any HTTP answer, rejects on a transport error or when no answer
   * came within `timeoutMs` (the socket is destroyed then).
   */
  request(method: string, path: string, options: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Answer> {
    const headers: Record<string, string> = { accept: 'application/json', ...(options.headers ?? {}) };
    let body: Buffer | undefined;
    if (options.body !== undefined) {
      body = Buffer.isBuffer(options.body) ? options.body : Buffer.from(typeof options.body === 'string' ? options.body : JSON.stringify(options.body));
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
      headers['content-length'] = String(body.length);
    }
    return new Promise((resolve, reject) => {
      // The path goes out as given (no URL normalisation of `..` or `%2E%2E`): path traversal cases need it raw.
      const base = new URL(this.endpoint.url);
      const req = request({ host: base.hostname, port: base.port, path, method, agent: this.agent, headers, servername: base.hostname === '127.0.0.1' ? undefined : base.hostname }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json });
        });
        res.on('error', reject);
      });
      req.setTimeout(options.timeoutMs ?? 90_000, () => req.destroy(new Error(`no answer to ${method} ${path} within ${options.timeoutMs ?? 90_000} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Scale of the heavy scenarios: the issue's figures on CI, smaller ones on a shared dev machine. */
export function scale(name: string, ci: number, local: number): number {
  const fromEnv = process.env[name];
  if (fromEnv !== undefined && fromEnv !== '') {
    const n = Number(fromEnv);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${fromEnv}: expected a positive number`);
    return n;
  }
  return process.env.CI ? ci : local;
}

/** The p-th percentile (0 < p ≤ 100) of `samples`, nearest rank. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export const GROUP_VERSION = 'pvc-chonker.io/v1alpha1';
export const POLICIES = (namespace: string) => `/apis/pvc-chonker.io/v1alpha1/namespaces/${namespace}/pvcpolicies`;
export const POLICY_SPEC = { selector: { matchLabels: { app: 'db' } }, template: { threshold: '80%' } };

/** A valid PVCPolicy (namespaced, no defaults, no controller needed to accept it). */
export function policy(name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): Record<string, unknown> {
  return { apiVersion: GROUP_VERSION, kind: 'PVCPolicy', metadata: { name, labels, annotations }, spec: POLICY_SPEC };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a truthy value; throws with `what` after `timeoutMs`. */
export async function until<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(100);
  }
}

/** The last `bytes` of a child's output (a server under load logs every request). */
function tail(text: string, bytes: number): string {
  return text.length > bytes ? text.slice(-bytes) : text;
}

export interface ServerProcess {
  endpoint: Endpoint;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
}

/**
 * Runs `node dist/apiserver/main.js` with `args` (plus a free loopback port and `certDir`) and
 * resolves once it logs `serving` with its URL; the client certificate is the local
 * system:masters user's from the cert dir.
 */
export async function startServerProcess(
  certDir: string,
  args: string[],
  timeoutMs = 30_000,
  options: { env?: Record<string, string>; keepOutputBytes?: number } = {},
): Promise<ServerProcess> {
  const keepTail = (text: string) => tail(text, options.keepOutputBytes ?? 256 * 1024);
  const main = new URL('../../apiserver/main.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [main, '--secure-port=0', '--bind-address=127.0.0.1', `--cert-dir=${certDir}`, `--write-kubeconfig=${join(certDir, 'kubeconfig')}`, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'info', ...options.env },
  });
  let output = '';
  let found = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not report its URL within ${timeoutMs} ms:\n${output.slice(-2000)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output = keepTail(output + chunk.toString('utf8'));
      if (found) return;
      const match = /"url":"(https:\/\/[^"]+)"[^\n]*"msg":"serving"|"msg":"serving"[^\n]*"url":"(https:\/\/[^"]+)"/.exec(output);
      if (match) {
        found = true;
        clearTimeout(timer);
        resolve(match[1] ?? match[2]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (output = keepTail(output + c.toString('utf8'))));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${signal ?? code}) before serving:\n${output.slice(-2000)}`));
    });
  });
  const endpoint: Endpoint = {
    url,
    caPem: readFileSync(join(certDir, 'ca.crt'), 'utf8'),
    clientCert: { cert: readFileSync(join(certDir, 'local-user.crt'), 'utf8'), key: readFileSync(join(certDir, 'local-user.key'), 'utf8') },
  };
  return { endpoint, child, output: () => output, exited };
}
