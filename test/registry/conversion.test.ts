// storm.apache.org v1alpha1 ↔ v1beta1 conversion: property-style round trips over generated objects
// (a small seeded generator, 200 objects per kind and direction), the seed 001 examples as
// table-driven cases, and the generic pieces (field selectors, error paths, OpenAPI schemas).
import test from 'ava';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { decodeObject } from '../../registry/codec.js';
import {
  convertFromVersion,
  convertToVersion,
  deletePath,
  fieldPathToVersion,
  fieldSelectorToStorage,
  movePairs,
  schemasOf,
} from '../../registry/conversion.js';
import type { KindDeclaration } from '../../registry/kind.js';
import { allKinds } from '../../registry/kinds.js';
import type { KubeObject } from '../../registry/meta.js';
import { V1ALPHA1_FIELDS, V1BETA1_FIELDS, v1alpha1 as topologyV1alpha1 } from '../../registry/storm.apache.org/stormtopology/v1alpha1.js';
import { v1alpha1 as poolV1alpha1 } from '../../registry/storm.apache.org/stormworkerpool/v1alpha1.js';
import { buildV3 } from '../../openapi/build.js';

type Obj = Record<string, any>;

const N = 200;
const ALPHA = 'storm.apache.org/v1alpha1';
const BETA = 'storm.apache.org/v1beta1';

function decl(kind: string): KindDeclaration {
  const d = allKinds.find((k) => k.kind === kind);
  if (!d) throw new Error(`no kind ${kind}`);
  return d;
}
const topology = decl('StormTopology');
const pool = decl('StormWorkerPool');
const cluster = decl('StormCluster');

// ---- a small seeded generator ------------------------------------------------------------------

/** mulberry32: a deterministic PRNG, so a failing object is reproducible from its seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)];
  const maybe = (p = 0.5) => next() < p;
  const word = () => pick(['alpha', 'beta', 'gamma', 'delta', 'wordcount', 'exclaim', 'rolling']) + (maybe() ? `-${int(1, 99)}` : '');
  /** Sets `key` on `obj` with probability p (keys absent and present both get exercised). */
  const some = (obj: Obj, key: string, make: () => unknown, p = 0.5) => {
    if (maybe(p)) obj[key] = make();
  };
  return { next, int, pick, maybe, word, some };
}
type Rng = ReturnType<typeof rng>;

const quantity = (r: Rng, kind: 'cpu' | 'memory') =>
  kind === 'cpu' ? r.pick(['1', '2', '500m', '250m', 1, 2]) : r.pick(['1Gi', '2Gi', '512Mi', '1536Mi', 1073741824]);
const dottedKeys = ['topology.workers', 'topology.acker.executors', 'topology.message.timeout.secs', 'topology.version', 'storm.example/x'];

function metadata(r: Rng, name: string): Obj {
  const meta: Obj = { name, namespace: r.pick(['default', 'storm', 'team-a']) };
  r.some(meta, 'labels', () => ({ app: r.word(), 'example.com/tier': r.pick(['gold', 'silver']) }), 0.4);
  r.some(meta, 'annotations', () => ({ 'example.com/owner': r.word() }), 0.3);
  return meta;
}

function topologyStatus(r: Rng): Obj {
  const status: Obj = { phase: r.pick(['Pending', 'Running', 'Failed']) };
  r.some(status, 'workers', () => r.int(0, 9));
  r.some(status, 'conditions', () => [{ type: 'Ready', status: 'True', reason: 'Running', lastTransitionTime: '2026-01-02T03:04:05Z' }], 0.3);
  return status;
}

