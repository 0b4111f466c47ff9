// The host cluster as pvc-chonker sees it (the `PVCHost` and `VolumeStatsSource` upstreams):
// PVCs and StorageClasses through client-node, merge patches of a claim's size and annotations,
// events about claims; every call goes through one token bucket (`--pvc-host-qps`).
import { PatchStrategy, setHeaderOptions, StorageV1Api, type V1PersistentVolumeClaim } from '@kubernetes/client-node';
import type { KubeObject } from '../../registry/meta.js';
import {
  type ChonkerConfig,
  type Claim,
  type ClaimSizePatch,
  type PVCHost,
  type StorageClassInfo,
} from '../../registry/pvc-chonker.io/upstreams.js';
import { HostEventRecorder, type EventRecorder } from '../events.js';
import type { HostClient } from '../host-client.js';
import { Throttle } from './throttle.js';

const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
export const COMPONENT = 'operators-apiserver/pvcchonker';

export function claimObject(claim: Claim): KubeObject {
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { ...claim.metadata } } as KubeObject;
}

export class HostPVCs implements PVCHost {
  private readonly storage: StorageV1Api;
  private readonly recorder: EventRecorder;

  constructor(
    private readonly host: HostClient,
    readonly config: ChonkerConfig,
    private readonly throttle: Throttle,
    private readonly clock: () => number = Date.now,
    recorder?: EventRecorder,
  ) {
    this.storage = host.kubeConfig.makeApiClient(StorageV1Api);
    this.recorder = recorder ?? new HostEventRecorder({ core: host.core, component: COMPONENT, instance: COMPONENT });
  }

  now(): number {
    return this.clock();
  }

  async listClaims(namespace?: string): Promise<Claim[]> {
    await this.throttle.take();
    const list = namespace ? await this.host.core.listNamespacedPersistentVolumeClaim({ namespace }) : await this.host.core.listPersistentVolumeClaimForAllNamespaces();
    return list.items.map(toClaim);
  }

  async patchClaim(namespace: string, name: string, patch: ClaimSizePatch): Promise<Claim> {
    await this.throttle.take();
    const body: Record<string, unknown> = {};
    if (patch.annotations) body.metadata = { annotations: patch.annotations };
    if (patch.size) body.spec = { resources: { requests: { storage: patch.size } } };
    const out = await this.host.core.patchNamespacedPersistentVolumeClaim({ namespace, name, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    return toClaim(out);
  }

  async storageClasses(): Promise<Map<string, StorageClassInfo>> {
    await this.throttle.take();
    const out = new Map<string, StorageClassInfo>();
    for (const sc of (await this.storage.listStorageClass()).items) {
      const annotations = sc.metadata?.annotations ?? {};
      out.set(sc.metadata!.name!, {
        name: sc.metadata!.name!,
        allowVolumeExpansion: sc.allowVolumeExpansion === true,
        annotations,
        parameters: sc.parameters ?? {},
        isDefault: annotations[DEFAULT_CLASS_ANNOTATION] === 'true',
      });
    }
    return out;
  }

  claimEvent(claim: Claim, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.recorder.event(claimObject(claim), type, reason, message);
  }

  flushEvents(): Promise<void> {
    return this.recorder.flush();
  }
}

function toClaim(pvc: V1PersistentVolumeClaim): Claim {
  // client-node deserializes into typed objects; the decisions want the JSON shape (quantities as strings).
  const json = JSON.parse(JSON.stringify(pvc)) as Claim;
  json.metadata.namespace ??= '';
  return json;
}

/** The StorageClass a claim uses: its own, else the cluster's default class. */
export function classOf(claim: Claim, classes: Map<string, StorageClassInfo>): StorageClassInfo | undefined {
  const name = claim.spec?.storageClassName;
  if (name !== undefined && name !== '') return classes.get(name);
  return [...classes.values()].find((c) => c.isDefault);
}
