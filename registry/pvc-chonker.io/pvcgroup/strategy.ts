// PVCGroup rules beyond the schema.
import type { FieldError } from '../../../apiserver/errors.js';
import type { KubeObject } from '../../meta.js';
import type { KindRules } from '../../strategy.js';
import { asRecord, invalid, labelSelector } from '../../validation.js';
import { templateRules, templateWarnings } from '../common.js';

/** The PVC annotation that makes a PVC a member of the group `<value>`. */
export const GROUP_ANNOTATION = 'pvc-chonker.io/group';

function validate(obj: KubeObject): FieldError[] {
  const out: FieldError[] = [];
  // Members name the group in an annotation and are listed by it; a label-value-shaped name keeps
  // `pvc-chonker.io/group=<name>` usable as a label as well.
  const name = obj.metadata.name;
  if (name && name.length > 63) {
    out.push(invalid('metadata.name', name, `must be no more than 63 characters (members refer to it in ${GROUP_ANNOTATION})`));
  }
  const spec = asRecord(obj.spec);
  if (spec) out.push(...templateRules('spec.template', spec.template));
  if (spec?.selector !== undefined) out.push(...labelSelector('spec.selector', spec.selector));
  return out;
}

function warnings(obj: KubeObject): string[] {
  return templateWarnings('spec.template', asRecord(obj.spec)?.template);
}

export const rules: KindRules = { validate, warnings };