/** A valid v1beta1 StormTopology, parsed (so defaulted) as the server stores it. */
function betaTopology(r: Rng): KubeObject {
  const name = r.word();
  const jarSource = r.pick(['url', 'url', 'url', 'configMap', 'secret', 's3', 'container'] as const);
  const jar: Obj = {
    url: { url: `https://repo.example.com/${r.word()}.jar` },
    configMap: { configMap: `${r.word()}-jar` },
    secret: { secret: `${r.word()}-jar` },
    s3: { s3: { bucket: 'jars', key: `${r.word()}.jar`, region: 'eu-west-1' } },
    container: { container: { image: `registry.example.com/${r.word()}:1.0` } },
  }[jarSource];
  r.some(jar, 'checksum', () => ({ algorithm: 'sha256', value: 'a'.repeat(64) }), 0.2);
  const topologySpec: Obj = { name: r.maybe(0.7) ? name : r.word(), jar };
  r.some(topologySpec, 'mainClass', () => `org.example.${r.word().replace(/-/g, '')}.Main`);
  r.some(topologySpec, 'args', () => Array.from({ length: r.int(0, 3) }, () => r.word()));
  r.some(topologySpec, 'config', () => Object.fromEntries(dottedKeys.filter(() => r.maybe()).map((k) => [k, String(r.int(1, 50))])));
  const spec: Obj = { clusterRef: r.word(), topology: topologySpec };
  r.some(spec, 'workers', () => {
    const workers: Obj = {};
    r.some(workers, 'replicas', () => r.int(1, 9));
    r.some(workers, 'resources', () => {
      const resources: Obj = {};
      r.some(resources, 'requests', () => {
        const requests: Obj = {};
        r.some(requests, 'cpu', () => quantity(r, 'cpu'));
        r.some(requests, 'memory', () => quantity(r, 'memory'));
        r.some(requests, 'ephemeral-storage', () => '1Gi', 0.2);
        return requests;
      });
      r.some(resources, 'limits', () => ({ memory: quantity(r, 'memory') }), 0.3);
      return resources;
    });
    r.some(workers, 'jvmOpts', () => ['-Xmx1g'], 0.3);
    r.some(workers, 'autoscaling', () => ({ minReplicas: 1, maxReplicas: r.int(2, 10) }), 0.3);
    r.some(workers, 'nodeSelector', () => ({ 'kubernetes.io/os': 'linux' }), 0.2);
    return workers;
  });
  r.some(spec, 'lifecycle', () => ({ killWaitSeconds: r.int(0, 120) }), 0.3);
  r.some(spec, 'suspend', () => r.maybe(), 0.3);
  r.some(spec, 'deploymentStrategy', () => (r.maybe() ? { type: 'blueGreen', blueGreen: { scaleDownDelaySeconds: r.int(0, 300) } } : { type: 'recreate' }), 0.3);
  r.some(spec, 'revisionHistoryLimit', () => r.int(0, 20), 0.3);
  const obj: KubeObject = { apiVersion: BETA, kind: 'StormTopology', metadata: metadata(r, name), spec: topology.spec.parse(spec) as Obj };
  if (r.maybe(0.4)) obj.status = topology.status.parse(topologyStatus(r)) as Obj;
  return obj;
}

/** A valid v1alpha1 StormTopology in seed 001's shape, as a client writes it (nothing defaulted). */
function alphaTopology(r: Rng): KubeObject {
  const spec: Obj = { clusterRef: r.word() };
  spec.jarUrl = `https://repo.example.com/${r.word()}.jar`;
  r.some(spec, 'mainClass', () => `org.example.${r.word().replace(/-/g, '')}.Main`);
  r.some(spec, 'args', () => Array.from({ length: r.int(0, 3) }, () => r.word()));
  r.some(spec, 'config', () =>
    Object.fromEntries(dottedKeys.filter(() => r.maybe()).map((k) => [k, r.pick([String(r.int(1, 9)), r.int(1, 50), 1.5, true, false, 'on'])])),
  );
  r.some(spec, 'workerPool', () => {
    const workerPool: Obj = {};
    r.some(workerPool, 'replicas', () => r.int(1, 9));
    r.some(workerPool, 'resources', () => {
      const resources: Obj = {};
      r.some(resources, 'cpu', () => quantity(r, 'cpu'));
      r.some(resources, 'memory', () => quantity(r, 'memory'));
      return resources;
    });
    return workerPool;
  });
  const obj: KubeObject = { apiVersion: ALPHA, kind: 'StormTopology', metadata: metadata(r, r.word()), spec };
  if (r.maybe(0.3)) obj.status = topologyStatus(r);
  t_assertValid(topologyV1alpha1.spec, spec);
  return obj;
}

