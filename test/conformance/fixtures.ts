// The ONE kind-specific table of the conformance harness. Everything else (plural, group,
// version, scope, shortNames, categories, selectable fields, scale mapping, columns) is derived
// from `allKinds` in registry/kinds.ts, and the sample objects come from deploy/examples/.
//
// An entry only says what a generic case cannot know: which fields the server must default,
// which spec change is valid, a valid status, which values are invalid (and the exact field
// paths the 422 must name), and how to make a second object differ in every spec-based
// selectable field. A kind without an entry fails every case that needs one.

export interface KindFixture {
  /**
   * Dotted paths removed from the example before it is created, with the value the server must
   * default each to (seed-apis.md). Empty when the kind has no defaults.
   */
  defaults: Record<string, unknown>;
  /** A valid spec change (dotted path → new value); it must bump metadata.generation. */
  specChange: Record<string, unknown>;
  /** A valid status, written through `/status`; sets `status.phase` when the kind has one. */
  status: Record<string, unknown>;
  /** Schema violations (dotted path → value) and the exact set of `details.causes[].field`. */
  invalid: { set: Record<string, unknown>; fields: string[] };
  /** A violation of a rule beyond the schema (the kind's Strategy), and the fields it names. */
  invalidRule: { set: Record<string, unknown>; fields: string[] };
  /**
   * Applied to a second object so that it differs from the example in every `spec.*` selectable
   * field (status.* fields are varied through `status`).
   */
  variant: Record<string, unknown>;
}

export const KIND_FIXTURES: Record<string, KindFixture> = {
  StormCluster: {
    defaults: { 'spec.nimbus.thrift.port': 6627, 'spec.supervisor.slotsPerSupervisor': 4, 'spec.zookeeper.sessionTimeout': 20000 },
    specChange: { 'spec.supervisor.replicas': 5 },
    status: { phase: 'Running', observedGeneration: 1, nimbusReady: 2 },
    invalid: { set: { 'spec.nimbus.replicas': 9, 'spec.managementMode': 'bogus' }, fields: ['spec.managementMode', 'spec.nimbus.replicas'] },
    invalidRule: { set: { 'spec.zookeeper.root': 'storm' }, fields: ['spec.zookeeper.root'] },
    variant: { 'spec.managementMode': 'reference', 'spec.resourceNames': { nimbusService: 'nimbus' } },
  },
  StormTopology: {
    defaults: { 'spec.lifecycle.killWaitSeconds': 30, 'spec.suspend': false },
    specChange: { 'spec.workers.replicas': 4 },
    status: { phase: 'Running', observedGeneration: 1, workers: 3 },
    invalid: { set: { 'spec.workers.replicas': 0, 'spec.lifecycle.killWaitSeconds': -1 }, fields: ['spec.lifecycle.killWaitSeconds', 'spec.workers.replicas'] },
    invalidRule: { set: { 'spec.topology.jar.url': 'ftp://example.com/topology.jar' }, fields: ['spec.topology.jar.url'] },
    variant: { 'spec.clusterRef': 'staging', 'spec.topology.name': 'exclamation' },
  },
  StormWorkerPool: {
    defaults: { 'spec.ports': { start: 6700, count: 4 } },
    specChange: { 'spec.replicas': 5 },
    status: { phase: 'Running', observedGeneration: 1, replicas: 3, readyReplicas: 3 },
    invalid: { set: { 'spec.replicas': -1, 'spec.ports.start': 70000 }, fields: ['spec.ports.start', 'spec.replicas'] },
    invalidRule: { set: { 'spec.ports': { start: 65535, count: 4 } }, fields: ['spec.ports.count'] },
    variant: { 'spec.topologyRef': 'exclamation', 'spec.clusterRef': 'staging' },
  },
  PVCPolicy: {
    defaults: {},
    specChange: { 'spec.template.cooldown': '45m' },
    status: { observedGeneration: 1, matchedPVCs: 4 },
    invalid: { set: { 'spec.template.threshold': 'lots', 'spec.template.cooldown': 'forever' }, fields: ['spec.template.cooldown', 'spec.template.threshold'] },
    invalidRule: { set: { 'spec.template.threshold': '150%' }, fields: ['spec.template.threshold'] },
    variant: {},
  },
  PVCGroup: {
    defaults: { 'spec.coordinationPolicy': 'largest' },
    specChange: { 'spec.template.increase': '60Gi' },
    status: { observedGeneration: 1, memberCount: 3, currentSize: '100Gi' },
    invalid: { set: { 'spec.coordinationPolicy': 'smallest', 'spec.template.maxSize': 'huge' }, fields: ['spec.coordinationPolicy', 'spec.template.maxSize'] },
    invalidRule: { set: { 'spec.template.threshold': '0%' }, fields: ['spec.template.threshold'] },
    variant: {},
  },
  HourglassExecutor: {
    defaults: { 'spec.config.logLevel': 'info', 'spec.config.performerMode': 'kubernetes' },
    specChange: { 'spec.config.logLevel': 'debug' },
    status: { phase: 'Running', observedGeneration: 1, replicas: 1 },
    invalid: { set: { 'spec.replicas': -1, 'spec.config.logLevel': 'verbose' }, fields: ['spec.config.logLevel', 'spec.replicas'] },
    invalidRule: { set: { 'spec.config.chains': [] }, fields: ['spec.config.chains'] },
    variant: {},
  },
  Performer: {
    defaults: { 'spec.config.grpcPort': 9090, 'spec.imagePullPolicy': 'IfNotPresent' },
    specChange: { 'spec.version': 'v1.3.0' },
    status: { phase: 'Running', observedGeneration: 1, ready: true },
    invalid: { set: { 'spec.avsAddress': 'nope', 'spec.config.grpcPort': 0 }, fields: ['spec.avsAddress', 'spec.config.grpcPort'] },
    invalidRule: { set: { 'spec.hardwareRequirements.gpuCount': 0 }, fields: ['spec.hardwareRequirements.gpuCount'] },
    variant: { 'spec.avsAddress': '0x1111111111111111111111111111111111111111' },
  },
};
