// The pvcchonker controller end to end against the stand-in host cluster and its simulated
// kubelet metrics; the engine's clock is moved by the test where time matters.
import test from 'ava';
import { create } from '../controllers/helpers.js';
import { httpsRequest } from '../helpers/server.js';
import { startHostCluster, type HostCluster } from '../hostcluster/index.js';
import type { KubeObject } from '../../registry/meta.js';
import { createClaim, cycles, ensureStorageClasses, eventsOf, eventually, readClaim, requestOf, setUsage, startChonkerServer, withNamespace } from './helpers.js';

const MIN = 60_000;
let host: HostCluster;

test.before(async () => {
  host = await startHostCluster({ kubelet: { nodes: ['node-1', 'node-2'] } });
  await ensureStorageClasses(host);
});
test.after.always(async () => {
  await host?.stop();
});

const on = { 'pvc-chonker.io/enabled': 'true' };

test.serial('a PVC crossing the threshold is expanded once, not again inside cooldown, again after it (stand-in host cluster, stand-in kubelet)', async (t) => {
  t.teardown(await withNamespace(host, 'grow'));
  await createClaim(host, 'grow', 'data', { annotations: on });
  setUsage(host, 'grow', 'data', 85, 10);
  const server = await startChonkerServer(host);
  t.teardown(() => server.stop());

  await eventually(async () => (await requestOf(host, 'grow', 'data')) === '11Gi', 'the expansion to 11Gi');
  const claim = await readClaim(host, 'grow', 'data');
  t.truthy(claim.metadata?.annotations?.['pvc-chonker.io/last-expansion']);
  const expanded = await eventually(async () => (await eventsOf(host, 'grow', 'data', 'Expanded'))[0], 'the Expanded event');
  t.regex(expanded.message ?? '', /10Gi → 11Gi/);
  const metrics = (await httpsRequest(server, 'GET', '/metrics')).body;
  t.regex(metrics, /^pvcchonker_resizer_success_resize_total\{namespace="grow",persistentvolumeclaim="data"\} 1$/m);
  t.regex(metrics, /^pvcchonker_resizer_pvc_usage_percent\{namespace="grow",persistentvolumeclaim="data"\} 85$/m);
  t.regex(metrics, /^pvcchonker_loop_duration_seconds_count \d+$/m);

  // The filesystem has grown and is full again: still inside the 15m cooldown.
  await eventually(async () => (await readClaim(host, 'grow', 'data')).status?.capacity?.storage === '11Gi', 'the resize to complete');
  setUsage(host, 'grow', 'data', 95, 11);
  await cycles(3);
  t.is(await requestOf(host, 'grow', 'data'), '11Gi', 'no second expansion inside cooldown');

  server.clock.advance(16 * MIN);
  await eventually(async () => (await requestOf(host, 'grow', 'data')) === '13Gi', 'the expansion after cooldown (11Gi + 10% → 13Gi)');
});

test.serial('inode pressure expands and warns on a fixed-inode filesystem (stand-in host cluster, stand-in kubelet)', async (t) => {
  t.teardown(await withNamespace(host, 'inodes'));
  await createClaim(host, 'inodes', 'files', { annotations: on });
  setUsage(host, 'inodes', 'files', 10, 10, { total: 1000, used: 950 });
  const server = await startChonkerServer(host);
  t.teardown(() => server.stop());
  await eventually(async () => (await requestOf(host, 'inodes', 'files')) === '11Gi', 'the expansion');
  const event = await eventually(async () => (await eventsOf(host, 'inodes', 'files', 'ExpandedInodePressure'))[0], 'ExpandedInodePressure');
  t.is(event.type, 'Warning');
  t.regex(event.message ?? '', /ext4 has a fixed inode table/);
});

test.serial('a StorageClass without allowVolumeExpansion is skipped with an event (stand-in host cluster, stand-in kubelet)', async (t) => {
  t.teardown(await withNamespace(host, 'fixed'));
  await createClaim(host, 'fixed', 'data', { annotations: on, storageClassName: 'fixed' });
  setUsage(host, 'fixed', 'data', 99, 10);
  const server = await startChonkerServer(host);
  t.teardown(() => server.stop());
  const event = await eventually(async () => (await eventsOf(host, 'fixed', 'data', 'NotExpandable'))[0], 'NotExpandable');
  t.is(event.type, 'Warning');
  await cycles(2);
  t.is(await requestOf(host, 'fixed', 'data'), '10Gi');
});

