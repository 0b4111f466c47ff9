// The controller manager inside a real server (no host cluster): the sample controller's round
// trip through our registry (finalizer, status subresource, conditions, delete), retries with
// backoff, requeueAfter, the enable list and the /metrics endpoint.
import { request } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import test from 'ava';
import { Registry } from 'prom-client';
import { StorageLeaseLock } from '../../controllers/leader-election.js';
import { ControllerManager, DEFAULT_LEASE_NAME } from '../../controllers/manager.js';
import { isControllerEnabled, parseControllerList } from '../../controllers/enable.js';
import { findCondition, setCondition, type Condition } from '../../controllers/status.js';
import type { KubeObject } from '../../registry/meta.js';
import { create, eventually, openRegistry, sample, startServerWith, update } from './helpers.js';
import { PERFORMERS, SAMPLE_FINALIZER, sampleController } from './fixtures/sample-controller.js';

/** GET with the local user's client certificate from the server's kubeconfig. */
async function getAs(kubeconfigPath: string, path: string): Promise<{ status: number; body: string }> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const url = new URL(path, kc.getCurrentCluster()!.server);
  const opts: Record<string, unknown> = {};
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = request(url, { ...opts, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

function metricValue(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.split(' ').pop());
  }
  return 0;
}

test('setCondition moves lastTransitionTime only when the status flips', (t) => {
  const cases: Array<{ name: string; start: Condition[] | undefined; input: Parameters<typeof setCondition>[1]; wantTime: string }> = [
    { name: 'new condition', start: undefined, input: { type: 'Ready', status: 'True', reason: 'Up' }, wantTime: '2026-01-01T00:01:40Z' },
    {
      name: 'same status, new reason',
      start: [{ type: 'Ready', status: 'True', reason: 'Up', lastTransitionTime: '2025-01-01T00:00:00Z' }],
      input: { type: 'Ready', status: 'True', reason: 'StillUp', message: 'm' },
      wantTime: '2025-01-01T00:00:00Z',
    },
    {
      name: 'status flip',
      start: [{ type: 'Ready', status: 'True', reason: 'Up', lastTransitionTime: '2025-01-01T00:00:00Z' }],
      input: { type: 'Ready', status: 'False', reason: 'Down' },
      wantTime: '2026-01-01T00:01:40Z',
    },
  ];
  for (const c of cases) {
    const out = setCondition(c.start, c.input, Date.UTC(2026, 0, 1, 0, 1, 40), 7);
    const got = findCondition(out, 'Ready')!;
    t.is(got.lastTransitionTime, c.wantTime, c.name);
    t.is(got.reason, c.input.reason, c.name);
    t.is(got.observedGeneration, 7, c.name);
    t.is(out.length, 1, c.name);
  }
  const two = setCondition([{ type: 'A', status: 'True', reason: 'x', lastTransitionTime: 't' }], { type: 'B', status: 'False', reason: 'y' }, 0);
  t.deepEqual(two.map((c) => c.type), ['A', 'B'], 'other conditions are kept, in order');
});

test('--controllers: * enables all, -name disables, a group name covers its controllers, unknown syntax is rejected', (t) => {
  const cases: Array<[string, string, boolean]> = [
    ['*', 'storm', true],
    ['*,-pvcchonker', 'pvcchonker', false],
    ['*,-pvcchonker', 'storm', true],
    ['storm', 'hourglass', false],
    ['storm,hourglass', 'hourglass', true],
    ['', 'storm', false],
    ['*,-storm', 'storm-topology', false],
    ['storm', 'storm-cluster', true],
    ['storm', 'hourglass-performer', false],
    ['*,-storm,storm-cluster', 'storm-cluster', true],
    ['*,-storm,storm-cluster', 'storm-topology', false],
  ];
  for (const [flag, name, want] of cases) t.is(isControllerEnabled(name, parseControllerList(flag)), want, `${flag} → ${name}`);
  t.throws(() => parseControllerList('*,-Bad_Name'), { message: /not \*, a controller name or -name/ });
});

