// Schema building blocks shared by the kinds: the Kubernetes types their specs embed.
// Every kind's `types.ts` composes these with zod; OpenAPI is generated from the result.
import { z } from 'zod';

// List semantics, declared once on the schema: published in OpenAPI (`x-kubernetes-list-type`,
// `x-kubernetes-list-map-keys`, `x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key`) and
// read back by strategic merge patch and the field manager (`registry/patch/meta.ts`). A list
// declared with none of them is atomic, as Kubernetes treats custom resources' lists.

/** A list of objects merged by `keys` (Kubernetes `listType=map`, `patchStrategy=merge`, merge key `keys[0]`). */
export function listMap<T extends z.ZodType>(item: T, keys: [string, ...string[]]) {
  return z.array(item).meta({
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': keys,
    'x-kubernetes-patch-strategy': 'merge',
    'x-kubernetes-patch-merge-key': keys[0],
  });
}

/** A list of unique scalars merged as a set (Kubernetes `listType=set`, `patchStrategy=merge`). */
export function listSet<T extends z.ZodType>(item: T) {
  return z.array(item).meta({ 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' });
}

/** A list replaced as a whole by every patch and owned as one field (Kubernetes `listType=atomic`). */
export function atomicList<T extends z.ZodType>(item: T) {
  return z.array(item).meta({ 'x-kubernetes-list-type': 'atomic' });
}

/** resource.Quantity: `10Gi`, `500m`, `1.5`, or a plain number. */
export const quantity = z
  .union([
    z.string().regex(/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[KMGTPE]i|[mkMGTPE])?$/, {
      message: "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    }),
    z.number(),
  ])
  .meta({ description: 'A Kubernetes resource quantity, e.g. 10Gi, 500m, 2.', 'x-kubernetes-int-or-string': true });

/** intstr.IntOrString, e.g. a port number or a named port. */
export const intOrString = z.union([z.number().int(), z.string()]).meta({ 'x-kubernetes-int-or-string': true });

/** metav1.Duration as Go prints it: `15m`, `1h30m`, `30s`. */
export const duration = z
  .string()
  .regex(/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/, { message: 'must be a duration such as 30s, 15m or 1h30m' })
  .meta({ description: 'A duration such as 30s, 15m or 1h30m.' });

/** A Kubernetes structure this API passes through unchanged (resources, affinity, probes...). */
export function opaque(description: string) {
  return z.record(z.string(), z.unknown()).meta({ description, 'x-kubernetes-preserve-unknown-fields': true });
}

export const resourceRequirements = z
  .strictObject({
    limits: z.record(z.string(), quantity).optional().meta({ description: 'Maximum amount of compute resources allowed, by resource name.' }),
    requests: z
      .record(z.string(), quantity)
      .optional()
      .meta({ description: 'Minimum amount of compute resources required, by resource name; defaults to limits.' }),
    claims: listMap(
      z.strictObject({
        name: z.string().meta({ description: 'Name of an entry of the pod spec resourceClaims.' }),
        request: z.string().optional().meta({ description: 'Name of a request within that claim.' }),
      }),
      ['name'],
    )
      .optional()
      .meta({ description: 'Dynamically allocated resources (DRA) used by the container.' }),
  })
  .meta({ description: 'Compute resources (core/v1 ResourceRequirements).' });

export const toleration = z
  .strictObject({
    key: z.string().optional().meta({ description: 'Taint key the toleration applies to; empty matches all keys.' }),
    operator: z.enum(['Exists', 'Equal']).optional().meta({ description: 'Exists or Equal (default).' }),
    value: z.string().optional().meta({ description: 'Taint value the toleration matches, for operator Equal.' }),
    effect: z
      .enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'])
      .optional()
      .meta({ description: 'Taint effect to match; empty matches all effects.' }),
    tolerationSeconds: z
      .number()
      .int()
      .optional()
      .meta({ description: 'For NoExecute: how long the pod stays bound after the taint appears.' }),
  })
  .meta({ description: 'A taint the pod tolerates (core/v1 Toleration).' });

export const localObjectReference = z
  .strictObject({ name: z.string().meta({ description: 'Name of the object in the same namespace.' }) })
  .meta({ description: 'A reference to an object in the same namespace.' });

export const labelSelectorRequirement = z
  .strictObject({
    key: z.string().meta({ description: 'The label key the requirement applies to.' }),
    operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']).meta({ description: 'In, NotIn, Exists or DoesNotExist.' }),
    values: atomicList(z.string())
      .optional()
      .meta({ description: 'Values for In and NotIn (non-empty); must be empty for Exists and DoesNotExist.' }),
  })
  .meta({ description: 'A label selector requirement: a key, an operator and values.' });

export const labelSelector = z
  .strictObject({
    matchLabels: z.record(z.string(), z.string()).optional().meta({ description: 'Labels that must all be present with these values.' }),
    matchExpressions: atomicList(labelSelectorRequirement).optional().meta({ description: 'Requirements that must all hold.' }),
  })
  .meta({ description: 'A label query over a set of resources (metav1.LabelSelector).' });

export const envVar = z
  .strictObject({
    name: z.string().min(1).meta({ description: 'Name of the environment variable.' }),
    value: z.string().optional().meta({ description: 'Value of the variable; $(VAR) references are expanded.' }),
    valueFrom: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({
        description: 'Source of the value (core/v1 EnvVarSource: secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef).',
        'x-kubernetes-preserve-unknown-fields': true,
      }),
  })
  .meta({ description: 'An environment variable of a container (core/v1 EnvVar).' });

/** metav1.Condition. */
export const condition = z
  .strictObject({
    type: z.string().min(1).meta({ description: 'Type of the condition, e.g. Ready.' }),
    status: z.enum(['True', 'False', 'Unknown']).meta({ description: 'True, False or Unknown.' }),
    observedGeneration: z
      .number()
      .int()
      .optional()
      .meta({ description: 'The metadata.generation the condition was set for.' }),
    lastTransitionTime: z.string().optional().meta({ description: 'When the status last changed.', format: 'date-time' }),
    reason: z.string().optional().meta({ description: 'Machine-readable CamelCase reason of the last transition.' }),
    message: z.string().optional().meta({ description: 'Human-readable detail of the last transition.' }),
  })
  .meta({ description: 'An observation of an aspect of the object (metav1.Condition).' });

export const conditions = listMap(condition, ['type']).optional();

/** An RFC 3339 timestamp as the API writes it (`2026-01-02T03:04:05Z`). */
export const timestamp = z.string().meta({ format: 'date-time' });
