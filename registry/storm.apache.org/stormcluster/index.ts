import { selectableFields } from '../../columns.js';
import type { KindDeclaration } from '../../kind.js';
import { GROUP } from '../common.js';
import { rules } from './strategy.js';
import { columns } from './table.js';
import { spec, status } from './types.js';
import { v1alpha1 } from './v1alpha1.js';

export const declaration: KindDeclaration = {
  group: GROUP,
  // v1beta1 is preferred and stored; v1alpha1 (seed 001's shape) converts to and from it.
  versions: ['v1beta1', 'v1alpha1'],
  versionSchemas: { v1alpha1 },
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
