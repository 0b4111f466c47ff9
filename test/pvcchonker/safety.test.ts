// Safety parts: the circuit breaker (injected clock), bounded parallelism, the flags, and the
// Prometheus usage source against a stand-in Prometheus query API.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { completeOptions, OptionsError, parseOptions, USAGE } from '../../apiserver/options.js';
import { PrometheusSource } from '../../controllers/pvcchonker/kubelet-metrics.js';
import { CircuitBreaker, mapLimit } from '../../controllers/pvcchonker/throttle.js';

test('the circuit breaker opens after repeated failures, for a while, then lets one attempt through', (t) => {
  let now = 0;
  const breaker = new CircuitBreaker(3, 60_000, () => now);
  breaker.failed();
  breaker.failed();
  t.true(breaker.allows());
  breaker.failed();
  t.false(breaker.allows(), 'open after 3 failures');
  now += 59_999;
  t.false(breaker.allows());
  now += 1;
  t.true(breaker.allows(), 'half-open after the open period');
  breaker.failed();
  t.false(breaker.allows(), 'a failure while half-open opens it again');
  now += 60_000;
  breaker.succeeded();
  t.true(breaker.allows());
});

test('mapLimit never runs more than the limit at once and keeps the order of results', async (t) => {
  let inFlight = 0;
  let max = 0;
  const out = await mapLimit([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3, async (n) => {
    inFlight++;
    max = Math.max(max, inFlight);
    await new Promise((r) => setImmediate(r));
    inFlight--;
    return n * 2;
  });
  t.deepEqual(out, [2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
  t.true(max <= 3 && max > 1);
});

test('pvc-chonker flags: defaults and errors', (t) => {
  const o = completeOptions({}).pvcChonker;
  t.like(o, { watchIntervalMs: 300_000, maxParallel: 4, stuckAfterMs: 1_800_000, maxExpansionsPerDay: 4, defaultEnabled: false, dryRun: false, webhook: false });
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ 'pvc-watch-interval': 'soon' }, /--pvc-watch-interval=soon/],
    [{ 'pvc-max-parallel': '0' }, /--pvc-max-parallel=0/],
    [{ 'pvc-max-expansions-per-day': '1.5' }, /--pvc-max-expansions-per-day/],
    [{ 'pvc-default-enabled': 'yes' }, /--pvc-default-enabled=yes/],
    [{ 'prometheus-url': 'not a url' }, /--prometheus-url/],
  ];
  for (const [flags, message] of bad) t.throws(() => completeOptions(flags), { instanceOf: OptionsError, message });
  t.true(completeOptions({ 'enable-pvc-webhook': 'true' }).security.authorization.alwaysAllowPaths.includes('/mutate-pvc'));
  t.false(completeOptions({}).security.authorization.alwaysAllowPaths.includes('/mutate-pvc'));
});

// pvc-chonker's `--dry-run` (LogicIQ/pvc-chonker) is accepted as an alias of our `--pvc-dry-run`.
const DRY_RUN_FLAGS: Array<{ argv: string[]; dryRun: boolean | RegExp }> = [
  { argv: [], dryRun: false },
  { argv: ['--dry-run=true'], dryRun: true },
  { argv: ['--dry-run', 'true'], dryRun: true },
  { argv: ['--dry-run=false'], dryRun: false },
  { argv: ['--pvc-dry-run=true'], dryRun: true },
  { argv: ['--pvc-dry-run=false'], dryRun: false },
  { argv: ['--dry-run=true', '--pvc-dry-run=true'], dryRun: true },
  { argv: ['--dry-run=false', '--pvc-dry-run=false'], dryRun: false },
  { argv: ['--dry-run=true', '--pvc-dry-run=false'], dryRun: /--dry-run=true and --pvc-dry-run=false disagree/ },
  { argv: ['--dry-run=false', '--pvc-dry-run=true'], dryRun: /disagree \(--dry-run is an alias of --pvc-dry-run\)/ },
  { argv: ['--dry-run=yes'], dryRun: /--dry-run=yes: expected true or false/ },
];
for (const c of DRY_RUN_FLAGS) {
  test(`pvc-chonker flags: ${c.argv.join(' ') || '(none)'} → ${c.dryRun instanceof RegExp ? 'refused' : `dryRun ${c.dryRun}`}`, (t) => {
    const complete = () => completeOptions(parseOptions(c.argv)).pvcChonker;
    if (c.dryRun instanceof RegExp) t.throws(complete, { instanceOf: OptionsError, message: c.dryRun });
    else t.is(complete().dryRun, c.dryRun);
  });
}

test('pvc-chonker flags: the help text names --dry-run as the alias of --pvc-dry-run', (t) => {
  t.regex(USAGE, /--pvc-dry-run=true\|false/);
  t.regex(USAGE, /--dry-run=true\|false +alias of --pvc-dry-run/);
});

test('the Prometheus source reads kubelet_volume_stats_* from the instant-query API (stand-in Prometheus)', async (t) => {
  const values: Record<string, number> = {
    kubelet_volume_stats_capacity_bytes: 100,
    kubelet_volume_stats_available_bytes: 40,
    kubelet_volume_stats_used_bytes: 60,
  };
  const server = createServer((req, res) => {
    const query = new URL(req.url!, 'http://x').searchParams.get('query')!;
    const result = query in values ? [{ metric: { namespace: 'ns', persistentvolumeclaim: 'p', node: 'n' }, value: [1700000000, String(values[query])] }] : [];
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const source = new PrometheusSource(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 5000);
  const sample = await source.sample();
  t.deepEqual(sample.stats.get('ns/p'), { capacityBytes: 100, availableBytes: 40, usedBytes: 60 });
  t.deepEqual(sample.failedNodes, []);
});
