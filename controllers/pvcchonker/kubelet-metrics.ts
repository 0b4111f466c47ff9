// Volume usage from each node's kubelet, through the host cluster's node proxy
// (`GET /api/v1/nodes/{node}/proxy/metrics`, needs `nodes/proxy` get), or from Prometheus
// (`--prometheus-url`, the instant-query API). A node that does not answer in time is listed in
// `failedNodes` and its volumes are absent (unknown), never reported as empty.
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import type { VolumeStats, VolumeStatsSample, VolumeStatsSource } from '../../registry/pvc-chonker.io/upstreams.js';
import type { HostClient } from '../host-client.js';
import { parsePrometheusText } from './prom-text.js';
import type { Throttle } from './throttle.js';
import { mapLimit } from './throttle.js';

const FAMILIES: Record<string, keyof VolumeStats> = {
  kubelet_volume_stats_capacity_bytes: 'capacityBytes',
  kubelet_volume_stats_available_bytes: 'availableBytes',
  kubelet_volume_stats_used_bytes: 'usedBytes',
  kubelet_volume_stats_inodes: 'inodes',
  kubelet_volume_stats_inodes_used: 'inodesUsed',
  kubelet_volume_stats_inodes_free: 'inodesFree',
};

/** Adds the volume stats of a metrics text to `into` (by `namespace/claim`). */
export function volumeStatsFromText(text: string, into: Map<string, VolumeStats> = new Map()): Map<string, VolumeStats> {
  for (const s of parsePrometheusText(text)) {
    const field = FAMILIES[s.name];
    if (!field) continue;
    const { namespace, persistentvolumeclaim: claim } = s.labels;
    if (!namespace || !claim || !Number.isFinite(s.value)) continue;
    const key = `${namespace}/${claim}`;
    const stats = into.get(key) ?? {};
    stats[field] = s.value;
    into.set(key, stats);
  }
  return into;
}

/** GET `path` on the host cluster with the kubeconfig's credentials; rejects on a non-2xx, a timeout or `signal`. */
export async function hostGet(kc: KubeConfig, path: string, timeoutMs: number, signal?: AbortSignal): Promise<string> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the host kubeconfig has no current cluster');
  const url = new URL(path, cluster.server);
  const options: RequestOptions = { method: 'GET', headers: { accept: 'text/plain' } };
  await kc.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'http:' ? httpRequest : httpsRequest)(url, { ...options, signal, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) resolve(body);
        else reject(new Error(`GET ${path}: HTTP ${res.statusCode}: ${body.slice(0, 200)}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export interface KubeletSourceOptions {
  host: HostClient;
  /** Per-node request timeout. */
  timeoutMs: number;
  /** Nodes scraped at once. */
  parallel: number;
  throttle?: Throttle;
  now?: () => number;
  onNodeFailure?(node: string, err: unknown): void;
}

export class KubeletMetricsSource implements VolumeStatsSource {
  constructor(private readonly options: KubeletSourceOptions) {}

  async sample(nodes?: string[], signal?: AbortSignal): Promise<VolumeStatsSample> {
    const sampledAt = new Date(this.options.now?.() ?? Date.now());
    await this.options.throttle?.take();
    const names = nodes ?? (await this.options.host.core.listNode()).items.map((n) => n.metadata!.name!);
    const stats = new Map<string, VolumeStats>();
    const failedNodes: string[] = [];
    await mapLimit(names, this.options.parallel, async (node) => {
      try {
        await this.options.throttle?.take();
        const text = await hostGet(this.options.host.kubeConfig, `/api/v1/nodes/${encodeURIComponent(node)}/proxy/metrics`, this.options.timeoutMs, signal);
        volumeStatsFromText(text, stats);
      } catch (err) {
        failedNodes.push(node);
        this.options.onNodeFailure?.(node, err);
      }
    });
    return { stats, failedNodes: failedNodes.sort(), sampledAt };
  }
}

/** Usage from Prometheus's instant-query API: one query per `kubelet_volume_stats_*` family. */
export class PrometheusSource implements VolumeStatsSource {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async sample(_nodes?: string[], signal?: AbortSignal): Promise<VolumeStatsSample> {
    const sampledAt = new Date(this.now());
    const stats = new Map<string, VolumeStats>();
    for (const [metric, field] of Object.entries(FAMILIES)) {
      const url = new URL('/api/v1/query', this.baseUrl);
      url.searchParams.set('query', metric);
      const timeout = AbortSignal.timeout(this.timeoutMs);
      const res = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
      if (!res.ok) throw new Error(`Prometheus ${url.pathname}?query=${metric}: HTTP ${res.status}`);
      const body = (await res.json()) as { status?: string; data?: { result?: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      if (body.status !== 'success') throw new Error(`Prometheus query ${metric}: status ${body.status}`);
      for (const r of body.data?.result ?? []) {
        const { namespace, persistentvolumeclaim: claim } = r.metric;
        const value = Number(r.value?.[1]);
        if (!namespace || !claim || !Number.isFinite(value)) continue;
        const key = `${namespace}/${claim}`;
        const s = stats.get(key) ?? {};
        s[field] = value;
        stats.set(key, s);
      }
    }
    return { stats, failedNodes: [], sampledAt };
  }
}
