// StormTopology (storm.apache.org/v1beta1): a topology submitted to a StormCluster, its jar, its
// workers, and how new versions replace old ones (recreate, or blue-green with promotion).
//
// Defaults: `workers`, `lifecycle` and `deploymentStrategy` are filled in when absent (every
// topology has workers, is killed with a wait, and is updated some way); `workers.autoscaling`,
// `deploymentStrategy.blueGreen`, the lifecycle hooks and each jar source stay absent unless
// given, and get their own defaults when given.
import { z } from 'zod';
import { atomicList, conditions, envVar, listMap, localObjectReference, opaque, resourceRequirements, timestamp, toleration } from '../../schema.js';
import { autoscalingSpec, hookSpec, pullPolicy } from '../common.js';

/** Metrics the server reads from Nimbus for a topology; usable in pre-promotion analysis. */
export const TOPOLOGY_METRICS = ['emitted', 'transferred', 'acked', 'failed', 'completeLatencyMs', 'pendingTuples', 'capacityPercent'] as const;

export const checksumSpec = z
  .strictObject({
    algorithm: z.enum(['sha256', 'sha512', 'md5']).default('sha256').meta({ description: 'Digest algorithm: sha256, sha512 or md5.' }),
    value: z
      .string()
      .optional()
      .meta({ description: 'Expected digest of the jar, in hexadecimal (64 digits for sha256, 128 for sha512, 32 for md5).' }),
    file: z
      .string()
      .optional()
      .meta({ description: 'Path of a file inside the jar container holding the digest (container sources only); alternative to value.' }),
  })
  .meta({ description: 'Verification of the downloaded jar; a mismatch fails the deployment.' });

export const s3Location = z
  .strictObject({
    bucket: z.string().min(1).meta({ description: 'S3 bucket.' }),
    key: z.string().min(1).meta({ description: 'Object key of the jar.' }),
    region: z.string().optional().meta({ description: 'AWS region of the bucket.' }),
    endpoint: z.string().optional().meta({ description: 'Endpoint of S3-compatible storage.' }),
    credentialsSecret: z.string().optional().meta({ description: 'Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; workload identity when empty.' }),
  })
  .meta({ description: 'An object in S3 (or S3-compatible storage).' });

export const containerJarSource = z
  .strictObject({
    image: z.string().min(1).meta({ description: 'Image that contains the jar.' }),
    path: z.string().default('/app/topology.jar').meta({ description: 'Path of the jar inside the image.' }),
    pullPolicy: pullPolicy.default('IfNotPresent'),
    pullSecrets: listMap(localObjectReference, ['name']).optional().meta({ description: 'Secrets to pull the image.' }),
    resources: resourceRequirements.optional(),
    securityContext: opaque('Security context of the extraction container (core/v1 SecurityContext).').optional(),
    env: listMap(envVar, ['name']).optional().meta({ description: 'Environment of the extraction container.' }),
    volumeMounts: listMap(opaque('A core/v1 VolumeMount.'), ['mountPath']).optional().meta({ description: 'Volume mounts of the extraction container.' }),
    extractionMode: z
      .enum(['initContainer', 'job', 'sidecar'])
      .default('initContainer')
      .meta({ description: 'How the jar is copied out of the image: initContainer, job or sidecar.' }),
    extractionTimeoutSeconds: z.int32().min(1).default(300).meta({ description: 'Time allowed for the extraction, in seconds.' }),
    checksum: checksumSpec.optional().meta({ description: 'Deprecated: use spec.topology.jar.checksum.' }),
  })
  .meta({ description: 'A jar shipped inside a container image.' });

export const jarSpec = z
  .strictObject({
    url: z.string().optional().meta({ description: 'http(s):// or s3:// URL to download the jar from.' }),
    configMap: z.string().optional().meta({ description: 'ConfigMap holding the jar as binaryData (at most 1 MiB).' }),
    secret: z.string().optional().meta({ description: 'Secret holding the jar.' }),
    s3: s3Location.optional(),
    container: containerJarSource.optional(),
    checksum: checksumSpec.optional(),
  })
  .meta({ description: 'Where the topology jar comes from: exactly one of url, configMap, secret, s3, container.' });

export const topologySpec = z
  .strictObject({
    name: z
      .string()
      .meta({ description: "Storm topology name: a DNS label (lower case alphanumerics and '-'), 1 to 63 characters. Immutable." }),
    jar: jarSpec,
    mainClass: z.string().optional().meta({ description: 'Class whose main method builds and submits the topology.' }),
    args: atomicList(z.string()).optional().meta({ description: 'Arguments of the main class.' }),
    config: z
      .record(z.string(), z.string())
      .optional()
      .meta({ description: 'Topology configuration (-c key=value). topology.version is recorded as the deployed version.' }),
  })
  .meta({ description: 'The topology to submit.' });

