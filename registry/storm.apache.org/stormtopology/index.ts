import { selectableFields } from '../../columns.js';
import type { KindDeclaration } from '../../kind.js';
import { GROUP } from '../common.js';
import { rules } from './strategy.js';
import { columns } from './table.js';
import { spec, status } from './types.js';

export const declaration: KindDeclaration = {
  group: GROUP,
  versions: ['v1beta1'],
  kind: 'StormTopology',
  listKind: 'StormTopologyList',
  plural: 'stormtopologies',
  singular: 'stormtopology',
  shortNames: ['st'],
  categories: ['all', 'storm'],
  namespaced: true,
  description:
    'StormTopology is an Apache Storm topology submitted to a StormCluster: its jar, its workers, and how a new version replaces the running one (recreate or blue-green).',
  spec,
  status,
  rules,
  columns,
  selectableFields: selectableFields('spec.clusterRef', 'spec.topology.name', 'status.phase'),
};