test('the sample controller round trip in a real server: finalizer, status with conditions, delete after cleanup (memory)', async (t) => {
  const reconciled: string[] = [];
  const server = await startServerWith({ 'leader-elect': 'false' }, [sampleController({ onReconcile: (key) => reconciled.push(key) })]);
  t.teardown(() => server.stop());
  const store = server.stores.get(PERFORMERS)!;
  const created = await create(store, sample('Performer', 'p1', 'ns1'));

  const done = await eventually(async () => {
    const o = await store.get({ namespace: 'ns1', name: 'p1' });
    return o.status?.observedGeneration === 1 && findCondition(o.status?.conditions as Condition[], 'Ready') ? o : undefined;
  }, 'status written by the controller');
  t.deepEqual(done.metadata.finalizers, [SAMPLE_FINALIZER]);
  t.is(done.status?.phase, 'Running');
  const ready = findCondition(done.status?.conditions as Condition[], 'Ready')!;
  t.like(ready, { status: 'True', reason: 'Reconciled', observedGeneration: 1, message: 'version v1.2.0' });
  t.is(done.metadata.generation, 1, 'status and finalizer writes do not bump the generation');

  // A spec change: a new generation is observed, the condition's transition time stays (no flip).
  await update(store, done, (o) => (o.spec.version = 'v1.3.0'));
  const second = await eventually(async () => {
    const o = await store.get({ namespace: 'ns1', name: 'p1' });
    return o.status?.observedGeneration === 2 ? o : undefined;
  }, 'generation 2 observed');
  const ready2 = findCondition(second.status?.conditions as Condition[], 'Ready')!;
  t.is(ready2.message, 'version v1.3.0');
  t.is(ready2.lastTransitionTime, ready.lastTransitionTime);

  // Delete: the finalizer holds the object until the controller removes it.
  const deleting = await store.delete({ namespace: 'ns1', name: 'p1' }, { dryRun: false });
  t.false(deleting.deleted);
  await eventually(async () => {
    try {
      await store.get({ namespace: 'ns1', name: 'p1' });
      return false;
    } catch (err) {
      return (err as { status?: { code?: number } }).status?.code === 404;
    }
  }, 'the object to be gone');
  t.true(reconciled.every((k) => k === 'ns1/p1'));
  t.is(created.metadata.name, 'p1');
});

