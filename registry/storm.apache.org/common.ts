// Schema parts the three Storm kinds share: the image, autoscaling and lifecycle-hook shapes of
// storm-controller's v1beta1 API, and the rules that go with them.
import { z } from 'zod';
import type { FieldError } from '../../apiserver/errors.js';
import { opaque, quantity } from '../schema.js';
import { asArray, asRecord, invalid, num, required } from '../validation.js';

export const GROUP = 'storm.apache.org';

export const pullPolicy = z
  .enum(['Always', 'IfNotPresent', 'Never'])
  .meta({ description: 'When the kubelet pulls the image: Always, IfNotPresent or Never.' });

/**
 * The Storm container image. Present with its defaults when absent (registry docker.io, repository
 * apache/storm, tag 2.6.0), so the stored object names the image it runs.
 */
export const imageSpec = z
  .strictObject({
    registry: z.string().min(1).default('docker.io').meta({ description: 'Registry host of the Storm image.' }),
    repository: z.string().min(1).default('apache/storm').meta({ description: 'Repository of the Storm image within the registry.' }),
    tag: z.string().min(1).default('2.6.0').meta({ description: 'Tag of the Storm image; the Storm version the cluster runs.' }),
    pullPolicy: pullPolicy.optional(),
    pullSecrets: z
      .array(z.string().min(1))
      .optional()
      .meta({ description: 'Names of docker-registry Secrets in the namespace used to pull the image.' }),
  })
  .meta({ description: 'Container image of the Storm components: <registry>/<repository>:<tag>.' });

const percent = () => z.int32().min(1).max(100);

export const customMetric = z.strictObject({
  name: z.string().min(1).meta({ description: 'Name of the metric, e.g. storm_pending_messages.' }),
  type: z
    .enum(['pods', 'resource', 'external'])
    .default('pods')
    .meta({ description: 'Kind of HorizontalPodAutoscaler metric source: pods, resource or external.' }),
  targetValue: quantity.optional().meta({ description: 'Target value of the metric (HPA target type Value).' }),
  targetAverageValue: quantity.optional().meta({ description: 'Target per-pod average of the metric (HPA target type AverageValue).' }),
});

export const legacyMetric = z.strictObject({
  type: z
    .enum(['cpu', 'memory', 'pending-tuples', 'capacity', 'latency'])
    .meta({ description: 'Metric to scale on: cpu, memory, pending-tuples, capacity or latency.' }),
  target: z
    .strictObject({
      averageUtilization: percent().optional().meta({ description: 'Target average utilization in percent (cpu, memory).' }),
      averageValue: quantity.optional().meta({ description: 'Target per-pod average value.' }),
      value: quantity.optional().meta({ description: 'Target value.' }),
    })
    .meta({ description: 'The target of the metric.' }),
});

const scalingPolicy = z.strictObject({
  stabilizationWindowSeconds: z
    .int32()
    .min(0)
    .max(3600)
    .optional()
    .meta({ description: 'Seconds of past recommendations considered when scaling (HPA stabilization window).' }),
  policies: z
    .array(
      z.strictObject({
        type: z.enum(['Percent', 'Pods']).meta({ description: 'Percent of current replicas, or a number of Pods.' }),
        value: z.int32().min(1).meta({ description: 'Amount of change the policy allows.' }),
        periodSeconds: z.int32().min(1).max(1800).meta({ description: 'Window, in seconds, the policy applies to.' }),
      }),
    )
    .optional()
    .meta({ description: 'Policies limiting how fast replicas change.' }),
});

/**
 * Autoscaling of worker pods through a HorizontalPodAutoscaler. Optional: absent means no HPA.
 * When present its defaults apply (enabled, 1..10 replicas, 80% CPU).
 */
export const autoscalingSpec = z
  .strictObject({
    enabled: z.boolean().default(true).meta({ description: 'Whether the HorizontalPodAutoscaler is created.' }),
    minReplicas: z.int32().min(1).default(1).meta({ description: 'Lower bound of the replica count.' }),
    maxReplicas: z.int32().min(1).default(10).meta({ description: 'Upper bound of the replica count.' }),
    targetCPUUtilizationPercentage: percent().default(80).meta({ description: 'Target average CPU utilization, in percent of requests.' }),
    targetMemoryUtilizationPercentage: percent().optional().meta({ description: 'Target average memory utilization, in percent of requests.' }),
    customMetrics: z.array(customMetric).optional().meta({ description: 'Further metrics to scale on.' }),
    metrics: z
      .array(legacyMetric)
      .optional()
      .meta({ description: 'Deprecated: use customMetrics. Storm-specific metrics to scale on.' }),
    behavior: z
      .strictObject({
        scaleUp: scalingPolicy.optional().meta({ description: 'How fast to scale up.' }),
        scaleDown: scalingPolicy.optional().meta({ description: 'How fast to scale down.' }),
      })
      .optional()
      .meta({ description: 'Scaling behavior (HPA autoscaling/v2 behavior).' }),
  })
  .meta({ description: 'Horizontal autoscaling of the worker pods.' });

export type AutoscalingSpec = z.infer<typeof autoscalingSpec>;

/** Rules of an autoscaling section at `field`. */
export function autoscalingRules(field: string, raw: unknown): FieldError[] {
  const a = asRecord(raw);
  if (!a) return [];
  const out: FieldError[] = [];
  const min = num(a.minReplicas);
  const max = num(a.maxReplicas);
  if (min !== undefined && max !== undefined && max < min) {
    out.push(invalid(`${field}.maxReplicas`, max, 'must be greater than or equal to `minReplicas`'));
  }
  asArray(a.customMetrics).forEach((m, i) => {
    const metric = asRecord(m);
    if (metric && metric.targetValue === undefined && metric.targetAverageValue === undefined) {
      out.push(required(`${field}.customMetrics[${i}]`, 'must specify targetValue or targetAverageValue'));
    }
  });
  return out;
}

export function autoscalingWarnings(field: string, raw: unknown): string[] {
  const a = asRecord(raw);
  if (!a) return [];
  return asArray(a.metrics).length > 0 ? [`${field}.metrics: deprecated, use ${field}.customMetrics`] : [];
}

/** A lifecycle hook: exec, httpGet or tcpSocket (core/v1 LifecycleHandler). */
export const hookSpec = z
  .strictObject({
    exec: opaque('Command to run in the container (core/v1 ExecAction).').optional(),
    httpGet: opaque('HTTP request to perform (core/v1 HTTPGetAction).').optional(),
    tcpSocket: opaque('TCP port to connect to (core/v1 TCPSocketAction).').optional(),
  })
  .meta({ description: 'A lifecycle hook: exactly one of exec, httpGet, tcpSocket.' });

export function hookRules(field: string, raw: unknown): FieldError[] {
  const h = asRecord(raw);
  if (!h) return [];
  const set = (['exec', 'httpGet', 'tcpSocket'] as const).filter((k) => h[k] !== undefined);
  if (set.length === 0) return [required(field, 'must specify a handler type')];
  return set.slice(1).map((k) => ({ type: 'FieldValueForbidden' as const, field: `${field}.${k}`, detail: 'may not specify more than 1 handler type' }));
}
