// StormWorkerPool (storm.apache.org/v1beta1): a Deployment of dedicated worker pods for one
// topology, with its own image, pod template, JVM options, ports and autoscaling.
//
// Defaults: `replicas` (1) and `ports` (6700, 4 ports) are filled in; `image`, `template` and
// `autoscaling` stay absent unless given (the pool then uses the cluster's image and plain pods),
// and get their own defaults when given.
import { z } from 'zod';
import { atomicList, conditions, envVar, listMap, opaque, resourceRequirements, timestamp, toleration } from '../../schema.js';
import { autoscalingSpec, imageSpec } from '../common.js';

const containerOverride = z
  .strictObject({
    name: z.string().min(1).meta({ description: 'Name of the container to override (the worker container is "worker").' }),
    resources: resourceRequirements.optional(),
    env: listMap(envVar, ['name']).optional().meta({ description: 'Extra environment variables.' }),
    volumeMounts: listMap(opaque('A core/v1 VolumeMount.'), ['mountPath']).optional().meta({ description: 'Extra volume mounts.' }),
  })
  .meta({ description: 'Overrides of one container of the worker pod.' });

export const podTemplate = z
  .strictObject({
    metadata: z
      .strictObject({
        labels: z.record(z.string(), z.string()).optional().meta({ description: 'Extra labels of the worker pods.' }),
        annotations: z.record(z.string(), z.string()).optional().meta({ description: 'Annotations of the worker pods.' }),
      })
      .optional()
      .meta({ description: 'Metadata of the worker pods.' }),
    spec: z
      .strictObject({
        containers: listMap(containerOverride, ['name']).optional().meta({ description: 'Container overrides, by name.' }),
        volumes: listMap(opaque('A core/v1 Volume.'), ['name']).optional().meta({ description: 'Extra volumes of the pod.' }),
        affinity: opaque('Scheduling constraints (core/v1 Affinity).').optional(),
        tolerations: atomicList(toleration).optional().meta({ description: 'Taints the pods tolerate.' }),
        nodeSelector: z.record(z.string(), z.string()).optional().meta({ description: 'Node labels the pods must match.' }),
        priorityClassName: z.string().optional().meta({ description: 'PriorityClass of the pods.' }),
        serviceAccountName: z.string().optional().meta({ description: 'ServiceAccount the pods run as.' }),
        securityContext: opaque('Pod-level security attributes (core/v1 PodSecurityContext).').optional(),
        hostNetwork: z.boolean().optional().meta({ description: "Use the node's network namespace." }),
        hostPID: z.boolean().optional().meta({ description: "Use the node's PID namespace." }),
        hostIPC: z.boolean().optional().meta({ description: "Use the node's IPC namespace." }),
        dnsPolicy: z
          .enum(['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'])
          .optional()
          .meta({ description: 'DNS policy of the pods.' }),
        dnsConfig: opaque('DNS parameters of the pods (core/v1 PodDNSConfig).').optional(),
        terminationGracePeriodSeconds: z.int().min(0).optional().meta({ description: 'Seconds a worker gets to stop.' }),
      })
      .optional()
      .meta({ description: 'Pod spec overrides.' }),
  })
  .meta({ description: 'Customisation of the worker pods.' });

export const portsSpec = z
  .strictObject({
    start: z.int32().min(1).max(65535).default(6700).meta({ description: 'First worker port (supervisor.slots.ports).' }),
    count: z.int32().min(1).default(4).meta({ description: 'Number of consecutive worker ports.' }),
  })
  .meta({ description: 'The worker ports: start, start+1, ..., start+count-1.' });

export const spec = z
  .strictObject({
    topologyRef: z.string().meta({ description: 'Name of the StormTopology in the same namespace. Immutable.' }),
    clusterRef: z.string().optional().meta({ description: "Name of the StormCluster; defaults to the topology's. Immutable." }),
    replicas: z.int32().min(0).default(1).meta({ description: 'Number of worker pods; ignored while autoscaling is enabled.' }),
    image: imageSpec.optional().meta({ description: "Worker image; defaults to the cluster's image." }),
    template: podTemplate.optional(),
    workerConfig: z.record(z.string(), z.string()).optional().meta({ description: 'Storm configuration of the workers, key to value.' }),
    jvmOpts: atomicList(z.string()).optional().meta({ description: 'JVM options of the worker processes.' }),
    ports: portsSpec.prefault({}),
    autoscaling: autoscalingSpec.optional(),
  })
  .meta({ description: 'The desired state of a Storm worker pool.' });

export const phase = z
  .enum(['Pending', 'Creating', 'Running', 'Updating', 'Failed', 'Terminating'])
  .meta({ description: 'Lifecycle phase of the pool.' });

export const status = z
  .strictObject({
    phase: phase.optional(),
    observedGeneration: z.int().optional().meta({ description: 'The metadata.generation this status describes.' }),
    replicas: z.int32().optional().meta({ description: 'Worker pods.' }),
    readyReplicas: z.int32().optional().meta({ description: 'Ready worker pods.' }),
    availableReplicas: z.int32().optional().meta({ description: 'Available worker pods.' }),
    unavailableReplicas: z.int32().optional().meta({ description: 'Unavailable worker pods.' }),
    updatedReplicas: z.int32().optional().meta({ description: 'Worker pods of the current template.' }),
    deploymentName: z.string().optional().meta({ description: 'Name of the Deployment of the workers.' }),
    hpaName: z.string().optional().meta({ description: 'Name of the HorizontalPodAutoscaler, if any.' }),
    message: z.string().optional().meta({ description: 'Human-readable state.' }),
    lastUpdateTime: timestamp.optional().meta({ description: 'When the status was last written.' }),
    conditions: conditions.meta({ description: 'Observations: Ready, Autoscaling.' }),
  })
  .meta({ description: 'The observed state of a Storm worker pool.' });

export type StormWorkerPoolSpec = z.infer<typeof spec>;
export type StormWorkerPoolStatus = z.infer<typeof status>;
