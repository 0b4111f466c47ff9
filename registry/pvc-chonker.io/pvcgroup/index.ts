import type { KindDeclaration } from '../../kind.js';
import { GROUP } from '../common.js';
import { expansions } from './expansions.js';
import { rebalance } from './rebalance.js';
import { rules } from './strategy.js';
import { columns } from './table.js';
import { spec, status } from './types.js';

export const declaration: KindDeclaration = {
  group: GROUP,
  versions: ['v1alpha1'],
  kind: 'PVCGroup',
  listKind: 'PVCGroupList',
  plural: 'pvcgroups',
  singular: 'pvcgroup',
  shortNames: [],
  categories: ['all', 'pvc-chonker'],
  namespaced: true,
  description:
    'PVCGroup is a set of PersistentVolumeClaims, joined by the annotation pvc-chonker.io/group, that are expanded together and kept at the same size.',
  spec,
  status,
  rules,
  columns,
  selectableFields: {},
  subresources: [expansions, rebalance],
};
