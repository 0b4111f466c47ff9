// Leader election between two real server processes sharing one etcd: the API serves on both,
// only the lease holder reconciles, and after the leader is SIGKILLed the other takes over
// (within the lease duration; waited for with a generous deadline, not asserted as a time).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import test from 'ava';
import { StorageLeaseLock } from '../../controllers/leader-election.js';
import { DEFAULT_LEASE_NAME } from '../../controllers/manager.js';
import { openBackend } from '../../registry/storage/index.js';
import { requireEtcd, startEtcd } from '../helpers/etcd.js';
import { eventually, sample } from './helpers.js';

interface Line {
  event: 'listening' | 'leading' | 'stopped-leading' | 'reconcile';
  id: string;
  at: number;
  key?: string;
  url?: string;
}

interface Replica {
  id: string;
  child: ChildProcess;
  lines: Line[];
  kubeconfig: string;
  api(): CustomObjectsApi;
}

const FIXTURE = join(process.cwd(), 'dist', 'test', 'controllers', 'fixtures', 'leader-process.js');

function startReplica(id: string, dir: string, storage: string): Replica {
  const kubeconfig = join(dir, `kubeconfig-${id}`);
  const child = spawn(
    process.execPath,
    [
      FIXTURE,
      `--storage=${storage}`,
      '--secure-port=0',
      `--cert-dir=${join(dir, `certs-${id}`)}`,
      `--write-kubeconfig=${kubeconfig}`,
      '--etcd-compaction-interval=0',
      '--leader-elect=true',
      '--leader-elect-lease-duration=3s',
      '--leader-elect-renew-deadline=2s',
      '--leader-elect-retry-period=0.5s',
      `--leader-elect-identity=${id}`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'silent' } },
  );
  const lines: Line[] = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    try {
      lines.push(JSON.parse(text) as Line);
    } catch {
      // not a report line
    }
  });
  return {
    id,
    child,
    lines,
    kubeconfig,
    api() {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfig);
      return kc.makeApiClient(CustomObjectsApi);
    },
  };
}

const performers = { group: 'hourglass.eigenlayer.io', version: 'v1alpha1', plural: 'performers' };

async function readyCondition(api: CustomObjectsApi, name: string): Promise<boolean> {
  const obj = (await api.getNamespacedCustomObject({ ...performers, namespace: 'ns1', name })) as any;
  return (obj.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
}

if (requireEtcd(test, 'leader election hand-over between two server processes')) {
  test('two server processes on one etcd: one reconciles, the other takes over after the leader is killed', async (t) => {
    t.timeout(110_000);
    const etcd = await startEtcd();
    const dir = mkdtempSync(join(tmpdir(), 'leader-handover-'));
    const replicas = [startReplica('replica-a', dir, etcd.url), startReplica('replica-b', dir, etcd.url)];
    t.teardown(async () => {
      for (const r of replicas) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
      await etcd.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    await eventually(() => replicas.every((r) => r.lines.some((l) => l.event === 'listening')), 'both replicas to listen', 60_000);
    const leader = await eventually(() => replicas.find((r) => r.lines.some((l) => l.event === 'leading')), 'a leader', 60_000);
    const follower = replicas.find((r) => r !== leader)!;

    // The API serves on the follower too: create through it; the leader reconciles.
    await follower.api().createNamespacedCustomObject({ ...performers, namespace: 'ns1', body: sample('Performer', 'first', 'ns1') });
    await eventually(() => leader.lines.some((l) => l.event === 'reconcile' && l.key === 'ns1/first'), 'the leader to reconcile ns1/first', 60_000);
    await eventually(() => readyCondition(follower.api(), 'first'), 'status written by the leader, read on the follower', 60_000);
    t.false(follower.lines.some((l) => l.event === 'leading' || l.event === 'reconcile'), 'the follower neither leads nor reconciles');

    const killedAt = Date.now();
    leader.child.kill('SIGKILL');
    await new Promise((resolve) => leader.child.once('exit', resolve));
    const takeover = await eventually(() => follower.lines.find((l) => l.event === 'leading'), 'the follower to take over', 60_000);
    t.true(takeover.at >= killedAt, 'the follower led only after the leader was gone');

    await follower.api().createNamespacedCustomObject({ ...performers, namespace: 'ns1', body: sample('Performer', 'second', 'ns1') });
    await eventually(() => follower.lines.some((l) => l.event === 'reconcile' && l.key === 'ns1/second'), 'the new leader to reconcile ns1/second', 60_000);
    await eventually(() => readyCondition(follower.api(), 'second'), 'status of ns1/second', 60_000);

    const followerReconciles = follower.lines.filter((l) => l.event === 'reconcile');
    t.true(followerReconciles.length > 0);
    t.true(followerReconciles.every((l) => l.at >= takeover.at), 'every reconcile of the new leader came after it took the lease');
    t.true(
      leader.lines.filter((l) => l.event === 'reconcile').every((l) => l.at <= killedAt),
      'the old leader reconciled only before it was killed',
    );
    t.true(followerReconciles.some((l) => l.key === 'ns1/first'), 'the new leader resynced existing objects from the watch cache');

    const backend = await openBackend({ url: etcd.url });
    try {
      const lease = await new StorageLeaseLock(backend, DEFAULT_LEASE_NAME).get();
      t.is(lease?.record.holderIdentity, follower.id);
      t.is(lease?.record.leaseTransitions, 1);
    } finally {
      await backend.close();
    }

    // A clean stop releases the lease.
    follower.child.kill('SIGTERM');
    await new Promise((resolve) => follower.child.once('exit', resolve));
    const backend2 = await openBackend({ url: etcd.url });
    try {
      t.is((await new StorageLeaseLock(backend2, DEFAULT_LEASE_NAME).get())?.record.holderIdentity, '', 'released on shutdown');
    } finally {
      await backend2.close();
    }
  });
}