test('errors are retried with backoff, requeueAfter reconciles again, and /metrics counts both per controller', async (t) => {
  const seen = new Map<string, number>();
  const server = await startServerWith({ 'leader-elect': 'false' }, [
    sampleController({ name: 'sample-metrics', onReconcile: (key) => seen.set(key, (seen.get(key) ?? 0) + 1) }),
  ]);
  t.teardown(() => server.stop());
  const store = server.stores.get(PERFORMERS)!;
  await create(store, sample('Performer', 'flaky', 'ns2', (o) => (o.metadata.annotations = { 'sample.test/fail-times': '3' })));
  await create(store, sample('Performer', 'poller', 'ns2', (o) => (o.metadata.annotations = { 'sample.test/requeue-times': '3' })));
  const readyOf = async (name: string) => {
    const o: KubeObject = await store.get({ namespace: 'ns2', name });
    return findCondition(o.status?.conditions as Condition[], 'Ready')?.status === 'True';
  };
  await eventually(() => readyOf('flaky'), 'the flaky performer to be reconciled after its failures');
  await eventually(() => readyOf('poller'), 'the polling performer');
  await eventually(() => (seen.get('ns2/poller') ?? 0) >= 4, 'the requeued reconciles');
  t.true((seen.get('ns2/flaky') ?? 0) >= 4, 'three failures then a success');

  const metrics = await eventually(async () => {
    const res = await getAs(`${server.dir}/kubeconfig`, '/metrics');
    return res.status === 200 && metricValue(res.body, 'reconcile_total', { controller: 'sample-metrics', result: 'requeue_after' }) >= 3 ? res.body : undefined;
  }, '/metrics with the reconcile counts');
  const label = { controller: 'sample-metrics' };
  t.true(metricValue(metrics, 'reconcile_total', { ...label, result: 'error' }) >= 3);
  t.true(metricValue(metrics, 'reconcile_total', { ...label, result: 'success' }) >= 2);
  t.true(metricValue(metrics, 'workqueue_retries_total', label) >= 3);
  t.true(metricValue(metrics, 'workqueue_adds_total', label) >= 2);
  t.true(metricValue(metrics, 'reconcile_duration_seconds_count', label) >= 8);
  t.regex(metrics, /# TYPE workqueue_depth gauge/);
});

test('a controller disabled by --controllers does not run; an unknown name fails start-up', async (t) => {
  const reconciled: string[] = [];
  const server = await startServerWith({ 'leader-elect': 'false', controllers: '*,-sample' }, [sampleController({ onReconcile: (k) => reconciled.push(k) })]);
  t.teardown(() => server.stop());
  t.deepEqual(server.controllers.controllers, []);
  t.false(server.controllers.isLeader, 'no controller, no term');
  await t.throwsAsync(() => startServerWith({ controllers: '*,-nosuch' }, [sampleController()]), { message: /unknown controller "nosuch"/ });
});

test('no two workers reconcile the same key at once (4 workers, many changes)', async (t) => {
  const active = new Set<string>();
  let overlaps = 0;
  const server = await startServerWith({ 'leader-elect': 'false' }, [
    sampleController({
      name: 'sample-concurrency',
      workers: 4,
      onReconcile: (key) => {
        if (active.has(key)) overlaps++;
        active.add(key);
      },
      during: async (key) => {
        await new Promise((r) => setTimeout(r, 5));
        active.delete(key);
      },
    }),
  ]);
  t.teardown(() => server.stop());
  const store = server.stores.get(PERFORMERS)!;
  const objs = await Promise.all(['a', 'b', 'c'].map((n) => create(store, sample('Performer', n, 'ns3'))));
  for (let round = 0; round < 5; round++) {
    for (const o of objs) {
      const current = await store.get({ namespace: 'ns3', name: o.metadata.name! });
      await update(store, current, (c) => (c.metadata.labels = { round: String(round) }));
    }
  }
  await eventually(async () => {
    const { items } = await store.list({ namespace: 'ns3' });
    return items.every((o) => o.status?.observedGeneration === 1 && o.metadata.labels?.round === '4');
  }, 'all reconciled');
  t.is(overlaps, 0);
});

test('a manager that loses its lease stops reconciling, and resumes when it leads again (storage lease, memory)', async (t) => {
  const registry = await openRegistry('memory');
  t.teardown(() => registry.stop());
  const log: string[] = [];
  const manager = new ControllerManager({
    stores: registry.stores,
    backend: registry.backend,
    controllers: [sampleController({ name: 'sample-lease', onReconcile: (key) => log.push(`reconcile ${key}`) })],
    enabled: ['*'],
    leaderElection: { enabled: true, identity: 'me', leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 },
    metrics: new Registry(),
    log: { debug() {}, info() {}, warn() {}, error() {} },
  });
  manager.onLeadershipChange((leading) => log.push(leading ? 'leading' : 'stopped'));
  manager.start();
  t.teardown(() => manager.stop());
  const store = registry.store(PERFORMERS);
  await create(store, sample('Performer', 'before', 'ns4'));
  await eventually(() => log.includes('reconcile ns4/before'), 'a reconcile while leading');

  // Someone else holds the lease (renewing it): the manager must stop reconciling.
  const lock = new StorageLeaseLock(registry.backend, DEFAULT_LEASE_NAME);
  let intruding = true;
  const intruder = (async () => {
    while (intruding) {
      const current = await lock.get();
      const now = Date.now();
      const record = { holderIdentity: 'intruder', leaseDurationSeconds: 3, acquireTime: now, renewTime: now, leaseTransitions: 9 };
      await lock.update(record, current!.version).catch(() => {});
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  await eventually(() => log.includes('stopped'), 'the manager to stop leading');
  await create(store, sample('Performer', 'during', 'ns4'));
  intruding = false;
  await intruder;
  await eventually(() => log.includes('reconcile ns4/during'), 'the reconcile after leading again');
  const stoppedAt = log.indexOf('stopped');
  const relead = log.indexOf('leading', stoppedAt);
  t.true(relead > stoppedAt, 'leading again');
  t.true(log.indexOf('reconcile ns4/during') > relead, 'nothing was reconciled while another held the lease');
  t.true(log.slice(stoppedAt, relead).every((l) => !l.startsWith('reconcile')), 'no reconcile between losing and regaining the lease');
});
