// The HourglassExecutor controller: keeps the executor's ConfigMap and StatefulSet on the host
// cluster as `executor-resources.ts` builds them (a configuration change rolls the pods through
// the template's config-hash annotation), reports status (phase Pending / Running / Stopped,
// replicas, readyReplicas, lastConfigUpdate, condition Ready) and removes the host objects behind
// the finalizer `hourglass.eigenlayer.io/finalizer`. Operator keys stay in their Secrets: the
// controller writes only references and never reads a Secret. A host cluster that does not answer
// is reported (Ready=Unknown, reason HostClusterUnavailable) and polled at `pollMs`, nothing done
// blind; StatefulSets and ConfigMaps of executors that no longer exist are swept (`controllers/orphan-sweep.ts`).
import type { V1ConfigMap, V1StatefulSet } from '@kubernetes/client-node';
import type { HourglassExecutorSpec } from '../../registry/hourglass.eigenlayer.io/hourglassexecutor/types.js';
import type { KubeObject } from '../../registry/meta.js';
import type { ControllerContext, ControllerDeclaration, ReconcileResult } from '../controller.js';
import { addFinalizer, hasFinalizer, isBeingDeleted, removeFinalizer } from '../finalizers.js';
import type { HostClient, ManagedType } from '../host-client.js';
import { metaTime, updateStatus, type ConditionInput } from '../status.js';
import { httpCode, isHostUnavailable } from '../http-errors.js';
import { reportHostUnavailable } from '../host-unavailable.js';
import { applyOwned, NotOurs } from './host-apply.js';
import { configHash, executorConfigMap, executorStatefulSet } from './executor-resources.js';
import { DEFAULT_SWEEP_INTERVAL_MS, sweepOrphans, SWEEP_KEY } from '../orphan-sweep.js';

export const EXECUTORS = 'hourglassexecutors.hourglass.eigenlayer.io';
export const EXECUTOR_FINALIZER = 'hourglass.eigenlayer.io/finalizer';
const EXECUTOR_KIND = { group: 'hourglass.eigenlayer.io', kind: 'HourglassExecutor' };

export interface ExecutorControllerOptions {
  /** Poll interval while the executors are not all ready (default 2 s). */
  pollMs?: number;
  /** Poll interval once they are (default 60 s). */
  steadyPollMs?: number;
  /** Time between sweeps for the StatefulSets and ConfigMaps of executors that no longer exist (default 10 min; one more at each leadership term's start). */
  sweepIntervalMs?: number;
}

function statefulSets(host: HostClient): ManagedType {
  return {
    kind: 'StatefulSet',
    list: async (labelSelector) => (await host.apps.listStatefulSetForAllNamespaces({ labelSelector })).items,
    delete: async (namespace, name) => {
      try {
        await host.apps.deleteNamespacedStatefulSet({ namespace, name });
      } catch (err) {
        if (httpCode(err) !== 404) throw err;
      }
    },
  };
}

