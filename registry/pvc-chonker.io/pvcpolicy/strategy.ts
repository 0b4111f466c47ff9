// PVCPolicy rules beyond the schema.
import type { FieldError } from '../../../apiserver/errors.js';
import type { KubeObject } from '../../meta.js';
import type { KindRules } from '../../strategy.js';
import { asRecord, labelSelector, required, selectsEverything } from '../../validation.js';
import { TEMPLATE_FIELDS, templateRules, templateWarnings } from '../common.js';

function validate(obj: KubeObject): FieldError[] {
  const spec = asRecord(obj.spec);
  if (!spec) return [];
  const out = labelSelector('spec.selector', spec.selector);
  const template = asRecord(spec.template);
  if (template && Object.values(template).every((v) => v === undefined)) {
    out.push(required('spec.template', `must set at least one of: ${TEMPLATE_FIELDS.join(', ')}`));
  }
  out.push(...templateRules('spec.template', template));
  return out;
}

function warnings(obj: KubeObject): string[] {
  const spec = asRecord(obj.spec);
  if (!spec) return [];
  const out: string[] = [];
  if (spec.selector !== undefined && selectsEverything(spec.selector)) {
    out.push('spec.selector: empty; the policy applies to every PVC in the namespace');
  }
  out.push(...templateWarnings('spec.template', spec.template));
  return out;
}

export const rules: KindRules = { validate, warnings };
