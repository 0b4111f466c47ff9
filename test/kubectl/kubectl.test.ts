// kubectl against the real server (sqlite backend), comparing what kubectl prints. Runs when
// kubectl is on the PATH (KUBECTL overrides the binary); otherwise the tests are skipped visibly.
import test from 'ava';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { findKubectl, kubectlFor, rows, type Kubectl } from '../helpers/kubectl.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const kubectl = findKubectl();
const maybe = kubectl ? test.serial : test.skip;
if (!kubectl) test('kubectl suite skipped: no kubectl on the PATH', (t) => t.pass());

let server: TestServer;

let kubectl$: Kubectl;
const run = (args: string[], input?: string) => kubectl$.run(args, { input });
const ok = (t: { fail(m: string): void }, args: string[], input?: string) => kubectl$.ok(t, args, { input });

const pool = (name: string, replicas = 2, labels: Record<string, string> = {}) => `
apiVersion: storm.apache.org/v1beta1
kind: StormWorkerPool
metadata:
  name: ${name}
  namespace: kube-test
  labels: ${JSON.stringify(labels)}
spec:
  topologyRef: wordcount
  replicas: ${replicas}
`;

test.before(async () => {
  if (!kubectl) return;
  server = await startTestServer();
  kubectl$ = kubectlFor(kubectl.bin, server);
});
test.after.always(async () => {
  await server?.stop();
});

maybe('kubectl create -f, get (table, -o wide, -o yaml, -A, -L, --show-labels)', async (t) => {
  t.regex(await ok(t, ['create', '-f', '-'], pool('alpha', 2, { tier: 'gold' })), /stormworkerpool.storm.apache.org\/alpha created/);
  await ok(t, ['create', '-f', '-'], pool('beta', 1, { tier: 'silver' }));

  const table = rows(await ok(t, ['get', 'stormworkerpools', '-n', 'kube-test']));
  t.deepEqual(table[0], ['NAME', 'TOPOLOGY', 'PHASE', 'REPLICAS', 'READY', 'AGE']);
  t.is(table[1][0], 'alpha');
  t.is(table[1][1], 'wordcount');
  t.is(table[2][0], 'beta');
  t.is(table.length, 3);

  const wide = rows(await ok(t, ['get', 'swp', '-n', 'kube-test', '-o', 'wide']));
  t.deepEqual(wide[0], ['NAME', 'TOPOLOGY', 'PHASE', 'REPLICAS', 'READY', 'AGE', 'DEPLOYMENT', 'HPA']);

  const all = rows(await ok(t, ['get', 'swp', '-A']));
  t.deepEqual(all[0].slice(0, 2), ['NAMESPACE', 'NAME']);
  t.deepEqual(all.slice(1).map((r) => `${r[0]}/${r[1]}`), ['kube-test/alpha', 'kube-test/beta']);

  const labelled = rows(await ok(t, ['get', 'swp', '-n', 'kube-test', '-L', 'tier']));
  t.is(labelled[0].at(-1), 'TIER');
  t.is(labelled[1].at(-1), 'gold');

  const shown = rows(await ok(t, ['get', 'swp', '-n', 'kube-test', '--show-labels']));
  t.is(shown[0].at(-1), 'LABELS');
  t.is(shown[2].at(-1), 'tier=silver');

  const selected = rows(await ok(t, ['get', 'swp', '-n', 'kube-test', '-l', 'tier=gold', '--no-headers']));
  t.deepEqual(selected.map((r) => r[0]), ['alpha']);

  const yaml = parse(await ok(t, ['get', 'swp', 'alpha', '-n', 'kube-test', '-o', 'yaml']));
  t.is(yaml.kind, 'StormWorkerPool');
  t.is(yaml.spec.replicas, 2);
  t.deepEqual(yaml.spec.ports, { start: 6700, count: 4 }, 'defaults applied');
  t.regex(yaml.metadata.uid, /^[0-9a-f-]{36}$/);
});

maybe('kubectl get by short name and category, and -o name', async (t) => {
  t.is((await ok(t, ['get', 'swp', '-n', 'kube-test', '-o', 'name'])).trim(), 'stormworkerpool.storm.apache.org/alpha\nstormworkerpool.storm.apache.org/beta');
  const storm = await ok(t, ['get', 'storm', '-n', 'kube-test', '-o', 'name']);
  t.true(storm.includes('stormworkerpool.storm.apache.org/alpha'));
});

