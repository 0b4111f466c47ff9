// Performer rules beyond the schema.
import type { FieldError } from '../../../apiserver/errors.js';
import type { KubeObject } from '../../meta.js';
import type { KindRules } from '../../strategy.js';
import { asArray, asRecord, duplicate, envVars, forbidden, immutable, invalid, key, labelMap, num, required, str } from '../../validation.js';

/** The controller names the Pod and the Service `performer-<name>`. */
export const NAME_PREFIX = 'performer-';
const MAX_NAME = 63 - NAME_PREFIX.length;

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

function validate(obj: KubeObject): FieldError[] {
  const out: FieldError[] = [];
  const name = obj.metadata.name;
  if (name) {
    if (name.length > MAX_NAME) {
      out.push(invalid('metadata.name', name, `must be no more than ${MAX_NAME} characters (the Pod and Service are named ${NAME_PREFIX}<name>)`));
    }
    if (name.includes('.')) out.push(invalid('metadata.name', name, `must not contain dots (the Service is named ${NAME_PREFIX}<name>)`));
  }
  const spec = asRecord(obj.spec);
  if (!spec) return out;

  const config = asRecord(spec.config);
  const names = new Map<string, string>();
  const claim = (envName: string, field: string) => {
    if (names.has(envName)) out.push(duplicate(field, envName));
    else names.set(envName, field);
  };
  for (const envName of Object.keys(asRecord(config?.environment) ?? {})) {
    const field = key('spec.config.environment', envName);
    if (!ENV_NAME.test(envName)) out.push(invalid(field, envName, 'must be a valid environment variable name'));
    claim(envName, field);
  }
  asArray(config?.environmentFrom).forEach((raw, i) => {
    const e = asRecord(raw);
    if (!e) return;
    const path = `spec.config.environmentFrom[${i}]`;
    if (typeof e.name === 'string') claim(e.name, `${path}.name`);
    const from = asRecord(e.valueFrom);
    if (!from) return;
    const set = (['secretKeyRef', 'configMapKeyRef'] as const).filter((k) => from[k] !== undefined);
    if (set.length === 0) out.push(required(`${path}.valueFrom`, 'must specify one of: secretKeyRef, configMapKeyRef'));
    if (set.length > 1) out.push(forbidden(`${path}.valueFrom.configMapKeyRef`, 'may not be specified together with secretKeyRef'));
  });
  out.push(...envVars('spec.config.env', config?.env));
  asArray(config?.env).forEach((raw, i) => {
    const n = asRecord(raw)?.name;
    if (typeof n === 'string' && names.has(n)) out.push(duplicate(`spec.config.env[${i}].name`, n));
  });

  const hw = asRecord(spec.hardwareRequirements);
  if (hw) {
    const count = num(hw.gpuCount) ?? 0;
    if (str(hw.gpuType) && count <= 0) {
      out.push(invalid('spec.hardwareRequirements.gpuCount', count, 'must be greater than 0 when gpuType is set'));
    }
    out.push(...labelMap('spec.hardwareRequirements.customLabels', hw.customLabels));
  }
  out.push(...labelMap('spec.scheduling.nodeSelector', asRecord(spec.scheduling)?.nodeSelector));
  return out;
}

function validateUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  // The address is the performer's identity: its labels, its Service and the executor's routing.
  return immutable('spec.avsAddress', obj.spec?.avsAddress, old.spec?.avsAddress);
}

function warnings(obj: KubeObject): string[] {
  const spec = asRecord(obj.spec);
  if (!spec) return [];
  const out: string[] = [];
  const config = asRecord(spec.config);
  if (config?.environment !== undefined) out.push('spec.config.environment: deprecated, use spec.config.env');
  if (config?.environmentFrom !== undefined) out.push('spec.config.environmentFrom: deprecated, use spec.config.env with valueFrom');
  const hw = asRecord(spec.hardwareRequirements);
  if (hw && str(hw.teeType) && hw.teeRequired !== true) {
    out.push('spec.hardwareRequirements.teeType: ignored while spec.hardwareRequirements.teeRequired is not true');
  }
  const image = str(spec.image);
  if (image && spec.imagePullPolicy === 'IfNotPresent') {
    const lastSegment = image.split('@')[0].split('/').pop() ?? '';
    const tag = lastSegment.includes(':') ? lastSegment.split(':').pop() : undefined;
    if (!image.includes('@') && (tag === undefined || tag === 'latest')) {
      out.push('spec.imagePullPolicy: IfNotPresent with an untagged or :latest image; nodes keep running whatever image they pulled first');
    }
  }
  return out;
}

export const rules: KindRules = { validate, validateUpdate, warnings };
