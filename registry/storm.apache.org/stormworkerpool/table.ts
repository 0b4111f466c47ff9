// StormWorkerPool printer columns: storm-controller's (Topology, Phase, Replicas, Ready, Age),
// with Deployment and HPA under `-o wide`.
import { ageColumn, nameColumn, pathColumn } from '../../columns.js';
import type { TableColumn } from '../../kind.js';

export const columns: TableColumn[] = [
  nameColumn,
  pathColumn('Topology', 'string', 'spec.topologyRef', 'The StormTopology the pool serves.'),
  pathColumn('Phase', 'string', 'status.phase', 'Lifecycle phase of the pool.'),
  pathColumn('Replicas', 'integer', 'status.replicas', 'Worker pods.'),
  pathColumn('Ready', 'integer', 'status.readyReplicas', 'Ready worker pods.'),
  ageColumn,
  pathColumn('Deployment', 'string', 'status.deploymentName', 'The Deployment of the workers.', 1),
  pathColumn('HPA', 'string', 'status.hpaName', 'The HorizontalPodAutoscaler, if any.', 1),
];
