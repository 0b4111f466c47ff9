// The pvc-chonker flags (spread into the server's flags by apiserver/options.ts).
import type { ChonkerConfig } from '../../registry/pvc-chonker.io/upstreams.js';

export interface PVCChonkerOptions extends ChonkerConfig {
  /** `--prometheus-url`: read usage from Prometheus instead of the kubelets. */
  prometheusUrl?: string;
  /** Per-node (or Prometheus) request timeout. */
  kubeletTimeoutMs: number;
  /** Host-cluster calls per second (burst twice that). */
  hostQps: number;
  /** `--enable-pvc-webhook`: serve the PVC mutating admission webhook at WEBHOOK_PATH. */
  webhook: boolean;
}

export const PVC_CHONKER_FLAGS = {
  'pvc-watch-interval': { type: 'string' },
  'pvc-max-parallel': { type: 'string' },
  'pvc-stuck-after': { type: 'string' },
  'pvc-max-expansions-per-day': { type: 'string' },
  'pvc-default-enabled': { type: 'string' },
  'pvc-dry-run': { type: 'string' },
  // pvc-chonker's own name for it (LogicIQ/pvc-chonker `--dry-run`): an alias of --pvc-dry-run.
  'dry-run': { type: 'string' },
  'pvc-kubelet-timeout': { type: 'string' },
  'pvc-host-qps': { type: 'string' },
  'prometheus-url': { type: 'string' },
  'enable-pvc-webhook': { type: 'string' },
} as const;

export const PVC_CHONKER_USAGE = `
 pvc-chonker:
  --pvc-watch-interval=D      how often every PVC is checked (default 5m); changes reconcile at once
  --pvc-max-parallel=N        expansions (and node scrapes) at once (default 4)
  --pvc-stuck-after=D         an expansion pending this long is reported stuck (default 30m)
  --pvc-max-expansions-per-day=N  per volume, over 24 h (default 4, the EBS limit)
  --pvc-default-enabled=true|false  manage every PVC unless it opts out (default false: opt-in)
  --pvc-dry-run=true|false    compute and report expansions without patching (default false)
  --dry-run=true|false        alias of --pvc-dry-run (pvc-chonker's name); both given must agree
  --pvc-kubelet-timeout=D     per-node metrics timeout (default 10s)
  --pvc-host-qps=N            host-cluster calls per second, burst 2N (default 20)
  --prometheus-url=URL        read kubelet_volume_stats_* from Prometheus instead of the node proxy
  --enable-pvc-webhook=true|false  serve the PVC mutating admission webhook at /mutate-pvc (default false)
`;

type Raw = Record<string, string | boolean | undefined>;

export function completePVCChonkerOptions(raw: Raw, parseDurationMs: (text: string) => number | undefined): PVCChonkerOptions {
  const str = (name: string): string | undefined => (typeof raw[name] === 'string' ? (raw[name] as string) : undefined);
  const duration = (name: string, fallback: number): number => {
    const text = str(name);
    if (text === undefined) return fallback;
    const ms = parseDurationMs(text);
    if (ms === undefined || ms <= 0) throw new Error(`--${name}=${text}: expected a positive duration such as 5m`);
    return ms;
  };
  const int = (name: string, fallback: number, min: number): number => {
    const text = str(name);
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name}=${text}: expected an integer ≥ ${min}`);
    return n;
  };
  const bool = (name: string): boolean => {
    const text = str(name) ?? (raw[name] === true ? 'true' : 'false');
    if (text !== 'true' && text !== 'false') throw new Error(`--${name}=${text}: expected true or false`);
    return text === 'true';
  };
  // --dry-run is pvc-chonker's name for --pvc-dry-run; given together they must say the same.
  const dryRun = bool('pvc-dry-run') || bool('dry-run');
  if (raw['pvc-dry-run'] !== undefined && raw['dry-run'] !== undefined && bool('pvc-dry-run') !== bool('dry-run')) {
    throw new Error(`--dry-run=${str('dry-run') ?? raw['dry-run']} and --pvc-dry-run=${str('pvc-dry-run') ?? raw['pvc-dry-run']} disagree (--dry-run is an alias of --pvc-dry-run)`);
  }
  const prometheusUrl = str('prometheus-url') || undefined;
  if (prometheusUrl) {
    try {
      new URL(prometheusUrl);
    } catch {
      throw new Error(`--prometheus-url=${prometheusUrl}: not a URL`);
    }
  }
  return {
    watchIntervalMs: duration('pvc-watch-interval', 5 * 60_000),
    maxParallel: int('pvc-max-parallel', 4, 1),
    stuckAfterMs: duration('pvc-stuck-after', 30 * 60_000),
    maxExpansionsPerDay: int('pvc-max-expansions-per-day', 4, 1),
    defaultEnabled: bool('pvc-default-enabled'),
    dryRun,
    kubeletTimeoutMs: duration('pvc-kubelet-timeout', 10_000),
    hostQps: int('pvc-host-qps', 20, 1),
    prometheusUrl,
    webhook: bool('enable-pvc-webhook'),
  };
}
