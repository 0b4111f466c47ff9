// The front proxy (kube-aggregator) authenticator: trusts X-Remote-* headers only on a connection
// whose client certificate chains to the request-header CA and whose CN is allowed. The same
// headers on any other connection are never read (the filter also strips them).
import { subjectAttribute, type CaBundle } from '../certificates.js';
import { NOT_MINE, type AuthenticationRequest, type DistinctHeaders, type AuthenticationResult, type Authenticator } from './authenticator.js';

export interface RequestHeaderConfig {
  ca: CaBundle;
  /** CNs allowed to act as a front proxy; empty = any certificate from `ca`. */
  allowedNames: string[];
  usernameHeaders: string[];
  groupHeaders: string[];
  extraHeaderPrefixes: string[];
}

export const DEFAULT_REQUEST_HEADERS = {
  usernameHeaders: ['X-Remote-User'],
  groupHeaders: ['X-Remote-Group'],
  extraHeaderPrefixes: ['X-Remote-Extra-'],
};

export class FrontProxyAuthenticator implements Authenticator {
  readonly name = 'requestheader';
  /** `config` is read per request, so CA and header changes apply without a restart. */
  constructor(
    private readonly config: () => RequestHeaderConfig | undefined,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  authenticate(req: AuthenticationRequest): AuthenticationResult {
    const config = this.config();
    if (!config || req.peerCertificates.length === 0) return NOT_MINE;
    const leaf = config.ca.verify(req.peerCertificates, this.clock());
    if (!leaf) return NOT_MINE;
    const cn = subjectAttribute(leaf, 'CN')[0] ?? '';
    if (config.allowedNames.length > 0 && !config.allowedNames.includes(cn)) return NOT_MINE;
    const username = config.usernameHeaders.map((h) => headerValues(req.headers, h)[0]).find((v) => v);
    if (!username) return NOT_MINE;
    const groups = config.groupHeaders.flatMap((h) => headerValues(req.headers, h));
    const extra: Record<string, string[]> = {};
    for (const [header, value] of Object.entries(req.headers)) {
      const prefix = config.extraHeaderPrefixes.find((p) => header.startsWith(p.toLowerCase()));
      if (!prefix || value === undefined) continue;
      const key = unescapeExtraKey(header.slice(prefix.length));
      extra[key] = [...(extra[key] ?? []), ...value];
    }
    return {
      kind: 'user',
      authenticator: this.name,
      user: { username, groups, ...(Object.keys(extra).length > 0 ? { extra } : {}) },
    };
  }
}

/** Every header named by `config` that a front proxy may set: removed from untrusted requests. */
export function isRequestHeader(config: RequestHeaderConfig | undefined, header: string): boolean {
  const names = config ?? DEFAULT_REQUEST_HEADERS;
  const lower = header.toLowerCase();
  return (
    names.usernameHeaders.some((h) => h.toLowerCase() === lower) ||
    names.groupHeaders.some((h) => h.toLowerCase() === lower) ||
    names.extraHeaderPrefixes.some((p) => lower.startsWith(p.toLowerCase()))
  );
}

/** Every non-empty value of a header (one X-Remote-Group line per group). */
function headerValues(headers: DistinctHeaders, name: string): string[] {
  return (headers[name.toLowerCase()] ?? []).filter((v) => v !== '');
}

/** Extra keys are lowercased and percent-unescaped (client-go escapes them on the way out). */
export function unescapeExtraKey(key: string): string {
  try {
    return decodeURIComponent(key).toLowerCase();
  } catch {
    return key.toLowerCase();
  }
}
