// storm.apache.org v1alpha1 beside v1beta1 on a real etcd (started on free ports). Without an
// `etcd` binary the file registers one placeholder: skipped locally, failing on CI.
import test from 'ava';
import { requireEtcd, startEtcd } from '../helpers/etcd.js';
import { startTestServer } from '../helpers/server.js';
import { registerVersionCases } from './cases.js';

if (requireEtcd(test, 'etcd3 storm versions')) {
  registerVersionCases({
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
