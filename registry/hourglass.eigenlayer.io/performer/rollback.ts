// POST …/performers/{name}/rollback (PerformerRollback): back to the previous version. With an
// upgrade still waiting, that is the serving version (the upgrade is abandoned); otherwise the
// version served before the last switch (`status.previousVersion`). The verb writes
// spec.version and spec.image (optimistic concurrency); the controller then brings that version
// up beside the serving one and switches once it reports SERVING, as for any upgrade. 409
// Conflict when there is no previous version.
import { z } from 'zod';
import type { SubresourceDeclaration } from '../../subresource.js';
import { editWithPrecondition, refused } from './promote.js';
import type { PerformerSpec, PerformerStatus } from './types.js';
import { applyVersion, planRollback, type RollbackPlan } from './versions.js';

const VERSION = z.strictObject({ version: z.string().optional(), image: z.string() });

const requestSpec = z.strictObject({}).prefault({});

const response = z.strictObject({
  metadata: z.strictObject({ name: z.string(), namespace: z.string().optional() }),
  spec: requestSpec,
  status: z.strictObject({
    from: VERSION.meta({ description: 'spec.version and spec.image before the rollback.' }),
    to: VERSION.meta({ description: 'spec.version and spec.image now.' }),
    abandonedUpgrade: z.boolean().meta({ description: 'True when a new version still waiting was abandoned for the serving one.' }),
  }),
});

export const rollback: SubresourceDeclaration = {
  name: 'rollback',
  verb: 'create',
  kind: 'PerformerRollback',
  description:
    "Returns the performer to its previous version: the serving one when an upgrade is still waiting, else the one served before the last switch. 409 Conflict when there is none.",
  requestSpec,
  response,
  connect(services) {
    return async (request) => {
      const scope = { namespace: request.namespace, name: request.name };
      let plan: RollbackPlan | undefined;
      try {
        await editWithPrecondition(services.store, scope, request.dryRun, (copy) => {
          const spec = copy.spec as PerformerSpec;
          plan = planRollback(spec, copy.status as PerformerStatus | undefined);
          copy.spec = applyVersion(spec, plan.to);
        });
      } catch (err) {
        throw refused(services.store, request.name, err);
      }
      const { to, from, abandonsPending } = plan!;
      const strip = (v: { version?: string; image: string }) => ({ ...(v.version !== undefined ? { version: v.version } : {}), image: v.image });
      return {
        object: {
          metadata: { name: request.name, namespace: request.namespace },
          spec: {},
          status: { from: strip(from), to: strip(to), abandonedUpgrade: abandonsPending },
        },
      };
    };
  },
};