export const workersSpec = z
  .strictObject({
    replicas: z.int32().min(1).default(2).meta({ description: 'Number of workers (topology.workers).' }),
    resources: resourceRequirements.optional(),
    jvmOpts: atomicList(z.string()).optional().meta({ description: 'JVM options of the worker processes.' }),
    autoscaling: autoscalingSpec.optional(),
    nodeSelector: z.record(z.string(), z.string()).optional().meta({ description: 'Node labels the worker pods must match.' }),
    tolerations: atomicList(toleration).optional().meta({ description: 'Taints the worker pods tolerate.' }),
    affinity: opaque('Scheduling constraints of the worker pods (core/v1 Affinity).').optional(),
    podAnnotations: z.record(z.string(), z.string()).optional().meta({ description: 'Annotations of the worker pods.' }),
    podLabels: z.record(z.string(), z.string()).optional().meta({ description: 'Labels of the worker pods.' }),
  })
  .meta({ description: 'The workers of the topology.' });

export const lifecycleSpec = z
  .strictObject({
    killWaitSeconds: z.int32().min(0).default(30).meta({ description: 'Seconds Storm waits between deactivating and killing the topology.' }),
    updateStrategy: z
      .enum(['recreate', 'rolling'])
      .default('recreate')
      .meta({
        description:
          'How a changed spec is applied when deploymentStrategy is recreate. Storm cannot update a running topology in place, so rolling is served as recreate (deactivate, kill, resubmit; the API warns); use deploymentStrategy.type blueGreen to keep a version running during an update.',
      }),
    preStop: hookSpec.optional(),
    postStart: hookSpec.optional(),
  })
  .meta({ description: 'Kill and update behavior.' });

export const analysisSpec = z
  .strictObject({
    metricName: z
      .string()
      .min(1)
      .meta({ description: `Name of the metric. Without a query, one of the topology metrics: ${TOPOLOGY_METRICS.join(', ')}.` }),
    threshold: z
      .string()
      .regex(/^(<=|>=|==|!=|<|>)\s*-?\d+(\.\d+)?$/, { message: "must be a comparison with a number, e.g. '<500' or '>=0.99'" })
      .meta({ description: "The condition the candidate's metric must meet, e.g. '<500' or '>=1000'." }),
    query: z.string().optional().meta({ description: 'A query that yields the metric; when empty, metricName is read from Nimbus.' }),
  })
  .meta({ description: 'A check run against the candidate version before it is promoted.' });

export const blueGreenStrategy = z
  .strictObject({
    autoPromotionEnabled: z
      .boolean()
      .default(false)
      .meta({ description: 'Promote the candidate automatically once it is healthy and its analysis passes; otherwise wait for the promote subresource.' }),
    autoPromotionSeconds: z
      .int32()
      .min(0)
      .optional()
      .meta({ description: 'Seconds the candidate must run healthy before automatic promotion.' }),
    scaleDownDelaySeconds: z
      .int32()
      .min(0)
      .default(30)
      .meta({ description: 'Seconds the previous version keeps running after promotion, for a fast rollback.' }),
    prePromotionAnalysis: z.array(analysisSpec).optional().meta({ description: 'Checks the candidate must pass before promotion.' }),
  })
  .meta({ description: 'Blue-green parameters: the new version runs beside the active one and replaces it on promotion.' });

export const deploymentStrategy = z
  .strictObject({
    type: z
      .enum(['recreate', 'blueGreen'])
      .default('recreate')
      .meta({ description: 'recreate: kill the running version, then submit the new one; blueGreen: run the new version beside the active one until it is promoted.' }),
    blueGreen: blueGreenStrategy.optional(),
  })
  .meta({ description: 'How a new version of the topology replaces the running one.' });

export const spec = z
  .strictObject({
    clusterRef: z.string().meta({ description: 'Name of the StormCluster in the same namespace. Immutable.' }),
    topology: topologySpec,
    workers: workersSpec.prefault({}),
    lifecycle: lifecycleSpec.prefault({}),
    suspend: z.boolean().default(false).meta({ description: 'Deactivate the topology (it stays submitted).' }),
    deploymentStrategy: deploymentStrategy.prefault({}),
    revisionHistoryLimit: z
      .int32()
      .min(0)
      .default(10)
      .meta({ description: 'Number of recorded revisions kept in status.history for rollback.' }),
  })
  .meta({ description: 'The desired state of a Storm topology.' });

export const phase = z
  .enum(['Pending', 'Submitted', 'Running', 'Suspended', 'Failed', 'Killed', 'Updating'])
  .meta({ description: 'Lifecycle phase of the topology.' });

const i64 = () => z.int();

export const revision = z
  .strictObject({
    revision: z.int().min(1).meta({ description: 'Revision number, increasing from 1.' }),
    version: z.string().meta({ description: 'topology.version of the revision, or "unversioned".' }),
    topology: topologySpec.meta({ description: 'The spec.topology that was deployed; rollback restores it.' }),
    topologyId: z.string().optional().meta({ description: 'Storm topology id the revision ran as.' }),
    color: z.enum(['blue', 'green']).optional().meta({ description: 'Blue-green slot the revision ran in.' }),
    cause: z
      .enum(['Created', 'Updated', 'Promoted', 'RolledBack'])
      .optional()
      .meta({ description: 'How the revision became active.' }),
    deployedAt: timestamp.meta({ description: 'When the revision became active.' }),
  })
  .meta({ description: 'A version of the topology that was active.' });

