// Per-controller metrics on the server's prom-client Registry, each with a `controller` label:
// workqueue_depth, workqueue_adds_total, workqueue_retries_total, reconcile_total{result},
// reconcile_duration_seconds. The metrics are looked up before they are created, so several
// managers in one process (tests) share them instead of failing on a second registration.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { QueueMetricsSink } from './workqueue.js';

/** How one reconcile ended. */
export type ReconcileResult = 'success' | 'error' | 'requeue_after';

export class ControllerMetrics {
  private readonly depth: Gauge<'controller'>;
  private readonly adds: Counter<'controller'>;
  private readonly retries: Counter<'controller'>;
  private readonly reconciles: Counter<'controller' | 'result'>;
  private readonly duration: Histogram<'controller'>;

  constructor(registry: Registry) {
    const existing = <T>(name: string) => registry.getSingleMetric(name) as T | undefined;
    this.depth =
      existing<Gauge<'controller'>>('workqueue_depth') ??
      new Gauge({ name: 'workqueue_depth', help: 'Keys waiting in the work queue of a controller.', labelNames: ['controller'], registers: [registry] });
    this.adds =
      existing<Counter<'controller'>>('workqueue_adds_total') ??
      new Counter({ name: 'workqueue_adds_total', help: 'Keys added to the work queue of a controller.', labelNames: ['controller'], registers: [registry] });
    this.retries =
      existing<Counter<'controller'>>('workqueue_retries_total') ??
      new Counter({ name: 'workqueue_retries_total', help: 'Rate-limited re-adds (retries after an error).', labelNames: ['controller'], registers: [registry] });
    this.reconciles =
      existing<Counter<'controller' | 'result'>>('reconcile_total') ??
      new Counter({
        name: 'reconcile_total',
        help: 'Reconciles of a controller by result (success, error, requeue_after).',
        labelNames: ['controller', 'result'],
        registers: [registry],
      });
    this.duration =
      existing<Histogram<'controller'>>('reconcile_duration_seconds') ??
      new Histogram({
        name: 'reconcile_duration_seconds',
        help: 'How long one reconcile took.',
        labelNames: ['controller'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
        registers: [registry],
      });
  }

  /** The work-queue side, for one controller. */
  queueSink(controller: string): QueueMetricsSink {
    return {
      added: () => this.adds.inc({ controller }),
      retried: () => this.retries.inc({ controller }),
      depth: (n) => this.depth.set({ controller }, n),
    };
  }

  reconciled(controller: string, result: ReconcileResult, seconds: number): void {
    this.reconciles.inc({ controller, result });
    this.duration.observe({ controller }, seconds);
  }
}
