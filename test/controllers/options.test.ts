// The controller flags through the server's option pipeline (parse → complete).
import test from 'ava';
import { completeOptions, OptionsError, parseOptions } from '../../apiserver/options.js';

const complete = (...argv: string[]) => completeOptions(parseOptions(argv)).controllers;

test('defaults: every controller, leader election on with controller-runtime timings, no host kubeconfig', (t) => {
  const c = complete();
  t.deepEqual(c.enabled, ['*']);
  t.is(c.kubeconfig, undefined);
  t.like(c.leaderElection, { enabled: true, leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, leaseName: 'operators-apiserver-controllers' });
});

test('flags are read', (t) => {
  const c = complete(
    '--controllers=*,-pvcchonker',
    '--kubeconfig=/tmp/host',
    '--leader-elect=false',
    '--leader-elect-lease-duration=3s',
    '--leader-elect-renew-deadline=2s',
    '--leader-elect-retry-period=500ms',
    '--leader-elect-identity=replica-1',
    '--leader-elect-resource-namespace=operators',
  );
  t.deepEqual(c.enabled, ['*', '-pvcchonker']);
  t.is(c.kubeconfig, '/tmp/host');
  t.like(c.leaderElection, { enabled: false, leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500, identity: 'replica-1', leaseNamespace: 'operators' });
});

const rejected: Array<[string[], RegExp]> = [
  [['--leader-elect=maybe'], /--leader-elect=maybe: expected true or false/],
  [['--leader-elect-lease-duration=soon'], /--leader-elect-lease-duration=soon/],
  [['--leader-elect-lease-duration=0'], /positive duration/],
  [['--leader-elect-lease-duration=10s', '--leader-elect-renew-deadline=10s'], /lease-duration must be greater than --leader-elect-renew-deadline/],
  [['--leader-elect-renew-deadline=2s', '--leader-elect-retry-period=2s'], /renew-deadline must be greater than --leader-elect-retry-period/],
  [['--controllers=*,+storm'], /--controllers: "\+storm" is not/],
];
for (const [argv, message] of rejected) {
  test(`rejected: ${argv.join(' ')}`, (t) => {
    t.throws(() => complete(...argv), { instanceOf: OptionsError, message });
  });
}
