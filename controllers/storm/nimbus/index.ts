// The Nimbus upstream provider: one ThriftNimbusPool per server, shared by the Storm controllers
// and the `stormtopologies/metrics` subresource (key NIMBUS), closed when the server stops.
import { NIMBUS, type NimbusPool } from '../../../registry/storm.apache.org/upstreams.js';
import type { UpstreamProvider } from '../../upstreams.js';
import { ThriftNimbusPool } from './pool.js';

export const nimbusUpstream: UpstreamProvider<NimbusPool> = {
  key: NIMBUS,
  create: () => new ThriftNimbusPool(),
  close: (pool) => pool.close(),
};

export { ThriftNimbusPool, DEFAULT_SETTINGS, type NimbusPoolOptions, type AddressPoolStats } from './pool.js';
