// The seven kinds as data: their declarations, schemas (defaults, enums, ranges), rules (cross-field
// validation, immutable fields, warnings), printer columns, field selectors and scale mappings.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { fieldAt, type KindDeclaration } from '../../registry/kind.js';
import { allKinds } from '../../registry/kinds.js';
import type { KubeObject } from '../../registry/meta.js';
import { mainStrategy } from '../../registry/strategy.js';
import { PLAIN_OPERATOR_KEY_MESSAGE } from '../../registry/hourglass.eigenlayer.io/hourglassexecutor/types.js';

type Obj = Record<string, any>;

const kinds = new Map(allKinds.map((d) => [d.kind, d]));
function decl(kind: string): KindDeclaration {
  const d = kinds.get(kind);
  if (!d) throw new Error(`no kind ${kind}`);
  return d;
}

const EXAMPLE_FILES: Record<string, string> = {
  StormCluster: 'stormcluster.yaml',
  StormTopology: 'stormtopology.yaml',
  StormWorkerPool: 'stormworkerpool.yaml',
  PVCPolicy: 'pvcpolicy.yaml',
  PVCGroup: 'pvcgroup.yaml',
  HourglassExecutor: 'hourglassexecutor.yaml',
  Performer: 'performer.yaml',
};

/** The example of `kind` from deploy/examples (tests run from dist/test/registry). */
function example(kind: string): Obj {
  const url = new URL(`../../../deploy/examples/${EXAMPLE_FILES[kind]}`, import.meta.url);
  return parse(readFileSync(url, 'utf8')) as Obj;
}

/** The example's spec with `edit` applied to a copy. */
function exampleSpec(kind: string, edit: (spec: Obj) => void = () => {}): Obj {
  const spec = structuredClone(example(kind).spec) as Obj;
  edit(spec);
  return spec;
}

function objectOf(kind: string, spec: unknown, metadata: Obj = {}): KubeObject {
  const d = decl(kind);
  return {
    apiVersion: `${d.group}/${d.versions[0]}`,
    kind,
    metadata: { name: 'sample', namespace: 'default', ...metadata },
    spec: spec as Record<string, unknown>,
  };
}

/** `spec.workers.tolerations[2].key` from a zod issue path. */
function path(prefix: string, p: readonly PropertyKey[]): string {
  return p.reduce<string>((out, step) => (typeof step === 'number' ? `${out}[${step}]` : `${out}.${String(step)}`), prefix);
}

function valueAt(root: unknown, p: readonly PropertyKey[]): unknown {
  let cur = root;
  for (const step of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[step];
  }
  return cur;
}

interface Err {
  type: string;
  field: string;
}

/** Schema errors as field errors: the mapping of the Kubernetes CRD validator. */
function schemaErrors(issues: readonly z.core.$ZodIssue[], input: unknown): Err[] {
  const out: Err[] = [];
  for (const issue of issues) {
    const field = path('spec', issue.path);
    switch (issue.code) {
      case 'invalid_type':
        out.push({ type: valueAt(input, issue.path) === undefined ? 'FieldValueRequired' : 'FieldValueTypeInvalid', field });
        break;
      case 'invalid_value':
        out.push({ type: 'FieldValueNotSupported', field });
        break;
      case 'unrecognized_keys':
        for (const k of issue.keys) out.push({ type: 'UnknownField', field: `${field}.${k}` });
        break;
      default:
        out.push({ type: 'FieldValueInvalid', field });
    }
  }
  return out;
}

/** Schema errors if the spec does not parse, otherwise the kind's rule errors. */
function errorsOf(kind: string, spec: unknown, metadata: Obj = {}): Err[] {
  const d = decl(kind);
  const parsed = d.spec.safeParse(spec);
  if (!parsed.success) return schemaErrors(parsed.error.issues, spec);
  return (d.rules?.validate?.(objectOf(kind, parsed.data, metadata)) ?? []).map((e) => ({ type: e.type, field: e.field }));
}

function parsedSpec(kind: string, spec: unknown): Obj {
  return decl(kind).spec.parse(spec) as Obj;
}

// ---------------------------------------------------------------------------------------------
// Declarations

const NAMES: Array<[string, string, string, string, string[], string[], string]> = [
  // kind, group, version, plural, shortNames, categories, singular
  ['StormCluster', 'storm.apache.org', 'v1beta1', 'stormclusters', ['sc'], ['all', 'storm'], 'stormcluster'],
  ['StormTopology', 'storm.apache.org', 'v1beta1', 'stormtopologies', ['st'], ['all', 'storm'], 'stormtopology'],
  ['StormWorkerPool', 'storm.apache.org', 'v1beta1', 'stormworkerpools', ['swp'], ['all', 'storm'], 'stormworkerpool'],
  ['PVCPolicy', 'pvc-chonker.io', 'v1alpha1', 'pvcpolicies', [], ['all', 'pvc-chonker'], 'pvcpolicy'],
  ['PVCGroup', 'pvc-chonker.io', 'v1alpha1', 'pvcgroups', [], ['all', 'pvc-chonker'], 'pvcgroup'],
  ['HourglassExecutor', 'hourglass.eigenlayer.io', 'v1alpha1', 'hourglassexecutors', [], ['all', 'hourglass'], 'hourglassexecutor'],
  ['Performer', 'hourglass.eigenlayer.io', 'v1alpha1', 'performers', [], ['all', 'hourglass'], 'performer'],
];

test('allKinds lists the seven kinds with their names, versions, categories and scope', (t) => {
  t.deepEqual(
    allKinds.map((d) => d.kind),
    NAMES.map((n) => n[0]),
  );
  for (const [kind, group, version, plural, shortNames, categories, singular] of NAMES) {
    const d = decl(kind);
    t.is(d.group, group, kind);
    // The storm kinds also serve seed 001's v1alpha1 (test/registry/conversion.test.ts).
    t.deepEqual(d.versions, group === 'storm.apache.org' ? [version, 'v1alpha1'] : [version], kind);
    t.is(d.plural, plural, kind);
    t.is(d.singular, singular, kind);
    t.is(d.listKind, `${kind}List`, kind);
    t.deepEqual(d.shortNames, shortNames, kind);
    t.deepEqual(d.categories, categories, kind);
    t.true(d.namespaced, kind);
    t.true(d.description.length > 20, kind);
    t.truthy(d.rules?.validate, kind);
  }
  t.deepEqual(
    allKinds.filter((d) => d.scale).map((d) => d.kind),
    ['StormWorkerPool', 'HourglassExecutor'],
  );
});

/** Properties (recursively) whose JSON Schema has no description: `kubectl explain` would print none. */
function undocumented(schema: Obj, at: string, out: string[]): void {
  for (const [k, v] of Object.entries((schema.properties ?? {}) as Record<string, Obj>)) {
    if (!v.description) out.push(`${at}.${k}`);
    undocumented(v, `${at}.${k}`, out);
  }
  if (schema.items) undocumented(schema.items, `${at}[]`, out);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') undocumented(schema.additionalProperties, `${at}{}`, out);
  for (const k of ['anyOf', 'oneOf', 'allOf']) for (const s of (schema[k] ?? []) as Obj[]) undocumented(s, at, out);
}

for (const d of allKinds) {
  test(`${d.kind}: spec and status convert to JSON Schema, and every field has a description`, (t) => {
    for (const part of ['spec', 'status'] as const) {
      for (const io of ['input', 'output'] as const) {
        const schema = z.toJSONSchema(d[part], { io }) as Obj;
        t.is(schema.type, 'object', `${part} ${io}`);
        t.truthy(schema.description, `${part} ${io}`);
        const missing: string[] = [];
        undocumented(schema, part, missing);
        t.deepEqual(missing, [], `${part} ${io}`);
      }
    }
    // Objects are strict: unknown fields are detectable.
    t.false(d.spec.safeParse({ ...exampleSpec(d.kind), surprise: 1 }).success);
  });
}

// ---------------------------------------------------------------------------------------------
// Examples

for (const kind of Object.keys(EXAMPLE_FILES)) {
  test(`${kind}: deploy/examples/${EXAMPLE_FILES[kind]} passes the schema and the rules without warnings`, (t) => {
    const d = decl(kind);
    const doc = example(kind);
    t.is(doc.apiVersion, `${d.group}/${d.versions[0]}`);
    t.is(doc.kind, kind);
    const parsed = d.spec.safeParse(doc.spec);
    t.true(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues, null, 1));
    const obj: KubeObject = { apiVersion: doc.apiVersion, kind, metadata: doc.metadata, spec: parsed.data as Record<string, unknown> };
    const strategy = mainStrategy(d.namespaced, d.rules);
    t.deepEqual(strategy.validate(obj), []);
    t.deepEqual(strategy.warningsOnCreate(obj), []);
    // The parsed spec is a fixed point: parsing it again changes nothing.
    t.deepEqual(d.spec.parse(parsed.data), parsed.data);
    t.true(d.status.safeParse({}).success);
  });
}