function alphaMetric(r: Rng): Obj {
  const custom: Obj = { metricName: r.pick(['storm_topology_pending_tuples', 'storm_capacity', 'latency_ms']) };
  if (r.maybe()) custom.targetValue = r.pick([1000, '500', '1k']);
  else custom.targetAverageValue = r.pick([10, '250m']);
  r.some(custom, 'source', () => r.pick(['pods', 'external']), 0.3);
  return { type: 'Custom', custom };
}

function betaPool(r: Rng): KubeObject {
  const spec: Obj = { topologyRef: r.word() };
  r.some(spec, 'clusterRef', () => r.word(), 0.3);
  r.some(spec, 'replicas', () => r.int(0, 9));
  r.some(spec, 'workerConfig', () => ({ 'worker.childopts': '-Xmx1g' }), 0.3);
  r.some(spec, 'ports', () => ({ start: r.int(6000, 7000), count: r.int(1, 8) }), 0.3);
  r.some(spec, 'template', () => ({ metadata: { labels: { team: r.word() } } }), 0.2);
  r.some(spec, 'autoscaling', () => {
    const autoscaling: Obj = {};
    r.some(autoscaling, 'enabled', () => r.maybe());
    r.some(autoscaling, 'minReplicas', () => r.int(1, 3));
    r.some(autoscaling, 'maxReplicas', () => r.int(3, 12));
    r.some(autoscaling, 'targetCPUUtilizationPercentage', () => r.int(10, 90), 0.3);
    r.some(autoscaling, 'customMetrics', () =>
      Array.from({ length: r.int(0, 2) }, () => {
        const m: Obj = { name: r.pick(['storm_pending_messages', 'storm_capacity']), type: r.pick(['pods', 'external']) };
        if (r.maybe()) m.targetValue = '1000';
        else m.targetAverageValue = '250m';
        return m;
      }),
    );
    return autoscaling;
  });
  const obj: KubeObject = { apiVersion: BETA, kind: 'StormWorkerPool', metadata: metadata(r, r.word()), spec: pool.spec.parse(spec) as Obj };
  if (r.maybe(0.4)) obj.status = pool.status.parse({ phase: 'Running', replicas: r.int(0, 5), readyReplicas: r.int(0, 5) }) as Obj;
  return obj;
}

function alphaPool(r: Rng): KubeObject {
  const spec: Obj = { topologyName: r.word() };
  r.some(spec, 'minReplicas', () => r.int(1, 3));
  r.some(spec, 'maxReplicas', () => r.int(3, 12));
  r.some(spec, 'metrics', () => Array.from({ length: r.int(0, 3) }, () => alphaMetric(r)));
  t_assertValid(poolV1alpha1.spec, spec);
  return { apiVersion: ALPHA, kind: 'StormWorkerPool', metadata: metadata(r, r.word()), spec };
}

function t_assertValid(schema: z.ZodType, value: unknown): void {
  const result = schema.safeParse(value);
  if (!result.success) throw new Error(`generator produced an invalid object: ${JSON.stringify(result.error.issues)}`);
}

/** What defaulting in v1beta1 makes visible in v1alpha1 (documented in the v1alpha1 modules). */
function alphaWithStorageDefaults(kind: string, obj: KubeObject): KubeObject {
  const out = structuredClone(obj);
  const spec = out.spec as Obj;
  if (kind === 'StormTopology') {
    spec.workerPool ??= {};
    spec.workerPool.replicas ??= 2;
  } else if (spec.minReplicas !== undefined || spec.maxReplicas !== undefined || spec.metrics !== undefined) {
    spec.minReplicas ??= 1;
    spec.maxReplicas ??= 10;
    for (const m of spec.metrics ?? []) m.custom.source ??= 'pods';
  }
  return out;
}

/** A v1beta1 object with apiVersion set as a decode returns it. */
const asStored = (obj: KubeObject): KubeObject => ({ ...obj, apiVersion: BETA });

// ---- property-style round trips --------------------------------------------------------------

const GENERATED = [
  { kind: 'StormTopology', d: topology, own: topologyV1alpha1, beta: betaTopology, alpha: alphaTopology },
  { kind: 'StormWorkerPool', d: pool, own: poolV1alpha1, beta: betaPool, alpha: alphaPool },
];

