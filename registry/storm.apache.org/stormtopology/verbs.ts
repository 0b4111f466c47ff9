// What the stormtopologies verbs (promote, rollback, rebalance) share: reading the topology (404
// when missing) and reaching the Nimbus of its cluster (503 when there is none to reach).
import { serviceUnavailable } from '../../../apiserver/errors.js';
import type { KubeObject } from '../../meta.js';
import type { SubresourceRequest, SubresourceServices } from '../../subresource.js';
import { NIMBUS, nimbusAddressOf, type Nimbus } from '../upstreams.js';

export const STORM_CLUSTERS = 'stormclusters.storm.apache.org';

export function getTopology(services: SubresourceServices, request: SubresourceRequest): Promise<KubeObject> {
  return services.store.get({ namespace: request.namespace, name: request.name });
}

/** The Nimbus of the topology's StormCluster; 503 ServiceUnavailable when it cannot be reached. */
export async function nimbusOf(services: SubresourceServices, topology: KubeObject): Promise<Nimbus> {
  const clusterRef = String(topology.spec?.clusterRef ?? '');
  const clusters = services.stores.get(STORM_CLUSTERS);
  const cluster = await clusters?.get({ namespace: topology.metadata.namespace, name: clusterRef }).catch(() => undefined);
  if (!cluster) throw serviceUnavailable(`StormCluster "${clusterRef}" not found: there is no Nimbus to talk to`);
  const pool = services.upstream(NIMBUS);
  if (!pool) throw serviceUnavailable('the server has no Nimbus client configured');
  return pool.forCluster(nimbusAddressOf(cluster));
}

/** The object echoed in a verb's response: the request's metadata, named after the topology. */
export function responseMetadata(request: SubresourceRequest): { name: string; namespace?: string } {
  return { name: request.name, ...(request.namespace ? { namespace: request.namespace } : {}) };
}
