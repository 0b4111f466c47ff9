// StormTopology storm.apache.org/v1alpha1: the shape of seed 001's implementation plan (a jar URL,
// main class, arguments, configuration and a worker pool of `replicas` with `cpu`/`memory`),
// served beside v1beta1 (the storage version) and converted to and from it.
//
//   v1alpha1 spec                  v1beta1 spec
//   clusterRef                     clusterRef                       (not in seed 001; v1beta1 needs it)
//   jarUrl                         topology.jar.url
//   mainClass                      topology.mainClass
//   args                           topology.args
//   config {k: string|num|bool}    topology.config {k: string}      (the original types: see below)
//   workerPool                     workers
//   workerPool.replicas            workers.replicas
//   workerPool.resources{cpu,mem}  workers.resources.requests{cpu,memory}
//   (metadata.name)                topology.name                    (defaults to metadata.name)
//
// Everything else of v1beta1 (other jar sources and checksums, limits, autoscaling, lifecycle,
// deployment strategy, ...) travels in the `storm.apache.org/v1beta1-fields` annotation of the
// v1alpha1 object, and `topology.name` too when it is not metadata.name. Seed 001 writes config
// values as YAML numbers and booleans (`topology.workers: 3`); v1beta1 holds strings, so a
// non-string value is stored as its text and its JSON value kept in the
// `storm.apache.org/v1alpha1-fields` annotation of the stored object, and v1alpha1 reads give the
// value back as long as the text still matches (a v1beta1 client that changes it wins).
// Status is the same in both versions.
import { z } from 'zod';
import {
  deepMerge,
  deletePath,
  fieldsAnnotation,
  getPath,
  isPlainObject,
  movePairs,
  pathMapper,
  readJsonAnnotation,
  writeJsonAnnotation,
  type FieldPair,
  type Json,
} from '../../conversion.js';
import type { VersionSchema } from '../../kind.js';
import type { KubeObject } from '../../meta.js';
import { atomicList, quantity } from '../../schema.js';
import { GROUP } from '../common.js';
import { status } from './types.js';

export const V1BETA1_FIELDS = fieldsAnnotation(GROUP, 'v1beta1');
export const V1ALPHA1_FIELDS = fieldsAnnotation(GROUP, 'v1alpha1');

const configValue = z
  .union([z.string(), z.number(), z.boolean()])
  .meta({ description: 'A Storm configuration value: a string, number or boolean.' });

export const spec = z
  .strictObject({
    clusterRef: z.string().meta({ description: 'Name of the StormCluster in the same namespace. Immutable.' }),
    jarUrl: z.string().optional().meta({ description: 'http(s):// or s3:// URL to download the topology jar from.' }),
    mainClass: z.string().optional().meta({ description: 'Class whose main method builds and submits the topology.' }),
    args: atomicList(z.string()).optional().meta({ description: 'Arguments of the main class.' }),
    config: z
      .record(z.string(), configValue)
      .optional()
      .meta({ description: 'Topology configuration (-c key=value), e.g. topology.workers: 3. topology.version is recorded as the deployed version.' }),
    workerPool: z
      .strictObject({
        replicas: z.int32().min(1).optional().meta({ description: 'Number of workers (topology.workers); 2 when absent.' }),
        resources: z
          .strictObject({
            cpu: quantity.optional().meta({ description: 'CPU requested by each worker, e.g. "1" or 500m.' }),
            memory: quantity.optional().meta({ description: 'Memory requested by each worker, e.g. 2Gi.' }),
          })
          .optional()
          .meta({ description: 'Resources requested by each worker.' }),
      })
      .optional()
      .meta({ description: 'The workers of the topology.' }),
  })
  .meta({ description: 'The desired state of a Storm topology (v1alpha1: the topology name is metadata.name).' });

export { status };

const stringify = (config: unknown): unknown =>
  isPlainObject(config) ? Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === 'string' ? v : String(v)])) : config;

