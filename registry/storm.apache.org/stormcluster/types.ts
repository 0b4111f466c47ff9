// StormCluster (storm.apache.org/v1beta1): a Storm cluster (Nimbus, Supervisors, UI) the server
// either creates in the host cluster or references when someone else runs it.
//
// Defaults: the sections every cluster has (image, nimbus with its thrift client settings,
// supervisor, ui with its service, zookeeper) are filled in when absent, so the stored object
// states what runs. Opt-in sections (resourceNames, persistence, monitoring, ui.ingress, ui.auth,
// nimbus.thrift.tls, nimbus.persistence) stay absent when not given; when given, their own
// defaults apply.
import { z } from 'zod';
import { atomicList, conditions, envVar, listMap, localObjectReference, opaque, quantity, resourceRequirements, timestamp, toleration } from '../../schema.js';
import { imageSpec } from '../common.js';

const nodeSelector = z.record(z.string(), z.string()).meta({ description: 'Node labels the pods must match (pod spec nodeSelector).' });
const tolerations = atomicList(toleration).meta({ description: 'Taints the pods tolerate.' });
const affinity = opaque('Scheduling constraints of the pods (core/v1 Affinity).');
const extraEnvVars = listMap(envVar, ['name']).meta({ description: 'Extra environment variables of the containers.' });

export const resourceNames = z
  .strictObject({
    nimbusStatefulSet: z.string().min(1).optional().meta({ description: 'Name of the existing Nimbus StatefulSet.' }),
    supervisorDeployment: z.string().min(1).optional().meta({ description: 'Name of the existing Supervisor Deployment (or DaemonSet).' }),
    uiDeployment: z.string().min(1).optional().meta({ description: 'Name of the existing UI Deployment.' }),
    nimbusService: z.string().min(1).optional().meta({ description: 'Name of the existing Nimbus Service; required in reference mode.' }),
    uiService: z.string().min(1).optional().meta({ description: 'Name of the existing UI Service.' }),
    configMap: z.string().min(1).optional().meta({ description: 'Name of the existing ConfigMap holding storm.yaml.' }),
  })
  .meta({ description: 'Names of the existing resources of a cluster in reference mode.' });

export const persistenceSpec = z
  .strictObject({
    enabled: z.boolean().default(true).meta({ description: 'Whether a PersistentVolumeClaim backs the local state.' }),
    size: quantity.default('8Gi').meta({ description: 'Requested size of the volume.' }),
    storageClass: z.string().optional().meta({ description: 'StorageClass of the claim; empty for the cluster default.' }),
    accessMode: z
      .enum(['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'])
      .default('ReadWriteOnce')
      .meta({ description: 'Access mode of the claim.' }),
  })
  .meta({ description: 'Persistent storage for Storm local state.' });

export const thriftSpec = z
  .strictObject({
    port: z.int32().min(1).max(65535).default(6627).meta({ description: 'Nimbus Thrift port.' }),
    connectionTimeout: z.int32().min(1).default(30).meta({ description: 'Connection timeout, in seconds.' }),
    requestTimeout: z.int32().min(1).default(60).meta({ description: 'Request timeout, in seconds.' }),
    maxConnections: z.int32().min(1).max(100).default(10).meta({ description: 'Maximum number of pooled connections.' }),
    minIdleConnections: z.int32().min(0).max(50).default(2).meta({ description: 'Minimum number of idle pooled connections.' }),
    maxIdleTime: z.int32().min(60).default(300).meta({ description: 'Seconds an idle connection is kept before it is closed.' }),
    maxRetries: z.int32().min(0).max(10).default(3).meta({ description: 'Retries of a failed call.' }),
    retryDelay: z.int32().min(1).default(1).meta({ description: 'Delay between retries, in seconds.' }),
    useTLS: z.boolean().default(false).meta({ description: 'Whether to talk TLS to Nimbus (nimbus.thrift.tls.port).' }),
    tls: z
      .strictObject({
        certSecret: z.string().min(1).optional().meta({ description: 'Secret with tls.crt, tls.key and ca.crt.' }),
        insecureSkipVerify: z.boolean().default(false).meta({ description: 'Skip verification of the Nimbus certificate (insecure).' }),
      })
      .optional()
      .meta({ description: 'TLS settings, used when useTLS is true.' }),
  })
  .meta({ description: 'How the server talks Thrift to Nimbus: port, timeouts, connection pool, retries.' });

