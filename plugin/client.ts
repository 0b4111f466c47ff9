// The plugins' connection to the API server, as kubectl makes it: the user's kubeconfig
// (`--kubeconfig`, else $KUBECONFIG, else ~/.kube/config, else in-cluster), `--context`, and the
// namespace from `-n`, else the context's, else `default`. Credentials (client certificates,
// tokens, exec plugins) are applied by @kubernetes/client-node's KubeConfig.
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';

export interface ConnectionFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** A failed call: the server's metav1.Status (or what stood in for it), kubectl's wording. */
export class ServerError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'ServerError';
  }

  /** `Error from server (NotFound): stormtopologies.storm.apache.org "x" not found`, as kubectl prints it. */
  describe(): string {
    return `Error from server (${this.reason}): ${this.message}`;
  }
}

/** The server could not be reached at all. */
export class ConnectionError extends Error {
  describe(): string {
    return `Unable to connect to the server: ${this.message}`;
  }
}

/** A usage mistake: unknown command, missing argument, bad flag value. */
export class UsageError extends Error {}

export class ApiClient {
  private constructor(
    private readonly kubeConfig: KubeConfig,
    /** The namespace requests go to. */
    readonly namespace: string,
  ) {}

  static fromFlags(flags: ConnectionFlags): ApiClient {
    const kc = new KubeConfig();
    try {
      if (flags.kubeconfig) kc.loadFromFile(flags.kubeconfig);
      else kc.loadFromDefault();
    } catch (err) {
      throw new UsageError(`cannot load kubeconfig: ${(err as Error).message}`);
    }
    if (flags.context) {
      if (!kc.getContextObject(flags.context)) throw new UsageError(`context was not found for specified context: ${flags.context}`);
      kc.setCurrentContext(flags.context);
    }
    if (!kc.getCurrentCluster()) throw new UsageError('no cluster in the kubeconfig: set a current context or pass --context');
    const contextNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace;
    return new ApiClient(kc, flags.namespace || contextNamespace || 'default');
  }

  /** `/apis/<group>/<version>/namespaces/<ns>/<plural>[/<name>[/<subresource>]]`. */
  path(group: string, version: string, plural: string, name?: string, subresource?: string): string {
    const parts = ['apis', group, version, 'namespaces', this.namespace, plural, name, subresource].filter((p): p is string => p !== undefined);
    return `/${parts.map(encodeURIComponent).join('/')}`;
  }

  /** One JSON request; resolves with the decoded response body, rejects with ServerError or ConnectionError. */
  async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, unknown>> {
    const cluster = this.kubeConfig.getCurrentCluster()!;
    const url = new URL(path, cluster.server.endsWith('/') ? cluster.server : `${cluster.server}/`);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const options: RequestOptions = {
      method,
      headers: {
        accept: 'application/json',
        'user-agent': 'kubectl-operators-plugin',
        ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
      },
    };
    await this.kubeConfig.applyToHTTPSOptions(options);
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = send(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', (err) => reject(new ConnectionError(`${url.origin}: ${err.message}`)));
      req.end(payload);
    });
    const decoded = parseJson(text);
    if (status >= 200 && status < 300) {
      if (!isRecord(decoded)) throw new ServerError(status, 'InternalError', `the server answered ${status} with a body that is not a JSON object`);
      return decoded;
    }
    if (isRecord(decoded) && decoded.kind === 'Status') {
      throw new ServerError(status, String(decoded.reason || reasonOf(status)), String(decoded.message || text));
    }
    throw new ServerError(status, reasonOf(status), text.trim() || `the server answered ${status}`);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The StatusReason kubectl shows when the body is not a Status. */
function reasonOf(code: number): string {
  const reasons: Record<number, string> = {
    400: 'BadRequest',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    405: 'MethodNotAllowed',
    409: 'Conflict',
    422: 'Invalid',
    429: 'TooManyRequests',
    500: 'InternalError',
    503: 'ServiceUnavailable',
    504: 'Timeout',
  };
  return reasons[code] ?? 'Unknown';
}
