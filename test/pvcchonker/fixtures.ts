// Claims, StorageClasses, policies and groups for the pure pvc-chonker tests.
import type { KubeObject } from '../../registry/meta.js';
import type { Claim, StorageClassInfo } from '../../registry/pvc-chonker.io/upstreams.js';

export const GiB = 1024 ** 3;

export function claim(name: string, opts: { ns?: string; size?: string; capacity?: string; labels?: Record<string, string>; annotations?: Record<string, string>; phase?: string; conditions?: Array<{ type: string; status: string }>; storageClassName?: string } = {}): Claim {
  return {
    metadata: { name, namespace: opts.ns ?? 'ns', labels: opts.labels, annotations: opts.annotations },
    spec: { storageClassName: opts.storageClassName ?? 'expandable', resources: { requests: { storage: opts.size ?? '10Gi' } } },
    status: { phase: opts.phase ?? 'Bound', capacity: { storage: opts.capacity ?? opts.size ?? '10Gi' }, conditions: opts.conditions },
  };
}

export function storageClass(name = 'expandable', opts: Partial<StorageClassInfo> = {}): StorageClassInfo {
  return { name, allowVolumeExpansion: true, annotations: {}, parameters: {}, isDefault: false, ...opts };
}

export function policy(name: string, selector: unknown, template: Record<string, unknown>, ns = 'ns'): KubeObject {
  return { apiVersion: 'pvc-chonker.io/v1alpha1', kind: 'PVCPolicy', metadata: { name, namespace: ns }, spec: { selector, template } } as KubeObject;
}

export function group(name: string, template: Record<string, unknown>, selector?: unknown, ns = 'ns'): KubeObject {
  return { apiVersion: 'pvc-chonker.io/v1alpha1', kind: 'PVCGroup', metadata: { name, namespace: ns }, spec: { template, coordinationPolicy: 'largest', ...(selector ? { selector } : {}) } } as KubeObject;
}

/** Usage stats at `percent` used of `capacityGi`. */
export function usage(percent: number, capacityGi = 10, inodes?: { total: number; used: number }) {
  const capacityBytes = capacityGi * GiB;
  const usedBytes = Math.round((capacityBytes * percent) / 100);
  return { capacityBytes, usedBytes, availableBytes: capacityBytes - usedBytes, ...(inodes ? { inodes: inodes.total, inodesUsed: inodes.used, inodesFree: inodes.total - inodes.used } : {}) };
}
