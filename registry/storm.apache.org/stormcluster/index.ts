import { selectableFields } from '../../columns.js';
import type { KindDeclaration } from '../../kind.js';
import { GROUP } from '../common.js';
import { rules } from './strategy.js';
import { columns } from './table.js';
import { spec, status } from './types.js';

export const declaration: KindDeclaration = {
  group: GROUP,
  versions: ['v1beta1'],
  kind: 'StormCluster',
  listKind: 'StormClusterList',
  plural: 'stormclusters',
  singular: 'stormcluster',
  shortNames: ['sc'],
  categories: ['all', 'storm'],
  namespaced: true,
  description:
    'StormCluster is an Apache Storm cluster (Nimbus, Supervisors, UI) that the server creates in the host cluster, or an existing one it references.',
  spec,
  status,
  rules,
  columns,
  selectableFields: selectableFields('status.phase', 'spec.managementMode'),
};
