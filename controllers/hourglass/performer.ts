// The Performer controller: keeps a Pod per serving (and, during an upgrade, per new) revision and
// the ClusterIP Service `performer-<name>` on the host cluster, runs blue-green upgrades
// (`upgrade.ts`), reports status (phase, ready, podName, serviceName, grpcEndpoint, nodeName,
// readyTime, versions, conditions Ready / Unschedulable / Upgrading) and removes the host objects
// behind the finalizer `hourglass.eigenlayer.io/performer-finalizer`.
//
// A Pod the scheduler cannot place (`PodScheduled=False`, reason Unschedulable) is left where it
// is: the Performer gets the condition `Unschedulable=True` with the scheduler's message and the
// Pod waits for a node (GPU nodes are scarce; recreating it would only lose its queue position).
// Host objects are not watched: the performer is polled (`pollMs`) while it is not ready or is
// upgrading, then every `steadyPollMs`. Pods and Services of Performers that no longer exist are
// swept (`controllers/orphan-sweep.ts`).
import type { V1Pod } from '@kubernetes/client-node';
import { isStatusError } from '../../apiserver/errors.js';
import type { PerformerSpec, PerformerStatus } from '../../registry/hourglass.eigenlayer.io/performer/types.js';
import { PERFORMER_HEALTH, type PerformerHealthResult } from '../../registry/hourglass.eigenlayer.io/upstreams.js';
import type { KubeObject } from '../../registry/meta.js';
import type { ControllerContext, ControllerDeclaration, ReconcileResult } from '../controller.js';
import { addFinalizer, hasFinalizer, isBeingDeleted, removeFinalizer } from '../finalizers.js';
import { managedBySelector, type HostClient } from '../host-client.js';
import { metaTime, updateStatus, type ConditionInput } from '../status.js';
import { httpCode, isHostUnavailable } from '../http-errors.js';
import { reportHostUnavailable } from '../host-unavailable.js';
import { applyOwned, NotOurs } from './host-apply.js';
import {
  grpcPort,
  performerPod,
  performerService,
  REVISION_LABEL,
  serviceEndpoint,
  serviceName,
  type PerformerPodOptions,
} from './performer-resources.js';
import { applyRolloutToStatus, checkPendingHealth, decideRollout } from './upgrade.js';
import { DEFAULT_SWEEP_INTERVAL_MS, sweepOrphans, SWEEP_KEY } from '../orphan-sweep.js';

export const PERFORMERS = 'performers.hourglass.eigenlayer.io';
export const PERFORMER_FINALIZER = 'hourglass.eigenlayer.io/performer-finalizer';
const PERFORMER_KIND = { group: 'hourglass.eigenlayer.io', kind: 'Performer' };

export interface PerformerControllerOptions extends PerformerPodOptions {
  /** Poll interval while the performer is not ready or is upgrading (default 2 s). */
  pollMs?: number;
  /** Poll interval once it is ready (default 2 min, as the Hourglass operator). */
  steadyPollMs?: number;
  /** Deadline of the health check of a new revision (default 2 s). */
  healthDeadlineMs?: number;
  /** Time between sweeps for the Pods and Services of Performers that no longer exist (default 10 min; one more at each leadership term's start). */
  sweepIntervalMs?: number;
}

/** The scheduler's verdict on a Pod it could not place, or undefined. */
export function unschedulable(pod: V1Pod | undefined): string | undefined {
  const c = pod?.status?.conditions?.find((x) => x.type === 'PodScheduled');
  if (c?.status === 'False' && c.reason === 'Unschedulable') return c.message ?? 'the scheduler cannot place the pod';
  return undefined;
}

