// The `scale` subresource: an autoscaling/v1 Scale view of a kind that declares a ScaleMapping.
import { badRequest, type FieldError } from '../apiserver/errors.js';
import { fieldAt, type KindDeclaration, type ScaleMapping } from './kind.js';
import type { KubeObject } from './meta.js';

export interface Scale {
  kind: 'Scale';
  apiVersion: 'autoscaling/v1';
  metadata: KubeObject['metadata'];
  spec: { replicas?: number };
  status: { replicas: number; selector?: string };
}

export function scaleOf(mapping: ScaleMapping, obj: KubeObject): Scale {
  const { name, namespace, uid, resourceVersion, creationTimestamp } = obj.metadata;
  const specReplicas = fieldAt(obj, mapping.specReplicasPath);
  const statusReplicas = fieldAt(obj, mapping.statusReplicasPath);
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: typeof specReplicas === 'number' ? { replicas: specReplicas } : {},
    status: { replicas: typeof statusReplicas === 'number' ? statusReplicas : 0, selector: mapping.labelSelector(obj) },
  };
}

/** Validates a Scale sent by a client; returns its desired replicas. */
export function scaleReplicas(body: unknown): { replicas: number; resourceVersion?: string; errors: FieldError[] } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body must be an autoscaling/v1 Scale object');
  const scale = body as Partial<Scale> & { apiVersion?: string; kind?: string };
  if (scale.kind !== undefined && scale.kind !== 'Scale') throw badRequest(`expected kind Scale, got ${String(scale.kind)}`);
  if (scale.apiVersion !== undefined && scale.apiVersion !== 'autoscaling/v1') {
    throw badRequest(`the API version in the data (${String(scale.apiVersion)}) does not match the expected API version (autoscaling/v1)`);
  }
  const replicas = scale.spec?.replicas;
  const errors: FieldError[] = [];
  if (typeof replicas !== 'number' || !Number.isInteger(replicas)) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.replicas', value: replicas, detail: 'must be an integer' });
  } else if (replicas < 0) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.replicas', value: replicas, detail: 'must be greater than or equal to 0' });
  }
  return { replicas: typeof replicas === 'number' ? replicas : 0, resourceVersion: scale.metadata?.resourceVersion, errors };
}

/** A copy of `obj` with the desired replicas set at the mapping's spec path. */
export function withReplicas(mapping: ScaleMapping, obj: KubeObject, replicas: number): KubeObject {
  const out = structuredClone(obj);
  const steps = mapping.specReplicasPath.split('.');
  let cur = out as Record<string, unknown>;
  for (const step of steps.slice(0, -1)) {
    if (cur[step] === null || typeof cur[step] !== 'object') cur[step] = {};
    cur = cur[step] as Record<string, unknown>;
  }
  cur[steps[steps.length - 1]] = replicas;
  return out;
}

export function hasScale(decl: KindDeclaration): decl is KindDeclaration & { scale: ScaleMapping } {
  return decl.scale !== undefined;
}
