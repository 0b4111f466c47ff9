import { parseArgs } from 'node:util';
import { DEFAULT_STORAGE_URL, parseStorageUrl, type StorageOptions } from '../registry/storage/index.js';
import { completeSecurityOptions, SECURITY_FLAGS, SECURITY_USAGE, type SecurityOptions } from './filters/options.js';
import { completeControllerOptions, CONTROLLER_FLAGS, CONTROLLER_USAGE, type ControllerOptions } from '../controllers/options.js';
import { completePVCChonkerOptions, PVC_CHONKER_FLAGS, PVC_CHONKER_USAGE, type PVCChonkerOptions } from '../controllers/pvcchonker/options.js';
import { WEBHOOK_PATH as PVC_WEBHOOK_PATH } from '../controllers/pvcchonker/webhook.js';
import { checkInsecureBindAddress } from './insecure.js';

/**
 * Command-line options. The startup pipeline is parse → complete → validate: `parseOptions` turns
 * argv into raw flags, `completeOptions` fills defaults and checks them, and only a
 * `CompletedOptions` reaches the server, so the server never sees a half-configured option set.
 */
export interface CompletedOptions {
  readonly storage: StorageOptions;
  readonly bindAddress: string;
  readonly securePort: number;
  /** `--insecure-port`: a plaintext loopback listener for local development (apiserver/insecure.ts); absent = none. */
  readonly insecurePort?: number;
  readonly insecureBindAddress: string;
  /** Serving certificate files; absent means self-signed certificates in `certDir`. */
  readonly tlsCertFile?: string;
  readonly tlsPrivateKeyFile?: string;
  readonly certDir: string;
  /** Where standalone mode writes a kubeconfig for the local user ('' = do not write one). */
  readonly writeKubeconfig: string;
  /** How often the server compacts storage history, in ms; 0 turns compaction off. */
  readonly compactionIntervalMs: number;
  /** Authentication, authorization, audit and request limits (apiserver/filters/options.ts). */
  readonly security: SecurityOptions;
  /** Which controllers run, the host cluster, leader election (controllers/options.ts). */
  readonly controllers: ControllerOptions;
  /** The pvc-chonker controller and webhook (controllers/pvcchonker/options.ts). */
  readonly pvcChonker: PVCChonkerOptions;
  /** `--v`: klog-style log verbosity (apiserver/logging.ts maps it to a pino level). */
  readonly logVerbosity: number;
  readonly __completed: true;
}

const flags = {
  storage: { type: 'string' },
  'etcd-prefix': { type: 'string' },
  'etcd-cafile': { type: 'string' },
  'etcd-certfile': { type: 'string' },
  'etcd-keyfile': { type: 'string' },
  'bind-address': { type: 'string' },
  'secure-port': { type: 'string' },
  'insecure-port': { type: 'string' },
  'insecure-bind-address': { type: 'string' },
  'tls-cert-file': { type: 'string' },
  'tls-private-key-file': { type: 'string' },
  'cert-dir': { type: 'string' },
  'write-kubeconfig': { type: 'string' },
  'etcd-compaction-interval': { type: 'string' },
  ...SECURITY_FLAGS,
  ...CONTROLLER_FLAGS,
  ...PVC_CHONKER_FLAGS,
  v: { type: 'string' },
  help: { type: 'boolean' },
} as const;

export const USAGE = `Usage: node dist/apiserver/main.js [flags]

  --storage=URL               memory | sqlite://<path> | etcd3://<host:port>[,...] | etcd3s://...
                              (default ${DEFAULT_STORAGE_URL})
  --etcd-prefix=P             key prefix in etcd (default /)
  --etcd-cafile, --etcd-certfile, --etcd-keyfile   TLS to etcd
  --bind-address=ADDR         (default 127.0.0.1)
  --secure-port=N             HTTPS port, 0 = any free port (default 8443)
  --insecure-port=N           also serve plaintext HTTP on this port, for local development only:
                              no TLS and no authentication, every request is the super-user
                              system:unsecured (as kube-apiserver's old insecure port); default off
  --insecure-bind-address=A   loopback address for --insecure-port (default 127.0.0.1; anything
                              but 127.0.0.0/8, ::1 or localhost is refused)
  --tls-cert-file, --tls-private-key-file   serving certificate; self-signed when absent
  --cert-dir=DIR              where self-signed certificates are kept (default data/certs)
  --write-kubeconfig=FILE     kubeconfig for the local user (default data/kubeconfig; '' = none)
  --etcd-compaction-interval=D  how often storage history is compacted, e.g. 5m, 30s; 0 = never
                              (default 5m; the name is kube-apiserver's, it applies to every backend)
  --v=N                       log verbosity: 0-3 info, 4-5 debug, 6+ trace (default 0; the
                              LOG_LEVEL environment variable, a pino level, overrides it)
${SECURITY_USAGE}${CONTROLLER_USAGE}${PVC_CHONKER_USAGE}`;

