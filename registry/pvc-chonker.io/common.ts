// The expansion template PVCPolicy and PVCGroup share (pvc-chonker's PVCPolicyTemplate /
// PVCGroupTemplate), and its rules.
//
// No defaults: an absent setting falls through to the PVC's own annotations and then to the
// controller's --default-* flags (threshold 80%, inodes threshold 80%, increase 10%, cooldown 15m,
// min scale-up 1Gi) when the controller resolves a PVC's settings. Writing those values into every
// stored template would freeze today's flag values into the objects.
import { z } from 'zod';
import type { FieldError } from '../../apiserver/errors.js';
import { duration, quantity } from '../schema.js';
import { asRecord, invalid, percentValue, quantityValue } from '../validation.js';

export const GROUP = 'pvc-chonker.io';

const PERCENT = /^\d+(\.\d+)?%?$/;
const INCREASE = /^(\d+(\.\d+)?%|(\d+(\.\d*)?|\.\d+)([KMGTPE]i|[kMGTPE])?)$/;

const percentString = (what: string) =>
  z
    .string()
    .regex(PERCENT, { message: 'must be a percentage such as 80%' })
    .meta({ description: `${what}, as a percentage such as 80% (1% to 100%).` });

export const TEMPLATE_FIELDS = ['enabled', 'threshold', 'inodesThreshold', 'increase', 'maxSize', 'minScaleUp', 'cooldown'] as const;

export const template = z
  .strictObject({
    enabled: z.boolean().optional().meta({ description: 'Whether matching PVCs are expanded; false opts them out.' }),
    threshold: percentString('Used-space ratio at which a PVC is expanded').optional(),
    inodesThreshold: percentString('Used-inodes ratio at which a PVC is expanded').optional(),
    increase: z
      .string()
      .regex(INCREASE, { message: 'must be a percentage such as 10% or a quantity such as 5Gi' })
      .optional()
      .meta({ description: 'How much to grow: a percentage of the current size (10%) or a quantity (5Gi).' }),
    maxSize: quantity.optional().meta({ description: 'Size a PVC is never expanded beyond.' }),
    minScaleUp: quantity.optional().meta({ description: 'Smallest expansion step.' }),
    cooldown: duration.optional().meta({ description: 'Minimum time between two expansions of a PVC, e.g. 15m.' }),
  })
  .meta({ description: 'Expansion settings; unset ones fall back to PVC annotations and the controller defaults.' });

export type Template = z.infer<typeof template>;

/** Rules of a template at `field` (ranges the schema's patterns cannot express). */
export function templateRules(field: string, raw: unknown): FieldError[] {
  const t = asRecord(raw);
  if (!t) return [];
  const out: FieldError[] = [];
  for (const name of ['threshold', 'inodesThreshold'] as const) {
    const p = percentValue(t[name]);
    if (p !== undefined && (p < 1 || p > 100)) out.push(invalid(`${field}.${name}`, t[name], 'must be between 1% and 100%'));
  }
  const increase = t.increase;
  if (typeof increase === 'string') {
    const amount = increase.endsWith('%') ? percentValue(increase) : quantityValue(increase);
    if (amount !== undefined && amount <= 0) out.push(invalid(`${field}.increase`, increase, 'must be greater than 0'));
  }
  for (const name of ['maxSize', 'minScaleUp'] as const) {
    const v = quantityValue(t[name]);
    if (v !== undefined && v <= 0) out.push(invalid(`${field}.${name}`, t[name], 'must be greater than 0'));
  }
  return out;
}

export function templateWarnings(field: string, raw: unknown): string[] {
  const t = asRecord(raw);
  if (!t) return [];
  const out: string[] = [];
  const max = quantityValue(t.maxSize);
  const minStep = quantityValue(t.minScaleUp);
  if (max !== undefined && minStep !== undefined && minStep > max) {
    out.push(`${field}.minScaleUp: larger than ${field}.maxSize; no expansion can happen`);
  }
  return out;
}
