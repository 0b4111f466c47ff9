// POST …/pvcgroups/{name}/rebalance (PVCGroupRebalance): raises the group's smaller members to its
// coordination size (the largest member) now, each within its max-size, through the same resize
// state machine as the controller (a member with an expansion pending, or out of daily budget, is
// left alone and says why). Returns what changed per member; `dryRun` changes nothing. The
// expansions are appended to the group's status.expansionHistory (reason Rebalance).
import { z } from 'zod';
import { isStatusError } from '../../../apiserver/errors.js';
import { decodeObject } from '../../codec.js';
import type { SubresourceDeclaration } from '../../subresource.js';
import { groupContext } from './expansions.js';

export const rebalanceRequestSpec = z
  .strictObject({
    dryRun: z.boolean().optional().meta({ description: 'Compute and report what would change without patching any PVC.' }),
  })
  .prefault({});

const memberResult = z.strictObject({
  name: z.string(),
  fromSize: z.string().optional(),
  toSize: z.string().optional(),
  changed: z.boolean().meta({ description: 'Whether the PVC was (or, in a dry run, would be) expanded.' }),
  reason: z.string().meta({ description: 'Rebalance, AtCoordinationSize, or why not (ExpansionPending, DailyBudgetExhausted, NotExpandable, …).' }),
  message: z.string(),
});

const response = z.strictObject({
  metadata: z.strictObject({ name: z.string(), namespace: z.string().optional() }),
  spec: rebalanceRequestSpec,
  status: z.strictObject({
    dryRun: z.boolean(),
    coordinationSize: z.string().optional().meta({ description: 'The size the members were raised to.' }),
    members: z.array(memberResult),
  }),
});

const ATTEMPTS = 3;
const HISTORY_LIMIT = 20;

export const rebalance: SubresourceDeclaration = {
  name: 'rebalance',
  verb: 'create',
  kind: 'PVCGroupRebalance',
  description: 'Raises the smaller members of the group to its coordination size (the largest member) now, each within its max-size, and returns what changed per member.',
  requestSpec: rebalanceRequestSpec,
  response,
  connect(services) {
    return async (request) => {
      const spec = (request.body?.spec ?? {}) as { dryRun?: boolean };
      const dryRun = request.dryRun || spec.dryRun === true;
      const { group, objects, chonker } = await groupContext(services, request);
      const view = await chonker.rebalance(group, objects, dryRun);
      const changed = view.members.filter((m) => m.changed);
      if (!dryRun && changed.length > 0) {
        const time = `${services.now().toISOString().slice(0, 19)}Z`;
        const entries = changed.map((m) => ({ time, pvc: m.name, fromSize: m.fromSize, toSize: m.toSize, reason: 'Rebalance' as const }));
        const statusStore = services.store.statusStore();
        for (let attempt = 1; ; attempt++) {
          const current = attempt === 1 ? group : await services.store.get({ namespace: request.namespace, name: request.name });
          const copy = structuredClone(current);
          const status = (copy.status ?? {}) as Record<string, unknown>;
          status.expansionHistory = [...((status.expansionHistory as unknown[]) ?? []), ...entries].slice(-HISTORY_LIMIT);
          status.lastExpansion = time;
          status.lastUpdated = time;
          if (view.coordinationSize) status.currentSize = view.coordinationSize;
          copy.status = status;
          const decoded = decodeObject(services.store.decl, services.store.decl.versions[0], copy, 'Strict');
          try {
            await statusStore.update({ namespace: request.namespace, name: request.name }, () => decoded, { dryRun: false });
            break;
          } catch (err) {
            if (isStatusError(err, 'Conflict') && attempt < ATTEMPTS) continue;
            throw err;
          }
        }
      }
      return {
        object: {
          metadata: { name: request.name, ...(request.namespace ? { namespace: request.namespace } : {}) },
          spec: { ...spec },
          status: { dryRun, coordinationSize: view.coordinationSize, members: view.members },
        },
      };
    };
  },
};
