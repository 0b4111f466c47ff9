// `GET /metrics`: the Prometheus text exposition of one prom-client Registry. Parts of the server
// register their metrics on `metricsRegistry` (the API server's own in `filters/metrics.ts`, the
// controllers' in `controllers/metrics.ts`);
// metric constructors should go through `getOrCreate*` style lookups, because several servers can
// run in one process (tests) and share this registry.
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';

/** The process's metrics registry, served on /metrics. */
export const metricsRegistry = new Registry();

let processMetricsRegistered = false;

export function installMetrics(app: FastifyInstance, registry: Registry = metricsRegistry): void {
  if (registry === metricsRegistry && !processMetricsRegistered) {
    processMetricsRegistered = true;
    collectDefaultMetrics({ register: registry });
  }
  app.get('/metrics', async (_req, reply) => {
    const text = await registry.metrics();
    return reply.header('content-type', registry.contentType).send(text);
  });
}