maybe('kubectl apply -f twice (client-side) updates in place', async (t) => {
  t.regex(await ok(t, ['apply', '-f', '-'], pool('gamma', 1)), /stormworkerpool.storm.apache.org\/gamma created/);
  t.regex(await ok(t, ['apply', '-f', '-'], pool('gamma', 4)), /stormworkerpool.storm.apache.org\/gamma configured/);
  t.regex(await ok(t, ['apply', '-f', '-'], pool('gamma', 4)), /stormworkerpool.storm.apache.org\/gamma unchanged/);
  const obj = parse(await ok(t, ['get', 'swp', 'gamma', '-n', 'kube-test', '-o', 'yaml']));
  t.is(obj.spec.replicas, 4);
  t.is(obj.metadata.generation, 2);
  t.truthy(obj.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
});

maybe('kubectl patch --type=merge and --type=json, and --subresource=status', async (t) => {
  t.regex(await ok(t, ['patch', 'swp', 'alpha', '-n', 'kube-test', '--type=merge', '-p', '{"spec":{"replicas":5}}']), /patched/);
  t.regex(
    await ok(t, ['patch', 'swp', 'alpha', '-n', 'kube-test', '--type=json', '-p', '[{"op":"add","path":"/spec/jvmOpts","value":["-Xmx2g"]}]']),
    /patched/,
  );
  await ok(t, ['patch', 'swp', 'alpha', '-n', 'kube-test', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Running","readyReplicas":5,"replicas":5}}']);
  const table = rows(await ok(t, ['get', 'swp', 'alpha', '-n', 'kube-test', '--no-headers']));
  t.deepEqual(table[0].slice(0, 5), ['alpha', 'wordcount', 'Running', '5', '5']);
  const json = JSON.parse(await ok(t, ['get', 'swp', 'alpha', '-n', 'kube-test', '-o', 'json']));
  t.is(json.spec.replicas, 5);
  t.deepEqual(json.spec.jvmOpts, ['-Xmx2g']);
  const immutable = await run(['patch', 'swp', 'alpha', '-n', 'kube-test', '--type=json', '-p', '[{"op":"replace","path":"/spec/topologyRef","value":"other"}]']);
  t.not(immutable.code, 0);
  t.regex(immutable.stderr, /spec.topologyRef: Invalid value: "other": field is immutable/);
  const bad = await run(['patch', 'swp', 'alpha', '-n', 'kube-test', '--type=merge', '-p', '{"spec":{"replicas":-1}}']);
  t.not(bad.code, 0);
  t.regex(bad.stderr, /The StormWorkerPool "alpha" is invalid: spec.replicas: Invalid value: -1: should be greater than or equal to 0/);
});

maybe('kubectl scale swp --replicas=3 goes through the scale subresource', async (t) => {
  t.regex(await ok(t, ['scale', 'swp', 'beta', '-n', 'kube-test', '--replicas=3']), /stormworkerpool.storm.apache.org\/beta scaled/);
  const json = JSON.parse(await ok(t, ['get', 'swp', 'beta', '-n', 'kube-test', '-o', 'json']));
  t.is(json.spec.replicas, 3);
});

maybe('kubectl label and annotate', async (t) => {
  t.regex(await ok(t, ['label', 'swp', 'beta', '-n', 'kube-test', 'env=prod']), /labeled/);
  t.regex(await ok(t, ['annotate', 'swp', 'beta', '-n', 'kube-test', 'owner=streaming-team']), /annotated/);
  const json = JSON.parse(await ok(t, ['get', 'swp', 'beta', '-n', 'kube-test', '-o', 'json']));
  t.is(json.metadata.labels.env, 'prod');
  t.is(json.metadata.annotations.owner, 'streaming-team');
  const relabel = await run(['label', 'swp', 'beta', '-n', 'kube-test', 'env=dev']);
  t.not(relabel.code, 0, 'overwriting a label needs --overwrite');
});

maybe('kubectl get -w sees a change', async (t) => {
  const child = spawn(kubectl!.bin, kubectl$.argv(['get', 'swp', 'beta', '-n', 'kube-test', '-w', '--no-headers']), {
    env: { ...process.env, HOME: server.dir },
  });
  let out = '';
  const sawLines = (n: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`watch printed: ${out}`)), 30_000);
      const check = () => {
        if (out.trim().split('\n').filter(Boolean).length >= n) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        check();
      });
      check();
    });
  try {
    await sawLines(1);
    await ok(t, ['patch', 'swp', 'beta', '-n', 'kube-test', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Updating"}}']);
    await sawLines(2);
    const lines = rows(out);
    t.is(lines[0][0], 'beta');
    t.is(lines[1][0], 'beta');
    t.is(lines[1][2], 'Updating');
  } finally {
    child.kill();
  }
});

