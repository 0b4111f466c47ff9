// storm.apache.org v1alpha1 beside v1beta1 over HTTP, on one storage backend per test file:
// writes in one version read in the other, a v1alpha1 read-modify-write that keeps v1beta1-only
// fields, lists, watches, tables, patches, selectors and errors in v1alpha1, discovery and OpenAPI.
//
//   registerVersionCases({ backend: 'memory', start: async () => ({ server, stop }) })
import test, { type ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { storageVersionHash } from '../../apiserver/discovery.js';
import { V1BETA1_FIELDS } from '../../registry/storm.apache.org/stormtopology/v1alpha1.js';
import { expectOk, expectStatus, openWatch, rawRequest, type Query, type RawWatch, type RequestOptions } from '../conformance/client.js';
import type { TestServer } from '../helpers/server.js';

type Obj = Record<string, any>;

const GROUP = 'storm.apache.org';
const ALPHA = `${GROUP}/v1alpha1`;
const BETA = `${GROUP}/v1beta1`;

export interface VersionBackend {
  backend: string;
  start(): Promise<{ server: TestServer; stop(): Promise<void> }>;
}

/** The seed 001 StormTopology (with the clusterRef v1beta1 needs), as a v1alpha1 client writes it. */
export function seedTopology(name: string, namespace: string): Obj {
  return {
    apiVersion: ALPHA,
    kind: 'StormTopology',
    metadata: { name, namespace },
    spec: {
      clusterRef: 'production',
      jarUrl: 'https://repo/storm-examples.jar',
      mainClass: 'org.apache.storm.examples.WordCount',
      args: ['wordcount', '10'],
      config: { 'topology.workers': 3, 'topology.acker.executors': 2 },
      workerPool: { replicas: 3, resources: { cpu: '1', memory: '2Gi' } },
    },
  };
}

function betaExample(file: string, namespace: string, name: string): Obj {
  const doc = parse(readFileSync(new URL(`../../../deploy/examples/${file}`, import.meta.url), 'utf8')) as Obj;
  return { ...doc, metadata: { ...doc.metadata, name, namespace } };
}

let nsCounter = 0;

export function registerVersionCases(backend: VersionBackend): void {
  let started: { server: TestServer; stop(): Promise<void> } | undefined;
  test.before(async () => {
    started = await backend.start();
  });
  test.after.always(async () => {
    await started?.stop();
  });

  const server = () => {
    if (!started) throw new Error(`the ${backend.backend} server did not start`);
    return started.server;
  };
  const raw = (method: string, path: string, options?: RequestOptions) => rawRequest(server(), method, path, options);
  const collection = (version: string, plural: string, ns: string) => `/apis/${GROUP}/${version}/namespaces/${ns}/${plural}`;
  const item = (version: string, plural: string, ns: string, name: string) => `${collection(version, plural, ns)}/${name}`;
  const namespace = () => `conv-${backend.backend}-${++nsCounter}`;
  /** A raw watch closed when the test `t` ends. */
  const watch = async (t: ExecutionContext, path: string, query: Query): Promise<RawWatch> => {
    const w = await openWatch(server(), path, query);
    t.teardown(() => w.close());
    return w;
  };
  const title = (name: string) => `${backend.backend}: ${name}`;

  test(title('a StormTopology created in v1alpha1 reads in v1beta1 and back in v1alpha1'), async (t) => {
    const ns = namespace();
    const written = seedTopology('wordcount', ns);
    const created = expectOk(t, await raw('POST', collection('v1alpha1', 'stormtopologies', ns), { body: written }), 201);
    t.is(created.apiVersion, ALPHA);
    t.deepEqual(created.spec, { ...written.spec, workerPool: { replicas: 3, resources: { cpu: '1', memory: '2Gi' } } });
    t.is(created.metadata.annotations?.[V1BETA1_FIELDS], undefined, 'only defaults are v1beta1-only: no annotation');

    const beta = expectOk(t, await raw('GET', item('v1beta1', 'stormtopologies', ns, 'wordcount')));
    t.is(beta.apiVersion, BETA);
    t.like(beta.spec, {
      clusterRef: 'production',
      topology: {
        name: 'wordcount',
        jar: { url: 'https://repo/storm-examples.jar' },
        mainClass: 'org.apache.storm.examples.WordCount',
        args: ['wordcount', '10'],
        config: { 'topology.workers': '3', 'topology.acker.executors': '2' },
      },
      workers: { replicas: 3, resources: { requests: { cpu: '1', memory: '2Gi' } } },
      lifecycle: { killWaitSeconds: 30 },
    });
    t.is(beta.metadata.annotations?.[V1BETA1_FIELDS], undefined, 'never in v1beta1 reads');

    const alpha = expectOk(t, await raw('GET', item('v1alpha1', 'stormtopologies', ns, 'wordcount')));
    t.is(alpha.apiVersion, ALPHA);
    t.deepEqual(alpha.spec, created.spec);
    t.is(alpha.metadata.resourceVersion, beta.metadata.resourceVersion);
  });

  test(title('v1beta1-only fields survive a v1alpha1 GET → PUT; a v1beta1 write is read in v1alpha1'), async (t) => {
    const ns = namespace();
    const example = betaExample('stormtopology.yaml', ns, 'wordcount');
    const stored = expectOk(t, await raw('POST', collection('v1beta1', 'stormtopologies', ns), { body: example }), 201);

    const alpha = expectOk(t, await raw('GET', item('v1alpha1', 'stormtopologies', ns, 'wordcount')));
    t.is(alpha.spec.jarUrl, example.spec.topology.jar.url);
    t.deepEqual(alpha.spec.workerPool, { replicas: 3, resources: { cpu: '1', memory: '1536Mi' } });
    const kept = JSON.parse(alpha.metadata.annotations[V1BETA1_FIELDS]);
    t.is(kept.spec.deploymentStrategy.type, 'blueGreen');

    alpha.spec.workerPool.replicas = 5;
    alpha.spec.config['topology.debug'] = true;
    const put = expectOk(t, await raw('PUT', item('v1alpha1', 'stormtopologies', ns, 'wordcount'), { body: alpha }));
    t.is(put.apiVersion, ALPHA);
    t.is(put.spec.workerPool.replicas, 5);
    t.is(put.spec.config['topology.debug'], true);

    const after = expectOk(t, await raw('GET', item('v1beta1', 'stormtopologies', ns, 'wordcount')));
    t.is(after.metadata.generation, 2);
    t.is(after.metadata.annotations?.[V1BETA1_FIELDS], undefined);
    t.is(after.spec.workers.replicas, 5);
    t.is(after.spec.topology.config['topology.debug'], 'true');
    // Everything v1alpha1 cannot express is as it was.
    t.deepEqual(after.spec.topology.jar.checksum, stored.spec.topology.jar.checksum);
    t.deepEqual(after.spec.workers.autoscaling, stored.spec.workers.autoscaling);
    t.deepEqual(after.spec.workers.jvmOpts, stored.spec.workers.jvmOpts);
    t.deepEqual(after.spec.deploymentStrategy, stored.spec.deploymentStrategy);
    t.is(after.spec.revisionHistoryLimit, 5);

    // Writing back what v1alpha1 showed, unchanged, changes nothing.
    const again = expectOk(t, await raw('GET', item('v1alpha1', 'stormtopologies', ns, 'wordcount')));
    const same = expectOk(t, await raw('PUT', item('v1alpha1', 'stormtopologies', ns, 'wordcount'), { body: again }));
    t.is(same.metadata.resourceVersion, again.metadata.resourceVersion, 'a no-op update is not written');
  });

  test(title('StormWorkerPool: seed 001 shape in v1alpha1, v1beta1-only replicas and template survive a v1alpha1 merge patch'), async (t) => {
    const ns = namespace();
    expectOk(t, await raw('POST', collection('v1beta1', 'stormworkerpools', ns), { body: betaExample('stormworkerpool.yaml', ns, 'workers') }), 201);
    const patched = expectOk(
      t,
      await raw('PATCH', item('v1alpha1', 'stormworkerpools', ns, 'workers'), {
        body: JSON.stringify({ spec: { maxReplicas: 12, metrics: [{ type: 'Custom', custom: { metricName: 'storm_topology_pending_tuples', targetValue: 1000 } }] } }),
        headers: { 'Content-Type': 'application/merge-patch+json' },
      }),
    );
    t.is(patched.apiVersion, ALPHA);
    t.like(patched.spec, { topologyName: 'wordcount', minReplicas: 2, maxReplicas: 12 });
    t.deepEqual(patched.spec.metrics, [{ type: 'Custom', custom: { metricName: 'storm_topology_pending_tuples', targetValue: 1000, source: 'pods' } }]);

    const beta = expectOk(t, await raw('GET', item('v1beta1', 'stormworkerpools', ns, 'workers')));
    t.is(beta.spec.replicas, 3);
    t.is(beta.spec.clusterRef, 'production');
    t.is(beta.spec.template.spec.nodeSelector.workload, 'storm');
    t.like(beta.spec.autoscaling, { minReplicas: 2, maxReplicas: 12, targetCPUUtilizationPercentage: 70 });
    t.deepEqual(beta.spec.autoscaling.customMetrics, [{ name: 'storm_topology_pending_tuples', type: 'pods', targetValue: 1000 }]);

    // A JSON patch names v1alpha1 paths.
    const jsonPatched = expectOk(
      t,
      await raw('PATCH', item('v1alpha1', 'stormworkerpools', ns, 'workers'), {
        body: JSON.stringify([{ op: 'replace', path: '/spec/minReplicas', value: 3 }]),
        headers: { 'Content-Type': 'application/json-patch+json' },
      }),
    );
    t.is(jsonPatched.spec.minReplicas, 3);
  });

  test(title('lists, label and field selectors in v1alpha1'), async (t) => {
    const ns = namespace();
    for (const [name, topologyRef] of [
      ['a', 'wordcount'],
      ['b', 'exclaim'],
    ]) {
      const labels = name === 'a' ? { tier: 'gold' } : { tier: 'silver' };
      expectOk(t, await raw('POST', collection('v1beta1', 'stormworkerpools', ns), { body: { apiVersion: BETA, kind: 'StormWorkerPool', metadata: { name, labels }, spec: { topologyRef } } }), 201);
    }
    const list = expectOk(t, await raw('GET', collection('v1alpha1', 'stormworkerpools', ns)));
    t.is(list.apiVersion, ALPHA);
    t.is(list.kind, 'StormWorkerPoolList');
    t.deepEqual(
      list.items.map((i: Obj) => [i.apiVersion, i.metadata.name, i.spec.topologyName]),
      [
        [ALPHA, 'a', 'wordcount'],
        [ALPHA, 'b', 'exclaim'],
      ],
    );
    const selected = expectOk(t, await raw('GET', collection('v1alpha1', 'stormworkerpools', ns), { query: { fieldSelector: 'spec.topologyName=exclaim' } }));
    t.deepEqual(selected.items.map((i: Obj) => i.metadata.name), ['b']);
    const labelled = expectOk(t, await raw('GET', collection('v1alpha1', 'stormworkerpools', ns), { query: { labelSelector: 'tier=gold', fieldSelector: 'status.phase!=Failed' } }));
    t.deepEqual(labelled.items.map((i: Obj) => i.metadata.name), ['a']);
    const betaSelected = expectOk(t, await raw('GET', collection('v1beta1', 'stormworkerpools', ns), { query: { fieldSelector: 'spec.topologyRef=exclaim' } }));
    t.deepEqual(betaSelected.items.map((i: Obj) => i.metadata.name), ['b']);
    const bad = expectStatus(t, await raw('GET', collection('v1alpha1', 'stormworkerpools', ns), { query: { fieldSelector: 'spec.topologyRef=exclaim' } }), 400, 'BadRequest');
    t.regex(bad.message ?? '', /field label not supported: spec.topologyRef/);
    // Paged lists convert every page.
    const page = expectOk(t, await raw('GET', collection('v1alpha1', 'stormworkerpools', ns), { query: { limit: 1 } }));
    t.is(page.items[0].apiVersion, ALPHA);
    const next = expectOk(t, await raw('GET', collection('v1alpha1', 'stormworkerpools', ns), { query: { limit: 1, continue: page.metadata.continue } }));
    t.deepEqual(next.items.map((i: Obj) => [i.apiVersion, i.spec.topologyName]), [[ALPHA, 'exclaim']]);
  });

  test(title('a watch in v1alpha1 gets v1alpha1 objects: initial events, changes made in v1beta1, bookmarks'), async (t) => {
    const ns = namespace();
    expectOk(t, await raw('POST', collection('v1alpha1', 'stormtopologies', ns), { body: seedTopology('first', ns) }), 201);
    const w = await watch(t, collection('v1alpha1', 'stormtopologies', ns), {
      sendInitialEvents: true,
      resourceVersionMatch: 'NotOlderThan',
      allowWatchBookmarks: true,
    });
    t.is(w.status, 200);
    const initial = await w.waitFor((e) => e.type === 'BOOKMARK', 'the initial-events-end bookmark');
    t.is(initial.object.apiVersion, ALPHA);
    const [added] = await w.take(1);
    t.is(added.type, 'ADDED');
    t.is(added.object.apiVersion, ALPHA);
    t.is(added.object.spec.jarUrl, 'https://repo/storm-examples.jar');

    const beta = betaExample('stormtopology.yaml', ns, 'second');
    expectOk(t, await raw('POST', collection('v1beta1', 'stormtopologies', ns), { body: beta }), 201);
    const second = await w.waitFor((e) => e.type === 'ADDED' && e.object.metadata.name === 'second', 'ADDED second');
    t.is(second.object.apiVersion, ALPHA);
    t.is(second.object.spec.workerPool.replicas, 3);
    t.truthy(second.object.metadata.annotations[V1BETA1_FIELDS]);
    t.is(second.object.spec.topology, undefined, 'no v1beta1 field in a v1alpha1 event');

    expectOk(
      t,
      await raw('PATCH', item('v1beta1', 'stormtopologies', ns, 'second'), {
        body: JSON.stringify({ spec: { workers: { replicas: 6 } } }),
        headers: { 'Content-Type': 'application/merge-patch+json' },
      }),
    );
    const modified = await w.waitFor((e) => e.type === 'MODIFIED' && e.object.metadata.name === 'second', 'MODIFIED second');
    t.is(modified.object.apiVersion, ALPHA);
    t.is(modified.object.spec.workerPool.replicas, 6);

    expectOk(t, await raw('DELETE', item('v1beta1', 'stormtopologies', ns, 'first')));
    const deleted = await w.waitFor((e) => e.type === 'DELETED', 'DELETED first');
    t.is(deleted.object.apiVersion, ALPHA);
    t.is(deleted.object.spec.clusterRef, 'production');
    t.deepEqual(w.framingErrors, []);
  });

  test(title('Tables in v1alpha1: cells from the stored object, row objects in v1alpha1'), async (t) => {
    const ns = namespace();
    expectOk(t, await raw('POST', collection('v1alpha1', 'stormtopologies', ns), { body: seedTopology('wordcount', ns) }), 201);
    const table = expectOk(
      t,
      await raw('GET', collection('v1alpha1', 'stormtopologies', ns), {
        headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
        query: { includeObject: 'Object' },
      }),
    );
    t.is(table.kind, 'Table');
    const cluster = table.columnDefinitions.findIndex((c: Obj) => c.name === 'Cluster');
    t.is(table.rows[0].cells[cluster], 'production');
    t.is(table.rows[0].object.apiVersion, ALPHA);
    t.is(table.rows[0].object.spec.jarUrl, 'https://repo/storm-examples.jar');
  });

  test(title('errors of a v1alpha1 request name v1alpha1 fields (schema and rules)'), async (t) => {
    const ns = namespace();
    const bad = seedTopology('bad', ns);
    bad.spec.jarUrl = 'ftp://example.com/topology.jar';
    bad.spec.workerPool.replicas = 0;
    const schemaError = expectStatus(t, await raw('POST', collection('v1alpha1', 'stormtopologies', ns), { body: bad }), 422, 'Invalid');
    t.deepEqual(schemaError.details?.causes?.map((c) => c.field), ['spec.workerPool.replicas']);
    bad.spec.workerPool.replicas = 2;
    const ruleError = expectStatus(t, await raw('POST', collection('v1alpha1', 'stormtopologies', ns), { body: bad }), 422, 'Invalid');
    t.deepEqual(ruleError.details?.causes?.map((c) => c.field), ['spec.jarUrl']);
    t.regex(ruleError.message ?? '', /is invalid: spec\.jarUrl: Invalid value/);
    const beta = expectStatus(
      t,
      await raw('POST', collection('v1beta1', 'stormtopologies', ns), {
        body: { ...betaExample('stormtopology.yaml', ns, 'bad'), spec: { ...betaExample('stormtopology.yaml', ns, 'bad').spec, topology: { name: 'bad', jar: { url: 'ftp://x/y' } } } },
      }),
      422,
      'Invalid',
    );
    t.deepEqual(beta.details?.causes?.map((c) => c.field), ['spec.topology.jar.url'], 'v1beta1 keeps its own paths');
    // A v1beta1 field in a v1alpha1 body is an unknown field.
    const strict = expectStatus(
      t,
      await raw('POST', collection('v1alpha1', 'stormtopologies', ns), { body: { ...seedTopology('x', ns), spec: { ...seedTopology('x', ns).spec, topology: {} } }, query: { fieldValidation: 'Strict' } }),
      400,
      'BadRequest',
    );
    t.regex(strict.message ?? '', /unknown field "spec.topology"/);
    // Warnings of the kind's rules name v1alpha1 fields too.
    const plain = seedTopology('plain-http', ns);
    plain.spec.jarUrl = 'http://repo.example.com/topology.jar';
    const created = await raw('POST', collection('v1alpha1', 'stormtopologies', ns), { body: plain });
    expectOk(t, created, 201);
    t.regex(String(created.headers.warning), /299 - "spec\.jarUrl: the jar is downloaded over plain http/);
  });

  test(title('discovery: v1beta1 preferred, v1alpha1 served with the same storage version hash'), async (t) => {
    const group = expectOk(t, await raw('GET', `/apis/${GROUP}`));
    t.deepEqual(group.preferredVersion, { groupVersion: BETA, version: 'v1beta1' });
    t.deepEqual(group.versions, [
      { groupVersion: BETA, version: 'v1beta1' },
      { groupVersion: ALPHA, version: 'v1alpha1' },
    ]);
    const resources = expectOk(t, await raw('GET', `/apis/${ALPHA}`));
    const main = resources.resources.filter((r: Obj) => !r.name.includes('/'));
    t.deepEqual(main.map((r: Obj) => r.name), ['stormclusters', 'stormtopologies', 'stormworkerpools']);
    for (const r of main) t.is(r.storageVersionHash, storageVersionHash(GROUP, 'v1beta1', r.kind), r.name);
    const aggregated = expectOk(
      t,
      await raw('GET', '/apis', { headers: { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' } }),
    );
    const storm = aggregated.items.find((g: Obj) => g.metadata.name === GROUP);
    t.deepEqual(storm.versions.map((v: Obj) => v.version), ['v1beta1', 'v1alpha1']);
    const alphaTopology = storm.versions[1].resources.find((r: Obj) => r.resource === 'stormtopologies');
    t.deepEqual(alphaTopology.responseKind, { group: GROUP, version: 'v1alpha1', kind: 'StormTopology' });
  });

  test(title('OpenAPI v3 of storm.apache.org/v1alpha1 publishes the v1alpha1 schemas'), async (t) => {
    const doc = expectOk(t, await raw('GET', `/openapi/v3/apis/${ALPHA}`));
    const schemas = doc.components.schemas;
    t.truthy(schemas['org.apache.storm.v1alpha1.StormTopology'].properties.spec.properties.jarUrl);
    t.is(schemas['org.apache.storm.v1alpha1.StormTopology'].properties.spec.properties.topology, undefined);
    t.truthy(schemas['org.apache.storm.v1alpha1.StormWorkerPool'].properties.spec.properties.topologyName);
    t.truthy(schemas['org.apache.storm.v1alpha1.StormCluster'].properties.spec.properties.nimbus, 'StormCluster v1alpha1 is v1beta1 one to one');
    const beta = expectOk(t, await raw('GET', `/openapi/v3/apis/${BETA}`));
    t.truthy(beta.components.schemas['org.apache.storm.v1beta1.StormTopology'].properties.spec.properties.topology);
  });
}
