// Performer (hourglass.eigenlayer.io/v1alpha1): an AVS performer the executor sends tasks to over
// gRPC, run as a Pod and a ClusterIP Service named `performer-<name>`.
//
// Defaults: imagePullPolicy IfNotPresent and `config` (grpcPort 9090) are filled in; `scheduling`
// and `hardwareRequirements` stay absent unless given.
import { z } from 'zod';
import { atomicList, conditions, envVar, listMap, localObjectReference, opaque, resourceRequirements, timestamp, toleration } from '../../schema.js';
import { address, configMapKeySelector, secretKeySelector } from '../common.js';

export const environmentFrom = z
  .strictObject({
    name: z.string().min(1).meta({ description: 'Name of the environment variable.' }),
    valueFrom: z
      .strictObject({
        secretKeyRef: secretKeySelector.optional(),
        configMapKeyRef: configMapKeySelector.optional(),
      })
      .meta({ description: 'Where the value comes from: exactly one of secretKeyRef, configMapKeyRef.' }),
  })
  .meta({ description: 'An environment variable taken from a Secret or ConfigMap key.' });

export const performerConfig = z
  .strictObject({
    grpcPort: z.int32().min(1).max(65535).default(9090).meta({ description: 'Port the performer serves gRPC on.' }),
    environment: z
      .record(z.string(), z.string())
      .optional()
      .meta({ description: 'Deprecated: use env. Environment variables, name to value.' }),
    environmentFrom: z
      .array(environmentFrom)
      .optional()
      .meta({ description: 'Deprecated: use env with valueFrom. Environment variables from Secrets and ConfigMaps.' }),
    env: listMap(envVar, ['name']).optional().meta({ description: 'Environment variables of the performer container (core/v1 EnvVar).' }),
    args: atomicList(z.string()).optional().meta({ description: 'Arguments of the entrypoint.' }),
    command: atomicList(z.string()).optional().meta({ description: "Entrypoint; the image's when empty." }),
    serviceAccountName: z.string().optional().meta({ description: 'ServiceAccount the performer pod runs as.' }),
  })
  .meta({ description: 'Configuration of the performer container.' });

export const schedulingConfig = z
  .strictObject({
    nodeSelector: z.record(z.string(), z.string()).optional().meta({ description: 'Node labels the pod must match.' }),
    tolerations: atomicList(toleration).optional().meta({ description: 'Taints the pod tolerates.' }),
    affinity: opaque('Scheduling constraints (core/v1 Affinity).').optional(),
    runtimeClass: z.string().optional().meta({ description: 'RuntimeClass of the pod.' }),
    priorityClassName: z.string().optional().meta({ description: 'PriorityClass of the pod.' }),
  })
  .meta({ description: 'Scheduling of the performer pod.' });

export const hardwareRequirements = z
  .strictObject({
    gpuType: z.string().optional().meta({ description: 'GPU model, e.g. nvidia-a100; requires gpuCount > 0.' }),
    gpuCount: z.int32().min(0).optional().meta({ description: 'GPUs requested (nvidia.com/gpu).' }),
    teeRequired: z.boolean().optional().meta({ description: 'Whether a Trusted Execution Environment is required.' }),
    teeType: z.string().optional().meta({ description: 'TEE technology, e.g. sgx, sev or tdx.' }),
    customLabels: z.record(z.string(), z.string()).optional().meta({ description: 'Node labels that identify the hardware.' }),
  })
  .meta({ description: 'Specialised hardware the performer needs.' });

export const spec = z
  .strictObject({
    avsAddress: address('Address of the AVS the performer serves (0x and 40 hexadecimal digits). Immutable.'),
    image: z.string().min(1).meta({ description: 'Performer container image.' }),
    imagePullPolicy: z
      .enum(['Always', 'IfNotPresent', 'Never'])
      .default('IfNotPresent')
      .meta({ description: 'When the kubelet pulls the image.' }),
    version: z.string().optional().meta({ description: 'Version of the performer, for upgrade tracking.' }),
    config: performerConfig.prefault({}),
    resources: resourceRequirements.optional(),
    scheduling: schedulingConfig.optional(),
    hardwareRequirements: hardwareRequirements.optional(),
    imagePullSecrets: listMap(localObjectReference, ['name']).optional().meta({ description: 'Secrets used to pull the image.' }),
  })
  .meta({ description: 'The desired state of an AVS performer.' });

export const phase = z
  .enum(['Pending', 'Running', 'Upgrading', 'Terminating', 'Failed'])
  .meta({ description: 'Lifecycle phase of the performer.' });

export const versionRef = z
  .strictObject({
    version: z.string().optional().meta({ description: 'spec.version of that revision.' }),
    image: z.string().meta({ description: 'spec.image of that revision.' }),
    revision: z.string().optional().meta({ description: "Hash of the revision's pod template; the Pod's hourglass.eigenlayer.io/revision label." }),
  })
  .meta({ description: 'A version of the performer: its spec.version, image and pod template revision.' });

export const pendingVersion = versionRef
  .extend({
    podName: z.string().optional().meta({ description: 'The Pod running the new version beside the serving one.' }),
    since: timestamp.optional().meta({ description: 'When the new version was started.' }),
    promoteRequested: z.boolean().optional().meta({ description: 'Set by the promote verb: switch to it without waiting for SERVING.' }),
  })
  .meta({ description: 'A new version started beside the serving one (blue-green), waiting to report SERVING.' });

export const status = z
  .strictObject({
    phase: phase.optional(),
    currentVersion: versionRef.optional().meta({ description: 'The version the Service sends traffic to.' }),
    pendingVersion: pendingVersion.optional(),
    previousVersion: versionRef.optional().meta({ description: 'The version served before the last switch; the rollback verb returns to it.' }),
    observedGeneration: z.int().optional().meta({ description: 'The metadata.generation this status describes.' }),
    ready: z.boolean().optional().meta({ description: 'Whether the performer answers gRPC health checks with SERVING.' }),
    podName: z.string().optional().meta({ description: 'Name of the performer Pod.' }),
    serviceName: z.string().optional().meta({ description: 'Name of the performer Service.' }),
    grpcEndpoint: z.string().optional().meta({ description: 'DNS name of the Service: <svc>.<ns>.svc.cluster.local.' }),
    nodeName: z.string().optional().meta({ description: 'Node the performer Pod runs on.' }),
    lastUpgrade: timestamp.optional().meta({ description: 'When the performer was last upgraded.' }),
    readyTime: timestamp.optional().meta({ description: 'When the performer became ready.' }),
    conditions: conditions.meta({ description: 'Observations of the performer.' }),
  })
  .meta({ description: 'The observed state of an AVS performer.' });

export type PerformerSpec = z.infer<typeof spec>;
export type PerformerStatus = z.infer<typeof status>;
