// kubectl against the real server (sqlite backend) with both storm.apache.org versions: apply of
// seed 001's v1alpha1 manifest (deploy/examples/stormtopology-v1alpha1.yaml), `get` of each
// version by its fully qualified resource, explain per version. Runs when kubectl is on the PATH
// (KUBECTL overrides the binary); otherwise the tests are skipped visibly.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { findKubectl, kubectlFor, rows, type Kubectl } from '../helpers/kubectl.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const kubectl = findKubectl();
const maybe = kubectl ? test.serial : test.skip;
if (!kubectl) test('kubectl versions suite skipped: no kubectl on the PATH', (t) => t.pass());

const NS = 'kube-versions';
const EXAMPLE = readFileSync(new URL('../../../deploy/examples/stormtopology-v1alpha1.yaml', import.meta.url), 'utf8');
const ALPHA_TOPOLOGIES = 'stormtopologies.v1alpha1.storm.apache.org';
const BETA_TOPOLOGIES = 'stormtopologies.v1beta1.storm.apache.org';

let server: TestServer;

let kubectl$: Kubectl;
const run = (args: string[], input?: string) => kubectl$.run(args, { input });
const ok = (t: { fail(m: string): void }, args: string[], input?: string) => kubectl$.ok(t, args, { input });

test.before(async () => {
  if (!kubectl) return;
  server = await startTestServer();
  kubectl$ = kubectlFor(kubectl.bin, server);
});
test.after.always(async () => {
  await server?.stop();
});

maybe('kubectl apply -f of the seed 001 v1alpha1 manifest creates both objects', async (t) => {
  const out = await ok(t, ['apply', '-n', NS, '-f', '-'], EXAMPLE);
  t.regex(out, /stormtopology.storm.apache.org\/wordcount created/);
  t.regex(out, /stormworkerpool.storm.apache.org\/wordcount-workers created/);
});

maybe('kubectl get stormtopologies.v1alpha1.storm.apache.org -o yaml shows the v1alpha1 object', async (t) => {
  const obj = parse(await ok(t, ['get', ALPHA_TOPOLOGIES, 'wordcount', '-n', NS, '-o', 'yaml']));
  t.is(obj.apiVersion, 'storm.apache.org/v1alpha1');
  t.is(obj.kind, 'StormTopology');
  t.like(obj.spec, {
    clusterRef: 'production',
    jarUrl: 'https://repo1.maven.org/maven2/org/apache/storm/storm-starter/2.6.0/storm-starter-2.6.0.jar',
    mainClass: 'org.apache.storm.starter.WordCountTopology',
    args: ['wordcount', '10'],
    config: { 'topology.workers': 3, 'topology.acker.executors': 2 },
    workerPool: { replicas: 3, resources: { cpu: '1', memory: '2Gi' } },
  });
  t.is(obj.spec.topology, undefined);
  const list = parse(await ok(t, ['get', ALPHA_TOPOLOGIES, '-n', NS, '-o', 'yaml']));
  t.is(list.items[0].apiVersion, 'storm.apache.org/v1alpha1');
});

maybe('kubectl get stormtopologies.v1beta1.storm.apache.org -o yaml shows the stored v1beta1 object', async (t) => {
  const obj = parse(await ok(t, ['get', BETA_TOPOLOGIES, 'wordcount', '-n', NS, '-o', 'yaml']));
  t.is(obj.apiVersion, 'storm.apache.org/v1beta1');
  t.like(obj.spec, {
    clusterRef: 'production',
    topology: { name: 'wordcount', jar: { url: 'https://repo1.maven.org/maven2/org/apache/storm/storm-starter/2.6.0/storm-starter-2.6.0.jar' }, config: { 'topology.workers': '3' } },
    workers: { replicas: 3, resources: { requests: { cpu: '1', memory: '2Gi' } } },
  });
  t.is(obj.spec.jarUrl, undefined);
  // Unqualified, kubectl uses the preferred version.
  const preferred = parse(await ok(t, ['get', 'stormtopologies', 'wordcount', '-n', NS, '-o', 'yaml']));
  t.is(preferred.apiVersion, 'storm.apache.org/v1beta1');
});

