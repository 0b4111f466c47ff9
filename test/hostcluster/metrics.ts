// The kubelet's `/metrics` as the stand-in host cluster serves it through the node proxy
// (`GET /api/v1/nodes/{node}/proxy/metrics`): Prometheus text format 0.0.4, families sorted by
// name with `# HELP` / `# TYPE` lines, values printed as Go's client_golang prints them
// (`1.073741824e+09`), so a consumer's parser meets what a real kubelet sends.

export interface VolumeStats {
  capacityBytes: number;
  availableBytes: number;
  usedBytes: number;
  inodes: number;
  inodesUsed: number;
  inodesFree: number;
}

export interface VolumeStatsEntry {
  namespace: string;
  persistentvolumeclaim: string;
  stats: VolumeStats;
}

export const PROMETHEUS_TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The kubelet's volume stats gauges: metric name, HELP text (kubelet's own) and the field. */
const VOLUME_FAMILIES: Array<{ name: string; help: string; field: keyof VolumeStats }> = [
  { name: 'kubelet_volume_stats_available_bytes', help: '[ALPHA] Number of available bytes in the volume', field: 'availableBytes' },
  { name: 'kubelet_volume_stats_capacity_bytes', help: '[ALPHA] Capacity in bytes of the volume', field: 'capacityBytes' },
  { name: 'kubelet_volume_stats_inodes', help: '[ALPHA] Maximum number of inodes in the volume', field: 'inodes' },
  { name: 'kubelet_volume_stats_inodes_free', help: '[ALPHA] Number of free inodes in the volume', field: 'inodesFree' },
  { name: 'kubelet_volume_stats_inodes_used', help: '[ALPHA] Number of used inodes in the volume', field: 'inodesUsed' },
  { name: 'kubelet_volume_stats_used_bytes', help: '[ALPHA] Number of used bytes in the volume', field: 'usedBytes' },
];

/** A sample value as Go's `strconv.FormatFloat(v, 'g', -1, 64)` writes it (client_golang's text format). */
export function formatGoFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const [mantissa, exponentText] = v.toExponential().split('e');
  const exponent = Number(exponentText);
  // Go's shortest %g: exponent form when the decimal exponent is < -4 or >= 6, with at least two
  // exponent digits (strconv/ftoa.go, `eprec = 6` for the shortest precision).
  if (exponent < -4 || exponent >= 6) {
    return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return String(v);
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** The kubelet's metrics text for one node: its name gauge and the stats of its volumes. */
export function kubeletMetricsText(node: string, volumes: VolumeStatsEntry[]): string {
  const lines: string[] = [
    '# HELP kubelet_node_name [ALPHA] The node\'s name. The count is always 1.',
    '# TYPE kubelet_node_name gauge',
    `kubelet_node_name{node="${escapeLabel(node)}"} 1`,
  ];
  const sorted = [...volumes].sort((a, b) =>
    a.namespace === b.namespace ? (a.persistentvolumeclaim < b.persistentvolumeclaim ? -1 : 1) : a.namespace < b.namespace ? -1 : 1,
  );
  for (const family of VOLUME_FAMILIES) {
    if (sorted.length === 0) break;
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} gauge`);
    for (const v of sorted) {
      const labels = `namespace="${escapeLabel(v.namespace)}",persistentvolumeclaim="${escapeLabel(v.persistentvolumeclaim)}"`;
      lines.push(`${family.name}{${labels}} ${formatGoFloat(v.stats[family.field])}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
