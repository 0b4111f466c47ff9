import { selectableFields } from '../../columns.js';
import type { KindDeclaration } from '../../kind.js';
import { GROUP } from '../common.js';
import { POOL_LABEL, rules } from './strategy.js';
import { columns } from './table.js';
import { spec, status } from './types.js';
import { v1alpha1 } from './v1alpha1.js';

export const declaration: KindDeclaration = {
  group: GROUP,
  // v1beta1 is preferred and stored; v1alpha1 (seed 001's shape) converts to and from it.
  versions: ['v1beta1', 'v1alpha1'],
  versionSchemas: { v1alpha1 },
  kind: 'StormWorkerPool',
  listKind: 'StormWorkerPoolList',
  plural: 'stormworkerpools',
  singular: 'stormworkerpool',
  shortNames: ['swp'],
  categories: ['all', 'storm'],
  namespaced: true,
  description:
    'StormWorkerPool is a set of dedicated Storm worker pods for one StormTopology, with its own image, pod template, ports and autoscaling.',
  spec,
  status,
  rules,
  columns,
  selectableFields: selectableFields('spec.topologyRef', 'spec.clusterRef', 'status.phase'),
  // The controller labels every worker pod of the pool `storm.apache.org/worker-pool=<pool name>`
  // (the name is unique in the namespace, and at most 63 characters by the rules); the HPA and
  // `kubectl scale` find the pods by it.
  scale: {
    specReplicasPath: 'spec.replicas',
    statusReplicasPath: 'status.replicas',
    labelSelector: (obj) => `${POOL_LABEL}=${obj.metadata.name ?? ''}`,
  },
};
