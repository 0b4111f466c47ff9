// PVCPolicy printer columns (pvc-chonker has none): how many PVCs match and the main settings.
import { ageColumn, nameColumn, pathColumn } from '../../columns.js';
import type { TableColumn } from '../../kind.js';

export const columns: TableColumn[] = [
  nameColumn,
  pathColumn('Matched', 'integer', 'status.matchedPVCs', 'PVCs the policy applies to.'),
  pathColumn('Threshold', 'string', 'spec.template.threshold', 'Used-space ratio that triggers an expansion.'),
  pathColumn('Increase', 'string', 'spec.template.increase', 'Expansion step.'),
  ageColumn,
  pathColumn('Max Size', 'string', 'spec.template.maxSize', 'Size a PVC is never expanded beyond.', 1),
  pathColumn('Cooldown', 'string', 'spec.template.cooldown', 'Minimum time between two expansions.', 1),
  pathColumn('Last Updated', 'date', 'status.lastUpdated', 'Time since the status was last written.', 1),
];
