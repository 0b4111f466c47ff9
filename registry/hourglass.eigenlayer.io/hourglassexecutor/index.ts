import { selectableFields } from '../../columns.js';
import type { KindDeclaration } from '../../kind.js';
import { GROUP } from '../common.js';
import { EXECUTOR_LABEL, rules } from './strategy.js';
import { columns } from './table.js';
import { spec, status } from './types.js';

export const declaration: KindDeclaration = {
  group: GROUP,
  versions: ['v1alpha1'],
  kind: 'HourglassExecutor',
  listKind: 'HourglassExecutorList',
  plural: 'hourglassexecutors',
  singular: 'hourglassexecutor',
  shortNames: [],
  categories: ['all', 'hourglass'],
  namespaced: true,
  description:
    'HourglassExecutor runs the Hourglass executor for an EigenLayer operator: the chains it watches, its aggregator, its operator keys (as Secret references) and how it runs performers.',
  spec,
  status,
  rules,
  columns,
  selectableFields: selectableFields('status.phase'),
  // The controller labels the executor's pods `hourglass.eigenlayer.io/executor=<executor name>`
  // (unique in the namespace, at most 63 characters by the rules).
  scale: {
    specReplicasPath: 'spec.replicas',
    statusReplicasPath: 'status.replicas',
    labelSelector: (obj) => `${EXECUTOR_LABEL}=${obj.metadata.name ?? ''}`,
  },
};