for (const g of GENERATED) {
  test(`${g.kind}: v1beta1 → v1alpha1 → v1beta1 is the identity (${N} generated objects, pure conversions)`, (t) => {
    for (let seed = 1; seed <= N; seed++) {
      const stored = g.beta(rng(seed));
      const frozen = structuredClone(stored);
      const back = g.own.toStorage(g.own.fromStorage(stored));
      t.deepEqual(stored, frozen, `seed ${seed}: the input is left alone`);
      t.deepEqual(back, stored, `seed ${seed}`);
    }
  });

  test(`${g.kind}: a v1alpha1 read-modify-write of a v1beta1 object stores it unchanged (${N} generated objects)`, (t) => {
    let annotated = 0;
    for (let seed = 1; seed <= N; seed++) {
      const stored = g.beta(rng(seed));
      const shown = convertToVersion(g.d, stored, 'v1alpha1');
      t.is(shown.apiVersion, ALPHA);
      // What a v1alpha1 client reads is a valid v1alpha1 object (strict: no field it does not know).
      const decoded = decodeObject(g.d, 'v1alpha1', structuredClone(shown), 'Strict');
      t.deepEqual(decoded.errors, [], `seed ${seed}`);
      t.deepEqual(decoded.object, stored, `seed ${seed}`);
      if (shown.metadata.annotations?.[V1BETA1_FIELDS] !== undefined) annotated++;
    }
    // The generator covers both: objects v1alpha1 expresses fully, and objects that need the annotation.
    t.true(annotated > N / 10 && annotated < N, `${annotated} of ${N} needed the annotation`);
  });

  test(`${g.kind}: v1alpha1 → v1beta1 → v1alpha1 is the identity (${N} generated objects, pure conversions)`, (t) => {
    for (let seed = 1; seed <= N; seed++) {
      const written = g.alpha(rng(1000 + seed));
      const frozen = structuredClone(written);
      t.deepEqual(g.own.fromStorage(g.own.toStorage(written)), written, `seed ${1000 + seed}`);
      t.deepEqual(written, frozen, `seed ${1000 + seed}: the input is left alone`);
    }
  });

  test(`${g.kind}: a v1alpha1 write read back in v1alpha1 shows what was written, plus visible defaults (${N} generated objects)`, (t) => {
    for (let seed = 1; seed <= N; seed++) {
      const written = g.alpha(rng(1000 + seed));
      const decoded = decodeObject(g.d, 'v1alpha1', structuredClone(written), 'Strict');
      t.deepEqual(decoded.errors, [], `seed ${1000 + seed}`);
      t.is(decoded.object.apiVersion, BETA);
      t.true(g.d.spec.safeParse(decoded.object.spec).success, `seed ${1000 + seed}: stored spec is valid v1beta1`);
      t.is(decoded.object.metadata.annotations?.[V1BETA1_FIELDS], undefined, 'never stored');
      const shown = convertToVersion(g.d, decoded.object, 'v1alpha1');
      t.deepEqual(shown, alphaWithStorageDefaults(g.kind, written), `seed ${1000 + seed}`);
      // And the same object read in v1beta1, then written back in v1beta1, is stored unchanged.
      t.deepEqual(decodeObject(g.d, 'v1beta1', structuredClone(decoded.object), 'Strict').object, decoded.object);
    }
  });
}

test('StormCluster: v1alpha1 converts one to one (only apiVersion changes)', (t) => {
  const example = parse(readFileSync(new URL('../../../deploy/examples/stormcluster.yaml', import.meta.url), 'utf8')) as KubeObject;
  const decoded = decodeObject(cluster, 'v1beta1', example, 'Strict').object;
  const shown = convertToVersion(cluster, decoded, 'v1alpha1');
  t.deepEqual(shown, { ...decoded, apiVersion: ALPHA });
  t.deepEqual(convertFromVersion(cluster, shown, 'v1alpha1'), decoded);
  t.deepEqual(decodeObject(cluster, 'v1alpha1', shown, 'Strict').object, decoded);
  t.is(schemasOf(cluster, 'v1alpha1').spec, cluster.spec);
});

test('the storage version converts by identity (same object, no copy)', (t) => {
  const obj: KubeObject = { apiVersion: BETA, kind: 'StormTopology', metadata: { name: 'x' }, spec: {} };
  t.is(convertToVersion(topology, obj, 'v1beta1'), obj);
  t.is(convertFromVersion(topology, obj, 'v1beta1'), obj);
});