// `--dry-run` is pvc-chonker's own name for the flag, accepted as an alias.
for (const flag of ['pvc-dry-run', 'dry-run']) {
  test.serial(`--${flag} reports and patches nothing (stand-in host cluster, stand-in kubelet)`, async (t) => {
    const ns = flag === 'dry-run' ? 'dry-alias' : 'dry';
    t.teardown(await withNamespace(host, ns));
    await createClaim(host, ns, 'data', { annotations: on });
    setUsage(host, ns, 'data', 99, 10);
    const server = await startChonkerServer(host, { [flag]: 'true' });
    t.teardown(() => server.stop());
    const event = await eventually(async () => (await eventsOf(host, ns, 'data', 'DryRun'))[0], 'the DryRun event');
    t.regex(event.message ?? '', /would expand 10Gi → 11Gi/);
    await cycles(2);
    const claim = await readClaim(host, ns, 'data');
    t.is(claim.spec?.resources?.requests?.storage, '10Gi');
    t.is(claim.metadata?.annotations?.['pvc-chonker.io/last-expansion'], undefined);
  });
}

// A node proxy that answers 503 (kubelet away), and a kubelet that accepts the scrape and never
// answers (the scrape timeout, 1 s here, ends it).
const SILENT_KUBELETS = [
  { title: 'answers 503', key: 'down', begin: () => host.kubelet.setNodeReachable('node-2', false), end: () => host.kubelet.setNodeReachable('node-2', true) },
  { title: 'times out', key: 'hung', begin: () => host.kubelet.setNodeHung('node-2', true), end: () => host.kubelet.setNodeHung('node-2', false) },
];
for (const kubelet of SILENT_KUBELETS) {
  test.serial(`a kubelet that ${kubelet.title} causes no expansion; its volumes are unknown, not 0% (stand-in host cluster, stand-in kubelet)`, async (t) => {
    const ns = kubelet.key;
    t.teardown(await withNamespace(host, ns));
    t.teardown(kubelet.end);
    await createClaim(host, ns, 'quiet', { annotations: on });
    await createClaim(host, ns, 'full', { annotations: on });
    setUsage(host, ns, 'quiet', 99, 10, undefined, 'node-2');
    setUsage(host, ns, 'full', 99, 10, undefined, 'node-1');
    kubelet.begin();
    const server = await startChonkerServer(host, {}, { kubeletTimeoutMs: 1_000 });
    t.teardown(() => server.stop());
    // node-1 answers: its full volume is expanded in the same cycles that skip node-2.
    await eventually(async () => (await requestOf(host, ns, 'full')) === '11Gi', 'the reachable node’s volume expanded');
    await cycles(2);
    t.is(await requestOf(host, ns, 'quiet'), '10Gi');
    const view = await server.chonker.expansions({ apiVersion: 'pvc-chonker.io/v1alpha1', kind: 'PVCGroup', metadata: { name: 'none', namespace: ns } } as KubeObject, { policies: [], groups: [] });
    t.deepEqual(view.failedNodes, ['node-2']);
  });
}

test.serial('max-size below the current size: no patch and a Warning (stand-in host cluster, stand-in kubelet)', async (t) => {
  t.teardown(await withNamespace(host, 'cap'));
  await createClaim(host, 'cap', 'data', { annotations: { ...on, 'pvc-chonker.io/max-size': '5Gi' } });
  await createClaim(host, 'cap', 'capped', { annotations: { ...on, 'pvc-chonker.io/max-size': '10Gi' } });
  setUsage(host, 'cap', 'data', 99, 10);
  setUsage(host, 'cap', 'capped', 99, 10);
  const server = await startChonkerServer(host);
  t.teardown(() => server.stop());
  const below = await eventually(async () => (await eventsOf(host, 'cap', 'data', 'MaxSizeBelowCurrent'))[0], 'MaxSizeBelowCurrent');
  t.is(below.type, 'Warning');
  const atMax = await eventually(async () => (await eventsOf(host, 'cap', 'capped', 'MaxSizeReached'))[0], 'MaxSizeReached');
  t.is(atMax.type, 'Warning');
  await cycles(1);
  t.is(await requestOf(host, 'cap', 'data'), '10Gi');
  t.is(await requestOf(host, 'cap', 'capped'), '10Gi');
});

test.serial('invalid annotation values: a Warning event and no expansion (stand-in host cluster, stand-in kubelet)', async (t) => {
  t.teardown(await withNamespace(host, 'bad'));
  await createClaim(host, 'bad', 'data', { annotations: { ...on, 'pvc-chonker.io/increase': 'lots' } });
  setUsage(host, 'bad', 'data', 99, 10);
  const server = await startChonkerServer(host);
  t.teardown(() => server.stop());
  const event = await eventually(async () => (await eventsOf(host, 'bad', 'data', 'InvalidSettings'))[0], 'InvalidSettings');
  t.regex(event.message ?? '', /increase: "lots"/);
  await cycles(1);
  t.is(await requestOf(host, 'bad', 'data'), '10Gi');
});

