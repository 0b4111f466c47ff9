// The PVCGroup `expansions` subresource and `rebalance` verb over HTTPS, against the stand-in host
// cluster: `expansions` predicts exactly what the controller then does; `rebalance` raises the
// smaller members to the largest, within max-size, and a dry run changes nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { create } from '../controllers/helpers.js';
import { httpsRequest } from '../helpers/server.js';
import { startHostCluster, type HostCluster } from '../hostcluster/index.js';
import type { KubeObject } from '../../registry/meta.js';
import { createClaim, cycles, ensureStorageClasses, eventually, requestOf, setUsage, startChonkerServer, withNamespace, type ChonkerServer } from './helpers.js';

let host: HostCluster;

test.before(async () => {
  host = await startHostCluster();
  await ensureStorageClasses(host);
});
test.after.always(async () => {
  await host?.stop();
});

const GROUPS = '/apis/pvc-chonker.io/v1alpha1/namespaces';

function group(name: string, namespace: string, template: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'pvc-chonker.io/v1alpha1', kind: 'PVCGroup', metadata: { name, namespace }, spec: { template } } as unknown as KubeObject;
}

async function rebalance(server: ChonkerServer, ns: string, name: string, spec: Record<string, unknown>) {
  const res = await httpsRequest(server, 'POST', `${GROUPS}/${ns}/pvcgroups/${name}/rebalance`, {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ apiVersion: 'pvc-chonker.io/v1alpha1', kind: 'PVCGroupRebalance', spec }),
  });
  return { status: res.status, body: JSON.parse(res.body) };
}

test.serial('rebalance raises a group of three to the largest, within max-size; dryRun changes nothing (stand-in host cluster, stand-in kubelet)', async (t) => {
  t.teardown(await withNamespace(host, 'es'));
  const member = (extra: Record<string, string> = {}) => ({ 'pvc-chonker.io/group': 'es', ...extra });
  await createClaim(host, 'es', 'data-0', { annotations: member() });
  await createClaim(host, 'es', 'data-1', { size: '15Gi', annotations: member({ 'pvc-chonker.io/max-size': '18Gi' }) });
  await createClaim(host, 'es', 'data-2', { size: '20Gi', annotations: member() });
  await host.kubelet.settled();
  const server = await startChonkerServer(host, {}, { controller: false });
  t.teardown(() => server.stop());
  await create(server.stores.get('pvcgroups.pvc-chonker.io')!, group('es', 'es'));

  const dry = await rebalance(server, 'es', 'es', { dryRun: true });
  t.is(dry.status, 200, JSON.stringify(dry.body));
  t.is(dry.body.kind, 'PVCGroupRebalance');
  t.is(dry.body.status.coordinationSize, '20Gi');
  t.deepEqual(
    dry.body.status.members.map((m: { name: string; changed: boolean; toSize?: string }) => [m.name, m.changed, m.toSize]),
    [
      ['data-0', true, '20Gi'],
      ['data-1', true, '18Gi'],
      ['data-2', false, undefined],
    ],
  );
  t.is(await requestOf(host, 'es', 'data-0'), '10Gi', 'a dry run patches nothing');

  const done = await rebalance(server, 'es', 'es', {});
  t.is(done.status, 200, JSON.stringify(done.body));
  t.like(done.body.status.members[1], { name: 'data-1', fromSize: '15Gi', toSize: '18Gi', changed: true, reason: 'Rebalance' });
  t.is(await requestOf(host, 'es', 'data-0'), '20Gi');
  t.is(await requestOf(host, 'es', 'data-1'), '18Gi');
  t.is(await requestOf(host, 'es', 'data-2'), '20Gi');
  const stored = await server.stores.get('pvcgroups.pvc-chonker.io')!.get({ namespace: 'es', name: 'es' });
  t.deepEqual(
    (stored.status as { expansionHistory: Array<{ pvc: string; reason: string }> }).expansionHistory.map((h) => [h.pvc, h.reason]),
    [
      ['data-0', 'Rebalance'],
      ['data-1', 'Rebalance'],
    ],
  );

  // Everyone is at the coordination size now: nothing changes.
  const again = await rebalance(server, 'es', 'es', {});
  t.deepEqual(again.body.status.members.map((m: { changed: boolean; reason: string }) => [m.changed, m.reason]), [[false, 'AtCoordinationSize'], [false, 'AtCoordinationSize'], [false, 'AtCoordinationSize']]);

  const missing = await rebalance(server, 'es', 'nope', {});
  t.is(missing.status, 404);
  t.is(missing.body.kind, 'Status');
});

