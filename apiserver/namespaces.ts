import type { FastifyInstance } from 'fastify';
import { dnsLabelErrors } from '../registry/meta.js';
import { notFound } from './errors.js';
import { send, sendStatus } from './response.js';

/**
 * Standalone mode has no host cluster to own namespaces, so every valid namespace name exists
 * and is Active. kubectl looks the namespace up after a namespaced NotFound to word its error;
 * behind kube-aggregator these paths go to kube-apiserver and never reach this server. A server
 * that stores real `v1` namespaces (the test host cluster) turns this off with the
 * `standaloneNamespaces: false` extension of `startServer`.
 */
export function installStandaloneNamespaces(app: FastifyInstance): void {
  app.get('/api/v1/namespaces/:name', async (req, reply) => {
    const { name } = req.params as { name: string };
    if (dnsLabelErrors(name).length > 0) return sendStatus(reply, notFound({ group: '', resource: 'namespaces', name }).status);
    return send(reply, 200, {
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  });
}