// ---- seed 001 examples, table-driven ----------------------------------------------------------

const SEED_TOPOLOGY = parse(`
apiVersion: storm.apache.org/v1alpha1
kind: StormTopology
metadata:
  name: wordcount
spec:
  jarUrl: "https://repo/storm-examples.jar"
  mainClass: "org.apache.storm.examples.WordCount"
  args: ["wordcount", "10"]
  config:
    topology.workers: 3
    topology.acker.executors: 2
  workerPool:
    replicas: 3
    resources:
      cpu: "1"
      memory: "2Gi"
`) as KubeObject;

const SEED_POOL = parse(`
apiVersion: storm.apache.org/v1alpha1
kind: StormWorkerPool
metadata:
  name: wordcount-workers
spec:
  topologyName: wordcount
  minReplicas: 2
  maxReplicas: 10
  metrics:
  - type: Custom
    custom:
      metricName: storm_topology_pending_tuples
      targetValue: 1000
`) as KubeObject;

const withClusterRef = (obj: KubeObject): KubeObject => ({ ...obj, spec: { clusterRef: 'production', ...obj.spec } });

interface SeedCase {
  name: string;
  d: KindDeclaration;
  written: KubeObject;
  /** The stored v1beta1 object (after defaulting), or the errors the write gets. */
  stored?: Obj;
  errors?: Array<{ type: string; field: string }>;
}

const SEED_CASES: SeedCase[] = [
  {
    name: 'seed 001 StormTopology, exactly as written: v1beta1 needs the cluster',
    d: topology,
    written: SEED_TOPOLOGY,
    errors: [{ type: 'FieldValueRequired', field: 'spec.clusterRef' }],
  },
  {
    name: 'seed 001 StormTopology with a clusterRef',
    d: topology,
    written: withClusterRef(SEED_TOPOLOGY),
    stored: {
      apiVersion: BETA,
      kind: 'StormTopology',
      metadata: { name: 'wordcount', annotations: { [V1ALPHA1_FIELDS]: JSON.stringify({ spec: { config: { 'topology.workers': 3, 'topology.acker.executors': 2 } } }) } },
      spec: {
        clusterRef: 'production',
        topology: {
          name: 'wordcount',
          jar: { url: 'https://repo/storm-examples.jar' },
          mainClass: 'org.apache.storm.examples.WordCount',
          args: ['wordcount', '10'],
          config: { 'topology.workers': '3', 'topology.acker.executors': '2' },
        },
        workers: { replicas: 3, resources: { requests: { cpu: '1', memory: '2Gi' } } },
        lifecycle: { killWaitSeconds: 30, updateStrategy: 'recreate' },
        suspend: false,
        deploymentStrategy: { type: 'recreate' },
        revisionHistoryLimit: 10,
      },
    },
  },
  {
    name: 'seed 001 StormTopology without jarUrl: v1beta1 needs a jar, named by the v1alpha1 path',
    d: topology,
    written: { ...withClusterRef(SEED_TOPOLOGY), spec: { ...withClusterRef(SEED_TOPOLOGY).spec, jarUrl: undefined } },
    errors: [{ type: 'FieldValueRequired', field: 'spec.jarUrl' }],
  },
  {
    name: 'seed 001 StormWorkerPool',
    d: pool,
    written: SEED_POOL,
    stored: {
      apiVersion: BETA,
      kind: 'StormWorkerPool',
      metadata: { name: 'wordcount-workers' },
      spec: {
        topologyRef: 'wordcount',
        replicas: 1,
        ports: { start: 6700, count: 4 },
        autoscaling: {
          enabled: true,
          minReplicas: 2,
          maxReplicas: 10,
          targetCPUUtilizationPercentage: 80,
          customMetrics: [{ name: 'storm_topology_pending_tuples', type: 'pods', targetValue: 1000 }],
        },
      },
    },
  },
];