// ---------------------------------------------------------------------------------------------
// Defaults

const ZK = { servers: ['zk:2181'] };
const JAR = { url: 'https://example.com/topology.jar' };
const EXECUTOR_CONFIG = {
  aggregatorEndpoint: 'aggregator:9010',
  operatorKeys: { ecdsa: { secretKeyRef: { name: 'keys', key: 'ecdsa' } } },
  chains: [{ name: 'ethereum', rpc: 'https://rpc.example', chainId: 1, taskMailboxAddress: `0x${'ab'.repeat(20)}` }],
};
const AVS = `0x${'1f'.repeat(20)}`;

const THRIFT_DEFAULTS = {
  port: 6627,
  connectionTimeout: 30,
  requestTimeout: 60,
  maxConnections: 10,
  minIdleConnections: 2,
  maxIdleTime: 300,
  maxRetries: 3,
  retryDelay: 1,
  useTLS: false,
};

const DEFAULTS: Array<{ kind: string; name: string; input: Obj; expected: Obj }> = [
  {
    kind: 'StormCluster',
    name: 'every section a cluster has, with its defaults',
    input: { zookeeper: ZK },
    expected: {
      managementMode: 'create',
      image: { registry: 'docker.io', repository: 'apache/storm', tag: '2.6.0' },
      nimbus: { replicas: 1, thrift: THRIFT_DEFAULTS },
      supervisor: { replicas: 3, deploymentMode: 'deployment', slotsPerSupervisor: 4 },
      ui: { enabled: true, replicas: 1, service: { type: 'ClusterIP', port: 8080 } },
      zookeeper: { servers: ['zk:2181'], root: '/storm', connectionTimeout: 15000, sessionTimeout: 20000 },
    },
  },
  {
    kind: 'StormCluster',
    name: 'a given nimbus without thrift still gets the thrift defaults; opt-in sections get theirs',
    input: {
      zookeeper: ZK,
      nimbus: { replicas: 3, thrift: { port: 7000 }, persistence: {} },
      persistence: {},
      monitoring: {},
      ui: { ingress: {}, auth: { users: [] } },
    },
    expected: {
      managementMode: 'create',
      image: { registry: 'docker.io', repository: 'apache/storm', tag: '2.6.0' },
      nimbus: {
        replicas: 3,
        thrift: { ...THRIFT_DEFAULTS, port: 7000 },
        persistence: { enabled: true, size: '8Gi', accessMode: 'ReadWriteOnce' },
      },
      supervisor: { replicas: 3, deploymentMode: 'deployment', slotsPerSupervisor: 4 },
      ui: {
        enabled: true,
        replicas: 1,
        service: { type: 'ClusterIP', port: 8080 },
        ingress: { enabled: false, className: 'nginx', path: '/', pathType: 'Prefix', tls: false },
        auth: { enabled: false, type: 'simple', users: [] },
      },
      zookeeper: { servers: ['zk:2181'], root: '/storm', connectionTimeout: 15000, sessionTimeout: 20000 },
      persistence: { enabled: true, size: '8Gi', accessMode: 'ReadWriteOnce' },
      monitoring: { enabled: true, port: 8080 },
    },
  },
  {
    kind: 'StormTopology',
    name: 'workers, lifecycle and the recreate strategy are filled in; autoscaling and blue-green stay absent',
    input: { clusterRef: 'c', topology: { name: 't', jar: JAR } },
    expected: {
      clusterRef: 'c',
      topology: { name: 't', jar: JAR },
      workers: { replicas: 2 },
      lifecycle: { killWaitSeconds: 30, updateStrategy: 'recreate' },
      suspend: false,
      deploymentStrategy: { type: 'recreate' },
      revisionHistoryLimit: 10,
    },
  },
  {
    kind: 'StormTopology',
    name: 'a container jar, a checksum, autoscaling and blue-green get their defaults when given',
    input: {
      clusterRef: 'c',
      topology: { name: 't', jar: { container: { image: 'registry/topology:1' }, checksum: { value: 'a'.repeat(64) } } },
      workers: { autoscaling: {} },
      deploymentStrategy: { type: 'blueGreen', blueGreen: {} },
    },
    expected: {
      clusterRef: 'c',
      topology: {
        name: 't',
        jar: {
          container: {
            image: 'registry/topology:1',
            path: '/app/topology.jar',
            pullPolicy: 'IfNotPresent',
            extractionMode: 'initContainer',
            extractionTimeoutSeconds: 300,
          },
          checksum: { algorithm: 'sha256', value: 'a'.repeat(64) },
        },
      },
      workers: { replicas: 2, autoscaling: { enabled: true, minReplicas: 1, maxReplicas: 10, targetCPUUtilizationPercentage: 80 } },
      lifecycle: { killWaitSeconds: 30, updateStrategy: 'recreate' },
      suspend: false,
      deploymentStrategy: { type: 'blueGreen', blueGreen: { autoPromotionEnabled: false, scaleDownDelaySeconds: 30 } },
      revisionHistoryLimit: 10,
    },
  },
  {
    kind: 'StormWorkerPool',
    name: 'replicas and ports are filled in',
    input: { topologyRef: 't' },
    expected: { topologyRef: 't', replicas: 1, ports: { start: 6700, count: 4 } },
  },
  {
    kind: 'StormWorkerPool',
    name: 'a given image, ports or autoscaling get their defaults',
    input: { topologyRef: 't', image: { tag: '2.6.1' }, ports: { count: 2 }, autoscaling: { maxReplicas: 4 } },
    expected: {
      topologyRef: 't',
      replicas: 1,
      image: { registry: 'docker.io', repository: 'apache/storm', tag: '2.6.1' },
      ports: { start: 6700, count: 2 },
      autoscaling: { enabled: true, minReplicas: 1, maxReplicas: 4, targetCPUUtilizationPercentage: 80 },
    },
  },
  {
    kind: 'PVCPolicy',
    name: 'the template gets no defaults (the controller flags apply)',
    input: { selector: { matchLabels: { app: 'db' } }, template: { threshold: '80%' } },
    expected: { selector: { matchLabels: { app: 'db' } }, template: { threshold: '80%' } },
  },
  {
    kind: 'PVCGroup',
    name: 'the coordination policy is largest',
    input: { template: {} },
    expected: { template: {}, coordinationPolicy: 'largest' },
  },
  {
    kind: 'HourglassExecutor',
    name: 'replicas, performer mode and log level',
    input: { image: 'executor:1', config: EXECUTOR_CONFIG },
    expected: { image: 'executor:1', replicas: 1, config: { ...EXECUTOR_CONFIG, performerMode: 'kubernetes', logLevel: 'info' } },
  },
  {
    kind: 'Performer',
    name: 'pull policy and the gRPC port',
    input: { avsAddress: AVS, image: 'performer:1' },
    expected: { avsAddress: AVS, image: 'performer:1', imagePullPolicy: 'IfNotPresent', config: { grpcPort: 9090 } },
  },
];

for (const c of DEFAULTS) {
  test(`${c.kind} defaults: ${c.name}`, (t) => {
    t.deepEqual(parsedSpec(c.kind, c.input), c.expected);
  });
}

// ---------------------------------------------------------------------------------------------
// Invalid specs: schema errors (zod issue paths) and rule errors, exactly.

const R = 'FieldValueRequired';
const I = 'FieldValueInvalid';
const NS = 'FieldValueNotSupported';
const F = 'FieldValueForbidden';
const D = 'FieldValueDuplicate';
const TI = 'FieldValueTypeInvalid';
const U = 'UnknownField';

interface InvalidCase {
  kind: string;
  name: string;
  spec: Obj;
  metadata?: Obj;
  errors: Array<[type: string, field: string]>;
}

const ex = exampleSpec;
const n64 = 'a'.repeat(64);

