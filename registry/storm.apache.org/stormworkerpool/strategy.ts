// StormWorkerPool rules beyond the schema.
import type { FieldError } from '../../../apiserver/errors.js';
import type { KubeObject } from '../../meta.js';
import type { KindRules } from '../../strategy.js';
import {
  annotationMap,
  asArray,
  asRecord,
  dnsSubdomain,
  duplicate,
  envVars,
  immutable,
  invalid,
  key,
  labelMap,
  num,
  objectRef,
  str,
} from '../../validation.js';
import { autoscalingRules, autoscalingWarnings } from '../common.js';

/** The label the controller puts on a pool's pods; the scale subresource selects by it. */
export const POOL_LABEL = 'storm.apache.org/worker-pool';

function validate(obj: KubeObject): FieldError[] {
  const out: FieldError[] = [];
  const name = obj.metadata.name;
  if (name && name.length > 63) {
    out.push(invalid('metadata.name', name, `must be no more than 63 characters (it is the value of the ${POOL_LABEL} label of the pods)`));
  }
  const spec = asRecord(obj.spec);
  if (!spec) return out;
  out.push(...objectRef('spec.topologyRef', spec.topologyRef));
  const clusterRef = str(spec.clusterRef);
  if (clusterRef) out.push(...dnsSubdomain('spec.clusterRef', clusterRef));

  const template = asRecord(spec.template);
  const meta = asRecord(template?.metadata);
  const labels = asRecord(meta?.labels);
  out.push(...labelMap('spec.template.metadata.labels', labels), ...annotationMap('spec.template.metadata.annotations', meta?.annotations));
  if (labels && labels[POOL_LABEL] !== undefined && name && labels[POOL_LABEL] !== name) {
    out.push(
      invalid(key('spec.template.metadata.labels', POOL_LABEL), labels[POOL_LABEL], `must be omitted or equal the pool name "${name}": the scale subresource selects the pool's pods by it`),
    );
  }
  const podSpec = asRecord(template?.spec);
  out.push(...labelMap('spec.template.spec.nodeSelector', podSpec?.nodeSelector));
  const seen = new Set<string>();
  asArray(podSpec?.containers).forEach((c, i) => {
    const container = asRecord(c);
    if (!container) return;
    if (typeof container.name === 'string') {
      if (seen.has(container.name)) out.push(duplicate(`spec.template.spec.containers[${i}].name`, container.name));
      seen.add(container.name);
    }
    out.push(...envVars(`spec.template.spec.containers[${i}].env`, container.env));
  });

  const ports = asRecord(spec.ports);
  const start = num(ports?.start);
  const count = num(ports?.count);
  if (start !== undefined && count !== undefined && start + count - 1 > 65535) {
    out.push(invalid('spec.ports.count', count, `ports ${start}..${start + count - 1} exceed 65535`));
  }
  out.push(...autoscalingRules('spec.autoscaling', spec.autoscaling));
  return out;
}

function validateUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  return [
    ...immutable('spec.topologyRef', obj.spec?.topologyRef, old.spec?.topologyRef),
    ...immutable('spec.clusterRef', obj.spec?.clusterRef, old.spec?.clusterRef),
  ];
}

function warnings(obj: KubeObject): string[] {
  const spec = asRecord(obj.spec);
  if (!spec) return [];
  const out: string[] = [];
  const start = num(asRecord(spec.ports)?.start);
  if (start !== undefined && start < 1024) out.push(`spec.ports.start: ${start} is a privileged port; workers must run as root to bind it`);
  const autoscaling = asRecord(spec.autoscaling);
  out.push(...autoscalingWarnings('spec.autoscaling', autoscaling));
  const replicas = num(spec.replicas);
  const min = num(autoscaling?.minReplicas);
  const max = num(autoscaling?.maxReplicas);
  if (autoscaling?.enabled === true && replicas !== undefined && min !== undefined && max !== undefined && (replicas < min || replicas > max)) {
    out.push(`spec.replicas: ${replicas} is outside the autoscaling range ${min}..${max}; the autoscaler will override it`);
  }
  return out;
}

export const rules: KindRules = { validate, validateUpdate, warnings };