for (const c of SEED_CASES) {
  test(`seed example: ${c.name}`, (t) => {
    const decoded = decodeObject(c.d, 'v1alpha1', structuredClone(c.written), 'Strict');
    if (c.errors) {
      t.deepEqual(
        decoded.errors.map((e) => ({ type: e.type, field: e.field })),
        c.errors,
      );
      return;
    }
    t.deepEqual(decoded.errors, []);
    t.deepEqual(decoded.object, c.stored);
    // Read back in v1alpha1: what was written, with the defaults v1beta1 makes visible.
    t.deepEqual(convertToVersion(c.d, decoded.object, 'v1alpha1'), alphaWithStorageDefaults(c.d.kind, c.written));
  });
}

interface BetaOnlyCase {
  name: string;
  d: KindDeclaration;
  file: string;
  /** The v1alpha1 spec of the example, and what its annotation holds. */
  spec: Obj;
  kept: Obj;
}

const BETA_ONLY: BetaOnlyCase[] = [
  {
    name: 'deploy/examples/stormtopology.yaml: checksum, autoscaling, JVM options and blue-green travel in the annotation',
    d: topology,
    file: 'stormtopology.yaml',
    spec: {
      clusterRef: 'production',
      jarUrl: 'https://repo1.maven.org/maven2/org/apache/storm/storm-starter/2.6.0/storm-starter-2.6.0.jar',
      mainClass: 'org.apache.storm.starter.WordCountTopology',
      args: ['wordcount'],
      config: { 'topology.version': '1.4.0', 'topology.message.timeout.secs': '30', 'topology.max.spout.pending': '1000' },
      workerPool: { replicas: 3, resources: { cpu: '1', memory: '1536Mi' } },
    },
    kept: {
      topology: { jar: { checksum: { algorithm: 'sha256', value: '7fd2f1b35127447373cdda9c4f702a07aa4a8830b1ca4d2e14092e67d96dfcd9' } } },
      workers: {
        jvmOpts: ['-Xmx1g', '-XX:+UseG1GC'],
        // Defaults inside an object v1alpha1 does not have are kept: dropping them would drop the object.
        autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 8, targetCPUUtilizationPercentage: 75 },
      },
      deploymentStrategy: {
        type: 'blueGreen',
        blueGreen: {
          autoPromotionEnabled: false,
          scaleDownDelaySeconds: 120,
          prePromotionAnalysis: [
            { metricName: 'failed', threshold: '<10' },
            { metricName: 'completeLatencyMs', threshold: '<500' },
          ],
        },
      },
      revisionHistoryLimit: 5,
    },
  },
  {
    name: 'deploy/examples/stormworkerpool.yaml: replicas, cluster, template, ports and behavior travel in the annotation',
    d: pool,
    file: 'stormworkerpool.yaml',
    spec: {
      topologyName: 'wordcount',
      minReplicas: 2,
      maxReplicas: 10,
      metrics: [{ type: 'Custom', custom: { metricName: 'storm_pending_messages', targetAverageValue: '1000', source: 'pods' } }],
    },
    kept: {
      clusterRef: 'production',
      replicas: 3,
      jvmOpts: ['-Xms1g', '-Xmx1g'],
      workerConfig: { 'worker.childopts': '-Dlog4j2.formatMsgNoLookups=true' },
      template: {
        metadata: { labels: { team: 'streaming' }, annotations: { 'prometheus.io/scrape': 'true' } },
        spec: {
          containers: [{ name: 'worker', resources: { requests: { cpu: '1', memory: '2Gi' }, limits: { memory: '2Gi' } }, env: [{ name: 'TZ', value: 'UTC' }] }],
          nodeSelector: { workload: 'storm' },
          terminationGracePeriodSeconds: 60,
        },
      },
      autoscaling: {
        targetCPUUtilizationPercentage: 70,
        behavior: { scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } },
      },
    },
  },
];

for (const c of BETA_ONLY) {
  test(`v1beta1 example in v1alpha1: ${c.name}`, (t) => {
    const example = parse(readFileSync(new URL(`../../../deploy/examples/${c.file}`, import.meta.url), 'utf8')) as KubeObject;
    const stored = decodeObject(c.d, 'v1beta1', example, 'Strict').object;
    const shown = convertToVersion(c.d, stored, 'v1alpha1');
    t.deepEqual(shown.spec, c.spec);
    t.deepEqual(JSON.parse(shown.metadata.annotations![V1BETA1_FIELDS]), { spec: c.kept });
    t.deepEqual(decodeObject(c.d, 'v1alpha1', shown, 'Strict').object, stored);
  });
}

