// StormTopology printer columns: storm-controller's (Cluster, Phase, Workers, Uptime, Age), with
// Topology ID, Version and Revision under `-o wide`.
import { ageColumn, nameColumn, pathColumn } from '../../columns.js';
import type { TableColumn } from '../../kind.js';

export const columns: TableColumn[] = [
  nameColumn,
  pathColumn('Cluster', 'string', 'spec.clusterRef', 'The StormCluster the topology runs on.'),
  pathColumn('Phase', 'string', 'status.phase', 'Lifecycle phase of the topology.'),
  pathColumn('Workers', 'integer', 'status.workers', 'Workers allocated.'),
  pathColumn('Uptime', 'string', 'status.uptime', 'Time since the topology was submitted.'),
  ageColumn,
  pathColumn('Topology ID', 'string', 'status.topologyId', 'Storm-assigned topology id.', 1),
  pathColumn('Version', 'string', 'status.deployedVersion', 'Version running.', 1),
  pathColumn('Revision', 'integer', 'status.currentRevision', 'Revision number of the active version.', 1),
];
