// HourglassExecutor (hourglass.eigenlayer.io/v1alpha1): the Hourglass executor (ponos) as a
// StatefulSet, with its ConfigMap: aggregator, chains, operator keys, how it runs performers.
//
// Operator keys are private signing keys (BLS, ECDSA). The spec holds only references to Secret
// keys, never the key material: `operatorKeys: {bls: {secretKeyRef: {name, key}}}`. A plain string
// is rejected (the historical CRD had `map[string]string`).
//
// Defaults: replicas 1, config.performerMode kubernetes, config.logLevel info. The optional
// `config.kubernetes` section stays absent unless given (performers then go to the executor's
// namespace).
import { z } from 'zod';
import { atomicList, conditions, listMap, localObjectReference, opaque, resourceRequirements, timestamp, toleration } from '../../schema.js';
import { address, secretKeySelector } from '../common.js';

export const PLAIN_OPERATOR_KEY_MESSAGE =
  'operator keys may not be given as plain values; store the key in a Secret and reference it as {secretKeyRef: {name, key}}';

export const operatorKeyRef = z
  .strictObject(
    {
      secretKeyRef: secretKeySelector.meta({ description: 'The Secret key holding the private key.' }),
    },
    { error: (issue) => (typeof issue.input === 'string' ? PLAIN_OPERATOR_KEY_MESSAGE : undefined) },
  )
  .meta({ description: 'Where an operator key is: a key of a Secret. Plain key values are rejected.' });

export const chainConfig = z
  .strictObject({
    name: z.string().min(1).meta({ description: 'Identifier of the chain, e.g. ethereum or base.' }),
    rpc: z.string().min(1).meta({ description: 'RPC endpoint of the chain: an http(s):// or ws(s):// URL.' }),
    chainId: z.int().min(1).meta({ description: 'EVM chain id.' }),
    taskMailboxAddress: address('Address of the TaskMailbox contract on the chain.'),
  })
  .meta({ description: 'A chain the executor watches.' });

export const schedulingConfig = z
  .strictObject({
    nodeSelector: z.record(z.string(), z.string()).optional().meta({ description: 'Node labels the performer pods must match.' }),
    nodeAffinity: opaque('Node affinity of the performer pods (core/v1 NodeAffinity).').optional(),
    tolerations: atomicList(toleration).optional().meta({ description: 'Taints the performer pods tolerate.' }),
    runtimeClass: z.string().optional().meta({ description: 'RuntimeClass of the performer pods.' }),
  })
  .meta({ description: 'Default scheduling of performer pods.' });

export const executorConfig = z
  .strictObject({
    aggregatorEndpoint: z.string().meta({ description: 'gRPC endpoint of the aggregator, host:port.' }),
    operatorKeys: z
      .record(z.string().min(1), operatorKeyRef)
      .meta({ description: 'Signing keys by name (e.g. bls, ecdsa), each a reference to a Secret key.' }),
    chains: listMap(chainConfig, ['name']).meta({ description: 'Chains the executor watches; at least one.' }),
    performerMode: z
      .enum(['docker', 'kubernetes'])
      .default('kubernetes')
      .meta({ description: 'How the executor runs performers: docker containers, or Performer objects in Kubernetes.' }),
    kubernetes: z
      .strictObject({
        namespace: z.string().optional().meta({ description: "Namespace of the Performer objects; the executor's own when empty." }),
        defaultScheduling: schedulingConfig.optional(),
      })
      .optional()
      .meta({ description: 'Settings of kubernetes performer mode.' }),
    logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info').meta({ description: 'Log verbosity.' }),
  })
  .meta({ description: 'Configuration of the executor, written to its ConfigMap.' });

export const spec = z
  .strictObject({
    image: z.string().min(1).meta({ description: 'Executor container image.' }),
    replicas: z.int32().min(0).default(1).meta({ description: 'Number of executor replicas; 0 stops the executor.' }),
    config: executorConfig,
    resources: resourceRequirements.optional(),
    nodeSelector: z.record(z.string(), z.string()).optional().meta({ description: 'Node labels the executor pods must match.' }),
    tolerations: atomicList(toleration).optional().meta({ description: 'Taints the executor pods tolerate.' }),
    imagePullSecrets: listMap(localObjectReference, ['name']).optional().meta({ description: 'Secrets used to pull the image.' }),
  })
  .meta({ description: 'The desired state of an Hourglass executor.' });

export const phase = z.enum(['Pending', 'Running', 'Stopped', 'Failed']).meta({ description: 'Lifecycle phase of the executor.' });

export const status = z
  .strictObject({
    phase: phase.optional(),
    observedGeneration: z.int().optional().meta({ description: 'The metadata.generation this status describes.' }),
    replicas: z.int32().optional().meta({ description: 'Executor pods.' }),
    readyReplicas: z.int32().optional().meta({ description: 'Ready executor pods.' }),
    lastConfigUpdate: timestamp.optional().meta({ description: 'When the configuration was last applied.' }),
    conditions: conditions.meta({ description: 'Observations of the executor.' }),
  })
  .meta({ description: 'The observed state of an Hourglass executor.' });

export type HourglassExecutorSpec = z.infer<typeof spec>;
export type HourglassExecutorStatus = z.infer<typeof status>;