test('StormTopology: a topology name other than metadata.name is kept; a config value changed in v1beta1 wins over its recorded type', (t) => {
  const stored = decodeObject(topology, 'v1alpha1', withClusterRef(SEED_TOPOLOGY), 'Strict').object;
  const renamed = structuredClone(stored);
  (renamed.spec as Obj).topology.name = 'word-count-v2';
  (renamed.spec as Obj).topology.config['topology.workers'] = '4';
  const shown = convertToVersion(topology, renamed, 'v1alpha1');
  t.deepEqual(JSON.parse(shown.metadata.annotations![V1BETA1_FIELDS]), { spec: { topology: { name: 'word-count-v2' } } });
  t.deepEqual((shown.spec as Obj).config, { 'topology.workers': '4', 'topology.acker.executors': 2 });
  t.deepEqual(decodeObject(topology, 'v1alpha1', shown, 'Strict').object.spec, renamed.spec);
});

test('an annotation that is not a JSON object is ignored, never an exception', (t) => {
  for (const value of ['not json', '[1,2]', '"text"', 'null']) {
    const written = withClusterRef(SEED_TOPOLOGY);
    written.metadata = { ...written.metadata, annotations: { [V1BETA1_FIELDS]: value } };
    const stored = convertFromVersion(topology, written, 'v1alpha1');
    t.is(stored.metadata.annotations?.[V1BETA1_FIELDS], undefined, value);
    t.is((stored.spec as Obj).topology.name, 'wordcount', value);
  }
});

test('conversions are total: objects without spec, or with fields of the wrong type, convert without throwing', (t) => {
  const odd: Obj[] = [
    { apiVersion: ALPHA, kind: 'StormTopology', metadata: {} },
    { apiVersion: ALPHA, kind: 'StormTopology', metadata: { name: 'x' }, spec: { workerPool: 'three', config: [1], args: 'a' } },
    { apiVersion: ALPHA, kind: 'StormWorkerPool', metadata: {}, spec: { metrics: [null, 3, { type: 'Custom' }] } },
  ];
  for (const obj of odd) {
    const d = obj.kind === 'StormTopology' ? topology : pool;
    t.notThrows(() => convertToVersion(d, convertFromVersion(d, obj as KubeObject, 'v1alpha1'), 'v1alpha1'), JSON.stringify(obj));
  }
});

// ---- field selectors, error paths ------------------------------------------------------------

const SELECTORS: Array<[KindDeclaration, string, string, string | undefined]> = [
  [topology, 'v1alpha1', 'spec.clusterRef=production,status.phase!=Failed', 'spec.clusterRef=production,status.phase!=Failed'],
  [topology, 'v1alpha1', 'metadata.name=wordcount', 'metadata.name=wordcount'],
  [pool, 'v1alpha1', 'spec.topologyName=wordcount', 'spec.topologyRef=wordcount'],
  [pool, 'v1alpha1', 'spec.topologyName==a\\,b', 'spec.topologyRef=a\\,b'],
  [pool, 'v1beta1', 'spec.topologyRef=wordcount', 'spec.topologyRef=wordcount'],
  [cluster, 'v1alpha1', 'spec.managementMode=create', 'spec.managementMode=create'],
  [pool, 'v1alpha1', '', ''],
];

for (const [d, version, selector, expected] of SELECTORS) {
  test(`field selector ${d.kind} ${version} "${selector}" → "${expected}"`, (t) => {
    t.is(fieldSelectorToStorage(d, version, selector), expected);
  });
}

test('a v1beta1-only field label is a 400 in v1alpha1', (t) => {
  const err = t.throws(() => fieldSelectorToStorage(pool, 'v1alpha1', 'spec.topologyRef=x')) as { status?: Obj };
  t.is(err.status?.code, 400);
  t.regex(String(err.status?.message), /field label not supported: spec.topologyRef \(supported: metadata.name, metadata.namespace, spec.topologyName, status.phase\)/);
});