const INVALID: InvalidCase[] = [
  // StormCluster: schema
  { kind: 'StormCluster', name: 'six Nimbus replicas', spec: ex('StormCluster', (s) => (s.nimbus.replicas = 6)), errors: [[I, 'spec.nimbus.replicas']] },
  { kind: 'StormCluster', name: 'zero Nimbus replicas', spec: ex('StormCluster', (s) => (s.nimbus.replicas = 0)), errors: [[I, 'spec.nimbus.replicas']] },
  { kind: 'StormCluster', name: 'unknown management mode', spec: ex('StormCluster', (s) => (s.managementMode = 'adopt')), errors: [[NS, 'spec.managementMode']] },
  {
    kind: 'StormCluster',
    name: 'statefulset supervisors',
    spec: ex('StormCluster', (s) => (s.supervisor.deploymentMode = 'statefulset')),
    errors: [[NS, 'spec.supervisor.deploymentMode']],
  },
  { kind: 'StormCluster', name: 'thrift port out of range', spec: ex('StormCluster', (s) => (s.nimbus.thrift.port = 70000)), errors: [[I, 'spec.nimbus.thrift.port']] },
  { kind: 'StormCluster', name: 'thrift port as text', spec: ex('StormCluster', (s) => (s.nimbus.thrift.port = '6627')), errors: [[TI, 'spec.nimbus.thrift.port']] },
  { kind: 'StormCluster', name: 'unknown thrift field', spec: ex('StormCluster', (s) => (s.nimbus.thrift.framed = true)), errors: [[U, 'spec.nimbus.thrift.framed']] },
  {
    kind: 'StormCluster',
    name: 'a UI user with a plain password',
    spec: ex('StormCluster', (s) => (s.ui.auth = { enabled: true, users: [{ username: 'admin', password: 'hunter2' }] })),
    errors: [
      [R, 'spec.ui.auth.users[0].passwordSecretKeyRef'],
      [U, 'spec.ui.auth.users[0].password'],
    ],
  },
  // StormCluster: rules
  { kind: 'StormCluster', name: 'create mode without ZooKeeper servers', spec: { zookeeper: {} }, errors: [[R, 'spec.zookeeper.servers']] },
  { kind: 'StormCluster', name: 'reference mode without resourceNames', spec: { managementMode: 'reference' }, errors: [[R, 'spec.resourceNames']] },
  {
    kind: 'StormCluster',
    name: 'reference mode without the Nimbus Service',
    spec: { managementMode: 'reference', resourceNames: { uiService: 'storm-ui' } },
    errors: [[R, 'spec.resourceNames.nimbusService']],
  },
  {
    kind: 'StormCluster',
    name: 'reference mode with a bad Service name',
    spec: { managementMode: 'reference', resourceNames: { nimbusService: 'Storm_Nimbus' } },
    errors: [[I, 'spec.resourceNames.nimbusService']],
  },
  { kind: 'StormCluster', name: 'a ZooKeeper port beyond 65535', spec: { zookeeper: { servers: ['zk:2181', 'zk:99999'] } }, errors: [[I, 'spec.zookeeper.servers[1]']] },
  { kind: 'StormCluster', name: 'a relative ZooKeeper root', spec: { zookeeper: { ...ZK, root: 'storm' } }, errors: [[I, 'spec.zookeeper.root']] },
  {
    kind: 'StormCluster',
    name: 'more idle connections than connections',
    spec: { zookeeper: ZK, nimbus: { thrift: { maxConnections: 5, minIdleConnections: 6 } } },
    errors: [[I, 'spec.nimbus.thrift.minIdleConnections']],
  },
  { kind: 'StormCluster', name: 'TLS without a certificate', spec: { zookeeper: ZK, nimbus: { thrift: { useTLS: true } } }, errors: [[R, 'spec.nimbus.thrift.tls.certSecret']] },
  {
    kind: 'StormCluster',
    name: 'a name that cannot prefix Service names',
    spec: { zookeeper: ZK },
    metadata: { name: '1storm' },
    errors: [[I, 'metadata.name']],
  },
  { kind: 'StormCluster', name: 'a name too long for <name>-supervisor', spec: { zookeeper: ZK }, metadata: { name: 'a'.repeat(53) }, errors: [[I, 'metadata.name']] },
  {
    kind: 'StormCluster',
    name: 'a node port on a ClusterIP Service',
    spec: { zookeeper: ZK, ui: { service: { nodePort: 30080 } } },
    errors: [[F, 'spec.ui.service.nodePort']],
  },
  { kind: 'StormCluster', name: 'simple auth without users', spec: { zookeeper: ZK, ui: { auth: { enabled: true } } }, errors: [[R, 'spec.ui.auth.users']] },
  {
    kind: 'StormCluster',
    name: 'duplicate UI users',
    spec: {
      zookeeper: ZK,
      ui: {
        auth: {
          enabled: true,
          users: [
            { username: 'a', passwordSecretKeyRef: { name: 's', key: 'a' } },
            { username: 'a', passwordSecretKeyRef: { name: 's', key: 'b' } },
          ],
        },
      },
    },
    errors: [[D, 'spec.ui.auth.users[1].username']],
  },
  {
    kind: 'StormCluster',
    name: 'bad extra env var and node selector',
    spec: { zookeeper: ZK, nimbus: { extraEnvVars: [{ name: '1X', value: 'y' }], nodeSelector: { 'bad key': 'x' } } },
    errors: [
      [I, 'spec.nimbus.extraEnvVars[0].name'],
      [I, 'spec.nimbus.nodeSelector'],
    ],
  },

  // StormTopology: schema
  { kind: 'StormTopology', name: 'no topology', spec: { clusterRef: 'c' }, errors: [[R, 'spec.topology']] },
  { kind: 'StormTopology', name: 'no cluster', spec: { topology: { name: 't', jar: JAR } }, errors: [[R, 'spec.clusterRef']] },
  { kind: 'StormTopology', name: 'no jar', spec: { clusterRef: 'c', topology: { name: 't' } }, errors: [[R, 'spec.topology.jar']] },
  {
    kind: 'StormTopology',
    name: 'unknown update strategy',
    spec: ex('StormTopology', (s) => (s.lifecycle.updateStrategy = 'bluegreen')),
    errors: [[NS, 'spec.lifecycle.updateStrategy']],
  },
  {
    kind: 'StormTopology',
    name: 'canary is not a deployment strategy (yet)',
    spec: ex('StormTopology', (s) => (s.deploymentStrategy.type = 'canary')),
    errors: [[NS, 'spec.deploymentStrategy.type']],
  },
  {
    kind: 'StormTopology',
    name: 'unknown extraction mode',
    spec: ex('StormTopology', (s) => (s.topology.jar = { container: { image: 'i', extractionMode: 'copy' } })),
    errors: [[NS, 'spec.topology.jar.container.extractionMode']],
  },
  {
    kind: 'StormTopology',
    name: 'sha1 checksum',
    spec: ex('StormTopology', (s) => (s.topology.jar.checksum.algorithm = 'sha1')),
    errors: [[NS, 'spec.topology.jar.checksum.algorithm']],
  },
  {
    kind: 'StormTopology',
    name: 'an analysis threshold that is not a comparison',
    spec: ex('StormTopology', (s) => (s.deploymentStrategy.blueGreen.prePromotionAnalysis[1].threshold = 'fast')),
    errors: [[I, 'spec.deploymentStrategy.blueGreen.prePromotionAnalysis[1].threshold']],
  },
  {
    kind: 'StormTopology',
    name: 'CPU target above 100%',
    spec: ex('StormTopology', (s) => (s.workers.autoscaling.targetCPUUtilizationPercentage = 150)),
    errors: [[I, 'spec.workers.autoscaling.targetCPUUtilizationPercentage']],
  },
  {
    kind: 'StormTopology',
    name: 'a numeric config value',
    spec: ex('StormTopology', (s) => (s.topology.config['topology.workers'] = 3)),
    errors: [[TI, 'spec.topology.config.topology.workers']],
  },
  { kind: 'StormTopology', name: 'zero workers', spec: ex('StormTopology', (s) => (s.workers.replicas = 0)), errors: [[I, 'spec.workers.replicas']] },
  // StormTopology: rules
  { kind: 'StormTopology', name: 'empty clusterRef', spec: ex('StormTopology', (s) => (s.clusterRef = '')), errors: [[R, 'spec.clusterRef']] },
  { kind: 'StormTopology', name: 'clusterRef not an object name', spec: ex('StormTopology', (s) => (s.clusterRef = 'My Cluster')), errors: [[I, 'spec.clusterRef']] },
  { kind: 'StormTopology', name: 'empty topology name', spec: ex('StormTopology', (s) => (s.topology.name = '')), errors: [[R, 'spec.topology.name']] },
  {
    kind: 'StormTopology',
    name: 'a topology name with a dot (DNS label and Storm rule)',
    spec: ex('StormTopology', (s) => (s.topology.name = 'word.count')),
    errors: [
      [I, 'spec.topology.name'],
      [I, 'spec.topology.name'],
    ],
  },
  { kind: 'StormTopology', name: 'an upper-case topology name', spec: ex('StormTopology', (s) => (s.topology.name = 'WordCount')), errors: [[I, 'spec.topology.name']] },
  { kind: 'StormTopology', name: 'a 64-character topology name', spec: ex('StormTopology', (s) => (s.topology.name = n64)), errors: [[I, 'spec.topology.name']] },
  { kind: 'StormTopology', name: 'no jar source', spec: ex('StormTopology', (s) => (s.topology.jar = {})), errors: [[R, 'spec.topology.jar']] },
  {
    kind: 'StormTopology',
    name: 'two jar sources',
    spec: ex('StormTopology', (s) => (s.topology.jar.configMap = 'jars')),
    errors: [[F, 'spec.topology.jar.configMap']],
  },
  {
    kind: 'StormTopology',
    name: 'three jar sources',
    spec: ex('StormTopology', (s) => {
      s.topology.jar.s3 = { bucket: 'b', key: 'k.jar' };
      s.topology.jar.container = { image: 'i' };
    }),
    errors: [
      [F, 'spec.topology.jar.s3'],
      [F, 'spec.topology.jar.container'],
    ],
  },
  { kind: 'StormTopology', name: 'an ftp jar URL', spec: ex('StormTopology', (s) => (s.topology.jar.url = 'ftp://example.com/t.jar')), errors: [[I, 'spec.topology.jar.url']] },
  { kind: 'StormTopology', name: 'a relative jar URL', spec: ex('StormTopology', (s) => (s.topology.jar.url = 'jars/t.jar')), errors: [[I, 'spec.topology.jar.url']] },
  { kind: 'StormTopology', name: 'an s3 URL without a key', spec: ex('StormTopology', (s) => (s.topology.jar.url = 's3://bucket')), errors: [[I, 'spec.topology.jar.url']] },
  {
    kind: 'StormTopology',
    name: 'a sha256 digest of the wrong length',
    spec: ex('StormTopology', (s) => (s.topology.jar.checksum.value = 'abc123')),
    errors: [[I, 'spec.topology.jar.checksum.value']],
  },
  {
    kind: 'StormTopology',
    name: 'a sha256 digest given for sha512',
    spec: ex('StormTopology', (s) => (s.topology.jar.checksum.algorithm = 'sha512')),
    errors: [[I, 'spec.topology.jar.checksum.value']],
  },
  {
    kind: 'StormTopology',
    name: 'a digest with an algorithm prefix',
    spec: ex('StormTopology', (s) => (s.topology.jar.checksum.value = `sha256:${'a'.repeat(64)}`)),
    errors: [[I, 'spec.topology.jar.checksum.value']],
  },
  { kind: 'StormTopology', name: 'a checksum without value or file', spec: ex('StormTopology', (s) => (s.topology.jar.checksum = {})), errors: [[R, 'spec.topology.jar.checksum.value']] },
  {
    kind: 'StormTopology',
    name: 'a checksum file with a URL jar',
    spec: ex('StormTopology', (s) => (s.topology.jar.checksum = { file: '/app/topology.jar.sha256' })),
    errors: [[F, 'spec.topology.jar.checksum.file']],
  },
  {
    kind: 'StormTopology',
    name: 'checksums in both places',
    spec: ex('StormTopology', (s) => {
      s.topology.jar = { container: { image: 'i', checksum: { file: '/sum' } }, checksum: { value: 'b'.repeat(64) } };
    }),
    errors: [[F, 'spec.topology.jar.container.checksum']],
  },
  {
    kind: 'StormTopology',
    name: 'autoscaling minimum above maximum',
    spec: ex('StormTopology', (s) => (s.workers.autoscaling.minReplicas = 9)),
    errors: [[I, 'spec.workers.autoscaling.maxReplicas']],
  },
  {
    kind: 'StormTopology',
    name: 'blue-green parameters on a recreate strategy',
    spec: ex('StormTopology', (s) => (s.deploymentStrategy.type = 'recreate')),
    errors: [[F, 'spec.deploymentStrategy.blueGreen']],
  },
  {
    kind: 'StormTopology',
    name: 'an analysis of an unknown metric without a query',
    spec: ex('StormTopology', (s) => (s.deploymentStrategy.blueGreen.prePromotionAnalysis[0].metricName = 'throughput')),
    errors: [[NS, 'spec.deploymentStrategy.blueGreen.prePromotionAnalysis[0].metricName']],
  },
  { kind: 'StormTopology', name: 'a bad pod label key', spec: ex('StormTopology', (s) => (s.workers.podLabels = { 'bad key': 'x' })), errors: [[I, 'spec.workers.podLabels']] },
  { kind: 'StormTopology', name: 'a preStop hook without a handler', spec: ex('StormTopology', (s) => (s.lifecycle.preStop = {})), errors: [[R, 'spec.lifecycle.preStop']] },
  {
    kind: 'StormTopology',
    name: 'a hook with two handlers',
    spec: ex('StormTopology', (s) => (s.lifecycle.postStart = { exec: { command: ['true'] }, tcpSocket: { port: 1 } })),
    errors: [[F, 'spec.lifecycle.postStart.tcpSocket']],
  },

  // StormWorkerPool: schema
  { kind: 'StormWorkerPool', name: 'no topology', spec: { replicas: 1 }, errors: [[R, 'spec.topologyRef']] },
  { kind: 'StormWorkerPool', name: 'port 0', spec: ex('StormWorkerPool', (s) => (s.ports.start = 0)), errors: [[I, 'spec.ports.start']] },
  { kind: 'StormWorkerPool', name: 'negative replicas', spec: ex('StormWorkerPool', (s) => (s.replicas = -1)), errors: [[I, 'spec.replicas']] },
  {
    kind: 'StormWorkerPool',
    name: 'unknown DNS policy',
    spec: ex('StormWorkerPool', (s) => (s.template.spec.dnsPolicy = 'Cluster')),
    errors: [[NS, 'spec.template.spec.dnsPolicy']],
  },
  {
    kind: 'StormWorkerPool',
    name: 'unknown scaling policy type',
    spec: ex('StormWorkerPool', (s) => (s.autoscaling.behavior.scaleDown.policies[0].type = 'Nodes')),
    errors: [[NS, 'spec.autoscaling.behavior.scaleDown.policies[0].type']],
  },
  // StormWorkerPool: rules
  { kind: 'StormWorkerPool', name: 'empty topologyRef', spec: ex('StormWorkerPool', (s) => (s.topologyRef = '')), errors: [[R, 'spec.topologyRef']] },
  {
    kind: 'StormWorkerPool',
    name: 'ports beyond 65535',
    spec: ex('StormWorkerPool', (s) => (s.ports = { start: 65534, count: 4 })),
    errors: [[I, 'spec.ports.count']],
  },
  {
    kind: 'StormWorkerPool',
    name: 'the last port exactly 65535 is fine',
    spec: ex('StormWorkerPool', (s) => (s.ports = { start: 65532, count: 4 })),
    errors: [],
  },
  {
    kind: 'StormWorkerPool',
    name: 'a template label that breaks the scale selector',
    spec: ex('StormWorkerPool', (s) => (s.template.metadata.labels['storm.apache.org/worker-pool'] = 'other')),
    errors: [[I, 'spec.template.metadata.labels[storm.apache.org/worker-pool]']],
  },
  {
    kind: 'StormWorkerPool',
    name: 'duplicate container overrides',
    spec: ex('StormWorkerPool', (s) => s.template.spec.containers.push({ name: 'worker' })),
    errors: [[D, 'spec.template.spec.containers[1].name']],
  },
  { kind: 'StormWorkerPool', name: 'a name too long for a label value', spec: ex('StormWorkerPool'), metadata: { name: n64 }, errors: [[I, 'metadata.name']] },
  {
    kind: 'StormWorkerPool',
    name: 'autoscaling minimum above maximum',
    spec: ex('StormWorkerPool', (s) => (s.autoscaling.maxReplicas = 1)),
    errors: [[I, 'spec.autoscaling.maxReplicas']],
  },
  {
    kind: 'StormWorkerPool',
    name: 'a custom metric without a target',
    spec: ex('StormWorkerPool', (s) => delete s.autoscaling.customMetrics[0].targetAverageValue),
    errors: [[R, 'spec.autoscaling.customMetrics[0]']],
  },

  // PVCPolicy: schema
  { kind: 'PVCPolicy', name: 'no selector', spec: ex('PVCPolicy', (s) => delete s.selector), errors: [[R, 'spec.selector']] },
  { kind: 'PVCPolicy', name: 'no template', spec: ex('PVCPolicy', (s) => delete s.template), errors: [[R, 'spec.template']] },
  { kind: 'PVCPolicy', name: 'a threshold in words', spec: ex('PVCPolicy', (s) => (s.template.threshold = 'eighty')), errors: [[I, 'spec.template.threshold']] },
  { kind: 'PVCPolicy', name: 'an increase in words', spec: ex('PVCPolicy', (s) => (s.template.increase = '10 percent')), errors: [[I, 'spec.template.increase']] },
  { kind: 'PVCPolicy', name: 'a cooldown in words', spec: ex('PVCPolicy', (s) => (s.template.cooldown = '15 minutes')), errors: [[I, 'spec.template.cooldown']] },
  { kind: 'PVCPolicy', name: 'a max size that is no quantity', spec: ex('PVCPolicy', (s) => (s.template.maxSize = 'big')), errors: [[I, 'spec.template.maxSize']] },
  {
    kind: 'PVCPolicy',
    name: 'an unknown selector operator',
    spec: ex('PVCPolicy', (s) => (s.selector.matchExpressions[0].operator = 'Has')),
    errors: [[NS, 'spec.selector.matchExpressions[0].operator']],
  },
  { kind: 'PVCPolicy', name: 'a template field of the roadmap', spec: ex('PVCPolicy', (s) => (s.template.provider = 'aws')), errors: [[U, 'spec.template.provider']] },
  // PVCPolicy: rules
  { kind: 'PVCPolicy', name: 'an empty template', spec: ex('PVCPolicy', (s) => (s.template = {})), errors: [[R, 'spec.template']] },
  { kind: 'PVCPolicy', name: 'threshold 0%', spec: ex('PVCPolicy', (s) => (s.template.threshold = '0%')), errors: [[I, 'spec.template.threshold']] },
  { kind: 'PVCPolicy', name: 'threshold 150%', spec: ex('PVCPolicy', (s) => (s.template.threshold = '150%')), errors: [[I, 'spec.template.threshold']] },
  { kind: 'PVCPolicy', name: 'threshold 100 (no %) is fine', spec: ex('PVCPolicy', (s) => (s.template.threshold = '100')), errors: [] },
  { kind: 'PVCPolicy', name: 'inodes threshold 101', spec: ex('PVCPolicy', (s) => (s.template.inodesThreshold = '101')), errors: [[I, 'spec.template.inodesThreshold']] },
  { kind: 'PVCPolicy', name: 'an increase of 0%', spec: ex('PVCPolicy', (s) => (s.template.increase = '0%')), errors: [[I, 'spec.template.increase']] },
  { kind: 'PVCPolicy', name: 'an increase of 0Gi', spec: ex('PVCPolicy', (s) => (s.template.increase = '0Gi')), errors: [[I, 'spec.template.increase']] },
  { kind: 'PVCPolicy', name: 'an increase of 5Gi is fine', spec: ex('PVCPolicy', (s) => (s.template.increase = '5Gi')), errors: [] },
  { kind: 'PVCPolicy', name: 'a max size of 0', spec: ex('PVCPolicy', (s) => (s.template.maxSize = '0')), errors: [[I, 'spec.template.maxSize']] },
  {
    kind: 'PVCPolicy',
    name: 'In without values',
    spec: ex('PVCPolicy', (s) => (s.selector.matchExpressions[0].values = [])),
    errors: [[R, 'spec.selector.matchExpressions[0].values']],
  },
  {
    kind: 'PVCPolicy',
    name: 'Exists with values',
    spec: ex('PVCPolicy', (s) => (s.selector.matchExpressions[0].operator = 'Exists')),
    errors: [[F, 'spec.selector.matchExpressions[0].values']],
  },
  {
    kind: 'PVCPolicy',
    name: 'a label value with a space',
    spec: ex('PVCPolicy', (s) => (s.selector.matchLabels.workload = 'data base')),
    errors: [[I, 'spec.selector.matchLabels[workload]']],
  },

  // PVCGroup
  { kind: 'PVCGroup', name: 'no template', spec: { coordinationPolicy: 'largest' }, errors: [[R, 'spec.template']] },
  { kind: 'PVCGroup', name: 'an unknown coordination policy', spec: ex('PVCGroup', (s) => (s.coordinationPolicy = 'smallest')), errors: [[NS, 'spec.coordinationPolicy']] },
  { kind: 'PVCGroup', name: 'a members list of the roadmap', spec: ex('PVCGroup', (s) => (s.members = [{ name: 'data-0' }])), errors: [[U, 'spec.members']] },
  { kind: 'PVCGroup', name: 'a min scale-up that is no quantity', spec: ex('PVCGroup', (s) => (s.template.minScaleUp = '-')), errors: [[I, 'spec.template.minScaleUp']] },
  { kind: 'PVCGroup', name: 'threshold 200%', spec: ex('PVCGroup', (s) => (s.template.threshold = '200%')), errors: [[I, 'spec.template.threshold']] },
  { kind: 'PVCGroup', name: 'an empty template is fine', spec: { template: {} }, errors: [] },
  { kind: 'PVCGroup', name: 'a name members cannot use as a label value', spec: ex('PVCGroup'), metadata: { name: n64 }, errors: [[I, 'metadata.name']] },

  // HourglassExecutor: schema
  {
    kind: 'HourglassExecutor',
    name: 'a plain operator key',
    spec: ex('HourglassExecutor', (s) => (s.config.operatorKeys.ecdsa = '0x4c0883a69102937d6231471b5dbb6204fe512961708279f2b3c5b6a1e8d0a7f1')),
    errors: [[TI, 'spec.config.operatorKeys.ecdsa']],
  },
  { kind: 'HourglassExecutor', name: 'no image', spec: ex('HourglassExecutor', (s) => delete s.image), errors: [[R, 'spec.image']] },
  { kind: 'HourglassExecutor', name: 'no config', spec: ex('HourglassExecutor', (s) => delete s.config), errors: [[R, 'spec.config']] },
  { kind: 'HourglassExecutor', name: 'podman performers', spec: ex('HourglassExecutor', (s) => (s.config.performerMode = 'podman')), errors: [[NS, 'spec.config.performerMode']] },
  { kind: 'HourglassExecutor', name: 'trace logging', spec: ex('HourglassExecutor', (s) => (s.config.logLevel = 'trace')), errors: [[NS, 'spec.config.logLevel']] },
  {
    kind: 'HourglassExecutor',
    name: 'a short mailbox address',
    spec: ex('HourglassExecutor', (s) => (s.config.chains[0].taskMailboxAddress = '0x1234')),
    errors: [[I, 'spec.config.chains[0].taskMailboxAddress']],
  },
  { kind: 'HourglassExecutor', name: 'chain id 0', spec: ex('HourglassExecutor', (s) => (s.config.chains[1].chainId = 0)), errors: [[I, 'spec.config.chains[1].chainId']] },
  { kind: 'HourglassExecutor', name: 'negative replicas', spec: ex('HourglassExecutor', (s) => (s.replicas = -1)), errors: [[I, 'spec.replicas']] },
  // HourglassExecutor: rules
  { kind: 'HourglassExecutor', name: 'no operator keys', spec: ex('HourglassExecutor', (s) => (s.config.operatorKeys = {})), errors: [[R, 'spec.config.operatorKeys']] },
  { kind: 'HourglassExecutor', name: 'no chains', spec: ex('HourglassExecutor', (s) => (s.config.chains = [])), errors: [[R, 'spec.config.chains']] },
  { kind: 'HourglassExecutor', name: 'empty aggregator', spec: ex('HourglassExecutor', (s) => (s.config.aggregatorEndpoint = '')), errors: [[R, 'spec.config.aggregatorEndpoint']] },
  {
    kind: 'HourglassExecutor',
    name: 'duplicate chains',
    spec: ex('HourglassExecutor', (s) => s.config.chains.push({ ...s.config.chains[0] })),
    errors: [
      [D, 'spec.config.chains[2].name'],
      [D, 'spec.config.chains[2].chainId'],
    ],
  },
  { kind: 'HourglassExecutor', name: 'an ftp RPC endpoint', spec: ex('HourglassExecutor', (s) => (s.config.chains[0].rpc = 'ftp://rpc')), errors: [[I, 'spec.config.chains[0].rpc']] },
  {
    kind: 'HourglassExecutor',
    name: 'a bad performer namespace',
    spec: ex('HourglassExecutor', (s) => (s.config.kubernetes.namespace = 'Perf_NS')),
    errors: [[I, 'spec.config.kubernetes.namespace']],
  },
  {
    kind: 'HourglassExecutor',
    name: 'a bad Secret name',
    spec: ex('HourglassExecutor', (s) => (s.config.operatorKeys.bls.secretKeyRef.name = 'Operator Keys')),
    errors: [[I, 'spec.config.operatorKeys[bls].secretKeyRef.name']],
  },
  { kind: 'HourglassExecutor', name: 'a name too long for a label value', spec: ex('HourglassExecutor'), metadata: { name: n64 }, errors: [[I, 'metadata.name']] },

  // Performer: schema
  { kind: 'Performer', name: 'an AVS that is not an address', spec: ex('Performer', (s) => (s.avsAddress = 'hello-avs')), errors: [[I, 'spec.avsAddress']] },
  { kind: 'Performer', name: 'an address of 39 digits', spec: ex('Performer', (s) => (s.avsAddress = `0x${'a'.repeat(39)}`)), errors: [[I, 'spec.avsAddress']] },
  { kind: 'Performer', name: 'an address without 0x', spec: ex('Performer', (s) => (s.avsAddress = 'a'.repeat(40))), errors: [[I, 'spec.avsAddress']] },
  { kind: 'Performer', name: 'no AVS', spec: ex('Performer', (s) => delete s.avsAddress), errors: [[R, 'spec.avsAddress']] },
  { kind: 'Performer', name: 'gRPC port 0', spec: ex('Performer', (s) => (s.config.grpcPort = 0)), errors: [[I, 'spec.config.grpcPort']] },
  { kind: 'Performer', name: 'gRPC port 65536', spec: ex('Performer', (s) => (s.config.grpcPort = 65536)), errors: [[I, 'spec.config.grpcPort']] },
  { kind: 'Performer', name: 'negative GPUs', spec: ex('Performer', (s) => (s.hardwareRequirements.gpuCount = -1)), errors: [[I, 'spec.hardwareRequirements.gpuCount']] },
  { kind: 'Performer', name: 'a made-up pull policy', spec: ex('Performer', (s) => (s.imagePullPolicy = 'Sometimes')), errors: [[NS, 'spec.imagePullPolicy']] },
  // Performer: rules
  { kind: 'Performer', name: 'a GPU type with 0 GPUs', spec: ex('Performer', (s) => (s.hardwareRequirements.gpuCount = 0)), errors: [[I, 'spec.hardwareRequirements.gpuCount']] },
  { kind: 'Performer', name: 'a GPU type without a count', spec: ex('Performer', (s) => delete s.hardwareRequirements.gpuCount), errors: [[I, 'spec.hardwareRequirements.gpuCount']] },
  {
    kind: 'Performer',
    name: 'environmentFrom without a source',
    spec: ex('Performer', (s) => (s.config.environmentFrom = [{ name: 'TOKEN', valueFrom: {} }])),
    errors: [[R, 'spec.config.environmentFrom[0].valueFrom']],
  },
  {
    kind: 'Performer',
    name: 'a variable both in environment and env',
    spec: ex('Performer', (s) => (s.config.environment = { LOG_LEVEL: 'debug' })),
    errors: [[D, 'spec.config.env[0].name']],
  },
  { kind: 'Performer', name: 'a name with a dot', spec: ex('Performer'), metadata: { name: 'hello.avs' }, errors: [[I, 'metadata.name']] },
  { kind: 'Performer', name: 'a name too long for performer-<name>', spec: ex('Performer'), metadata: { name: 'a'.repeat(54) }, errors: [[I, 'metadata.name']] },
  { kind: 'Performer', name: 'a 53-character name is fine', spec: ex('Performer'), metadata: { name: 'a'.repeat(53) }, errors: [] },
];

