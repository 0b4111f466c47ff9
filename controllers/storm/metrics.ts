// The StormWorkerPool gauges on the server's prom-client registry (served on /metrics):
//   storm_worker_pool_replicas{pool,namespace,topology,state}  state = desired|current|ready|available|updated
//   storm_worker_pool_info{pool,namespace,topology,phase}      1 for the pool's current phase
// Looked up before they are created: several servers may share the registry in one process (tests).
import { Gauge, type Registry } from 'prom-client';
import { metricsRegistry } from '../../apiserver/metrics.js';

type PoolLabels = 'pool' | 'namespace' | 'topology';

export const POOL_REPLICA_STATES = ['desired', 'current', 'ready', 'available', 'updated'] as const;
export type PoolReplicaState = (typeof POOL_REPLICA_STATES)[number];

export interface PoolObservation {
  pool: string;
  namespace: string;
  topology: string;
  phase: string;
  replicas: Record<PoolReplicaState, number>;
}

export class WorkerPoolMetrics {
  private readonly replicas: Gauge<PoolLabels | 'state'>;
  private readonly info: Gauge<PoolLabels | 'phase'>;
  /** The label set last exported per pool (`namespace/name`), to remove it when it changes. */
  private readonly exported = new Map<string, { topology: string; phase: string }>();

  constructor(registry: Registry = metricsRegistry) {
    const existing = <T>(name: string) => registry.getSingleMetric(name) as T | undefined;
    this.replicas =
      existing<Gauge<PoolLabels | 'state'>>('storm_worker_pool_replicas') ??
      new Gauge({
        name: 'storm_worker_pool_replicas',
        help: 'Worker pods of a StormWorkerPool by state (desired, current, ready, available, updated).',
        labelNames: ['pool', 'namespace', 'topology', 'state'],
        registers: [registry],
      });
    this.info =
      existing<Gauge<PoolLabels | 'phase'>>('storm_worker_pool_info') ??
      new Gauge({
        name: 'storm_worker_pool_info',
        help: 'A StormWorkerPool and its phase (value 1).',
        labelNames: ['pool', 'namespace', 'topology', 'phase'],
        registers: [registry],
      });
  }

  observe(o: PoolObservation): void {
    const key = `${o.namespace}/${o.pool}`;
    const previous = this.exported.get(key);
    if (previous && (previous.topology !== o.topology || previous.phase !== o.phase)) this.removeSeries(o.pool, o.namespace, previous);
    for (const state of POOL_REPLICA_STATES) this.replicas.set({ pool: o.pool, namespace: o.namespace, topology: o.topology, state }, o.replicas[state]);
    this.info.set({ pool: o.pool, namespace: o.namespace, topology: o.topology, phase: o.phase }, 1);
    this.exported.set(key, { topology: o.topology, phase: o.phase });
  }

  /** Drops every series of a deleted pool. */
  forget(namespace: string, pool: string): void {
    const key = `${namespace}/${pool}`;
    const previous = this.exported.get(key);
    if (!previous) return;
    this.removeSeries(pool, namespace, previous);
    this.exported.delete(key);
  }

  private removeSeries(pool: string, namespace: string, labels: { topology: string; phase: string }): void {
    for (const state of POOL_REPLICA_STATES) this.replicas.remove({ pool, namespace, topology: labels.topology, state });
    this.info.remove({ pool, namespace, topology: labels.topology, phase: labels.phase });
  }
}
