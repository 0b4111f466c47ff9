// storm.apache.org v1alpha1 beside v1beta1 on a real etcd (started on free ports). Without an
// `etcd` binary the file registers one placeholder: skipped locally, failing on CI.
import test from 'ava';
import { requireEtcd } from '../helpers/etcd.js';
import { startTestServerOnEtcd } from '../helpers/server.js';
import { registerVersionCases } from './cases.js';

if (requireEtcd(test, 'etcd3 storm versions')) {
  registerVersionCases({
    backend: 'etcd3',
    start: () => startTestServerOnEtcd(),
  });
}
