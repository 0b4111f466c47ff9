// Schema parts the Hourglass kinds share.
import { z } from 'zod';
import { ETHEREUM_ADDRESS } from '../validation.js';

export const GROUP = 'hourglass.eigenlayer.io';

/** An EVM address: `0x` and 40 hexadecimal digits (checksummed or not). */
export const address = (description: string) =>
  z
    .string()
    .regex(ETHEREUM_ADDRESS, { message: 'must be an address: 0x followed by 40 hexadecimal digits' })
    .meta({ description });

export const secretKeySelector = z
  .strictObject({
    name: z.string().min(1).meta({ description: 'Name of the Secret in the namespace.' }),
    key: z.string().min(1).meta({ description: 'Key within the Secret.' }),
    optional: z.boolean().optional().meta({ description: 'Whether the Secret or its key may be missing.' }),
  })
  .meta({ description: 'A key of a Secret in the same namespace (core/v1 SecretKeySelector).' });

export const configMapKeySelector = z
  .strictObject({
    name: z.string().min(1).meta({ description: 'Name of the ConfigMap in the namespace.' }),
    key: z.string().min(1).meta({ description: 'Key within the ConfigMap.' }),
    optional: z.boolean().optional().meta({ description: 'Whether the ConfigMap or its key may be missing.' }),
  })
  .meta({ description: 'A key of a ConfigMap in the same namespace (core/v1 ConfigMapKeySelector).' });