export class OptionsError extends Error {}

export function parseOptions(argv: string[]): Record<string, string | boolean | undefined> {
  try {
    return parseArgs({ args: argv, options: flags, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new OptionsError((err as Error).message);
  }
}

export function completeOptions(raw: Record<string, string | boolean | undefined>): CompletedOptions {
  const str = (name: string): string | undefined => {
    const v = raw[name];
    return typeof v === 'string' ? v : undefined;
  };
  const storageUrl = str('storage') ?? DEFAULT_STORAGE_URL;
  try {
    parseStorageUrl(storageUrl);
  } catch (err) {
    throw new OptionsError((err as Error).message);
  }
  const securePort = Number(str('secure-port') ?? '8443');
  if (!Number.isInteger(securePort) || securePort < 0 || securePort > 65535) {
    throw new OptionsError(`--secure-port=${str('secure-port')}: must be an integer from 0 to 65535`);
  }
  const insecurePortText = str('insecure-port');
  const insecurePort = insecurePortText === undefined ? undefined : Number(insecurePortText);
  if (insecurePort !== undefined && (!/^[0-9]+$/.test(insecurePortText!) || insecurePort > 65535)) {
    throw new OptionsError(`--insecure-port=${insecurePortText}: must be an integer from 0 to 65535`);
  }
  const insecureBindAddress = str('insecure-bind-address') ?? '127.0.0.1';
  const insecureBindProblem = checkInsecureBindAddress(insecureBindAddress);
  if (insecureBindProblem) throw new OptionsError(insecureBindProblem);
  const tlsCertFile = str('tls-cert-file');
  const tlsPrivateKeyFile = str('tls-private-key-file');
  if ((tlsCertFile === undefined) !== (tlsPrivateKeyFile === undefined)) {
    throw new OptionsError('--tls-cert-file and --tls-private-key-file must be given together');
  }
  const compaction = str('etcd-compaction-interval') ?? '5m';
  const compactionIntervalMs = parseDurationMs(compaction);
  if (compactionIntervalMs === undefined) {
    throw new OptionsError(`--etcd-compaction-interval=${compaction}: expected a duration such as 5m, 30s or 0`);
  }
  const verbosityText = str('v') ?? '0';
  const logVerbosity = Number(verbosityText);
  if (!/^[0-9]+$/.test(verbosityText)) throw new OptionsError(`--v=${verbosityText}: expected a non-negative integer`);
  let security: SecurityOptions;
  try {
    security = completeSecurityOptions(raw, parseDurationMs);
  } catch (err) {
    throw new OptionsError((err as Error).message);
  }
  let controllers: ControllerOptions;
  try {
    controllers = completeControllerOptions(raw, parseDurationMs);
  } catch (err) {
    throw new OptionsError((err as Error).message);
  }
  let pvcChonker: PVCChonkerOptions;
  try {
    pvcChonker = completePVCChonkerOptions(raw, parseDurationMs);
  } catch (err) {
    throw new OptionsError((err as Error).message);
  }
  // kube-apiserver calls the webhook without credentials unless configured to (controllers/pvcchonker/webhook.ts).
  if (pvcChonker.webhook && !security.authorization.alwaysAllowPaths.includes(PVC_WEBHOOK_PATH)) security.authorization.alwaysAllowPaths.push(PVC_WEBHOOK_PATH);
  return {
    pvcChonker,
    compactionIntervalMs,
    logVerbosity,
    security,
    controllers,
    storage: {
      url: storageUrl,
      etcdPrefix: str('etcd-prefix'),
      etcdCaFile: str('etcd-cafile'),
      etcdCertFile: str('etcd-certfile'),
      etcdKeyFile: str('etcd-keyfile'),
    },
    bindAddress: str('bind-address') ?? '127.0.0.1',
    securePort,
    insecurePort,
    insecureBindAddress,
    tlsCertFile,
    tlsPrivateKeyFile,
    certDir: str('cert-dir') ?? 'data/certs',
    writeKubeconfig: str('write-kubeconfig') ?? 'data/kubeconfig',
    __completed: true,
  };
}

/** `1h30m`, `5m`, `30s`, `250ms` or `0` in milliseconds; undefined when malformed. */
export function parseDurationMs(text: string): number | undefined {
  if (text === '0') return 0;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]], 0);
}