test.serial('StorageClass annotations are a settings layer (stand-in host cluster, stand-in kubelet)', async (t) => {
  t.teardown(await withNamespace(host, 'scl'));
  const { StorageV1Api } = await import('@kubernetes/client-node');
  const storage = host.kubeConfig().makeApiClient(StorageV1Api);
  await storage.createStorageClass({
    body: { metadata: { name: 'managed', annotations: { 'pvc-chonker.io/enabled': 'true', 'pvc-chonker.io/threshold': '50%', 'pvc-chonker.io/increase': '5Gi' } }, provisioner: 'x', allowVolumeExpansion: true },
  });
  t.teardown(() => storage.deleteStorageClass({ name: 'managed' }).then(() => undefined));
  await createClaim(host, 'scl', 'plain', { storageClassName: 'managed' });
  await createClaim(host, 'scl', 'other', { storageClassName: 'expandable' });
  setUsage(host, 'scl', 'plain', 60, 10);
  setUsage(host, 'scl', 'other', 99, 10);
  const server = await startChonkerServer(host);
  t.teardown(() => server.stop());
  await eventually(async () => (await requestOf(host, 'scl', 'plain')) === '15Gi', 'the StorageClass settings applied (50%, +5Gi)');
  await cycles(1);
  t.is(await requestOf(host, 'scl', 'other'), '10Gi', 'a PVC nothing selects is not managed');
});

test.serial('--pvc-default-enabled manages 50+ PVCs in one cycle, at most --pvc-max-parallel at once (stand-in host cluster, stand-in kubelet)', async (t) => {
  t.teardown(await withNamespace(host, 'fleet'));
  const names = Array.from({ length: 55 }, (_, i) => `data-${i}`);
  let inFlight = 0;
  let maxInFlight = 0;
  for (const name of names) {
    await createClaim(host, 'fleet', name);
    setUsage(host, 'fleet', name, 90, 10);
  }
  await createClaim(host, 'fleet', 'opted-out', { annotations: { 'pvc-chonker.io/enabled': 'false' } });
  setUsage(host, 'fleet', 'opted-out', 90, 10);
  const server = await startChonkerServer(host, { 'pvc-default-enabled': 'true', 'pvc-max-parallel': '4' }, { beforeStart: (chonker) => {
    // Count the size patches in flight at once.
    const patch = chonker.host.patchClaim.bind(chonker.host);
    chonker.host.patchClaim = async (ns, name, change) => {
      if (!change.size) return patch(ns, name, change);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        return await patch(ns, name, change);
      } finally {
        inFlight--;
      }
    };
  } });
  t.teardown(() => server.stop());
  await eventually(async () => {
    const { CoreV1Api } = await import('@kubernetes/client-node');
    const items = (await host.kubeConfig().makeApiClient(CoreV1Api).listNamespacedPersistentVolumeClaim({ namespace: 'fleet' })).items;
    return items.filter((c) => c.spec?.resources?.requests?.storage === '11Gi').length === names.length;
  }, 'all 55 expanded', 60_000);
  t.is(await requestOf(host, 'fleet', 'opted-out'), '10Gi');
  t.true(maxInFlight >= 1 && maxInFlight <= 4, `at most 4 expansions at once (saw ${maxInFlight})`);
});

test.serial('PVCPolicy settings apply and its status counts the matched PVCs (stand-in host cluster, stand-in kubelet)', async (t) => {
  t.teardown(await withNamespace(host, 'pol'));
  await createClaim(host, 'pol', 'db-0', { labels: { app: 'db' } });
  await createClaim(host, 'pol', 'web-0', { labels: { app: 'web' } });
  setUsage(host, 'pol', 'db-0', 75, 10);
  setUsage(host, 'pol', 'web-0', 99, 10);
  const server = await startChonkerServer(host);
  t.teardown(() => server.stop());
  const policies = server.stores.get('pvcpolicies.pvc-chonker.io')!;
  await create(policies, { apiVersion: 'pvc-chonker.io/v1alpha1', kind: 'PVCPolicy', metadata: { name: 'db', namespace: 'pol' }, spec: { selector: { matchLabels: { app: 'db' } }, template: { threshold: '70%', increase: '20Gi' } } } as unknown as KubeObject);
  await eventually(async () => (await requestOf(host, 'pol', 'db-0')) === '30Gi', 'the policy expansion (+20Gi)');
  await eventually(async () => ((await policies.get({ namespace: 'pol', name: 'db' })).status as { matchedPVCs?: number } | undefined)?.matchedPVCs === 1, 'matchedPVCs');
  t.is(await requestOf(host, 'pol', 'web-0'), '10Gi');
});
