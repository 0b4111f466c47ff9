// HourglassExecutor printer columns: the operator's (Image, Replicas, Ready, Phase, Age), with the
// performer mode and aggregator under `-o wide`.
import { ageColumn, nameColumn, pathColumn } from '../../columns.js';
import type { TableColumn } from '../../kind.js';

export const columns: TableColumn[] = [
  nameColumn,
  pathColumn('Image', 'string', 'spec.image', 'Executor image.'),
  pathColumn('Replicas', 'integer', 'spec.replicas', 'Desired executor replicas.'),
  pathColumn('Ready', 'integer', 'status.readyReplicas', 'Ready executor replicas.'),
  pathColumn('Phase', 'string', 'status.phase', 'Lifecycle phase of the executor.'),
  ageColumn,
  pathColumn('Mode', 'string', 'spec.config.performerMode', 'How performers run: docker or kubernetes.', 1),
  pathColumn('Aggregator', 'string', 'spec.config.aggregatorEndpoint', 'gRPC endpoint of the aggregator.', 1),
];