export const nimbusSpec = z
  .strictObject({
    replicas: z.int32().min(1).max(5).default(1).meta({ description: 'Number of Nimbus replicas (1 to 5; more than 1 for HA).' }),
    resources: resourceRequirements.optional(),
    persistence: persistenceSpec.optional().meta({ description: 'Storage of the Nimbus data directory; overrides spec.persistence.' }),
    thrift: thriftSpec.prefault({}),
    extraEnvVars: extraEnvVars.optional(),
    nodeSelector: nodeSelector.optional(),
    tolerations: tolerations.optional(),
    affinity: affinity.optional(),
  })
  .meta({ description: 'The Nimbus (master) daemons.' });

export const supervisorSpec = z
  .strictObject({
    replicas: z.int32().min(1).default(3).meta({ description: 'Number of Supervisors (deployment mode; ignored for a DaemonSet).' }),
    deploymentMode: z
      .enum(['deployment', 'daemonset'])
      .default('deployment')
      .meta({ description: 'Run Supervisors as a Deployment (replicas apply) or a DaemonSet (one per node).' }),
    slotsPerSupervisor: z.int32().min(1).default(4).meta({ description: 'Worker slots (ports) of each Supervisor.' }),
    resources: resourceRequirements.optional(),
    extraEnvVars: extraEnvVars.optional(),
    nodeSelector: nodeSelector.optional(),
    tolerations: tolerations.optional(),
    affinity: affinity.optional(),
  })
  .meta({ description: 'The Supervisor daemons that run the workers.' });

const serviceSpec = z
  .strictObject({
    type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer']).default('ClusterIP').meta({ description: 'Service type.' }),
    port: z.int32().min(1).max(65535).default(8080).meta({ description: 'Service port of the UI.' }),
    nodePort: z.int32().min(30000).max(32767).optional().meta({ description: 'Node port, for type NodePort or LoadBalancer.' }),
    loadBalancerIP: z.string().optional().meta({ description: 'Requested load balancer IP, for type LoadBalancer.' }),
    annotations: z.record(z.string(), z.string()).optional().meta({ description: 'Annotations of the Service.' }),
  })
  .meta({ description: 'The UI Service.' });

const ingressSpec = z
  .strictObject({
    enabled: z.boolean().default(false).meta({ description: 'Whether an Ingress is created.' }),
    className: z.string().default('nginx').meta({ description: 'IngressClass name.' }),
    hostname: z.string().optional().meta({ description: 'Host the Ingress answers for.' }),
    path: z.string().default('/').meta({ description: 'HTTP path of the UI.' }),
    pathType: z.enum(['Prefix', 'Exact', 'ImplementationSpecific']).default('Prefix').meta({ description: 'How the path matches.' }),
    tls: z.boolean().default(false).meta({ description: 'Whether the Ingress terminates TLS.' }),
    tlsSecretName: z.string().optional().meta({ description: 'Secret with the TLS certificate.' }),
    annotations: z.record(z.string(), z.string()).optional().meta({ description: 'Annotations of the Ingress.' }),
  })
  .meta({ description: 'An Ingress in front of the UI.' });

const secretKeySelector = z
  .strictObject({
    name: z.string().min(1).meta({ description: 'Name of the Secret in the namespace.' }),
    key: z.string().min(1).meta({ description: 'Key within the Secret.' }),
  })
  .meta({ description: 'A key of a Secret in the same namespace.' });

const authSpec = z
  .strictObject({
    enabled: z.boolean().default(false).meta({ description: 'Whether the UI requires authentication.' }),
    type: z.enum(['simple', 'oauth']).default('simple').meta({ description: 'Authentication type: simple (users) or oauth.' }),
    existingSecret: z.string().optional().meta({ description: 'Secret holding the authentication configuration.' }),
    users: z
      .array(
        z.strictObject({
          username: z.string().min(1).meta({ description: 'User name.' }),
          passwordSecretKeyRef: secretKeySelector.meta({
            description: 'The Secret key holding the password. Passwords are never stored in the spec.',
          }),
        }),
      )
      .optional()
      .meta({ description: 'Users of simple authentication.' }),
  })
  .meta({ description: 'Authentication of the UI.' });