for (const c of INVALID) {
  test(`${c.kind} invalid: ${c.name}`, (t) => {
    const expected = c.errors.map(([type, field]) => ({ type, field }));
    t.deepEqual(errorsOf(c.kind, c.spec, c.metadata), expected);
  });
}

test('rules read defensively: an absent or malformed spec yields no rule errors and no exception', (t) => {
  for (const d of allKinds) {
    for (const spec of [undefined, {}, { config: 'x', template: 3, topology: null, ports: [] }]) {
      const obj = objectOf(d.kind, spec);
      t.notThrows(() => d.rules?.validate?.(obj), d.kind);
      t.notThrows(() => d.rules?.warnings?.(obj), d.kind);
      t.notThrows(() => d.rules?.validateUpdate?.(obj, obj), d.kind);
    }
    t.deepEqual(d.rules?.validate?.(objectOf(d.kind, undefined)) ?? [], [], d.kind);
  }
});

test('a plain operator key is rejected with a message that says to use a Secret', (t) => {
  const spec = exampleSpec('HourglassExecutor', (s) => (s.config.operatorKeys.bls = 'super-secret-bls-key'));
  const result = decl('HourglassExecutor').spec.safeParse(spec);
  t.false(result.success);
  const issues = result.success ? [] : result.error.issues;
  t.is(issues.length, 1);
  t.deepEqual(issues[0].path, ['config', 'operatorKeys', 'bls']);
  t.is(issues[0].message, PLAIN_OPERATOR_KEY_MESSAGE);
  t.false(JSON.stringify(issues).includes('super-secret-bls-key'));
});

