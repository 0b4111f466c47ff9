// PVCPolicy (pvc-chonker.io/v1alpha1): expansion settings for the PVCs of the namespace whose
// labels match a selector. Both fields are required; the template must set at least one setting.
import { z } from 'zod';
import { labelSelector, timestamp } from '../../schema.js';
import { template } from '../common.js';

export const spec = z
  .strictObject({
    selector: labelSelector.meta({ description: 'The PVCs of the namespace the policy applies to, by label.' }),
    template: template.meta({ description: 'Expansion settings for the matched PVCs; at least one must be set.' }),
  })
  .meta({ description: 'The desired state of a PVC expansion policy.' });

export const status = z
  .strictObject({
    observedGeneration: z.int().optional().meta({ description: 'The metadata.generation this status describes.' }),
    matchedPVCs: z.int32().optional().meta({ description: 'PVCs the policy currently applies to.' }),
    lastUpdated: timestamp.optional().meta({ description: 'When the status was last written.' }),
  })
  .meta({ description: 'The observed state of a PVC expansion policy.' });

export type PVCPolicySpec = z.infer<typeof spec>;
export type PVCPolicyStatus = z.infer<typeof status>;