test.serial('expansions shows each member, the source of each setting and the next step, and the controller then does exactly that (stand-in host cluster, stand-in kubelet)', async (t) => {
  t.teardown(await withNamespace(host, 'predict'));
  const dir = mkdtempSync(join(tmpdir(), 'pvcchonker-predict-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const storage = `sqlite://${join(dir, 'state.db')}`;
  const member = (extra: Record<string, string> = {}) => ({ 'pvc-chonker.io/group': 'db', ...extra });
  // max-size 20Gi keeps the others from following `full` to 25Gi in the cycles after the first.
  const capped = { 'pvc-chonker.io/max-size': '20Gi' };
  await createClaim(host, 'predict', 'small', { annotations: member({ 'pvc-chonker.io/threshold': '85%', ...capped }) });
  await createClaim(host, 'predict', 'big', { size: '20Gi', annotations: member(capped) });
  await createClaim(host, 'predict', 'full', { size: '20Gi', annotations: member() });
  await createClaim(host, 'predict', 'blind', { size: '20Gi', annotations: member(capped) });
  setUsage(host, 'predict', 'small', 10, 10);
  setUsage(host, 'predict', 'big', 10, 20);
  setUsage(host, 'predict', 'full', 90, 20);
  await host.kubelet.settled();

  // First the server without the controller: the prediction.
  const before = await startChonkerServer(host, {}, { controller: false, storage });
  await create(before.stores.get('pvcgroups.pvc-chonker.io')!, group('db', 'predict', { increase: '5Gi', maxSize: '100Gi' }));
  const res = await httpsRequest(before, 'GET', `${GROUPS}/predict/pvcgroups/db/expansions`);
  await before.stop();
  t.is(res.status, 200, res.body);
  const view = JSON.parse(res.body);
  t.is(view.kind, 'PVCGroupExpansions');
  t.is(view.coordinationSize, '20Gi');
  t.deepEqual(view.failedNodes, []);
  const byName = Object.fromEntries(view.members.map((m: { name: string }) => [m.name, m]));
  t.deepEqual(Object.keys(byName).sort(), ['big', 'blind', 'full', 'small']);
  t.like(byName.small.settings, { threshold: { value: '85%', source: 'annotation' }, increase: { value: '5Gi', source: 'group' }, cooldown: { value: '15m', source: 'default' } });
  t.like(byName.small, { capacity: '10Gi', usedPercent: 10, managedBy: 'group', next: { action: 'Expand', reason: 'GroupCoordination', toSize: '20Gi' } });
  t.like(byName.small.settings, { maxSize: { value: '20Gi', source: 'annotation' } });
  t.like(byName.full.settings, { maxSize: { value: '100Gi', source: 'group' } });
  t.like(byName.full, { usedPercent: 90, next: { action: 'Expand', reason: 'ThresholdReached', toSize: '25Gi' } });
  t.like(byName.big.next, { action: 'None', reason: 'BelowThreshold' });
  t.like(byName.blind.next, { action: 'None', reason: 'UsageUnknown' });
  t.is(byName.blind.usedPercent, undefined, 'no sample is unknown, not 0%');

  // Then the controller over the same storage: it does what was predicted, and nothing else.
  const after = await startChonkerServer(host, {}, { storage });
  t.teardown(() => after.stop());
  for (const m of view.members as Array<{ name: string; request: string; next: { action: string; toSize?: string } }>) {
    const want = m.next.action === 'Expand' ? m.next.toSize : m.request;
    await eventually(async () => (await requestOf(host, 'predict', m.name)) === want, `${m.name} at ${want}`);
  }
  await cycles(3);
  for (const m of view.members as Array<{ name: string; request: string; next: { action: string; toSize?: string } }>) {
    t.is(await requestOf(host, 'predict', m.name), m.next.action === 'Expand' ? m.next.toSize! : m.request, m.name);
  }
  t.is(await requestOf(host, 'predict', 'big'), '20Gi');
  t.is(await requestOf(host, 'predict', 'blind'), '20Gi');
});

test.serial('expansions of a missing group is 404 (stand-in host cluster)', async (t) => {
  const server = await startChonkerServer(host, {}, { controller: false });
  t.teardown(() => server.stop());
  const res = await httpsRequest(server, 'GET', `${GROUPS}/default/pvcgroups/none/expansions`);
  t.is(res.status, 404);
  t.like(JSON.parse(res.body), { kind: 'Status', reason: 'NotFound' });
});