export const uiSpec = z
  .strictObject({
    enabled: z.boolean().default(true).meta({ description: 'Whether the Storm UI runs.' }),
    replicas: z.int32().min(1).default(1).meta({ description: 'Number of UI replicas.' }),
    resources: resourceRequirements.optional(),
    service: serviceSpec.prefault({}),
    ingress: ingressSpec.optional(),
    auth: authSpec.optional(),
  })
  .meta({ description: 'The Storm UI (also the REST API).' });

export const zookeeperSpec = z
  .strictObject({
    servers: z
      .array(z.string())
      .optional()
      .meta({ description: 'ZooKeeper servers as host or host:port; required in create mode.' }),
    root: z.string().default('/storm').meta({ description: 'ZooKeeper root path (storm.zookeeper.root).' }),
    connectionTimeout: z.int32().min(1).default(15000).meta({ description: 'Connection timeout, in milliseconds.' }),
    sessionTimeout: z.int32().min(1).default(20000).meta({ description: 'Session timeout, in milliseconds.' }),
  })
  .meta({ description: 'The ZooKeeper ensemble Storm coordinates through.' });

export const spec = z
  .strictObject({
    managementMode: z
      .enum(['create', 'reference'])
      .default('create')
      .meta({ description: 'create: the server runs Nimbus, Supervisors and UI; reference: it uses an existing cluster named in resourceNames.' }),
    resourceNames: resourceNames.optional(),
    clusterName: z.string().optional().meta({ description: 'Storm cluster name; defaults to metadata.name.' }),
    image: imageSpec.prefault({}),
    imagePullSecrets: listMap(localObjectReference, ['name']).optional().meta({ description: 'Secrets used to pull the images.' }),
    nimbus: nimbusSpec.prefault({}),
    supervisor: supervisorSpec.prefault({}),
    ui: uiSpec.prefault({}),
    zookeeper: zookeeperSpec.prefault({}),
    config: z.record(z.string(), z.string()).optional().meta({ description: 'storm.yaml settings, key to value.' }),
    persistence: persistenceSpec.optional(),
    monitoring: z
      .strictObject({
        enabled: z.boolean().default(true).meta({ description: 'Whether metrics are exported.' }),
        port: z.int32().min(1).max(65535).default(8080).meta({ description: 'Port of the metrics endpoint.' }),
      })
      .optional()
      .meta({ description: 'Prometheus metrics of the Storm daemons.' }),
  })
  .meta({ description: 'The desired state of a Storm cluster.' });

export const phase = z
  .enum(['Pending', 'Creating', 'Running', 'Failed', 'Updating', 'Terminating'])
  .meta({ description: 'Lifecycle phase of the cluster.' });

export const status = z
  .strictObject({
    phase: phase.optional(),
    observedGeneration: z.int().optional().meta({ description: 'The metadata.generation this status describes.' }),
    nimbusReady: z.int32().optional().meta({ description: 'Ready Nimbus replicas.' }),
    supervisorReady: z.int32().optional().meta({ description: 'Ready Supervisors.' }),
    uiReady: z.int32().optional().meta({ description: 'Ready UI replicas.' }),
    nimbusLeader: z.string().optional().meta({ description: 'Host of the leading Nimbus.' }),
    nimbusNodes: atomicList(z.string()).optional().meta({ description: 'Hosts of all Nimbus daemons.' }),
    totalSlots: z.int32().optional().meta({ description: 'Worker slots of all Supervisors.' }),
    usedSlots: z.int32().optional().meta({ description: 'Worker slots in use.' }),
    freeSlots: z.int32().optional().meta({ description: 'Free worker slots.' }),
    slotsInfo: z.string().optional().meta({ description: 'Slots as used/total, e.g. 6/12.' }),
    topologyCount: z.int32().optional().meta({ description: 'Topologies running on the cluster.' }),
    endpoints: z
      .strictObject({
        nimbus: z.string().optional().meta({ description: 'Nimbus Thrift endpoint, host:port.' }),
        ui: z.string().optional().meta({ description: 'UI URL.' }),
        restApi: z.string().optional().meta({ description: 'REST API URL.' }),
      })
      .optional()
      .meta({ description: 'Where to reach the cluster.' }),
    lastUpdateTime: timestamp.optional().meta({ description: 'When the status was last written.' }),
    conditions: conditions.meta({ description: 'Observations of the cluster; type Available, reason = the internal state.' }),
  })
  .meta({ description: 'The observed state of a Storm cluster.' });

export type StormClusterSpec = z.infer<typeof spec>;
export type StormClusterStatus = z.infer<typeof status>;
