// How a controller reports a host cluster that did not answer (docs/controllers.md, "Peers away"):
// the object's condition becomes Unknown with reason HostClusterUnavailable and the host error in
// its message, the rest of the status stays as last observed (unless `mutate` says otherwise), and
// the object is polled again after `pollMs` instead of going into the per-key backoff. Nothing is
// deleted or created, and no Event is written: Events live on the host cluster.
import type { KubeObject } from '../registry/meta.js';
import type { Store } from '../registry/store.js';
import type { ControllerContext, ReconcileResult } from './controller.js';
import { describeHostError } from './http-errors.js';
import { updateStatus } from './status.js';

export const HOST_CLUSTER_UNAVAILABLE = 'HostClusterUnavailable';

export interface HostUnavailableReport {
  /** What the controller was doing, e.g. "deleting its Pods and Service". */
  doing: string;
  /** The condition that says it (default `Ready`). */
  condition?: string;
  /** When to look again. */
  pollMs: number;
  /** Further status edits, given the condition's message. */
  mutate?(status: Record<string, unknown>, message: string): void;
}

export async function reportHostUnavailable(
  ctx: ControllerContext,
  store: Store,
  obj: KubeObject,
  err: unknown,
  report: HostUnavailableReport,
): Promise<ReconcileResult> {
  const cause = describeHostError(err);
  const message = `the host cluster cannot be reached while ${report.doing}: ${cause}`;
  ctx.log.warn({ object: `${obj.metadata.namespace}/${obj.metadata.name}`, err: cause }, 'host cluster unavailable');
  await updateStatus(
    store,
    obj,
    {
      mutate: report.mutate && ((status) => report.mutate!(status, message)),
      conditions: [{ type: report.condition ?? 'Ready', status: 'Unknown', reason: HOST_CLUSTER_UNAVAILABLE, message }],
    },
    { clock: ctx.clock },
  );
  return { requeueAfter: report.pollMs };
}
