// A real etcd for tests: one private single-member server on free loopback ports, with its data in
// a temporary directory (the launcher is hack/lib/etcd.ts, shared with the benchmarks). Tests that
// need it call `startEtcd()`; a test file guards its etcd tests with `requireEtcd(test, ...)`,
// which skips them visibly where etcd is missing and fails on CI.
import type { TestFn } from 'ava';
import { etcdUnavailableReason } from '../../hack/lib/etcd.js';

export { etcdAvailable, etcdUnavailableReason, startEtcd, type EtcdServer } from '../../hack/lib/etcd.js';

/**
 * Registers the etcd tests of a file only where they can run: returns true when etcd is available;
 * otherwise registers one visible placeholder (a skipped test locally, a failing one on CI) and
 * returns false.
 */
export function requireEtcd<Context>(test: TestFn<Context>, title: string): boolean {
  const reason = etcdUnavailableReason();
  if (reason === undefined) return true;
  if ('fail' in reason) test(`${title}: ${reason.fail}`, (t) => t.fail(reason.fail));
  else test.skip(`${title}: ${reason.skip}`, () => undefined);
  return false;
}
