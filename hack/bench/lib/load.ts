// HTTP load from this process with autocannon (a maintained load generator that keeps its own
// connections and latency histogram). The server under test always runs in another process, so
// the two compete for the machine's cores the same way for the subject and for its baseline.
import autocannon from 'autocannon';

export interface TlsClient {
  ca: string;
  cert?: string;
  key?: string;
}

export interface LoadOptions {
  /** `https://127.0.0.1:PORT` */
  url: string;
  tls: TlsClient;
  /** The request every connection sends over and over. */
  request: { method?: 'GET' | 'POST' | 'PUT'; path: string; body?: string; headers?: Record<string, string> };
  connections: number;
  /** Either a duration or a request count bounds the run. */
  durationSeconds?: number;
  amount?: number;
  /** Rewrites each request before it is sent (e.g. a fresh name per create); autocannon's hook. */
  setupRequest?: (request: Record<string, any>, context: Record<string, any>) => Record<string, any>;
}

export interface LoadResult {
  rps: number;
  requests: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  /** Responses outside 2xx. */
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  durationMs: number;
}

export async function load(options: LoadOptions): Promise<LoadResult> {
  const { method = 'GET', path, body, headers = {} } = options.request;
  const result = await autocannon({
    // autocannon takes the path from the URL, not from a `path` option.
    url: new URL(path, options.url).toString(),
    connections: options.connections,
    pipelining: 1,
    // Absent, not undefined: autocannon's defaults are overridden by keys that are present.
    ...(options.durationSeconds !== undefined ? { duration: options.durationSeconds } : {}),
    ...(options.amount !== undefined ? { amount: options.amount } : {}),
    method,
    body,
    headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    requests: options.setupRequest ? [{ method, path, setupRequest: options.setupRequest as any }] : undefined,
    // autocannon's own client; it sets rejectUnauthorized: false itself, the CA is still ours.
    tlsOptions: { ca: options.tls.ca, cert: options.tls.cert, key: options.tls.key },
    timeout: 30,
  } as autocannon.Options);
  const durationMs = result.duration * 1000;
  const requests = result.requests.total;
  return {
    rps: requests / result.duration,
    requests,
    p50Ms: result.latency.p50,
    p90Ms: result.latency.p90,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    durationMs,
  };
}

/** Throws when a load run saw errors, so a figure is never computed from failed requests. */
export function assertClean(what: string, result: LoadResult): LoadResult {
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${what}: ${result.non2xx} non-2xx answers and ${result.errors} errors out of ${result.requests} requests`);
  }
  return result;
}