function podReady(pod: V1Pod | undefined): boolean {
  return pod?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function phaseOf(pod: V1Pod | undefined, upgrading: boolean): NonNullable<PerformerStatus['phase']> {
  if (upgrading) return 'Upgrading';
  switch (pod?.status?.phase) {
    case 'Running':
      return 'Running';
    case 'Failed':
    case 'Succeeded':
      return 'Failed';
    default:
      return 'Pending';
  }
}

function describe(v: { version?: string; image: string }): string {
  return v.version ? `${v.version} (${v.image})` : v.image;
}

export function performerController(options: PerformerControllerOptions = {}): ControllerDeclaration {
  const pollMs = options.pollMs ?? 2_000;
  const steadyPollMs = options.steadyPollMs ?? 120_000;
  const healthDeadlineMs = options.healthDeadlineMs ?? 2_000;
  const sweepIntervalMs = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
  return {
    name: 'hourglass',
    resource: PERFORMERS,
    workers: 2,
    setup(ctx: ControllerContext) {
      const store = ctx.store(PERFORMERS);
      const cache = ctx.informer(PERFORMERS).cache;
      if (!ctx.host) ctx.log.info({}, 'hourglass: no host cluster (--kubeconfig); performers are stored but not run');

      async function cleanUp(obj: KubeObject): Promise<void> {
        if (!hasFinalizer(obj, PERFORMER_FINALIZER)) return;
        if (ctx.host) {
          const deleted = await ctx.host.deleteManaged(obj, [ctx.host.types.pods, ctx.host.types.services]);
          if (deleted.length > 0) ctx.recorder.event(obj, 'Normal', 'CleanedUp', `deleted ${deleted.join(', ')}`);
        }
        await removeFinalizer(store, obj, PERFORMER_FINALIZER);
      }

      async function listPods(host: HostClient, obj: KubeObject): Promise<Map<string, V1Pod>> {
        const pods = (await host.core.listNamespacedPod({ namespace: obj.metadata.namespace!, labelSelector: managedBySelector(obj) })).items;
        const out = new Map<string, V1Pod>();
        for (const pod of pods) {
          const revision = pod.metadata?.labels?.[REVISION_LABEL];
          if (revision && !pod.metadata?.deletionTimestamp) out.set(revision, pod);
        }
        return out;
      }

      async function createPod(host: HostClient, obj: KubeObject, pod: V1Pod): Promise<V1Pod> {
        try {
          const created = await host.core.createNamespacedPod({ namespace: pod.metadata!.namespace!, body: pod });
          ctx.recorder.event(obj, 'Normal', 'PodCreated', `created pod ${pod.metadata!.name} for ${describe(obj.spec as PerformerSpec)}`);
          return created;
        } catch (err) {
          if (httpCode(err) !== 409) throw err;
          return host.core.readNamespacedPod({ namespace: pod.metadata!.namespace!, name: pod.metadata!.name! });
        }
      }

      async function deletePod(host: HostClient, pod: V1Pod): Promise<void> {
        try {
          await host.core.deleteNamespacedPod({ namespace: pod.metadata!.namespace!, name: pod.metadata!.name! });
        } catch (err) {
          if (httpCode(err) !== 404) throw err;
        }
      }

      async function reconcileOnHost(host: HostClient, obj: KubeObject): Promise<ReconcileResult> {
        const spec = obj.spec as PerformerSpec;
        const now = metaTime(ctx.clock.now());
        const { revision, pod: desiredPod } = performerPod(obj, options);
        const desired = { ...(spec.version !== undefined ? { version: spec.version } : {}), image: spec.image, revision };
        let pods = await listPods(host, obj);

        // A Pod that has ended (evicted, failed) is replaced; a Pending one is left waiting.
        for (const [rev, pod] of pods) {
          if (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded') {
            ctx.recorder.event(obj, 'Warning', 'PodEnded', `pod ${pod.metadata!.name} ended (${pod.status.phase}${pod.status.reason ? `: ${pod.status.reason}` : ''}); replacing it`);
            await deletePod(host, pod);
            pods.delete(rev);
          }
        }

        // The desired revision's Pod exists in every case (serving or coming up).
        if (!pods.has(revision)) pods.set(revision, await createPod(host, obj, desiredPod));
        const status = (obj.status ?? {}) as PerformerStatus;
        const upgrading = status.currentVersion?.revision !== undefined && status.currentVersion.revision !== revision;
        let health: PerformerHealthResult | undefined;
        if (upgrading) {
          health = await checkPendingHealth(ctx.upstream(PERFORMER_HEALTH), pods.get(revision), grpcPort(spec), healthDeadlineMs);
          if (health?.status === 'UNREACHABLE') {
            // The gRPC code only (not its varying details), so an outage is one Event with a count.
            ctx.recorder.event(obj, 'Warning', 'HealthCheckFailed', `${describe(desired)} in pod ${pods.get(revision)?.metadata?.name}: no health answer (${health.grpcCode ?? 'UNKNOWN'}); the Service stays on ${describe(status.currentVersion!)}`);
          }
        }
        const decision = decideRollout({ status, desired, pods, now }, health);

        if (decision.started) {
          ctx.recorder.event(obj, 'Normal', 'UpgradeStarted', `starting ${describe(desired)} beside ${describe(status.currentVersion!)}; switching once it reports SERVING`);
        }
        if (decision.dropped) {
          ctx.recorder.event(obj, 'Normal', 'UpgradeAbandoned', `abandoned ${describe(decision.dropped)}`);
        }
        if (decision.switching) {
          // Status first: a reconcile cut short after this finishes the switch, never undoes it.
          obj = await updateStatus(store, obj, { mutate: (s) => applyRolloutToStatus(s as PerformerStatus, decision, undefined, now) }, { clock: ctx.clock });
          const how = status.pendingVersion?.promoteRequested ? 'promoted' : health?.status === 'SERVING' ? 'it reports SERVING' : 'the serving pod is gone';
          ctx.recorder.event(obj, 'Normal', 'Upgraded', `switched to ${describe(decision.serving)} from ${describe(status.currentVersion!)} (${how})`);
        }

        const service = await applyOwned(
          'Service',
          {
            read: (namespace, name) => host.core.readNamespacedService({ namespace, name }),
            create: (namespace, body) => host.core.createNamespacedService({ namespace, body }),
            replace: (namespace, name, body) => host.core.replaceNamespacedService({ namespace, name, body }),
          },
          performerService(obj, decision.serving.revision),
          obj.metadata.name!,
          // The host owns clusterIP(s) and the other defaulted fields of a Service's spec.
          (body, current) => ({ ...body, spec: { ...current.spec, ...body.spec } }),
        );
        if (service.action === 'created') ctx.recorder.event(obj, 'Normal', 'ServiceCreated', `created service ${serviceName(obj.metadata.name!)}`);

        // Pods of revisions neither serving nor coming up go (the old one after a switch).
        for (const [rev, pod] of pods) {
          if (decision.keep.has(rev)) continue;
          await deletePod(host, pod);
          pods.delete(rev);
        }
        pods = new Map([...pods].filter(([rev]) => decision.keep.has(rev)));

        const serving = pods.get(decision.serving.revision);
        const pendingPod = decision.pending ? pods.get(decision.pending.revision!) : undefined;
        const ready = podReady(serving);
        const waiting = [serving, pendingPod].map((p) => [p, unschedulable(p)] as const).filter(([, why]) => why !== undefined);
        const conditions: ConditionInput[] = [
          ready
            ? { type: 'Ready', status: 'True', reason: 'PodReady', message: `pod ${serving!.metadata!.name} passes its gRPC readiness probe` }
            : { type: 'Ready', status: 'False', reason: unschedulable(serving) ? 'Unschedulable' : 'PodNotReady', message: `pod ${serving?.metadata?.name ?? '(none)'} is not ready` },
          waiting.length > 0
            ? { type: 'Unschedulable', status: 'True', reason: 'Unschedulable', message: waiting.map(([p, why]) => `pod ${p!.metadata!.name}: ${why}`).join('; ') }
            : { type: 'Unschedulable', status: 'False', reason: 'Scheduled' },
          decision.pending
            ? {
                type: 'Upgrading',
                status: 'True',
                reason: 'WaitingForServing',
                message: `${describe(decision.pending)} in pod ${pendingPod?.metadata?.name ?? '(none)'}: ${health ? `health ${health.status}${health.grpcCode ? ` (${health.grpcCode})` : ''}` : ctx.upstream(PERFORMER_HEALTH) ? 'not running yet' : 'this server has no gRPC health client; promote to switch'}`,
              }
            : { type: 'Upgrading', status: 'False', reason: decision.switching ? 'Switched' : 'UpToDate', message: `serving ${describe(decision.serving)}` },
        ];
        if (waiting.length > 0) {
          for (const [p, why] of waiting) ctx.recorder.event(obj, 'Warning', 'Unschedulable', `pod ${p!.metadata!.name}: ${why}`);
        }

        await updateStatus(
          store,
          obj,
          {
            mutate(s) {
              const st = s as PerformerStatus;
              // A switch is already written above; here only the pending revision is kept up to date.
              applyRolloutToStatus(st, { ...decision, switching: false }, pendingPod?.metadata?.name, now);
              st.phase = phaseOf(serving, decision.pending !== undefined);
              if (ready && st.ready !== true) st.readyTime = now;
              if (!ready) delete st.readyTime;
              st.ready = ready;
              st.podName = serving?.metadata?.name;
              if (st.podName === undefined) delete st.podName;
              st.serviceName = serviceName(obj.metadata.name!);
              st.grpcEndpoint = serviceEndpoint(obj);
              if (serving?.spec?.nodeName) st.nodeName = serving.spec.nodeName;
              else delete st.nodeName;
            },
            conditions,
          },
          { clock: ctx.clock },
        );
        return { requeueAfter: ready && !decision.pending ? steadyPollMs : pollMs };
      }

      /** The host cluster is away: Ready Unknown, the rest of the status as last observed, polled at `pollMs`. */
      const hostUnavailable = (obj: KubeObject, err: unknown, doing: string): Promise<ReconcileResult> =>
        reportHostUnavailable(ctx, store, obj, err, { doing, pollMs });

      if (ctx.host) ctx.queue.add(SWEEP_KEY);

      return {
        async reconcile(key): Promise<ReconcileResult | void> {
          if (key === SWEEP_KEY) return sweepOrphans(ctx, PERFORMER_KIND, [ctx.host!.types.pods, ctx.host!.types.services], cache, store, sweepIntervalMs);
          const cached = cache.get(key);
          if (!cached) return;
          // The stored object, not the cache's copy: version decisions must see the latest status
          // (our own switch, a promote request) or they could act twice.
          let obj: KubeObject;
          try {
            obj = await store.get({ namespace: cached.metadata.namespace, name: cached.metadata.name! });
          } catch (err) {
            if (isStatusError(err, 'NotFound')) return;
            throw err;
          }
          if (isBeingDeleted(obj)) {
            try {
              return await cleanUp(obj);
            } catch (err) {
              if (isHostUnavailable(err)) return hostUnavailable(obj, err, 'deleting its Pods and Service');
              throw err;
            }
          }
          // Standalone (no host cluster): nothing to run them on; the objects are left as they are.
          if (!ctx.host) return;
          obj = await addFinalizer(store, obj, PERFORMER_FINALIZER);
          try {
            return await reconcileOnHost(ctx.host, obj);
          } catch (err) {
            if (isHostUnavailable(err)) return hostUnavailable(obj, err, 'reconciling its Pods and Service');
            if (!(err instanceof NotOurs)) throw err;
            ctx.recorder.event(obj, 'Warning', 'NameConflict', err.message);
            await updateStatus(store, obj, { conditions: [{ type: 'Ready', status: 'False', reason: 'NameConflict', message: err.message }] });
            return { requeueAfter: steadyPollMs };
          }
        },
      };
    },
  };
}
