// Raw-protocol helpers of the conformance harness: one HTTPS request trusting the server's CA,
// a streaming watch reader that checks the framing of every event, Status assertions for raw
// responses and for @kubernetes/client-node errors, and bounded wait helpers (no sleeps).
import type { ExecutionContext } from 'ava';
import { Agent, request } from 'node:https';
import { parse as parseYaml } from 'yaml';

export interface Endpoint {
  url: string;
  caPem: string;
  /** Presented as the TLS client certificate when given (the local system:masters user). */
  clientCert?: { cert: string; key: string };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: any;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: string | Buffer | object;
  query?: Query;
}

const agents = new Map<string, Agent>();
function agentFor(endpoint: Endpoint): Agent {
  let agent = agents.get(endpoint.url);
  if (!agent) {
    agent = new Agent({ ca: endpoint.caPem, cert: endpoint.clientCert?.cert, key: endpoint.clientCert?.key, keepAlive: true, maxSockets: 32 });
    agents.set(endpoint.url, agent);
  }
  return agent;
}

export function withQuery(path: string, query: Query | undefined): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  if (!qs) return path;
  return path.includes('?') ? `${path}&${qs}` : `${path}?${qs}`;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * One HTTPS request. An object body is sent as JSON with `Content-Type: application/json`
 * unless the caller sets a Content-Type; string and Buffer bodies are sent as they are.
 */
export function rawRequest(endpoint: Endpoint, method: string, path: string, options: RequestOptions = {}): Promise<RawResponse> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  let body: string | Buffer | undefined;
  if (options.body !== undefined) {
    if (typeof options.body === 'string' || Buffer.isBuffer(options.body)) body = options.body;
    else {
      body = JSON.stringify(options.body);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
    }
  }
  // Always an explicit Content-Length: Node sends none for a DELETE body by default, and the body
  // would then be read as the next request on the kept-alive connection.
  if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(withQuery(path, options.query), endpoint.url),
      { method, agent: agentFor(endpoint), headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: tryJson(text) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

// ---------------------------------------------------------------------------------------------
// Status assertions

export interface StatusLike {
  kind?: string;
  apiVersion?: string;
  status?: string;
  code?: number;
  reason?: string;
  message?: string;
  metadata?: { continue?: string; resourceVersion?: string };
  details?: { name?: string; group?: string; kind?: string; causes?: Array<{ reason?: string; message?: string; field?: string }>; retryAfterSeconds?: number };
}

/** Asserts `body` is a failure metav1.Status with `code` and `reason`; returns it. */
export function checkStatusBody(t: ExecutionContext, body: unknown, code: number, reason: string, what = ''): StatusLike {
  const s = (body ?? {}) as StatusLike;
  const label = what ? `${what}: ` : '';
  t.is(s.kind, 'Status', `${label}body is a metav1.Status: ${JSON.stringify(body)?.slice(0, 300)}`);
  t.is(s.apiVersion, 'v1', `${label}Status apiVersion`);
  t.is(s.status, 'Failure', `${label}Status.status`);
  t.is(s.code, code, `${label}Status.code (message: ${s.message})`);
  t.is(s.reason, reason, `${label}Status.reason (message: ${s.message})`);
  t.is(typeof s.message, 'string', `${label}Status.message`);
  return s;
}

/** Asserts a raw response is the failure Status `code`/`reason`, as JSON; returns the Status. */
export function expectStatus(t: ExecutionContext, res: RawResponse, code: number, reason: string, what = ''): StatusLike {
  const label = what ? `${what}: ` : '';
  t.is(res.status, code, `${label}HTTP status (body: ${res.body.slice(0, 400)})`);
  t.regex(String(res.headers['content-type'] ?? ''), /^application\/json/, `${label}a Status is JSON`);
  return checkStatusBody(t, res.json, code, reason, what);
}

/** Asserts a successful raw response and returns its JSON body. */
export function expectOk(t: ExecutionContext, res: RawResponse, code = 200, what = ''): any {
  const label = what ? `${what}: ` : '';
  t.is(res.status, code, `${label}HTTP status (body: ${res.body.slice(0, 600)})`);
  return res.json;
}

/** The HTTP code and parsed body of a @kubernetes/client-node ApiException (or any error). */
export function apiError(err: unknown): { code: number | undefined; body: unknown } {
  const e = err as { code?: unknown; statusCode?: unknown; body?: unknown };
  const code = typeof e.code === 'number' ? e.code : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  let body = e.body;
  if (typeof body === 'string') body = tryJson(body) ?? body;
  return { code, body };
}

/** Awaits a client-node call that must fail with the Status `code`/`reason`; returns the Status. */
export async function rejectsWithStatus(t: ExecutionContext, call: Promise<unknown>, code: number, reason: string, what = ''): Promise<StatusLike> {
  try {
    const ok = await call;
    t.fail(`${what ? `${what}: ` : ''}expected ${code} ${reason}, the call succeeded: ${JSON.stringify(ok)?.slice(0, 300)}`);
    return {};
  } catch (err) {
    const { code: got, body } = apiError(err);
    t.is(got, code, `${what ? `${what}: ` : ''}HTTP status of the client-node error (${String((err as Error).message).slice(0, 200)})`);
    return checkStatusBody(t, body, code, reason, what);
  }
}

// ---------------------------------------------------------------------------------------------
// Waiting

/** Polls `probe` until it returns a value other than undefined/false, at most `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
}

/** Rejects after `ms` with a message naming `what`. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Watch streams

export interface WatchEventJson {
  type: string;
  object: any;
}

/**
 * A raw watch stream. Every chunk is split into newline-terminated lines; each line must be one
 * JSON watch event (`{"type":...,"object":...}`), otherwise `framingErrors` records it.
 */
export class RawWatch {
  readonly events: WatchEventJson[] = [];
  readonly framingErrors: string[] = [];
  status = 0;
  headers: Record<string, string | string[] | undefined> = {};
  /** The body when the server answered with something other than a 200 stream. */
  errorBody = '';
  ended = false;
  private buffer = '';
  private waiters: Array<() => void> = [];
  private destroy: () => void = () => {};
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(private readonly yamlFraming = false) {
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  /** @internal */
  attach(destroy: () => void): void {
    this.destroy = destroy;
  }

  /** @internal */
  push(chunk: string): void {
    this.buffer += chunk;
    if (this.yamlFraming) {
      const docs = this.buffer.split(/^---\n/m);
      this.buffer = docs.pop() ?? '';
      for (const d of docs) if (d.trim()) this.events.push(parseYaml(d) as WatchEventJson);
      this.wake();
      return;
    }
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (line.trim() === '') {
        this.framingErrors.push('empty line');
        continue;
      }
      const parsed = tryJson(line) as WatchEventJson | undefined;
      if (!parsed || typeof parsed.type !== 'string' || parsed.object === undefined || Object.keys(parsed).some((k) => k !== 'type' && k !== 'object')) {
        this.framingErrors.push(line.slice(0, 200));
        continue;
      }
      this.events.push(parsed);
    }
    this.wake();
  }

  /** @internal */
  end(): void {
    if (this.yamlFraming && this.buffer.trim()) {
      this.events.push(parseYaml(this.buffer) as WatchEventJson);
      this.buffer = '';
    }
    if (!this.yamlFraming && this.buffer !== '') this.framingErrors.push(`unterminated: ${this.buffer.slice(0, 200)}`);
    this.ended = true;
    this.wake();
    this.resolveDone();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private changed(): Promise<void> {
    return new Promise((r) => this.waiters.push(r));
  }

  /** Waits until at least `n` events arrived (or the stream ended); returns the first `n`. */
  async take(n: number, timeoutMs = 10_000): Promise<WatchEventJson[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < n) {
      if (this.ended) throw new Error(`watch ended after ${this.events.length} of ${n} events: ${summarize(this.events)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${n} watch events, got ${this.events.length}: ${summarize(this.events)}`);
      await Promise.race([this.changed(), new Promise((r) => setTimeout(r, Math.min(left, 1000)))]);
    }
    return this.events.slice(0, n);
  }

  /** Waits for the first event (from index `from`) matching `pred`. */
  async waitFor(pred: (e: WatchEventJson) => boolean, what: string, timeoutMs = 10_000, from = 0): Promise<WatchEventJson> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(pred);
      if (found) return found;
      if (this.ended) throw new Error(`watch ended before ${what}: ${summarize(this.events)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}: ${summarize(this.events)}`);
      await Promise.race([this.changed(), new Promise((r) => setTimeout(r, Math.min(left, 1000)))]);
    }
  }

  /** Waits for the server to end the stream. */
  async waitEnd(timeoutMs = 10_000): Promise<void> {
    await withTimeout(this.done, timeoutMs, 'the watch stream to end');
  }

  close(): void {
    this.destroy();
  }
}