maybe('kubectl describe prints the object', async (t) => {
  const out = await ok(t, ['describe', 'swp', 'alpha', '-n', 'kube-test']);
  t.regex(out, /^Name:\s+alpha$/m);
  t.regex(out, /^Namespace:\s+kube-test$/m);
  t.regex(out, /^Kind:\s+StormWorkerPool$/m);
  t.regex(out, /Topology Ref:\s+wordcount/);
});

maybe('kubectl explain reads the OpenAPI schema', async (t) => {
  const out = await ok(t, ['explain', 'stormtopology.spec.topology.jar']);
  t.regex(out, /^KIND:\s+StormTopology$/m);
  t.regex(out, /^GROUP:\s+storm.apache.org$/m);
  t.regex(out, /^VERSION:\s+v1beta1$/m);
  t.regex(out, /FIELD:\s+jar <Object>/);
  t.regex(out, /url\s+<string>/);
});

maybe('kubectl create with an invalid object prints the 422 causes', async (t) => {
  const r = await run(['create', '-f', '-'], pool('Bad_Name'));
  t.not(r.code, 0);
  t.regex(r.stderr, /is invalid: metadata.name: Invalid value: "Bad_Name"/);
  const unknown = await run(['create', '-f', '-'], `${pool('delta')}  bogus: 1\n`);
  t.not(unknown.code, 0);
  t.regex(unknown.stderr, /unknown field "spec.bogus"/);
});

maybe('kubectl get --raw on discovery', async (t) => {
  const groups = JSON.parse(await ok(t, ['get', '--raw', '/apis']));
  t.deepEqual(
    groups.groups.map((g: { name: string }) => g.name).sort(),
    ['hourglass.eigenlayer.io', 'pvc-chonker.io', 'storm.apache.org'],
  );
  const list = JSON.parse(await ok(t, ['get', '--raw', '/apis/storm.apache.org/v1beta1']));
  t.true(list.resources.some((r: { name: string }) => r.name === 'stormworkerpools/scale'));
});

maybe('kubectl delete --wait removes the object, finalizers hold it until removed', async (t) => {
  t.regex(await ok(t, ['delete', 'swp', 'gamma', '-n', 'kube-test', '--wait=true']), /stormworkerpool.storm.apache.org "gamma" deleted/);
  const gone = await run(['get', 'swp', 'gamma', '-n', 'kube-test']);
  t.not(gone.code, 0);
  t.regex(gone.stderr, /NotFound.*stormworkerpools.storm.apache.org "gamma" not found/);

  await ok(t, ['patch', 'swp', 'beta', '-n', 'kube-test', '--type=merge', '-p', '{"metadata":{"finalizers":["example.com/hold"]}}']);
  t.regex(await ok(t, ['delete', 'swp', 'beta', '-n', 'kube-test', '--wait=false']), /deleted/);
  const held = JSON.parse(await ok(t, ['get', 'swp', 'beta', '-n', 'kube-test', '-o', 'json']));
  t.truthy(held.metadata.deletionTimestamp);
  await ok(t, ['patch', 'swp', 'beta', '-n', 'kube-test', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
  const after = await run(['get', 'swp', 'beta', '-n', 'kube-test']);
  t.regex(after.stderr, /not found/);
});

maybe('kubectl create --raw posts a body without Content-Type', async (t) => {
  const file = join(server.dir, 'raw.json');
  writeFileSync(
    file,
    JSON.stringify({ apiVersion: 'storm.apache.org/v1beta1', kind: 'StormWorkerPool', metadata: { name: 'raw' }, spec: { topologyRef: 'wordcount' } }),
  );
  const out = JSON.parse(await ok(t, ['create', '--raw', '/apis/storm.apache.org/v1beta1/namespaces/kube-test/stormworkerpools', '-f', file]));
  t.is(out.metadata.name, 'raw');
  t.is(out.metadata.namespace, 'kube-test');
});
