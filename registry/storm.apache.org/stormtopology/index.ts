import { selectableFields } from '../../columns.js';
import type { KindDeclaration } from '../../kind.js';
import { GROUP } from '../common.js';
import { metrics } from './metrics.js';
import { promote } from './promote.js';
import { rebalance } from './rebalance.js';
import { rollback } from './rollback.js';
import { rules } from './strategy.js';
import { columns } from './table.js';
import { spec, status } from './types.js';
import { v1alpha1 } from './v1alpha1.js';

export const declaration: KindDeclaration = {
  group: GROUP,
  // v1beta1 is preferred and stored; v1alpha1 (seed 001's shape) converts to and from it.
  versions: ['v1beta1', 'v1alpha1'],
  versionSchemas: { v1alpha1 },
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
  subresources: [metrics, promote, rollback, rebalance],
};
