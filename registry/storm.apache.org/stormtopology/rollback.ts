// POST …/stormtopologies/{name}/rollback (TopologyRollback): restores `spec.topology` as recorded
// for a revision of `status.history` (`spec.revision`; 0 or absent = the revision before the
// current one) and lets the controller redeploy it (recreate, or as a blue-green candidate).
// 422 Invalid for a revision the history does not hold.
import { z } from 'zod';
import { invalid } from '../../../apiserver/errors.js';
import { decodeObject } from '../../codec.js';
import type { SubresourceDeclaration } from '../../subresource.js';
import { previousRevision, sameTopology } from './revisions.js';
import type { StormTopologySpec, StormTopologyStatus, TopologyRevision } from './types.js';
import { getTopology, responseMetadata } from './verbs.js';
import { STORM_GROUP } from './promotion.js';
import { isStatusError } from '../../../apiserver/errors.js';

export const rollbackRequestSpec = z
  .strictObject({
    revision: z.int().min(0).optional().meta({ description: 'Revision of status.history to restore; 0 or absent: the one before the current revision.' }),
  })
  .prefault({});

const response = z.strictObject({
  metadata: z.strictObject({ name: z.string(), namespace: z.string().optional() }),
  spec: rollbackRequestSpec,
  status: z.strictObject({
    phase: z.enum(['Accepted', 'Unchanged']).meta({ description: 'Accepted: spec.topology was restored and the controller redeploys it; Unchanged: it already was that revision.' }),
    revision: z.int().meta({ description: 'The revision restored.' }),
    version: z.string().meta({ description: 'Its topology.version.' }),
    message: z.string(),
  }),
});

const ATTEMPTS = 3;

export const rollback: SubresourceDeclaration = {
  name: 'rollback',
  verb: 'create',
  kind: 'TopologyRollback',
  description:
    'Restores spec.topology as recorded for an earlier revision in status.history (0 or absent: the previous one); the controller then redeploys it. 422 for an unknown revision.',
  requestSpec: rollbackRequestSpec,
  response,
  connect(services) {
    return async (request) => {
      const asked = ((request.body?.spec ?? {}) as { revision?: number }).revision ?? 0;
      for (let attempt = 1; ; attempt++) {
        const topology = await getTopology(services, request);
        const status = (topology.status ?? {}) as StormTopologyStatus;
        const history = status.history ?? [];
        const target: TopologyRevision | undefined = asked === 0 ? previousRevision(status) : history.find((r) => r.revision === asked);
        if (!target) {
          const known = history.map((r) => r.revision).join(', ') || 'none';
          throw invalid({ group: STORM_GROUP, resource: 'stormtopologies', kind: 'TopologyRollback', name: request.name }, [
            {
              type: 'FieldValueInvalid',
              field: 'spec.revision',
              value: asked,
              detail: asked === 0 ? `there is no revision before the current one (recorded revisions: ${known})` : `not in status.history (recorded revisions: ${known})`,
            },
          ]);
        }
        const spec = topology.spec as StormTopologySpec;
        const result = (phase: 'Accepted' | 'Unchanged', message: string) => ({
          object: { metadata: responseMetadata(request), spec: { revision: asked }, status: { phase, revision: target.revision, version: target.version, message } },
        });
        if (sameTopology(spec.topology, target.topology)) {
          return result('Unchanged', `spec.topology already is revision ${target.revision}`);
        }
        const copy = structuredClone(topology);
        (copy.spec as StormTopologySpec).topology = structuredClone(target.topology);
        const decoded = decodeObject(services.store.decl, services.store.decl.versions[0], copy, 'Strict');
        try {
          await services.store.update({ namespace: request.namespace, name: request.name }, () => decoded, { dryRun: request.dryRun });
        } catch (err) {
          if (isStatusError(err, 'Conflict') && attempt < ATTEMPTS) continue;
          throw err;
        }
        return result('Accepted', `spec.topology restored from revision ${target.revision} (version ${target.version}); the controller redeploys it`);
      }
    };
  },
};