maybe('kubectl get prints the same table in both versions', async (t) => {
  for (const resource of [ALPHA_TOPOLOGIES, BETA_TOPOLOGIES, 'st']) {
    const table = rows(await ok(t, ['get', resource, '-n', NS]));
    t.deepEqual(table[0], ['NAME', 'CLUSTER', 'PHASE', 'WORKERS', 'UPTIME', 'AGE'], resource);
    t.deepEqual(table[1].slice(0, 2), ['wordcount', 'production'], resource);
  }
  const pool = await ok(t, ['get', 'stormworkerpools.v1alpha1.storm.apache.org', 'wordcount-workers', '-n', NS, '-o', 'jsonpath={.spec.topologyName} {.spec.maxReplicas}']);
  t.is(pool, 'wordcount 10');
  const betaPool = await ok(t, ['get', 'stormworkerpools.v1beta1.storm.apache.org', 'wordcount-workers', '-n', NS, '-o', 'jsonpath={.spec.topologyRef} {.spec.autoscaling.maxReplicas}']);
  t.is(betaPool, 'wordcount 10');
});

maybe('kubectl apply of a changed v1alpha1 manifest updates in place; unchanged is unchanged', async (t) => {
  t.regex(await ok(t, ['apply', '-n', NS, '-f', '-'], EXAMPLE), /stormtopology.storm.apache.org\/wordcount unchanged/);
  const changed = EXAMPLE.replace('    replicas: 3\n', '    replicas: 5\n');
  t.not(changed, EXAMPLE);
  t.regex(await ok(t, ['apply', '-n', NS, '-f', '-'], changed), /stormtopology.storm.apache.org\/wordcount configured/);
  t.is(await ok(t, ['get', BETA_TOPOLOGIES, 'wordcount', '-n', NS, '-o', 'jsonpath={.spec.workers.replicas} {.metadata.generation}']), '5 2');
});

maybe('kubectl apply --server-side of the v1alpha1 manifest', async (t) => {
  const ns = `${NS}-ssa`;
  t.regex(await ok(t, ['apply', '--server-side', '-n', ns, '-f', '-'], EXAMPLE), /stormtopology.storm.apache.org\/wordcount serverside-applied/);
  const obj = parse(await ok(t, ['get', ALPHA_TOPOLOGIES, 'wordcount', '-n', ns, '-o', 'yaml']));
  t.deepEqual(obj.spec.config, { 'topology.workers': 3, 'topology.acker.executors': 2 });
  t.is(await ok(t, ['get', BETA_TOPOLOGIES, 'wordcount', '-n', ns, '-o', 'jsonpath={.spec.topology.name}']), 'wordcount');
});

maybe('kubectl explain reads each version’s schema', async (t) => {
  const alpha = await ok(t, ['explain', 'stormtopologies.spec', '--api-version=storm.apache.org/v1alpha1']);
  t.regex(alpha, /^VERSION:\s+v1alpha1$/m);
  t.regex(alpha, /jarUrl\s+<string>/);
  t.regex(alpha, /workerPool\s+<Object>/);
  const beta = await ok(t, ['explain', 'stormtopologies.spec']);
  t.regex(beta, /^VERSION:\s+v1beta1$/m);
  t.regex(beta, /topology\s+<Object> -required-/);
});

maybe('kubectl delete through the v1alpha1 resource', async (t) => {
  t.regex(await ok(t, ['delete', ALPHA_TOPOLOGIES, 'wordcount', '-n', NS]), /stormtopology.storm.apache.org "wordcount" deleted/);
  const gone = await run(['get', BETA_TOPOLOGIES, 'wordcount', '-n', NS]);
  t.not(gone.code, 0);
  t.regex(gone.stderr, /not found/);
});