test('rule errors carry a detail, and the value where it helps', (t) => {
  const d = decl('StormTopology');
  const spec = parsedSpec('StormTopology', exampleSpec('StormTopology', (s) => (s.topology.jar.configMap = 'jars')));
  const [err] = d.rules!.validate!(objectOf('StormTopology', spec));
  t.deepEqual(err, { type: F, field: 'spec.topology.jar.configMap', detail: 'may not specify more than 1 jar source' });
  const none = parsedSpec('StormTopology', exampleSpec('StormTopology', (s) => (s.topology.jar = {})));
  t.deepEqual(d.rules!.validate!(objectOf('StormTopology', none)), [
    { type: R, field: 'spec.topology.jar', detail: 'must specify one of: url, configMap, secret, s3, container' },
  ]);
  const bad = parsedSpec('Performer', exampleSpec('Performer', (s) => (s.hardwareRequirements.gpuCount = 0)));
  t.deepEqual(decl('Performer').rules!.validate!(objectOf('Performer', bad)), [
    { type: I, field: 'spec.hardwareRequirements.gpuCount', value: 0, detail: 'must be greater than 0 when gpuType is set' },
  ]);
});

// ---------------------------------------------------------------------------------------------
// Updates

const UPDATES: Array<{ kind: string; name: string; edit: (s: Obj) => void; errors: Array<[string, string]> }> = [
  { kind: 'StormTopology', name: 'clusterRef is immutable', edit: (s) => (s.clusterRef = 'other'), errors: [[I, 'spec.clusterRef']] },
  { kind: 'StormTopology', name: 'topology.name is immutable', edit: (s) => (s.topology.name = 'wordcount2'), errors: [[I, 'spec.topology.name']] },
  { kind: 'StormTopology', name: 'workers and the jar may change', edit: (s) => ((s.workers.replicas = 5), (s.topology.jar.url = 'https://example.com/v2.jar')), errors: [] },
  { kind: 'StormWorkerPool', name: 'topologyRef is immutable', edit: (s) => (s.topologyRef = 'other'), errors: [[I, 'spec.topologyRef']] },
  { kind: 'StormWorkerPool', name: 'clusterRef is immutable', edit: (s) => delete s.clusterRef, errors: [[I, 'spec.clusterRef']] },
  { kind: 'StormWorkerPool', name: 'replicas may change', edit: (s) => (s.replicas = 7), errors: [] },
  { kind: 'StormCluster', name: 'managementMode is immutable', edit: (s) => (s.managementMode = 'reference'), errors: [[I, 'spec.managementMode']] },
  { kind: 'StormCluster', name: 'nimbus replicas may change', edit: (s) => (s.nimbus.replicas = 3), errors: [] },
  { kind: 'Performer', name: 'avsAddress is immutable', edit: (s) => (s.avsAddress = `0x${'2'.repeat(40)}`), errors: [[I, 'spec.avsAddress']] },
  { kind: 'Performer', name: 'image and version may change', edit: (s) => ((s.image = 'ghcr.io/example/p:v2'), (s.version = 'v2')), errors: [] },
];

