// GET …/pvcgroups/{name}/expansions (PVCGroupExpansions), computed at request time: each member's
// size and usage (from the kubelets), the settings that apply and where each came from
// (annotation / policy / group / storageclass / default), cooldown left, and the expansion the
// controller would do next and why (or why not) — the controller's own evaluation, so this is what
// it then does — plus the group's recorded expansion history. 503 without a host cluster.
import { z } from 'zod';
import { serviceUnavailable } from '../../../apiserver/errors.js';
import type { KubeObject } from '../../meta.js';
import type { SubresourceDeclaration, SubresourceRequest, SubresourceServices } from '../../subresource.js';
import { PVC_CHONKER, type ChonkerObjects, type ChonkerService } from '../upstreams.js';
import { expansion } from './types.js';

const source = z.enum(['annotation', 'policy', 'group', 'storageclass', 'default']);
const setting = z.strictObject({ value: z.string(), source: source.meta({ description: 'Where the value came from.' }) });

export const memberView = z.strictObject({
  name: z.string().meta({ description: 'The PVC.' }),
  request: z.string().optional().meta({ description: 'spec.resources.requests.storage.' }),
  capacity: z.string().optional().meta({ description: 'status.capacity.storage.' }),
  usedBytes: z.number().optional().meta({ description: 'Used bytes (kubelet_volume_stats); absent when unknown.' }),
  usedPercent: z.number().optional(),
  inodes: z.number().optional(),
  inodesUsed: z.number().optional(),
  inodesUsedPercent: z.number().optional(),
  managed: z.boolean(),
  managedBy: z.string().meta({ description: 'What makes the PVC managed (annotation, policy, group, storageclass, default) or not (opt-out, not-selected).' }),
  policy: z.string().optional().meta({ description: 'The PVCPolicy that applies.' }),
  settings: z.strictObject({
    threshold: setting,
    inodesThreshold: setting,
    increase: setting,
    maxSize: setting.optional(),
    minScaleUp: setting,
    cooldown: setting,
  }),
  phase: z.enum(['idle', 'completed', 'pending', 'stuck', 'resizing']).meta({ description: 'The resize state machine of the PVC.' }),
  cooldownRemainingSeconds: z.int(),
  expansionsLeftToday: z.int().meta({ description: 'Expansions left in the per-volume 24 h budget.' }),
  next: z.strictObject({
    action: z.enum(['Expand', 'None']),
    reason: z.string().meta({ description: 'ThresholdReached, InodesThresholdReached, GroupCoordination, or why not (Cooldown, ExpansionPending, UsageUnknown, …).' }),
    message: z.string(),
    toSize: z.string().optional(),
  }),
});

const response = z.strictObject({
  metadata: z.strictObject({ name: z.string(), namespace: z.string().optional() }),
  sampledAt: z.string().optional().meta({ description: 'When the usage figures were sampled; absent when no source answered.' }),
  failedNodes: z.array(z.string()).meta({ description: 'Nodes whose kubelet did not answer (their PVCs have unknown usage).' }),
  coordinationSize: z.string().optional().meta({ description: 'The size members are raised to (the largest member).' }),
  members: z.array(memberView),
  history: z.array(expansion).meta({ description: 'The expansions recorded in the group status, oldest first (bounded).' }),
});

/** The parent group (404 when absent), the namespace's policies and groups, and the engine (503 when none). */
export async function groupContext(services: SubresourceServices, request: SubresourceRequest): Promise<{ group: KubeObject; objects: ChonkerObjects; chonker: ChonkerService }> {
  const group = await services.store.get({ namespace: request.namespace, name: request.name });
  const chonker = services.upstream(PVC_CHONKER);
  if (!chonker) throw serviceUnavailable('pvc-chonker has no host cluster (--kubeconfig) to read PersistentVolumeClaims from');
  const policies = (await services.stores.get('pvcpolicies.pvc-chonker.io')?.list({ namespace: request.namespace }))?.items ?? [];
  const groups = (await services.store.list({ namespace: request.namespace })).items;
  return { group, objects: { policies, groups }, chonker };
}

export const expansions: SubresourceDeclaration = {
  name: 'expansions',
  verb: 'get',
  kind: 'PVCGroupExpansions',
  description:
    "Each member's size and usage, the settings that apply and where they came from, the cooldown left, and the expansion the controller would do next and why (or why not), with the group's expansion history.",
  response,
  connect(services) {
    return async (request) => {
      const { group, objects, chonker } = await groupContext(services, request);
      const view = await chonker.expansions(group, objects, request.signal);
      const history = ((group.status as { expansionHistory?: unknown[] } | undefined)?.expansionHistory ?? []).slice(-20);
      return {
        object: {
          metadata: { name: request.name, ...(request.namespace ? { namespace: request.namespace } : {}) },
          ...view,
          history,
        },
      };
    };
  },
};
