// The pvc-chonker end-to-end tests' setup: the stand-in host cluster (its simulated kubelet binds
// PVCs, grows them, and serves volume stats on the node proxy), our server running the pvcchonker
// controller against it with an engine whose clock a test moves, and small PVC helpers.
import { CoreV1Api, StorageV1Api, type CoreV1Event, type V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { completeOptions } from '../../apiserver/options.js';
import { metricsRegistry } from '../../apiserver/metrics.js';
import { HostClient } from '../../controllers/host-client.js';
import { Chonker } from '../../controllers/pvcchonker/chonker.js';
import { pvcChonkerController } from '../../controllers/pvcchonker/controller.js';
import { HostPVCs } from '../../controllers/pvcchonker/host.js';
import { KubeletMetricsSource } from '../../controllers/pvcchonker/kubelet-metrics.js';
import { Throttle } from '../../controllers/pvcchonker/throttle.js';
import { HostEventRecorder } from '../../controllers/events.js';
import { PVC_CHONKER } from '../../registry/pvc-chonker.io/upstreams.js';
import type { HostCluster } from '../hostcluster/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { eventually } from '../controllers/helpers.js';

export { eventually };
export const GiB = 1024 ** 3;

/** A clock the test moves forward (real time plus an offset, so timers and I/O still run). */
export class OffsetClock {
  offsetMs = 0;
  now = (): number => Date.now() + this.offsetMs;
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export interface ChonkerServer extends TestServer {
  clock: OffsetClock;
  chonker: Chonker;
}

/**
 * Our server against `host`, with the pvcchonker controller unless `controller: false`; `flags`
 * add to (and override) a short watch interval and no leader election.
 */
export async function startChonkerServer(host: HostCluster, flags: Record<string, string> = {}, opts: { controller?: boolean; storage?: string; beforeStart?: (chonker: Chonker) => void; kubeletTimeoutMs?: number } = {}): Promise<ChonkerServer> {
  const all = { kubeconfig: host.kubeconfigPath, controllers: '*', 'leader-elect': 'false', 'pvc-watch-interval': '1s', ...(opts.storage ? { storage: opts.storage } : {}), ...flags };
  const config = completeOptions(all).pvcChonker;
  const clock = new OffsetClock();
  const hostClient = new HostClient(host.kubeConfig());
  const throttle = new Throttle(1000, 2000);
  const recorder = new HostEventRecorder({ core: hostClient.core, component: 'operators-apiserver/pvcchonker', instance: 'test', clock: { now: clock.now, setTimer: () => ({ cancel() {} }), sleep: async () => {} } });
  const chonker = new Chonker(
    new HostPVCs(hostClient, config, throttle, clock.now, recorder),
    new KubeletMetricsSource({ host: hostClient, timeoutMs: opts.kubeletTimeoutMs ?? 5000, parallel: 4, throttle, now: clock.now }),
    config,
  );
  opts.beforeStart?.(chonker);
  const server = await startTestServer(all, {
    extensions: { controllers: opts.controller === false ? [] : [pvcChonkerController({ chonker })], upstreams: [[PVC_CHONKER, chonker]] },
  });
  return Object.assign(server, { clock, chonker });
}

export function clients(host: HostCluster) {
  const kc = host.kubeConfig();
  return { core: kc.makeApiClient(CoreV1Api), storage: kc.makeApiClient(StorageV1Api) };
}

export async function ensureStorageClasses(host: HostCluster): Promise<void> {
  const { storage } = clients(host);
  for (const [name, allow] of [['expandable', true], ['fixed', false]] as const) {
    await storage.createStorageClass({ body: { metadata: { name }, provisioner: 'ebs.csi.aws.com', allowVolumeExpansion: allow, parameters: { fsType: 'ext4' } } }).catch(() => undefined);
  }
}

export interface ClaimSpec {
  size?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  storageClassName?: string;
}

export async function createClaim(host: HostCluster, namespace: string, name: string, spec: ClaimSpec = {}): Promise<void> {
  await clients(host).core.createNamespacedPersistentVolumeClaim({
    namespace,
    body: {
      metadata: { name, labels: spec.labels, annotations: spec.annotations },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: spec.storageClassName ?? 'expandable', resources: { requests: { storage: spec.size ?? '10Gi' } } },
    },
  });
}

export async function readClaim(host: HostCluster, namespace: string, name: string): Promise<V1PersistentVolumeClaim> {
  return clients(host).core.readNamespacedPersistentVolumeClaim({ namespace, name });
}

/** The claim's requested size as written (`11Gi`). */
export async function requestOf(host: HostCluster, namespace: string, name: string): Promise<string> {
  return String((await readClaim(host, namespace, name)).spec?.resources?.requests?.storage);
}

/** Sets the kubelet's figures for a claim: `percent` of `capacityGi` used, and optionally inodes. */
export function setUsage(host: HostCluster, namespace: string, name: string, percent: number, capacityGi: number, inodes?: { total: number; used: number }, node = 'node-1'): void {
  const capacityBytes = capacityGi * GiB;
  const usedBytes = Math.round((capacityBytes * percent) / 100);
  const total = inodes?.total ?? 1_000_000;
  const used = inodes?.used ?? 1000;
  host.kubelet.setVolumeStats(node, namespace, name, { capacityBytes, usedBytes, availableBytes: capacityBytes - usedBytes, inodes: total, inodesUsed: used, inodesFree: total - used });
}

export async function eventsOf(host: HostCluster, namespace: string, name: string, reason?: string): Promise<CoreV1Event[]> {
  const items = (await clients(host).core.listNamespacedEvent({ namespace })).items;
  return items.filter((e) => e.involvedObject.name === name && (reason === undefined || e.reason === reason));
}

async function cycleCount(): Promise<number> {
  const metric = metricsRegistry.getSingleMetric('pvcchonker_loop_duration_seconds');
  if (!metric) return 0;
  const values = (await metric.get()).values as Array<{ metricName?: string; value: number }>;
  return values.find((v) => v.metricName === 'pvcchonker_loop_duration_seconds_count')?.value ?? 0;
}

/** Waits until `n` more controller cycles have finished (a cycle started before the call may count as one). */
export async function cycles(n: number): Promise<void> {
  const start = await cycleCount();
  await eventually(async () => (await cycleCount()) >= start + n + 1, `${n} controller cycles`);
}

export async function withNamespace(host: HostCluster, name: string): Promise<() => Promise<void>> {
  const { core } = clients(host);
  await core.createNamespace({ body: { metadata: { name } } });
  return async () => {
    await core.deleteNamespace({ name }).catch(() => undefined);
    await eventually(async () => (await core.listNamespacedPersistentVolumeClaim({ namespace: name })).items.length === 0, `namespace ${name} emptied`);
  };
}
