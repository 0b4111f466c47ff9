// PVCGroup printer columns (pvc-chonker has none): members, size and the last expansion.
import { ageColumn, nameColumn, pathColumn } from '../../columns.js';
import type { TableColumn } from '../../kind.js';

export const columns: TableColumn[] = [
  nameColumn,
  pathColumn('Members', 'integer', 'status.memberCount', 'PVCs in the group.'),
  pathColumn('Current Size', 'string', 'status.currentSize', 'Size of the largest member.'),
  pathColumn('Last Expansion', 'date', 'status.lastExpansion', 'Time since a member was last expanded.'),
  ageColumn,
  pathColumn('Threshold', 'string', 'spec.template.threshold', 'Used-space ratio that triggers an expansion.', 1),
  pathColumn('Max Size', 'string', 'spec.template.maxSize', 'Size no member is expanded beyond.', 1),
];