const PATHS: Array<[KindDeclaration, string, string]> = [
  [topology, 'spec.topology.jar.url', 'spec.jarUrl'],
  [topology, 'spec.topology.jar', 'spec.jarUrl'],
  [topology, 'spec.topology.config[topology.version]', 'spec.config[topology.version]'],
  [topology, 'spec.workers.replicas', 'spec.workerPool.replicas'],
  [topology, 'spec.workers.resources.requests.cpu', 'spec.workerPool.resources.cpu'],
  [topology, 'spec.workers.autoscaling.maxReplicas', 'spec.workers.autoscaling.maxReplicas'],
  [topology, 'spec.workerPool.replicas', 'spec.workerPool.replicas'],
  [pool, 'spec.topologyRef', 'spec.topologyName'],
  [pool, 'spec.autoscaling.maxReplicas', 'spec.maxReplicas'],
  [pool, 'spec.autoscaling.customMetrics[1]', 'spec.metrics[1]'],
  [pool, 'spec.autoscaling.customMetrics[0].targetValue', 'spec.metrics[0].custom.targetValue'],
  [pool, 'spec.autoscaling.customMetrics[0].name', 'spec.metrics[0].custom.metricName'],
  [pool, 'spec.metrics[0].type', 'spec.metrics[0].type'],
  [pool, 'spec.ports.count', 'spec.ports.count'],
];

for (const [d, storage, shown] of PATHS) {
  test(`error path ${d.kind} ${storage} → ${shown}`, (t) => {
    t.is(fieldPathToVersion(d, storage, 'v1alpha1'), shown);
    t.is(fieldPathToVersion(d, storage, 'v1beta1'), storage);
  });
}

// ---- schemas and helpers -------------------------------------------------------------------

function undocumented(schema: Obj, at: string, out: string[]): void {
  for (const [k, v] of Object.entries((schema.properties ?? {}) as Record<string, Obj>)) {
    if (!v.description) out.push(`${at}.${k}`);
    undocumented(v, `${at}.${k}`, out);
  }
  if (schema.items) undocumented(schema.items, `${at}[]`, out);
}

for (const d of [topology, pool]) {
  test(`${d.kind} v1alpha1: every field has a description, objects are strict, OpenAPI v3 publishes the v1alpha1 schema`, (t) => {
    const own = d.versionSchemas!.v1alpha1;
    const missing: string[] = [];
    undocumented(z.toJSONSchema(own.spec, { io: 'input' }) as Obj, 'spec', missing);
    t.deepEqual(missing, []);
    t.false(own.spec.safeParse({ ...(d === topology ? { clusterRef: 'x' } : { topologyName: 'x' }), surprise: 1 }).success);
    const doc = buildV3(allKinds, 'storm.apache.org', 'v1alpha1') as Obj;
    const schemas = doc.components.schemas as Obj;
    const def = schemas[`org.apache.storm.v1alpha1.${d.kind}`];
    const alphaFields = Object.keys(def.properties.spec.properties).sort();
    t.deepEqual(alphaFields, Object.keys((own.spec as z.ZodObject).shape).sort());
    t.deepEqual(def['x-kubernetes-group-version-kind'], [{ group: 'storm.apache.org', kind: d.kind, version: 'v1alpha1' }]);
    const beta = (buildV3(allKinds, 'storm.apache.org', 'v1beta1') as Obj).components.schemas[`org.apache.storm.v1beta1.${d.kind}`];
    t.deepEqual(Object.keys(beta.properties.spec.properties).sort(), Object.keys((d.spec as z.ZodObject).shape).sort());
  });
}

test('movePairs and deletePath: emptied objects go, objects that were empty stay', (t) => {
  const from: Obj = { spec: { a: { b: 1 }, keep: {}, c: { d: {} } } };
  const moved = movePairs(from, [{ version: 'spec.x', storage: 'spec.a.b' }, { version: 'spec.y', storage: 'spec.c.d', container: true }], 'fromStorage');
  t.deepEqual(moved, { spec: { x: 1, y: {} } });
  t.deepEqual(from, { spec: { keep: {} } });
  const root: Obj = { a: { b: { c: 1 }, e: {} } };
  deletePath(root, 'a.b.c');
  t.deepEqual(root, { a: { e: {} } });
});
