import type { KindDeclaration } from '../../kind.js';
import { GROUP } from '../common.js';
import { rules } from './strategy.js';
import { columns } from './table.js';
import { spec, status } from './types.js';

export const declaration: KindDeclaration = {
  group: GROUP,
  versions: ['v1alpha1'],
  kind: 'PVCPolicy',
  listKind: 'PVCPolicyList',
  plural: 'pvcpolicies',
  singular: 'pvcpolicy',
  shortNames: [],
  categories: ['all', 'pvc-chonker'],
  namespaced: true,
  description:
    'PVCPolicy sets automatic expansion (threshold, increase, maximum size, cooldown) for the PersistentVolumeClaims of its namespace that match a label selector.',
  spec,
  status,
  rules,
  columns,
  selectableFields: {},
};
