// The controller flags: which controllers run, the host cluster, and leader election.
import { parseControllerList } from './enable.js';
import { DEFAULT_HOST_REQUEST_TIMEOUT_MS } from './host-client.js';
import { DEFAULT_LEASE_DURATION_MS, DEFAULT_RENEW_DEADLINE_MS, DEFAULT_RETRY_PERIOD_MS } from './leader-election.js';
import { DEFAULT_LEASE_NAME, type LeaderElectionConfig } from './manager.js';

export interface ControllerOptions {
  /** `--controllers` entries: `*`, `name`, `-name`. */
  enabled: string[];
  /** `--kubeconfig`: the host cluster (absent: in-cluster config when in a pod, else none). */
  kubeconfig?: string;
  /** `--host-request-timeout`: the deadline of every host-cluster API call, in ms. */
  hostRequestTimeoutMs: number;
  leaderElection: Required<Omit<LeaderElectionConfig, 'identity' | 'leaseNamespace'>> & Pick<LeaderElectionConfig, 'identity' | 'leaseNamespace'>;
}

export const CONTROLLER_FLAGS = {
  controllers: { type: 'string' },
  kubeconfig: { type: 'string' },
  'host-request-timeout': { type: 'string' },
  'leader-elect': { type: 'string' },
  'leader-elect-lease-duration': { type: 'string' },
  'leader-elect-renew-deadline': { type: 'string' },
  'leader-elect-retry-period': { type: 'string' },
  'leader-elect-identity': { type: 'string' },
  'leader-elect-resource-name': { type: 'string' },
  'leader-elect-resource-namespace': { type: 'string' },
} as const;

export const CONTROLLER_USAGE = `
 Controllers:
  --controllers=LIST          * = all, NAME enables, -NAME disables, e.g. *,-pvcchonker (default *)
  --kubeconfig=F              the host cluster (default: in-cluster config inside a pod, else none);
                              also the default of --authentication-kubeconfig/--authorization-kubeconfig
  --host-request-timeout=D    deadline of each host-cluster API call (controllers, Lease, TokenReview,
                              SubjectAccessReview); past it the host counts as unavailable (default 30s)
  --leader-elect=true|false   only the holder of a lease reconciles (default true); the lease is a
                              coordination.k8s.io/v1 Lease on the host cluster, or in our storage
  --leader-elect-lease-duration=D, --leader-elect-renew-deadline=D, --leader-elect-retry-period=D
                              (default 15s, 10s, 2s)
  --leader-elect-identity=ID  (default <hostname>_<uuid>)
  --leader-elect-resource-name=N, --leader-elect-resource-namespace=NS
                              the lease (default ${DEFAULT_LEASE_NAME}; namespace: the pod's, else default)
`;

type Raw = Record<string, string | boolean | undefined>;

/** Validates the controller flags; throws an Error naming the flag that is wrong. */
export function completeControllerOptions(raw: Raw, parseDurationMs: (text: string) => number | undefined): ControllerOptions {
  const str = (name: string): string | undefined => (typeof raw[name] === 'string' ? (raw[name] as string) : undefined);
  const duration = (name: string, fallbackMs: number): number => {
    const text = str(name);
    if (text === undefined) return fallbackMs;
    const ms = parseDurationMs(text);
    if (ms === undefined || ms <= 0) throw new Error(`--${name}=${text}: expected a positive duration such as 15s`);
    return ms;
  };
  let enabled: string[];
  try {
    enabled = parseControllerList(str('controllers') ?? '*');
  } catch (err) {
    throw new Error(`--controllers: ${(err as Error).message}`);
  }
  const electText = str('leader-elect') ?? 'true';
  if (electText !== 'true' && electText !== 'false') throw new Error(`--leader-elect=${electText}: expected true or false`);
  const leaseDurationMs = duration('leader-elect-lease-duration', DEFAULT_LEASE_DURATION_MS);
  const renewDeadlineMs = duration('leader-elect-renew-deadline', DEFAULT_RENEW_DEADLINE_MS);
  const retryPeriodMs = duration('leader-elect-retry-period', DEFAULT_RETRY_PERIOD_MS);
  if (!(leaseDurationMs > renewDeadlineMs)) throw new Error('--leader-elect-lease-duration must be greater than --leader-elect-renew-deadline');
  if (!(renewDeadlineMs > retryPeriodMs)) throw new Error('--leader-elect-renew-deadline must be greater than --leader-elect-retry-period');
  return {
    enabled,
    kubeconfig: str('kubeconfig') || undefined,
    hostRequestTimeoutMs: duration('host-request-timeout', DEFAULT_HOST_REQUEST_TIMEOUT_MS),
    leaderElection: {
      enabled: electText === 'true',
      leaseDurationMs,
      renewDeadlineMs,
      retryPeriodMs,
      identity: str('leader-elect-identity') || undefined,
      leaseName: str('leader-elect-resource-name') || DEFAULT_LEASE_NAME,
      leaseNamespace: str('leader-elect-resource-namespace') || undefined,
    },
  };
}