export const PAIRS: FieldPair[] = [
  { version: 'spec.clusterRef', storage: 'spec.clusterRef' },
  { version: 'spec.jarUrl', storage: 'spec.topology.jar.url' },
  { version: 'spec.mainClass', storage: 'spec.topology.mainClass' },
  { version: 'spec.args', storage: 'spec.topology.args' },
  { version: 'spec.config', storage: 'spec.topology.config', toStorage: stringify },
  { version: 'spec.workerPool', storage: 'spec.workers', container: true },
  { version: 'spec.workerPool.replicas', storage: 'spec.workers.replicas' },
  { version: 'spec.workerPool.resources', storage: 'spec.workers.resources.requests', container: true },
  { version: 'spec.workerPool.resources.cpu', storage: 'spec.workers.resources.requests.cpu' },
  { version: 'spec.workerPool.resources.memory', storage: 'spec.workers.resources.requests.memory' },
];

/** The non-string config values of a v1alpha1 spec (what v1beta1 cannot express). */
function typedConfig(config: unknown): Json | undefined {
  if (!isPlainObject(config)) return undefined;
  const typed = Object.entries(config).filter(([, v]) => typeof v !== 'string');
  return typed.length > 0 ? Object.fromEntries(typed) : undefined;
}

function toStorage(obj: KubeObject): KubeObject {
  const out = structuredClone(obj);
  const source: Json = { spec: out.spec ?? {} };
  const mapped = movePairs(source, PAIRS, 'toStorage');
  const kept = readJsonAnnotation(obj, V1BETA1_FIELDS);
  const spec = deepMerge(isPlainObject(kept?.spec) ? kept.spec : {}, mapped.spec ?? {}) as Json;
  if (getPath(spec, 'topology.name') === undefined && obj.metadata.name !== undefined) {
    spec.topology = { ...(isPlainObject(spec.topology) ? spec.topology : {}), name: obj.metadata.name };
  }
  if (obj.spec !== undefined) out.spec = spec;
  writeJsonAnnotation(out, V1BETA1_FIELDS, undefined);
  const config = typedConfig(obj.spec?.config);
  writeJsonAnnotation(out, V1ALPHA1_FIELDS, config ? { spec: { config } } : undefined);
  return out;
}

function fromStorage(obj: KubeObject): KubeObject {
  const out = structuredClone(obj);
  const remainder: Json = { spec: out.spec ?? {} };
  const mapped = movePairs(remainder, PAIRS, 'fromStorage');
  if (getPath(remainder, 'spec.topology.name') === obj.metadata.name) deletePath(remainder, 'spec.topology.name');
  const spec = (mapped.spec ?? {}) as Json;
  const typed = getPath(readJsonAnnotation(obj, V1ALPHA1_FIELDS), 'spec.config');
  if (isPlainObject(spec.config) && isPlainObject(typed)) {
    for (const [key, value] of Object.entries(spec.config)) {
      const original = typed[key];
      if (original !== undefined && typeof original !== 'object' && String(original) === value) spec.config[key] = original;
    }
  }
  if (obj.spec !== undefined) out.spec = spec;
  writeJsonAnnotation(out, V1ALPHA1_FIELDS, undefined);
  // Pruning may have removed `spec` itself from the remainder once everything in it moved.
  const rest = (remainder.spec ?? {}) as Json;
  writeJsonAnnotation(out, V1BETA1_FIELDS, Object.keys(rest).length > 0 ? { spec: rest } : undefined);
  return out;
}

export const v1alpha1: VersionSchema = {
  spec,
  status,
  toStorage,
  fromStorage,
  fieldLabels: { 'spec.clusterRef': 'spec.clusterRef', 'status.phase': 'status.phase' },
  fieldPathFromStorage: pathMapper(PAIRS, [['spec.topology.jar', 'spec.jarUrl']]),
};