export function executorController(options: ExecutorControllerOptions = {}): ControllerDeclaration {
  const pollMs = options.pollMs ?? 2_000;
  const steadyPollMs = options.steadyPollMs ?? 60_000;
  const sweepIntervalMs = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
  return {
    name: 'hourglass-executor',
    resource: EXECUTORS,
    setup(ctx: ControllerContext) {
      const store = ctx.store(EXECUTORS);
      const cache = ctx.informer(EXECUTORS).cache;
      if (!ctx.host) ctx.log.info({}, 'hourglass: no host cluster (--kubeconfig); executors are stored but not run');

      async function reconcileOnHost(host: HostClient, obj: KubeObject): Promise<ReconcileResult> {
        const spec = obj.spec as HourglassExecutorSpec;
        const owner = obj.metadata.name!;
        const desiredConfigMap = executorConfigMap(obj);
        const configMap = await applyOwned<V1ConfigMap>(
          'ConfigMap',
          {
            read: (namespace, name) => host.core.readNamespacedConfigMap({ namespace, name }),
            create: (namespace, body) => host.core.createNamespacedConfigMap({ namespace, body }),
            replace: (namespace, name, body) => host.core.replaceNamespacedConfigMap({ namespace, name, body }),
          },
          desiredConfigMap,
          owner,
        );
        const hash = configHash(desiredConfigMap);
        if (configMap.action === 'replaced') ctx.recorder.event(obj, 'Normal', 'ConfigUpdated', `configuration changed (hash ${hash}); rolling the executors`);
        const statefulSet = await applyOwned<V1StatefulSet>(
          'StatefulSet',
          {
            read: (namespace, name) => host.apps.readNamespacedStatefulSet({ namespace, name }),
            create: (namespace, body) => host.apps.createNamespacedStatefulSet({ namespace, body }),
            replace: (namespace, name, body) => host.apps.replaceNamespacedStatefulSet({ namespace, name, body }),
          },
          executorStatefulSet(obj, desiredConfigMap),
          owner,
        );
        if (statefulSet.action === 'created') ctx.recorder.event(obj, 'Normal', 'Created', `created StatefulSet ${statefulSet.object.metadata?.name} and its ConfigMap`);

        const sts = statefulSet.object;
        const want = spec.replicas ?? 1;
        const replicas = sts.status?.replicas ?? 0;
        const readyReplicas = sts.status?.readyReplicas ?? 0;
        const rolledOut =
          (sts.status?.observedGeneration ?? 0) >= (sts.metadata?.generation ?? 0) &&
          (sts.status?.updatedReplicas ?? 0) >= want &&
          (sts.status?.currentRevision === undefined || sts.status.currentRevision === sts.status.updateRevision);
        const phase = want === 0 ? 'Stopped' : rolledOut && readyReplicas >= want ? 'Running' : 'Pending';
        const ready: ConditionInput =
          phase === 'Running'
            ? { type: 'Ready', status: 'True', reason: 'ReplicasReady', message: `${readyReplicas}/${want} executors ready` }
            : phase === 'Stopped'
              ? { type: 'Ready', status: 'False', reason: 'Stopped', message: 'spec.replicas is 0' }
              : { type: 'Ready', status: 'False', reason: rolledOut ? 'ReplicasNotReady' : 'RollingOut', message: `${readyReplicas}/${want} executors ready` };
        const now = metaTime(ctx.clock.now());
        await updateStatus(
          store,
          obj,
          {
            mutate(status) {
              status.phase = phase;
              status.replicas = replicas;
              status.readyReplicas = readyReplicas;
              if (configMap.action !== 'unchanged' || status.lastConfigUpdate === undefined) status.lastConfigUpdate = now;
            },
            conditions: [ready],
          },
          { clock: ctx.clock },
        );
        return { requeueAfter: phase === 'Pending' ? pollMs : steadyPollMs };
      }

      async function cleanUp(obj: KubeObject): Promise<void> {
        if (!hasFinalizer(obj, EXECUTOR_FINALIZER)) return;
        if (ctx.host) {
          const deleted = await ctx.host.deleteManaged(obj, [statefulSets(ctx.host), ctx.host.types.configMaps]);
          if (deleted.length > 0) ctx.recorder.event(obj, 'Normal', 'CleanedUp', `deleted ${deleted.join(', ')}`);
        }
        await removeFinalizer(store, obj, EXECUTOR_FINALIZER);
      }

      /** The host cluster is away: Ready Unknown, phase and replica counts as last observed, polled at `pollMs`. */
      const hostUnavailable = (obj: KubeObject, err: unknown, doing: string): Promise<ReconcileResult> =>
        reportHostUnavailable(ctx, store, obj, err, { doing, pollMs });

      if (ctx.host) ctx.queue.add(SWEEP_KEY);

      return {
        async reconcile(key): Promise<ReconcileResult | void> {
          if (key === SWEEP_KEY) return sweepOrphans(ctx, EXECUTOR_KIND, [statefulSets(ctx.host!), ctx.host!.types.configMaps], cache, store, sweepIntervalMs);
          let obj = cache.get(key);
          if (!obj) return;
          if (isBeingDeleted(obj)) {
            try {
              return await cleanUp(obj);
            } catch (err) {
              if (isHostUnavailable(err)) return hostUnavailable(obj, err, 'deleting its StatefulSet and ConfigMap');
              throw err;
            }
          }
          // Standalone (no host cluster): nothing to run them on; the objects are left as they are.
          if (!ctx.host) return;
          obj = await addFinalizer(store, obj, EXECUTOR_FINALIZER);
          try {
            return await reconcileOnHost(ctx.host, obj);
          } catch (err) {
            if (isHostUnavailable(err)) return hostUnavailable(obj, err, 'reconciling its StatefulSet and ConfigMap');
            if (!(err instanceof NotOurs)) throw err;
            ctx.recorder.event(obj, 'Warning', 'NameConflict', err.message);
            await updateStatus(store, obj, { mutate: (s) => (s.phase = 'Failed'), conditions: [{ type: 'Ready', status: 'False', reason: 'NameConflict', message: err.message }] });
            return { requeueAfter: steadyPollMs };
          }
        },
      };
    },
  };
}
