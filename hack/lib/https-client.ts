// A keep-alive HTTPS client for the server's API that never throws on an HTTP status (only on a
// transport failure or a missing answer), shared by the benchmarks (hack/bench) and the
// reliability suite (test/reliability).
import { Agent, request } from 'node:https';

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
