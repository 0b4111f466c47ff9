import { selectableFields } from '../../columns.js';
import type { KindDeclaration } from '../../kind.js';
import { GROUP } from '../common.js';
import { connection } from './connection.js';
import { promote } from './promote.js';
import { rollback } from './rollback.js';
import { rules } from './strategy.js';
import { columns } from './table.js';
import { spec, status } from './types.js';

export const declaration: KindDeclaration = {
  group: GROUP,
  versions: ['v1alpha1'],
  kind: 'Performer',
  listKind: 'PerformerList',
  plural: 'performers',
  singular: 'performer',
  shortNames: [],
  categories: ['all', 'hourglass'],
  namespaced: true,
  description:
    'Performer is an EigenLayer AVS performer that the Hourglass executor sends tasks to over gRPC, run as a Pod and a Service named performer-<name>.',
  spec,
  status,
  rules,
  columns,
  selectableFields: selectableFields('spec.avsAddress', 'status.phase'),
  subresources: [connection, promote, rollback],
};
