// POST …/stormtopologies/{name}/rebalance (TopologyRebalance): Nimbus `rebalance` of the active
// Storm topology with exactly the given wait, worker count and executors per component. The
// request is also recorded on the object (annotation `storm.apache.org/rebalance`) as desired
// state: the controller shows the topology as rebalancing (phase Updating, internalState
// Rebalancing) until Nimbus reports ACTIVE again, and drives the rebalance again if Nimbus lost it
// (e.g. across a Nimbus restart). 409 when the topology does not run in Storm, 422 when Nimbus
// rejects the arguments, 503 when Nimbus is unreachable.
import { z } from 'zod';
import { conflict, invalid, isStatusError } from '../../../apiserver/errors.js';
import { decodeObject } from '../../codec.js';
import type { SubresourceDeclaration } from '../../subresource.js';
import { isNimbusError, type RebalanceOptions } from '../upstreams.js';
import { nimbusFailure, STORM_GROUP, writeTopologyStatus } from './promotion.js';
import type { StormTopologyStatus } from './types.js';
import { getTopology, nimbusOf, responseMetadata } from './verbs.js';

/** The annotation holding the last rebalance asked for (JSON of RecordedRebalance). */
export const REBALANCE_ANNOTATION = 'storm.apache.org/rebalance';

export interface RecordedRebalance extends RebalanceOptions {
  /** The Storm topology it applies to; a redeployed topology does not inherit it. */
  topologyName: string;
  topologyId?: string;
  requestedAt: string;
}

export function recordedRebalance(annotations: Record<string, string> | undefined): RecordedRebalance | undefined {
  const raw = annotations?.[REBALANCE_ANNOTATION];
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(raw) as RecordedRebalance;
    return typeof parsed.topologyName === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export const rebalanceRequestSpec = z
  .strictObject({
    waitSecs: z.int32().min(0).optional().meta({ description: 'Seconds Storm waits (topology deactivated) before redistributing the workers.' }),
    numWorkers: z.int32().min(1).optional().meta({ description: 'New number of workers.' }),
    numExecutors: z
      .record(z.string().min(1), z.int32().min(1))
      .optional()
      .meta({ description: 'New number of executors, by component id.' }),
  })
  .prefault({});

const response = z.strictObject({
  metadata: z.strictObject({ name: z.string(), namespace: z.string().optional() }),
  spec: rebalanceRequestSpec,
  status: z.strictObject({
    phase: z.enum(['Rebalancing']).meta({ description: 'Nimbus accepted the rebalance and is carrying it out.' }),
    topologyName: z.string().meta({ description: 'The Storm topology rebalanced.' }),
    message: z.string(),
  }),
});

/** The options sent to Nimbus: only what the request set. */
export function rebalanceOptions(spec: { waitSecs?: number; numWorkers?: number; numExecutors?: Record<string, number> }): RebalanceOptions {
  return {
    ...(spec.waitSecs !== undefined ? { waitSecs: spec.waitSecs } : {}),
    ...(spec.numWorkers !== undefined ? { numWorkers: spec.numWorkers } : {}),
    ...(spec.numExecutors !== undefined ? { numExecutors: { ...spec.numExecutors } } : {}),
  };
}

const ATTEMPTS = 3;

export const rebalance: SubresourceDeclaration = {
  name: 'rebalance',
  verb: 'create',
  kind: 'TopologyRebalance',
  description:
    'Redistributes the workers of the running topology through Nimbus rebalance (wait seconds, number of workers, executors per component); the phase shows the rebalancing until Nimbus reports ACTIVE again.',
  requestSpec: rebalanceRequestSpec,
  response,
  connect(services) {
    return async (request) => {
      const topology = await getTopology(services, request);
      const spec = (request.body?.spec ?? {}) as { waitSecs?: number; numWorkers?: number; numExecutors?: Record<string, number> };
      const status = (topology.status ?? {}) as StormTopologyStatus;
      const stormName = status.blueGreen?.activeTopologyName ?? status.topologyName;
      const ref = { group: STORM_GROUP, resource: 'stormtopologies', name: request.name };
      if (!stormName) throw conflict(ref, 'the topology has not been submitted to Storm yet');
      const nimbus = await nimbusOf(services, topology);
      const options = rebalanceOptions(spec);
      try {
        if (request.dryRun) await nimbus.getTopologySummaryByName(stormName);
        else await nimbus.rebalance(stormName, options);
      } catch (err) {
        if (isNimbusError(err, 'NotAlive')) throw conflict(ref, `Storm topology ${stormName} is not running`);
        if (isNimbusError(err, 'InvalidTopology')) {
          throw invalid({ group: STORM_GROUP, resource: 'stormtopologies', kind: 'TopologyRebalance', name: request.name }, [{ type: 'FieldValueInvalid', field: 'spec', value: options, detail: `Nimbus refused the rebalance: ${err.message}` }]);
        }
        throw nimbusFailure(err, `rebalancing ${stormName}`);
      }
      const now = services.now();
      const requestedAt = `${now.toISOString().slice(0, 19)}Z`;
      if (!request.dryRun) {
        const recorded: RecordedRebalance = { topologyName: stormName, ...(status.topologyId ? { topologyId: status.topologyId } : {}), ...options, requestedAt };
        for (let attempt = 1; ; attempt++) {
          const current = attempt === 1 ? topology : await getTopology(services, request);
          const copy = structuredClone(current);
          copy.metadata.annotations = { ...(copy.metadata.annotations ?? {}), [REBALANCE_ANNOTATION]: JSON.stringify(recorded) };
          const decoded = decodeObject(services.store.decl, services.store.decl.versions[0], copy, 'Strict');
          try {
            const { object } = await services.store.update({ namespace: request.namespace, name: request.name }, () => decoded, { dryRun: false });
            await writeTopologyStatus(services.store, object, (s) => {
              Object.assign(s, { phase: 'Updating', internalState: 'Rebalancing', lastUpdateTime: requestedAt });
            });
            break;
          } catch (err) {
            if (isStatusError(err, 'Conflict') && attempt < ATTEMPTS) continue;
            throw err;
          }
        }
      }
      return {
        object: {
          metadata: responseMetadata(request),
          spec,
          status: { phase: 'Rebalancing', topologyName: stormName, message: `Nimbus is rebalancing ${stormName}` },
        },
      };
    };
  },
};
