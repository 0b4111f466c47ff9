// POST …/stormtopologies/{name}/promote (TopologyPromotion): runs the pre-promotion analysis
// against the blue-green candidate's metrics and makes it the active version (see promotion.ts).
// 409 Conflict when there is no candidate; 422 Invalid naming the failing metric when the analysis
// fails; 503 when Nimbus cannot be reached. With `spec.version`, a repeat after success returns
// the same result (idempotent).
import { z } from 'zod';
import type { SubresourceDeclaration } from '../../subresource.js';
import { promoteCandidate } from './promotion.js';
import { getTopology, nimbusOf, responseMetadata } from './verbs.js';

export const promotionRequestSpec = z
  .strictObject({
    version: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Promote only if the candidate has this version (topology.version); after a successful promotion a repeat returns the same result.' }),
  })
  .prefault({});

const analysisResult = z.strictObject({
  metricName: z.string(),
  value: z.number().optional(),
  passed: z.boolean(),
  message: z.string().optional(),
});

export const promotionResult = z
  .strictObject({
    phase: z.enum(['Succeeded']).meta({ description: 'Succeeded: the candidate is active (failures are Status errors).' }),
    revision: z.int().meta({ description: 'The revision number the promoted version was recorded as.' }),
    version: z.string().meta({ description: 'Its topology.version.' }),
    topologyName: z.string().meta({ description: 'Storm name of the now active topology.' }),
    topologyId: z.string().optional().meta({ description: 'Storm id of the now active topology.' }),
    previousTopologyName: z.string().optional().meta({ description: 'Storm name of the version it replaced (deactivated).' }),
    previousScaleDownAt: z.string().optional().meta({ description: 'When the replaced version is killed.' }),
    promotedAt: z.string().meta({ description: 'When the promotion happened.' }),
    analysis: z.array(analysisResult).meta({ description: 'Results of the pre-promotion analysis.' }),
    message: z.string(),
  })
  .meta({ description: 'The outcome of the promotion.' });

const response = z.strictObject({
  metadata: z.strictObject({ name: z.string(), namespace: z.string().optional() }),
  spec: promotionRequestSpec,
  status: promotionResult,
});

export const promote: SubresourceDeclaration = {
  name: 'promote',
  verb: 'create',
  kind: 'TopologyPromotion',
  description:
    'Blue-green: runs the pre-promotion analysis against the candidate version and makes it the active one (the previous version is deactivated, and killed after scaleDownDelaySeconds). 409 when there is no candidate, 422 when the analysis fails.',
  requestSpec: promotionRequestSpec,
  response,
  connect(services) {
    return async (request) => {
      const topology = await getTopology(services, request);
      const spec = (request.body?.spec ?? {}) as { version?: string };
      const nimbus = await nimbusOf(services, topology);
      const status = await promoteCandidate({ store: services.store, nimbus, now: () => services.now(), dryRun: request.dryRun }, topology, spec);
      return { object: { metadata: responseMetadata(request), spec, status } };
    };
  },
};
