// Flags of the filter chain (authentication, authorization, audit, limits), with
// kube-apiserver's names and defaults. `options.ts` spreads `SECURITY_FLAGS` into its flag table
// and stores `completeSecurityOptions(raw)` as `CompletedOptions.security`.

export interface SecurityOptions {
  authentication: {
    /** `--client-ca-file`; in standalone mode without it, the server's own CA in `--cert-dir`. */
    clientCaFile?: string;
    requestHeaderCaFile?: string;
    requestHeaderAllowedNames?: string[];
    requestHeaderUsernameHeaders?: string[];
    requestHeaderGroupHeaders?: string[];
    requestHeaderExtraHeaderPrefixes?: string[];
    tokenAuthFile?: string;
    anonymous: boolean;
    /** Kubeconfig of the host cluster for TokenReview and extension-apiserver-authentication. */
    kubeconfig?: string;
    tokenCacheTtlMs: number;
    /** How often extension-apiserver-authentication is re-read. */
    configMapResyncMs: number;
  };
  authorization: {
    /** Kubeconfig of the host cluster for SubjectAccessReview; absent = standalone RBAC. */
    kubeconfig?: string;
    allowedTtlMs: number;
    deniedTtlMs: number;
    alwaysAllowPaths: string[];
    rbacPolicyFile?: string;
  };
  audit: {
    /** `-` = stdout. */
    logPath?: string;
    policyFile?: string;
    /** Level for every request when no policy file is given. */
    level: 'None' | 'Metadata' | 'Request' | 'RequestResponse';
  };
  maxRequestsInflight: number;
  maxMutatingRequestsInflight: number;
  requestTimeoutMs: number;
  /** How often certificate, CA, token and policy files are checked for changes. */
  fileReloadIntervalMs: number;
}

export const SECURITY_FLAGS = {
  'client-ca-file': { type: 'string' },
  'requestheader-client-ca-file': { type: 'string' },
  'requestheader-allowed-names': { type: 'string' },
  'requestheader-username-headers': { type: 'string' },
  'requestheader-group-headers': { type: 'string' },
  'requestheader-extra-headers-prefix': { type: 'string' },
  'token-auth-file': { type: 'string' },
  'anonymous-auth': { type: 'string' },
  'authentication-kubeconfig': { type: 'string' },
  'authentication-token-webhook-cache-ttl': { type: 'string' },
  'authentication-config-resync': { type: 'string' },
  'authorization-kubeconfig': { type: 'string' },
  'authorization-webhook-cache-authorized-ttl': { type: 'string' },
  'authorization-webhook-cache-unauthorized-ttl': { type: 'string' },
  'authorization-always-allow-paths': { type: 'string' },
  'rbac-policy-file': { type: 'string' },
  'audit-log-path': { type: 'string' },
  'audit-policy-file': { type: 'string' },
  'audit-level': { type: 'string' },
  'max-requests-inflight': { type: 'string' },
  'max-mutating-requests-inflight': { type: 'string' },
  'request-timeout': { type: 'string' },
  'file-reload-interval': { type: 'string' },
} as const;

export const SECURITY_USAGE = `
 Authentication (the first that recognises a request decides):
  --requestheader-client-ca-file=F   front proxy CA; X-Remote-* headers are trusted only from it
  --requestheader-allowed-names=A,B  CNs allowed as front proxy (default: any from that CA)
  --requestheader-username-headers, --requestheader-group-headers,
  --requestheader-extra-headers-prefix   (defaults X-Remote-User, X-Remote-Group, X-Remote-Extra-)
  --client-ca-file=F          CA of x509 client certificates (user = CN, groups = O); standalone
                              default: the server's own CA in --cert-dir
  --token-auth-file=F         static bearer tokens, CSV token,user,uid,"group1,group2"
  --authentication-kubeconfig=F  host cluster for TokenReview and extension-apiserver-authentication
  --authentication-token-webhook-cache-ttl=D   (default 10s)
  --authentication-config-resync=D   how often extension-apiserver-authentication is re-read (10s)
  --anonymous-auth=true|false (default true; false = 401 for requests without credentials)
 Authorization:
  --authorization-kubeconfig=F   host cluster for SubjectAccessReview (delegated mode)
  --authorization-webhook-cache-authorized-ttl=D, --authorization-webhook-cache-unauthorized-ttl=D  (10s)
  --authorization-always-allow-paths=P,Q   (default /healthz,/readyz,/livez)
  --rbac-policy-file=F        standalone RBAC objects (YAML), reloaded on change
 Audit and limits:
  --audit-log-path=F          audit.k8s.io/v1 events as JSON lines ('-' = stdout)
  --audit-policy-file=F       audit.k8s.io/v1 Policy; or --audit-level=None|Metadata|Request|RequestResponse
  --max-requests-inflight=N   (default 400), --max-mutating-requests-inflight=N (default 200)
  --request-timeout=D         (default 1m)
  --file-reload-interval=D    how often certificate, CA, token and policy files are checked (default 1s)
`;

