// The conformance harness on a real etcd (test/helpers/etcd.ts starts one on free ports). Without
// an `etcd` binary the file registers one placeholder: skipped locally, failing on CI.
import test from 'ava';
import { requireEtcd } from '../helpers/etcd.js';
import { startTestServerOnEtcd } from '../helpers/server.js';
import { registerConformance } from './harness.js';

if (requireEtcd(test, 'etcd3 conformance')) {
  registerConformance({
    backend: 'etcd3',
    start: () => startTestServerOnEtcd(),
  });
}
