// Shared by the controller-fault tests that take the stand-in host cluster away: the outages, the
// error each one must be reported with, and readers that work while the host's API is down.
import { metricsRegistry } from '../../apiserver/metrics.js';
import { findCondition, type Condition } from '../../controllers/status.js';
import type { KubeObject } from '../../registry/meta.js';
import type { HostCluster, HostOutage } from '../hostcluster/index.js';

export const OUTAGES = ['unavailable', 'refused'] as const satisfies readonly HostOutage[];

/** What a status message must name for each outage. A call in flight when the listener closes is reset rather than refused; both name the cause. */
export const EXPECTED_ERROR: Record<HostOutage, RegExp> = {
  unavailable: /HTTP 503: the stand-in host cluster is unavailable/,
  refused: /ECONNREFUSED|ECONNRESET/,
};

export const condition = (o: KubeObject, type: string) => findCondition(o.status?.conditions as Condition[] | undefined, type);

/** True when `read` fails with 404. */
export const absent = (read: () => Promise<unknown>) =>
  read().then(
    () => false,
    (err: { code?: number }) => err.code === 404,
  );

/** A host object read in-process (the host's API is down for clients, not for the test). */
export const inHost = (host: HostCluster, resource: string, ns: string, name: string): Promise<KubeObject | undefined> =>
  host.stores.get(resource)!.get({ namespace: ns, name }).then(
    (o) => o,
    () => undefined,
  );

/** Reconciles of `controller` that ended with `result` (`error`: into the per-key backoff; process-wide counter). */
export async function reconciles(controller: string, result: 'error' | 'requeue_after'): Promise<number> {
  const metric = metricsRegistry.getSingleMetric('reconcile_total');
  const values = metric ? (await metric.get()).values : [];
  return values.filter((v) => v.labels.controller === controller && v.labels.result === result).reduce((sum, v) => sum + v.value, 0);
}
