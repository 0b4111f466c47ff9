// PVCGroup (pvc-chonker.io/v1alpha1): PVCs that grow together. Members join by carrying the
// annotation `pvc-chonker.io/group=<name>` (and `pvc-chonker.io/enabled=true`); the group raises
// every member to the size its coordination policy picks, and expands by its template.
//
// Defaults: `coordinationPolicy` is `largest` (pvc-chonker's only behavior); the template has no
// defaults (see ../common.ts) and may be empty.
import { z } from 'zod';
import { conditions, labelSelector, quantity, timestamp } from '../../schema.js';
import { template } from '../common.js';

export const spec = z
  .strictObject({
    template: template.meta({ description: 'Expansion settings for the members.' }),
    coordinationPolicy: z
      .enum(['largest'])
      .default('largest')
      .meta({ description: 'Which size every member is raised to: largest, the size of the largest member.' }),
    selector: labelSelector
      .optional()
      .meta({ description: 'Also makes members of the PVCs of the namespace whose labels match (e.g. the claims of a StatefulSet), besides those annotated pvc-chonker.io/group=<name>.' }),
  })
  .meta({ description: 'The desired state of a group of PVCs that grow together.' });

export const expansion = z.strictObject({
  time: timestamp.meta({ description: 'When the expansion was requested.' }),
  pvc: z.string().optional().meta({ description: 'The member that was expanded; empty when all were.' }),
  fromSize: quantity.optional().meta({ description: 'Size before.' }),
  toSize: quantity.optional().meta({ description: 'Size after.' }),
  reason: z
    .enum(['ThresholdReached', 'InodesThresholdReached', 'GroupCoordination', 'Rebalance'])
    .optional()
    .meta({ description: 'Why: a member crossed a threshold, coordination with the largest member, or a rebalance request.' }),
});

export const status = z
  .strictObject({
    observedGeneration: z.int().optional().meta({ description: 'The metadata.generation this status describes.' }),
    memberCount: z.int32().optional().meta({ description: 'PVCs in the group.' }),
    currentSize: quantity.optional().meta({ description: 'Size of the group (its largest member).' }),
    lastExpansion: timestamp.optional().meta({ description: 'When a member was last expanded.' }),
    lastUpdated: timestamp.optional().meta({ description: 'When the status was last written.' }),
    expansionHistory: z.array(expansion).optional().meta({ description: 'Recent expansions, oldest first.' }),
    conditions: conditions.meta({ description: 'ExpansionStuck: a member expansion has been pending longer than the controller allows.' }),
  })
  .meta({ description: 'The observed state of a PVC group.' });

export type PVCGroupSpec = z.infer<typeof spec>;
export type PVCGroupStatus = z.infer<typeof status>;
