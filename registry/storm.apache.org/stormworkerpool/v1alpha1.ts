// StormWorkerPool storm.apache.org/v1alpha1: the shape of seed 001's implementation plan (a pool
// that autoscales the workers of one topology between `minReplicas` and `maxReplicas` on
// `metrics`), served beside v1beta1 (the storage version) and converted to and from it.
//
//   v1alpha1 spec                         v1beta1 spec
//   topologyName                          topologyRef
//   minReplicas                           autoscaling.minReplicas
//   maxReplicas                           autoscaling.maxReplicas
//   metrics[] {type: Custom, custom: {    autoscaling.customMetrics[] {
//     metricName, targetValue,              name, targetValue,
//     targetAverageValue, source}}          targetAverageValue, type}
//
// Any of minReplicas, maxReplicas, metrics makes v1beta1 `autoscaling` present (its defaults
// then apply: enabled, 80% CPU). Everything else of v1beta1 (clusterRef, replicas, image, pod
// template, worker config, JVM options, ports, the rest of autoscaling) travels in the
// `storm.apache.org/v1beta1-fields` annotation of the v1alpha1 object. v1alpha1 expresses nothing
// v1beta1 cannot. Status is the same in both versions.
import { z } from 'zod';
import { deepMerge, fieldsAnnotation, isPlainObject, movePairs, pathMapper, readJsonAnnotation, writeJsonAnnotation, type FieldPair, type Json } from '../../conversion.js';
import type { VersionSchema } from '../../kind.js';
import type { KubeObject } from '../../meta.js';
import { atomicList, quantity } from '../../schema.js';
import { GROUP } from '../common.js';
import { status } from './types.js';

export const V1BETA1_FIELDS = fieldsAnnotation(GROUP, 'v1beta1');

export const metric = z
  .strictObject({
    type: z.enum(['Custom']).meta({ description: 'Kind of metric; Custom (a Storm or application metric) is the only one.' }),
    custom: z
      .strictObject({
        metricName: z.string().min(1).meta({ description: 'Name of the metric, e.g. storm_topology_pending_tuples.' }),
        targetValue: quantity.optional().meta({ description: 'Target value of the metric (HPA target type Value).' }),
        targetAverageValue: quantity.optional().meta({ description: 'Target per-pod average of the metric (HPA target type AverageValue).' }),
        source: z
          .enum(['pods', 'resource', 'external'])
          .optional()
          .meta({ description: 'Kind of HorizontalPodAutoscaler metric source: pods (when absent), resource or external.' }),
      })
      .meta({ description: 'The metric and its target.' }),
  })
  .meta({ description: 'A metric the pool scales on.' });

export const spec = z
  .strictObject({
    topologyName: z.string().meta({ description: 'Name of the StormTopology in the same namespace. Immutable.' }),
    minReplicas: z.int32().min(1).optional().meta({ description: 'Lower bound of the worker pods; 1 when absent.' }),
    maxReplicas: z.int32().min(1).optional().meta({ description: 'Upper bound of the worker pods; 10 when absent.' }),
    metrics: atomicList(metric).optional().meta({ description: 'Metrics to scale on.' }),
  })
  .meta({ description: 'The desired state of a Storm worker pool: autoscaled workers of one topology.' });

export { status };

function metricToStorage(m: unknown): unknown {
  if (!isPlainObject(m) || !isPlainObject(m.custom)) return m;
  const { metricName, source, ...targets } = m.custom;
  const out: Json = {};
  if (metricName !== undefined) out.name = metricName;
  if (source !== undefined) out.type = source;
  return { ...out, ...targets };
}

function metricFromStorage(m: unknown): unknown {
  if (!isPlainObject(m)) return m;
  const { name, type, ...targets } = m;
  const custom: Json = {};
  if (name !== undefined) custom.metricName = name;
  Object.assign(custom, targets);
  if (type !== undefined) custom.source = type;
  return { type: 'Custom', custom };
}

const eachItem = (convert: (m: unknown) => unknown) => (list: unknown) => (Array.isArray(list) ? list.map(convert) : list);

export const PAIRS: FieldPair[] = [
  { version: 'spec.topologyName', storage: 'spec.topologyRef' },
  { version: 'spec.minReplicas', storage: 'spec.autoscaling.minReplicas' },
  { version: 'spec.maxReplicas', storage: 'spec.autoscaling.maxReplicas' },
  {
    version: 'spec.metrics',
    storage: 'spec.autoscaling.customMetrics',
    toStorage: eachItem(metricToStorage),
    fromStorage: eachItem(metricFromStorage),
  },
];

function toStorage(obj: KubeObject): KubeObject {
  const out = structuredClone(obj);
  const mapped = movePairs({ spec: out.spec ?? {} }, PAIRS, 'toStorage');
  const kept = readJsonAnnotation(obj, V1BETA1_FIELDS);
  if (obj.spec !== undefined) out.spec = deepMerge(isPlainObject(kept?.spec) ? kept.spec : {}, mapped.spec ?? {}) as Json;
  writeJsonAnnotation(out, V1BETA1_FIELDS, undefined);
  return out;
}

function fromStorage(obj: KubeObject): KubeObject {
  const out = structuredClone(obj);
  const remainder: Json = { spec: out.spec ?? {} };
  const mapped = movePairs(remainder, PAIRS, 'fromStorage');
  if (obj.spec !== undefined) out.spec = (mapped.spec ?? {}) as Json;
  // Pruning may have removed `spec` itself from the remainder once everything in it moved.
  const rest = (remainder.spec ?? {}) as Json;
  writeJsonAnnotation(out, V1BETA1_FIELDS, Object.keys(rest).length > 0 ? { spec: rest } : undefined);
  return out;
}

const storagePath = pathMapper(PAIRS);

export const v1alpha1: VersionSchema = {
  spec,
  status,
  toStorage,
  fromStorage,
  fieldLabels: { 'spec.topologyName': 'spec.topologyRef', 'status.phase': 'status.phase' },
  // customMetrics[i].name is metrics[i].custom.metricName; the other fields of a metric move under custom.
  fieldPathFromStorage: (path) => {
    if (!path.startsWith('spec.autoscaling.customMetrics[')) return storagePath(path);
    return storagePath(path).replace(/^(spec\.metrics\[\d+\])\.(name|type|targetValue|targetAverageValue)\b/, (_m, item: string, field: string) => {
      const renamed = field === 'name' ? 'metricName' : field === 'type' ? 'source' : field;
      return `${item}.custom.${renamed}`;
    });
  },
};
