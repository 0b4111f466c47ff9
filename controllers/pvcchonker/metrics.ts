// pvc-chonker's metrics (`pvcchonker_` prefix, subsystems as the seed project names them) on the
// server's registry. Looked up before created: several servers share the registry in tests.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { metricsRegistry } from '../../apiserver/metrics.js';

type Labels = 'namespace' | 'persistentvolumeclaim';

function getOrCreate<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export class ChonkerMetrics {
  readonly resizeSuccess: Counter<Labels>;
  readonly resizeFailure: Counter<Labels>;
  readonly cooldownSkipped: Counter<Labels>;
  readonly maxSizeReached: Counter<Labels>;
  readonly budgetExhausted: Counter<Labels>;
  readonly stuck: Gauge<Labels>;
  readonly managed: Gauge;
  readonly usagePercent: Gauge<Labels>;
  readonly inodesUsagePercent: Gauge<Labels>;
  readonly nodeFailures: Counter<'node'>;
  readonly loopDuration: Histogram;
  readonly circuitOpen: Gauge;

  constructor(registry: Registry = metricsRegistry) {
    const labelNames: Labels[] = ['namespace', 'persistentvolumeclaim'];
    const counter = (name: string, help: string) => getOrCreate(registry, name, () => new Counter({ name, help, labelNames, registers: [registry] }));
    const gauge = (name: string, help: string) => getOrCreate(registry, name, () => new Gauge({ name, help, labelNames, registers: [registry] }));
    this.resizeSuccess = counter('pvcchonker_resizer_success_resize_total', 'PVC expansions patched successfully.');
    this.resizeFailure = counter('pvcchonker_resizer_failed_resize_total', 'PVC expansions whose patch failed.');
    this.cooldownSkipped = counter('pvcchonker_resizer_cooldown_skipped_total', 'PVCs over a threshold not expanded because of their cooldown.');
    this.maxSizeReached = counter('pvcchonker_resizer_max_size_reached_total', 'PVCs over a threshold not expanded because they are at max-size.');
    this.budgetExhausted = counter('pvcchonker_resizer_daily_budget_exhausted_total', 'PVCs not expanded because of the per-volume daily budget.');
    this.stuck = gauge('pvcchonker_resizer_stuck_expansions', '1 while an expansion of the PVC has been pending longer than --pvc-stuck-after.');
    this.usagePercent = gauge('pvcchonker_resizer_pvc_usage_percent', 'Used space of a managed PVC, percent (absent when unknown).');
    this.inodesUsagePercent = gauge('pvcchonker_resizer_pvc_inodes_usage_percent', 'Used inodes of a managed PVC, percent (absent when unknown).');
    this.managed = getOrCreate(registry, 'pvcchonker_resizer_managed_pvcs_total', () => new Gauge({ name: 'pvcchonker_resizer_managed_pvcs_total', help: 'PVCs the controller manages.', registers: [registry] }));
    this.nodeFailures = getOrCreate(
      registry,
      'pvcchonker_kubelet_client_failed_nodes_total',
      () => new Counter({ name: 'pvcchonker_kubelet_client_failed_nodes_total', help: 'Node metrics scrapes that failed (the node was skipped for the cycle).', labelNames: ['node'], registers: [registry] }),
    );
    this.loopDuration = getOrCreate(
      registry,
      'pvcchonker_loop_duration_seconds',
      () =>
        new Histogram({ name: 'pvcchonker_loop_duration_seconds', help: 'Duration of one controller cycle over every PVC.', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120], registers: [registry] }),
    );
    this.circuitOpen = getOrCreate(
      registry,
      'pvcchonker_kubernetes_client_circuit_open',
      () => new Gauge({ name: 'pvcchonker_kubernetes_client_circuit_open', help: '1 while the circuit breaker stops patching after repeated failures.', registers: [registry] }),
    );
  }
}
