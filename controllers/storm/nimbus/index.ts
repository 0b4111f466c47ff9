// The Nimbus upstream provider: one ThriftNimbusPool per server, shared by the Storm controllers
// and the `stormtopologies/metrics` subresource (key NIMBUS), closed when the server stops. TLS
// material (spec.nimbus.thrift.tls.certSecret) is read from the host cluster's Secrets.
import { NIMBUS, type NimbusPool } from '../../../registry/storm.apache.org/upstreams.js';
import type { UpstreamProvider } from '../../upstreams.js';
import { ThriftNimbusPool } from './pool.js';
import { hostSecretTlsMaterial } from './tls.js';

export const nimbusUpstream: UpstreamProvider<NimbusPool> = {
  key: NIMBUS,
  create: ({ host }) => new ThriftNimbusPool({ tlsMaterial: hostSecretTlsMaterial(host) }),
  close: (pool) => pool.close(),
};

export { ThriftNimbusPool, DEFAULT_SETTINGS, type NimbusPoolOptions, type AddressPoolStats } from './pool.js';
export { hostSecretTlsMaterial, materialOf, type TlsMaterial, type TlsMaterialSource } from './tls.js';
