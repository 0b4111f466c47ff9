// The conformance harness on a real etcd (test/helpers/etcd.ts starts one on free ports). Without
// an `etcd` binary the file registers one placeholder: skipped locally, failing on CI.
import test from 'ava';
import { requireEtcd, startEtcd } from '../helpers/etcd.js';
import { startTestServer } from '../helpers/server.js';
import { registerConformance } from './harness.js';

if (requireEtcd(test, 'etcd3 conformance')) {
  registerConformance({
    backend: 'etcd3',
    async start() {
      const etcd = await startEtcd();
      try {
        const server = await startTestServer({ storage: etcd.url });
        return {
          server,
          async stop() {
            try {
              await server.stop();
            } finally {
              await etcd.stop();
            }
          },
        };
      } catch (err) {
        await etcd.stop();
        throw err;
      }
    },
  });
}
