// Test support for authentication: CAs and client certificates in a temporary directory, one
// HTTPS request on a fresh connection (no session reuse, so rotation tests see new TLS state)
// with any mix of client certificate, bearer token and headers, and bounded polling.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, issueCertificate, type CertificateAuthority } from '../../apiserver/tls.js';

export interface Credentials {
  cert?: { cert: string; key: string };
  token?: string;
  headers?: Record<string, string | string[]>;
}

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: any;
}

export function tempDir(prefix = 'auth-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function newCa(name: string): CertificateAuthority {
  return createCertificateAuthority(name);
}

export function clientCert(ca: CertificateAuthority, commonName: string, organizations: string[] = []): { cert: string; key: string } {
  return issueCertificate(ca, { commonName, organizations, usage: 'client' });
}

export function writeFile(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** One request on its own connection, trusting only `ca`. */
export function call(
  endpoint: { url: string; caPem: string },
  method: string,
  path: string,
  credentials: Credentials = {},
  body?: unknown,
): Promise<Response> {
  const headers: Record<string, string | string[]> = { ...(credentials.headers ?? {}) };
  if (credentials.token) headers.Authorization = `Bearer ${credentials.token}`;
  let payload: string | undefined;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    headers['Content-Type'] ??= 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(payload));
  }
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, endpoint.url),
      { method, ca: endpoint.caPem, cert: credentials.cert?.cert, key: credentials.cert?.key, headers, agent: false },
      (res) => {
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
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** The user name a 403 message names (`User "x" cannot ...`), for telling who the server saw. */
export function forbiddenUser(res: Response): string | undefined {
  const m = /User "([^"]*)" cannot/.exec(res.json?.message ?? '');
  return m?.[1];
}

/** Calls `probe` until it returns a value that is not undefined; fails after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