export function summarize(events: WatchEventJson[]): string {
  return JSON.stringify(events.map((e) => [e.type, e.object?.metadata?.name ?? e.object?.kind, e.object?.metadata?.resourceVersion]));
}

/**
 * Opens a watch (`watch=true` is added) and resolves once the response headers arrived, i.e. once
 * the server has registered the watch. A non-200 answer resolves too, with `status`/`errorBody`.
 */
export function openWatch(endpoint: Endpoint, path: string, query: Query = {}, headers: Record<string, string> = {}): Promise<RawWatch> {
  const accept = headers.Accept ?? headers.accept ?? '';
  const watch = new RawWatch(/yaml/.test(accept));
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(withQuery(path, { ...query, watch: 'true' }), endpoint.url),
      // A dedicated connection per watch: a keep-alive agent would queue requests behind it.
      { method: 'GET', ca: endpoint.caPem, cert: endpoint.clientCert?.cert, key: endpoint.clientCert?.key, agent: false, headers },
      (res) => {
        watch.status = res.statusCode ?? 0;
        watch.headers = res.headers;
        res.setEncoding('utf8');
        if (watch.status !== 200) {
          res.on('data', (c: string) => (watch.errorBody += c));
          res.on('end', () => {
            watch.end();
            resolve(watch);
          });
          return;
        }
        res.on('data', (c: string) => watch.push(c));
        res.on('end', () => watch.end());
        res.on('close', () => {
          if (!watch.ended) watch.end();
        });
        res.on('error', () => {
          if (!watch.ended) watch.end();
        });
        watch.attach(() => {
          req.destroy();
          res.destroy();
        });
        resolve(watch);
      },
    );
    req.on('error', (err) => {
      if (watch.status === 0) reject(err);
      else if (!watch.ended) watch.end();
    });
    req.end();
  });
}