for (const c of UPDATES) {
  test(`${c.kind} update: ${c.name}`, (t) => {
    const d = decl(c.kind);
    const old = objectOf(c.kind, parsedSpec(c.kind, exampleSpec(c.kind)));
    const obj = objectOf(c.kind, parsedSpec(c.kind, exampleSpec(c.kind, c.edit)));
    const errors = (d.rules?.validateUpdate?.(obj, old) ?? []).map((e) => ({ type: e.type, field: e.field, detail: e.detail }));
    t.deepEqual(
      errors,
      c.errors.map(([type, field]) => ({ type, field, detail: 'field is immutable' })),
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Warnings

const WARNINGS: Array<{ kind: string; name: string; spec: Obj; warnings: string[] }> = [
  {
    kind: 'StormTopology',
    name: 'blue-green ignores a rolling update strategy and needs a version',
    spec: ex('StormTopology', (s) => {
      s.lifecycle.updateStrategy = 'rolling';
      delete s.topology.config['topology.version'];
    }),
    warnings: [
      'spec.lifecycle.updateStrategy: ignored when spec.deploymentStrategy.type is blueGreen',
      'spec.topology.config[topology.version]: not set; blue-green revisions will all be recorded as "unversioned"',
    ],
  },
  {
    kind: 'StormTopology',
    name: 'md5, plain http without checksum, deprecated container checksum and metrics',
    spec: ex('StormTopology', (s) => {
      s.topology.jar = { container: { image: 'i', checksum: { algorithm: 'md5', value: 'c'.repeat(32) } } };
      s.workers.autoscaling.metrics = [{ type: 'cpu', target: { averageUtilization: 50 } }];
    }),
    warnings: [
      'spec.topology.jar.container.checksum: deprecated, use spec.topology.jar.checksum',
      'spec.topology.jar.checksum.algorithm: md5 is not collision-resistant and does not protect against a tampered jar; use sha256',
      'spec.workers.autoscaling.metrics: deprecated, use spec.workers.autoscaling.customMetrics',
    ],
  },
  {
    kind: 'StormTopology',
    name: 'plain http without a checksum; replicas outside the autoscaling range; auto-promotion seconds while disabled',
    spec: ex('StormTopology', (s) => {
      s.topology.jar = { url: 'http://example.com/t.jar' };
      s.workers.replicas = 20;
      s.deploymentStrategy.blueGreen.autoPromotionSeconds = 60;
    }),
    warnings: [
      'spec.topology.jar.url: the jar is downloaded over plain http without a checksum; set spec.topology.jar.checksum',
      'spec.workers.replicas: 20 is outside the autoscaling range 2..8; the autoscaler will override it',
      'spec.deploymentStrategy.blueGreen.autoPromotionSeconds: ignored while autoPromotionEnabled is false',
    ],
  },
  {
    kind: 'StormCluster',
    name: 'resourceNames in create mode; TLS settings without TLS',
    spec: ex('StormCluster', (s) => {
      s.resourceNames = { nimbusService: 'nimbus' };
      s.nimbus.thrift.tls = { certSecret: 'nimbus-tls' };
    }),
    warnings: ['spec.resourceNames: ignored when spec.managementMode is create', 'spec.nimbus.thrift.tls: ignored while spec.nimbus.thrift.useTLS is false'],
  },
  {
    kind: 'StormCluster',
    name: 'insecure TLS',
    spec: ex('StormCluster', (s) => (s.nimbus.thrift = { useTLS: true, tls: { certSecret: 'nimbus-tls', insecureSkipVerify: true } })),
    warnings: ['spec.nimbus.thrift.tls.insecureSkipVerify: the Nimbus certificate is not verified; connections can be intercepted'],
  },
  {
    kind: 'StormWorkerPool',
    name: 'privileged ports; replicas outside the autoscaling range',
    spec: ex('StormWorkerPool', (s) => ((s.ports.start = 80), (s.replicas = 1))),
    warnings: [
      'spec.ports.start: 80 is a privileged port; workers must run as root to bind it',
      'spec.replicas: 1 is outside the autoscaling range 2..10; the autoscaler will override it',
    ],
  },
  {
    kind: 'PVCPolicy',
    name: 'an empty selector; a minimum step above the maximum size',
    spec: ex('PVCPolicy', (s) => ((s.selector = {}), (s.template.minScaleUp = '3Ti'))),
    warnings: [
      'spec.selector: empty; the policy applies to every PVC in the namespace',
      'spec.template.minScaleUp: larger than spec.template.maxSize; no expansion can happen',
    ],
  },
  {
    kind: 'HourglassExecutor',
    name: 'kubernetes settings in docker mode',
    spec: ex('HourglassExecutor', (s) => (s.config.performerMode = 'docker')),
    warnings: ['spec.config.kubernetes: ignored when spec.config.performerMode is docker'],
  },
  {
    kind: 'Performer',
    name: 'deprecated environment fields, a TEE type without TEE, a :latest image with IfNotPresent',
    spec: ex('Performer', (s) => {
      delete s.config.env;
      s.config.environment = { A: 'b' };
      s.config.environmentFrom = [{ name: 'T', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }];
      s.hardwareRequirements.teeType = 'sgx';
      s.image = 'ghcr.io/example/p:latest';
    }),
    warnings: [
      'spec.config.environment: deprecated, use spec.config.env',
      'spec.config.environmentFrom: deprecated, use spec.config.env with valueFrom',
      'spec.hardwareRequirements.teeType: ignored while spec.hardwareRequirements.teeRequired is not true',
      'spec.imagePullPolicy: IfNotPresent with an untagged or :latest image; nodes keep running whatever image they pulled first',
    ],
  },
  {
    kind: 'Performer',
    name: 'an untagged image from a registry with a port, and a digest image',
    spec: ex('Performer', (s) => (s.image = 'registry.local:5000/p')),
    warnings: ['spec.imagePullPolicy: IfNotPresent with an untagged or :latest image; nodes keep running whatever image they pulled first'],
  },
  { kind: 'Performer', name: 'a pinned digest is fine', spec: ex('Performer', (s) => (s.image = `registry.local:5000/p@sha256:${'d'.repeat(64)}`)), warnings: [] },
];

for (const c of WARNINGS) {
  test(`${c.kind} warnings: ${c.name}`, (t) => {
    const d = decl(c.kind);
    const obj = objectOf(c.kind, parsedSpec(c.kind, c.spec));
    t.deepEqual(d.rules?.validate?.(obj), [], 'the spec is valid');
    t.deepEqual(d.rules?.warnings?.(obj), c.warnings);
  });
}

// ---------------------------------------------------------------------------------------------
// Table columns

const NOW = new Date('2026-01-02T12:00:00Z');
const CREATED = '2026-01-02T08:50:00Z'; // 3h10m before NOW

const STATUSES: Record<string, Obj> = {
  StormCluster: {
    phase: 'Running',
    nimbusReady: 2,
    supervisorReady: 3,
    usedSlots: 5,
    totalSlots: 12,
    nimbusLeader: 'production-nimbus-0',
    endpoints: { nimbus: 'production-nimbus.storm.svc.cluster.local:6627' },
  },
  StormTopology: {
    phase: 'Running',
    workers: 3,
    uptime: '2h15m',
    topologyId: 'wordcount-7-1767340000',
    deployedVersion: '1.4.0',
    currentRevision: 7,
    history: [
      {
        revision: 7,
        version: '1.4.0',
        topology: { name: 'wordcount', jar: { url: 'https://example.com/wc.jar' } },
        deployedAt: '2026-01-02T09:45:00Z',
        cause: 'Promoted',
        color: 'green',
      },
    ],
  },
  StormWorkerPool: { phase: 'Running', replicas: 3, readyReplicas: 2, deploymentName: 'wordcount-workers', hpaName: 'wordcount-workers' },
  PVCPolicy: { matchedPVCs: 4, lastUpdated: '2026-01-02T11:55:00Z' },
  PVCGroup: { memberCount: 3, currentSize: '500Gi', lastExpansion: '2026-01-01T12:00:00Z' },
  HourglassExecutor: { phase: 'Running', replicas: 1, readyReplicas: 1 },
  Performer: {
    phase: 'Running',
    ready: true,
    grpcEndpoint: 'performer-hello-avs.hourglass-performers.svc.cluster.local',
    nodeName: 'gpu-node-1',
  },
};

const CELLS: Record<string, Array<[string, unknown, 0 | 1]>> = {
  StormCluster: [
    ['Name', 'production', 0],
    ['Phase', 'Running', 0],
    ['Nimbus', 2, 0],
    ['Supervisors', 3, 0],
    ['Slots', '5/12', 0],
    ['Age', '3h10m', 0],
    ['Leader', 'production-nimbus-0', 1],
    ['Endpoint', 'production-nimbus.storm.svc.cluster.local:6627', 1],
    ['Mode', 'create', 1],
  ],
  StormTopology: [
    ['Name', 'wordcount', 0],
    ['Cluster', 'production', 0],
    ['Phase', 'Running', 0],
    ['Workers', 3, 0],
    ['Uptime', '2h15m', 0],
    ['Age', '3h10m', 0],
    ['Topology ID', 'wordcount-7-1767340000', 1],
    ['Version', '1.4.0', 1],
    ['Revision', 7, 1],
  ],
  StormWorkerPool: [
    ['Name', 'wordcount-workers', 0],
    ['Topology', 'wordcount', 0],
    ['Phase', 'Running', 0],
    ['Replicas', 3, 0],
    ['Ready', 2, 0],
    ['Age', '3h10m', 0],
    ['Deployment', 'wordcount-workers', 1],
    ['HPA', 'wordcount-workers', 1],
  ],
  PVCPolicy: [
    ['Name', 'database-policy', 0],
    ['Matched', 4, 0],
    ['Threshold', '85%', 0],
    ['Increase', '25%', 0],
    ['Age', '3h10m', 0],
    ['Max Size', '2Ti', 1],
    ['Cooldown', '30m', 1],
    ['Last Updated', '5m', 1],
  ],
  PVCGroup: [
    ['Name', 'elasticsearch-data', 0],
    ['Members', 3, 0],
    ['Current Size', '500Gi', 0],
    ['Last Expansion', '24h', 0],
    ['Age', '3h10m', 0],
    ['Threshold', '80%', 1],
    ['Max Size', '1Ti', 1],
  ],
  HourglassExecutor: [
    ['Name', 'executor', 0],
    ['Image', 'ghcr.io/layr-labs/hourglass/executor:v0.6.0', 0],
    ['Replicas', 1, 0],
    ['Ready', 1, 0],
    ['Phase', 'Running', 0],
    ['Age', '3h10m', 0],
    ['Mode', 'kubernetes', 1],
    ['Aggregator', 'aggregator.hourglass-system.svc.cluster.local:9010', 1],
  ],
  Performer: [
    ['Name', 'hello-avs', 0],
    ['AVS', '0x5c2b3e9a7f1d4c6b8e0a2f4d6c8b0e2a4f6d8c0b', 0],
    ['Image', 'ghcr.io/example/hello-avs-performer:v1.2.0', 0],
    ['Version', 'v1.2.0', 0],
    ['Phase', 'Running', 0],
    ['Endpoint', 'performer-hello-avs.hourglass-performers.svc.cluster.local', 0],
    ['Age', '3h10m', 0],
    ['Ready', true, 1],
    ['Node', 'gpu-node-1', 1],
    ['GPU', '1x nvidia-a100', 1],
  ],
};

/** The columns whose cells come from `status`. */
const STATUS_COLUMNS: Record<string, string[]> = {
  StormCluster: ['Phase', 'Nimbus', 'Supervisors', 'Slots', 'Leader', 'Endpoint'],
  StormTopology: ['Phase', 'Workers', 'Uptime', 'Topology ID', 'Version', 'Revision'],
  StormWorkerPool: ['Phase', 'Replicas', 'Ready', 'Deployment', 'HPA'],
  PVCPolicy: ['Matched', 'Last Updated'],
  PVCGroup: ['Members', 'Current Size', 'Last Expansion'],
  HourglassExecutor: ['Ready', 'Phase'],
  Performer: ['Phase', 'Endpoint', 'Ready', 'Node'],
};

/** The example, decoded, with a creation time and a sample status. */
function sampleObject(kind: string): KubeObject {
  const d = decl(kind);
  const doc = example(kind);
  const status = d.status.parse(STATUSES[kind]) as Record<string, unknown>;
  return {
    apiVersion: doc.apiVersion,
    kind,
    metadata: { ...doc.metadata, creationTimestamp: CREATED },
    spec: d.spec.parse(doc.spec) as Record<string, unknown>,
    status,
  };
}

for (const kind of Object.keys(CELLS)) {
  test(`${kind}: table columns and their cells`, (t) => {
    const d = decl(kind);
    t.deepEqual(
      d.columns.map((c) => [c.name, c.priority]),
      CELLS[kind].map(([name, , priority]) => [name, priority]),
    );
    t.is(d.columns[0].type, 'string');
    t.is(d.columns[0].format, 'name');
    const age = d.columns.find((c) => c.name === 'Age');
    t.is(age?.type, 'date');
    for (const c of d.columns) t.true(c.description.length > 0, c.name);
    const obj = sampleObject(kind);
    t.deepEqual(
      d.columns.map((c) => c.cell(obj, NOW)),
      CELLS[kind].map(([, cell]) => cell),
    );
    // Before the controller writes a status, the status columns are empty; the others are unchanged.
    const fresh: KubeObject = { ...obj, status: undefined };
    t.deepEqual(
      d.columns.map((c) => c.cell(fresh, NOW)),
      CELLS[kind].map(([name, cell]) => (STATUS_COLUMNS[kind].includes(name) ? undefined : cell)),
    );
  });
}

test('Slots prefers status.slotsInfo and prints nothing without a total', (t) => {
  const slots = decl('StormCluster').columns.find((c) => c.name === 'Slots')!;
  const base = sampleObject('StormCluster');
  t.is(slots.cell({ ...base, status: { slotsInfo: '6/12', usedSlots: 1, totalSlots: 2 } }, NOW), '6/12');
  t.is(slots.cell({ ...base, status: { totalSlots: 8 } }, NOW), '0/8');
  t.is(slots.cell({ ...base, status: {} }, NOW), undefined);
});

test('cells of the wrong type print as empty, GPU prints a bare count', (t) => {
  const performer = decl('Performer');
  const obj = sampleObject('Performer');
  const cell = (name: string, o: KubeObject) => performer.columns.find((c) => c.name === name)!.cell(o, NOW);
  t.is(cell('Ready', { ...obj, status: { ready: 'yes' } }), undefined);
  t.is(cell('GPU', { ...obj, spec: { ...obj.spec, hardwareRequirements: { gpuCount: 2 } } }), '2');
  t.is(cell('GPU', { ...obj, spec: { ...obj.spec, hardwareRequirements: { gpuCount: 0 } } }), undefined);
  const topology = decl('StormTopology');
  t.is(topology.columns.find((c) => c.name === 'Workers')!.cell({ ...obj, status: { workers: '3' } }, NOW), undefined);
  t.is(topology.columns.find((c) => c.name === 'Age')!.cell({ ...obj, metadata: {} }, NOW), undefined);
});

// ---------------------------------------------------------------------------------------------
// Field selectors and scale

const SELECTABLE: Record<string, Record<string, string | undefined>> = {
  StormCluster: { 'status.phase': 'Running', 'spec.managementMode': 'create' },
  StormTopology: { 'spec.clusterRef': 'production', 'spec.topology.name': 'wordcount', 'status.phase': 'Running' },
  StormWorkerPool: { 'spec.topologyRef': 'wordcount', 'spec.clusterRef': 'production', 'status.phase': 'Running' },
  PVCPolicy: {},
  PVCGroup: {},
  HourglassExecutor: { 'status.phase': 'Running' },
  Performer: { 'spec.avsAddress': '0x5c2b3e9a7f1d4c6b8e0a2f4d6c8b0e2a4f6d8c0b', 'status.phase': 'Running' },
};

for (const kind of Object.keys(SELECTABLE)) {
  test(`${kind}: selectable fields`, (t) => {
    const d = decl(kind);
    const obj = sampleObject(kind);
    const values = Object.fromEntries(Object.entries(d.selectableFields).map(([label, get]) => [label, get(obj)]));
    t.deepEqual(values, SELECTABLE[kind]);
    // Without a status, status fields select as missing.
    for (const [label, get] of Object.entries(d.selectableFields)) {
      if (label.startsWith('status.')) t.is(get({ ...obj, status: undefined }), undefined, label);
    }
  });
}

test('scale: worker pools and executors map spec.replicas / status.replicas and select their pods by label', (t) => {
  const pool = sampleObject('StormWorkerPool');
  const poolScale = decl('StormWorkerPool').scale!;
  t.is(fieldAt(pool, poolScale.specReplicasPath), 3);
  t.is(fieldAt(pool, poolScale.statusReplicasPath), 3);
  t.is(poolScale.labelSelector(pool), 'storm.apache.org/worker-pool=wordcount-workers');

  const executor = sampleObject('HourglassExecutor');
  const executorScale = decl('HourglassExecutor').scale!;
  t.is(fieldAt(executor, executorScale.specReplicasPath), 1);
  t.is(fieldAt(executor, executorScale.statusReplicasPath), 1);
  t.is(executorScale.labelSelector(executor), 'hourglass.eigenlayer.io/executor=executor');
});

// ---------------------------------------------------------------------------------------------
// Status

test('status schemas: all fields optional, phases are enums, history records revisions', (t) => {
  for (const d of allKinds) {
    t.true(d.status.safeParse({}).success, d.kind);
    const bad = d.status.safeParse({ phase: 'Exploded' });
    if (d.kind === 'PVCPolicy' || d.kind === 'PVCGroup') {
      t.false(bad.success, `${d.kind} has no phase: unknown field`);
    } else {
      t.false(bad.success, d.kind);
      t.is(bad.success ? '' : bad.error.issues[0].code, 'invalid_value', d.kind);
    }
  }
  const topology = decl('StormTopology');
  const status = topology.status.parse(STATUSES.StormTopology) as Obj;
  t.is(status.history[0].revision, 7);
  t.deepEqual(status.history[0].topology.jar, { url: 'https://example.com/wc.jar' });
  const noRevision = topology.status.safeParse({ history: [{ revision: 0, version: 'x', topology: { name: 'a', jar: {} }, deployedAt: CREATED }] });
  t.false(noRevision.success);
  t.deepEqual(noRevision.success ? [] : noRevision.error.issues[0].path, ['history', 0, 'revision']);
});