type Raw = Record<string, string | boolean | undefined>;

/** Validates the security flags; throws an Error naming the flag that is wrong. */
export function completeSecurityOptions(raw: Raw, parseDurationMs: (text: string) => number | undefined): SecurityOptions {
  const str = (name: string): string | undefined => (typeof raw[name] === 'string' ? (raw[name] as string) : undefined);
  const list = (name: string): string[] | undefined => {
    const v = str(name);
    return v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  };
  const duration = (name: string, fallback: string): number => {
    const text = str(name) ?? fallback;
    const ms = parseDurationMs(text);
    if (ms === undefined) throw new Error(`--${name}=${text}: expected a duration such as 10s or 1m`);
    return ms;
  };
  const count = (name: string, fallback: number): number => {
    const text = str(name);
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}=${text}: expected a non-negative integer (0 = no limit)`);
    return n;
  };
  const anonymousText = str('anonymous-auth') ?? 'true';
  if (anonymousText !== 'true' && anonymousText !== 'false') throw new Error(`--anonymous-auth=${anonymousText}: expected true or false`);
  const level = str('audit-level') ?? 'Metadata';
  if (!['None', 'Metadata', 'Request', 'RequestResponse'].includes(level)) {
    throw new Error(`--audit-level=${level}: expected None, Metadata, Request or RequestResponse`);
  }
  const generalKubeconfig = str('kubeconfig');
  const requestTimeoutMs = duration('request-timeout', '1m');
  if (requestTimeoutMs <= 0) throw new Error('--request-timeout must be positive');
  const fileReloadIntervalMs = duration('file-reload-interval', '1s');
  if (fileReloadIntervalMs <= 0) throw new Error('--file-reload-interval must be positive');
  return {
    authentication: {
      clientCaFile: str('client-ca-file'),
      requestHeaderCaFile: str('requestheader-client-ca-file'),
      requestHeaderAllowedNames: list('requestheader-allowed-names'),
      requestHeaderUsernameHeaders: list('requestheader-username-headers'),
      requestHeaderGroupHeaders: list('requestheader-group-headers'),
      requestHeaderExtraHeaderPrefixes: list('requestheader-extra-headers-prefix'),
      tokenAuthFile: str('token-auth-file'),
      anonymous: anonymousText === 'true',
      kubeconfig: str('authentication-kubeconfig') ?? generalKubeconfig,
      tokenCacheTtlMs: duration('authentication-token-webhook-cache-ttl', '10s'),
      configMapResyncMs: Math.max(duration('authentication-config-resync', '10s'), 100),
    },
    authorization: {
      kubeconfig: str('authorization-kubeconfig') ?? generalKubeconfig,
      allowedTtlMs: duration('authorization-webhook-cache-authorized-ttl', '10s'),
      deniedTtlMs: duration('authorization-webhook-cache-unauthorized-ttl', '10s'),
      alwaysAllowPaths: list('authorization-always-allow-paths') ?? ['/healthz', '/readyz', '/livez'],
      rbacPolicyFile: str('rbac-policy-file'),
    },
    audit: {
      logPath: str('audit-log-path'),
      policyFile: str('audit-policy-file'),
      level: level as SecurityOptions['audit']['level'],
    },
    maxRequestsInflight: count('max-requests-inflight', 400),
    maxMutatingRequestsInflight: count('max-mutating-requests-inflight', 200),
    requestTimeoutMs,
    fileReloadIntervalMs,
  };
}
