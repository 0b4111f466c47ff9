// The resize state machine end to end: no second expansion while one is pending, a stuck
// expansion reported (never patched again), no expansion on a sample from before completion, the
// per-volume daily budget; and a selector-based group raised to its largest member.
import test from 'ava';
import { create } from '../controllers/helpers.js';
import { startHostCluster, type HostCluster } from '../hostcluster/index.js';
import type { KubeObject } from '../../registry/meta.js';
import { createClaim, cycles, ensureStorageClasses, eventsOf, eventually, readClaim, requestOf, setUsage, startChonkerServer, withNamespace } from './helpers.js';

const MIN = 60_000;
let host: HostCluster;

test.before(async () => {
  host = await startHostCluster();
  await ensureStorageClasses(host);
});
test.after.always(async () => {
  await host?.stop();
});

function group(name: string, namespace: string, spec: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'pvc-chonker.io/v1alpha1', kind: 'PVCGroup', metadata: { name, namespace }, spec: { template: {}, ...spec } } as unknown as KubeObject;
}

test.serial('a pending expansion blocks the next, is reported stuck, and a stale sample never triggers one (stand-in host cluster, stand-in kubelet)', async (t) => {
  t.teardown(await withNamespace(host, 'pending'));
  t.teardown(() => host.kubelet.setResizeMode('immediate'));
  host.kubelet.setResizeMode('never');
  const server = await startChonkerServer(host);
  t.teardown(() => server.stop());
  const groups = server.stores.get('pvcgroups.pvc-chonker.io')!;
  await create(groups, group('db', 'pending'));
  await createClaim(host, 'pending', 'data', { annotations: { 'pvc-chonker.io/group': 'db' } });
  setUsage(host, 'pending', 'data', 99, 10);

  await eventually(async () => (await requestOf(host, 'pending', 'data')) === '11Gi', 'the first expansion');
  await eventually(async () => (await readClaim(host, 'pending', 'data')).status?.conditions?.some((c) => c.type === 'Resizing'), 'the Resizing condition');
  await cycles(3);
  t.is(await requestOf(host, 'pending', 'data'), '11Gi', 'no second expansion while the first is pending');

  server.clock.advance(31 * MIN);
  const stuck = await eventually(async () => (await eventsOf(host, 'pending', 'data', 'ExpansionStuck'))[0], 'the ExpansionStuck event');
  t.is(stuck.type, 'Warning');
  const stuckGroup = await eventually(async () => {
    const g = await groups.get({ namespace: 'pending', name: 'db' });
    return (g.status?.conditions as Array<{ type: string; status: string }> | undefined)?.find((c) => c.type === 'ExpansionStuck' && c.status === 'True') ? g : undefined;
  }, 'the ExpansionStuck condition on the group');
  t.is((stuckGroup.status as { memberCount?: number }).memberCount, 1);
  await cycles(2);
  t.is(await requestOf(host, 'pending', 'data'), '11Gi', 'a stuck expansion is never patched again');

  // The resize completes; the kubelet still reports the old 10Gi filesystem, 99% full: a stale sample.
  host.kubelet.setResizeMode('immediate');
  await eventually(async () => {
    const c = await readClaim(host, 'pending', 'data');
    return JSON.parse(c.metadata?.annotations?.['pvc-chonker.io/expansion-state'] ?? '{}').completedAt !== undefined;
  }, 'the completion recorded');
  await eventually(async () => {
    const g = await groups.get({ namespace: 'pending', name: 'db' });
    return (g.status?.conditions as Array<{ type: string; status: string }> | undefined)?.find((c) => c.type === 'ExpansionStuck' && c.status === 'False');
  }, 'the group no longer stuck');
  await cycles(3);
  t.is(await requestOf(host, 'pending', 'data'), '11Gi', 'no expansion on a sample that predates the completion');

  setUsage(host, 'pending', 'data', 95, 11);
  await eventually(async () => (await requestOf(host, 'pending', 'data')) === '13Gi', 'the expansion on a fresh sample');
});

test.serial('the per-volume daily budget stops expansions until 24 h have passed (stand-in host cluster, stand-in kubelet)', async (t) => {
  t.teardown(await withNamespace(host, 'budget'));
  await createClaim(host, 'budget', 'data', { annotations: { 'pvc-chonker.io/enabled': 'true', 'pvc-chonker.io/cooldown': '1m' } });
  setUsage(host, 'budget', 'data', 99, 10);
  const server = await startChonkerServer(host, { 'pvc-max-expansions-per-day': '2' });
  t.teardown(() => server.stop());
  for (const [size, gi] of [['11Gi', 11], ['13Gi', 13]] as const) {
    await eventually(async () => (await readClaim(host, 'budget', 'data')).status?.capacity?.storage === size, `the expansion to ${size}`);
    setUsage(host, 'budget', 'data', 99, gi);
    server.clock.advance(2 * MIN);
  }
  const exhausted = await eventually(async () => (await eventsOf(host, 'budget', 'data', 'DailyBudgetExhausted'))[0], 'DailyBudgetExhausted');
  t.is(exhausted.type, 'Warning');
  await cycles(2);
  t.is(await requestOf(host, 'budget', 'data'), '13Gi', 'no third expansion within 24 h');
  server.clock.advance(24 * 60 * MIN);
  await eventually(async () => (await requestOf(host, 'budget', 'data')) === '15Gi', 'the expansion once the window has passed');
});

test.serial('a selector-based group is raised to its largest member; status counts members (stand-in host cluster, stand-in kubelet)', async (t) => {
  t.teardown(await withNamespace(host, 'fleet'));
  await createClaim(host, 'fleet', 'data-web-0', { labels: { app: 'web' } });
  await createClaim(host, 'fleet', 'data-web-1', { labels: { app: 'web' } });
  await createClaim(host, 'fleet', 'data-web-2', { labels: { app: 'web' }, size: '20Gi' });
  await createClaim(host, 'fleet', 'other', { size: '5Gi' });
  const server = await startChonkerServer(host);
  t.teardown(() => server.stop());
  const groups = server.stores.get('pvcgroups.pvc-chonker.io')!;
  await create(groups, group('web', 'fleet', { selector: { matchLabels: { app: 'web' } }, template: { maxSize: '100Gi' } }));
  for (const name of ['data-web-0', 'data-web-1']) await eventually(async () => (await requestOf(host, 'fleet', name)) === '20Gi', `${name} raised to 20Gi`);
  const g = await eventually(async () => {
    const obj = await groups.get({ namespace: 'fleet', name: 'web' });
    const s = obj.status as { memberCount?: number; currentSize?: string; expansionHistory?: Array<{ reason: string; pvc: string }> } | undefined;
    return s?.memberCount === 3 && s.currentSize === '20Gi' && (s.expansionHistory?.length ?? 0) >= 2 ? s : undefined;
  }, 'the group status');
  t.deepEqual(g.expansionHistory!.map((h) => [h.pvc, h.reason]).sort(), [['data-web-0', 'GroupCoordination'], ['data-web-1', 'GroupCoordination']]);
  t.is(await requestOf(host, 'fleet', 'other'), '5Gi');
});
