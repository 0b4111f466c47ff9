// Performer printer columns: the operator's (AVS, Image, Version, Phase, Endpoint, Age), with
// Ready, Node and GPU under `-o wide`.
import { ageColumn, nameColumn, pathColumn } from '../../columns.js';
import { fieldAt, type TableColumn } from '../../kind.js';

export const columns: TableColumn[] = [
  nameColumn,
  pathColumn('AVS', 'string', 'spec.avsAddress', 'Address of the AVS.'),
  pathColumn('Image', 'string', 'spec.image', 'Performer image.'),
  pathColumn('Version', 'string', 'spec.version', 'Performer version.'),
  pathColumn('Phase', 'string', 'status.phase', 'Lifecycle phase of the performer.'),
  pathColumn('Endpoint', 'string', 'status.grpcEndpoint', 'gRPC endpoint of the performer.'),
  ageColumn,
  pathColumn('Ready', 'boolean', 'status.ready', 'Whether the performer answers health checks.', 1),
  pathColumn('Node', 'string', 'status.nodeName', 'Node of the performer Pod.', 1),
  {
    name: 'GPU',
    type: 'string',
    description: 'GPUs requested: count and type.',
    priority: 1,
    cell(obj) {
      const count = fieldAt(obj, 'spec.hardwareRequirements.gpuCount');
      if (typeof count !== 'number' || count <= 0) return undefined;
      const type = fieldAt(obj, 'spec.hardwareRequirements.gpuType');
      return typeof type === 'string' && type !== '' ? `${count}x ${type}` : String(count);
    },
  },
];
