// StormCluster printer columns: storm-controller's (Phase, Nimbus, Supervisors, Slots, Age), with
// Leader, Endpoint and Mode under `-o wide`.
import { ageColumn, nameColumn, pathColumn } from '../../columns.js';
import { fieldAt, type TableColumn } from '../../kind.js';

export const columns: TableColumn[] = [
  nameColumn,
  pathColumn('Phase', 'string', 'status.phase', 'Lifecycle phase of the cluster.'),
  pathColumn('Nimbus', 'integer', 'status.nimbusReady', 'Ready Nimbus replicas.'),
  pathColumn('Supervisors', 'integer', 'status.supervisorReady', 'Ready Supervisors.'),
  {
    name: 'Slots',
    type: 'string',
    description: 'Worker slots in use / total.',
    priority: 0,
    cell(obj) {
      const info = fieldAt(obj, 'status.slotsInfo');
      if (typeof info === 'string' && info !== '') return info;
      const used = fieldAt(obj, 'status.usedSlots');
      const total = fieldAt(obj, 'status.totalSlots');
      return typeof total === 'number' ? `${typeof used === 'number' ? used : 0}/${total}` : undefined;
    },
  },
  ageColumn,
  pathColumn('Leader', 'string', 'status.nimbusLeader', 'Host of the leading Nimbus.', 1),
  pathColumn('Endpoint', 'string', 'status.endpoints.nimbus', 'Nimbus Thrift endpoint.', 1),
  pathColumn('Mode', 'string', 'spec.managementMode', 'create: run by this server; reference: an existing cluster.', 1),
];