export const analysisResult = z.strictObject({
  metricName: z.string().meta({ description: 'The analysed metric.' }),
  value: z.number().optional().meta({ description: 'Its observed value.' }),
  passed: z.boolean().meta({ description: 'Whether the threshold was met.' }),
  message: z.string().optional().meta({ description: 'Why it failed, if it did.' }),
});

export const blueGreenStatus = z
  .strictObject({
    activeColor: z.enum(['blue', 'green']).optional().meta({ description: 'Slot of the active version.' }),
    activeTopologyName: z.string().optional().meta({ description: 'Storm name of the active topology.' }),
    activeTopologyId: z.string().optional().meta({ description: 'Storm id of the active topology.' }),
    candidate: z
      .strictObject({
        color: z.enum(['blue', 'green']).optional().meta({ description: 'Slot of the candidate.' }),
        topologyName: z.string().optional().meta({ description: 'Storm name of the candidate topology.' }),
        topologyId: z.string().optional().meta({ description: 'Storm id of the candidate topology.' }),
        version: z.string().optional().meta({ description: 'Version of the candidate.' }),
        startedAt: timestamp.optional().meta({ description: 'When the candidate was submitted.' }),
        autoPromoteAt: timestamp.optional().meta({ description: 'When it will be promoted automatically.' }),
        analysis: z.array(analysisResult).optional().meta({ description: 'Results of the pre-promotion analysis.' }),
      })
      .optional()
      .meta({ description: 'The version waiting for promotion.' }),
    previousScaleDownAt: timestamp.optional().meta({ description: 'When the previous version will be killed.' }),
  })
  .meta({ description: 'State of a blue-green deployment.' });

export const status = z
  .strictObject({
    phase: phase.optional(),
    observedGeneration: z.int().optional().meta({ description: 'The metadata.generation this status describes.' }),
    internalState: z.string().optional().meta({ description: "The controller's internal state (Validating, Downloading, Submitting, Killing...)." }),
    topologyId: z.string().optional().meta({ description: 'Storm-assigned topology id.' }),
    topologyName: z.string().optional().meta({ description: 'Storm topology name.' }),
    workers: z.int32().optional().meta({ description: 'Workers allocated.' }),
    executors: z.int32().optional().meta({ description: 'Executors.' }),
    tasks: z.int32().optional().meta({ description: 'Tasks.' }),
    uptime: z.string().optional().meta({ description: 'Uptime, e.g. 2h15m.' }),
    metrics: z
      .strictObject({
        emitted: i64().optional().meta({ description: 'Tuples emitted.' }),
        transferred: i64().optional().meta({ description: 'Tuples transferred.' }),
        acked: i64().optional().meta({ description: 'Tuples acked.' }),
        failed: i64().optional().meta({ description: 'Tuples failed.' }),
        completeLatencyMs: i64().optional().meta({ description: 'Average complete latency, in milliseconds.' }),
        pendingTuples: i64().optional().meta({ description: 'Tuples pending.' }),
        capacityPercent: z.int32().optional().meta({ description: 'Highest bolt capacity, in percent.' }),
      })
      .optional()
      .meta({ description: 'Topology metrics (all-time window).' }),
    lastError: z.string().optional().meta({ description: 'Last error reported by Storm or the controller.' }),
    lastUpdateTime: timestamp.optional().meta({ description: 'When the status was last written.' }),
    deployedVersion: z.string().optional().meta({ description: 'Version running (topology.version, or "unversioned").' }),
    downloadedJarPath: z.string().optional().meta({ description: 'Where the controller keeps the downloaded jar.' }),
    currentRevision: z.int().min(1).optional().meta({ description: 'Revision number of the active version (see history).' }),
    resubmissions: z
      .int()
      .min(0)
      .optional()
      .meta({ description: 'Times the active version was submitted again because Nimbus no longer knew it (e.g. restarted with empty state); sets the backoff between attempts.' }),
    lastResubmitTime: timestamp.optional().meta({ description: 'When the active version was last submitted again after Nimbus lost it.' }),
    history: z.array(revision).optional().meta({ description: 'Recorded revisions, oldest first, at most spec.revisionHistoryLimit.' }),
    blueGreen: blueGreenStatus.optional(),
    conditions: conditions.meta({ description: 'Observations: Ready (reason = internal state) and DependenciesReady.' }),
  })
  .meta({ description: 'The observed state of a Storm topology.' });

export type StormTopologySpec = z.infer<typeof spec>;
export type StormTopologyStatus = z.infer<typeof status>;
export type TopologySpec = z.infer<typeof topologySpec>;
export type TopologyRevision = z.infer<typeof revision>;
