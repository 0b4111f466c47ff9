// kubectl's patch and apply flows against the real server (sqlite backend): default (strategic)
// `kubectl patch`, client-side `kubectl apply` (three-way strategic merge patch), `kubectl apply
// --server-side` by two managers with a conflict and `--force-conflicts`, `kubectl edit` through a
// KUBE_EDITOR script, and `--show-managed-fields`. Runs when kubectl is on the PATH (KUBECTL
// overrides the binary); otherwise the tests are skipped visibly.
import test from 'ava';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { findKubectl, kubectlFor, type Kubectl, type RunOptions } from '../helpers/kubectl.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const kubectl = findKubectl();
const maybe = kubectl ? test.serial : test.skip;
if (!kubectl) test('kubectl patch/apply suite skipped: no kubectl on the PATH', (t) => t.pass());

let server: TestServer;

let kubectl$: Kubectl;
const run = (args: string[], options?: RunOptions) => kubectl$.run(args, options);
const ok = (t: { fail(m: string): void }, args: string[], options?: RunOptions) => kubectl$.ok(t, args, options);

async function getYaml(t: { fail(m: string): void }, name: string, managed = false): Promise<any> {
  return parse(await ok(t, ['get', 'swp', name, '-o', 'yaml', ...(managed ? ['--show-managed-fields'] : [])]));
}

const envOf = (obj: any) => obj.spec.template.spec.containers[0].env.map((e: { name: string; value: string }) => `${e.name}=${e.value}`);

/** A pool whose worker container has the given env (name=value). */
const pool = (name: string, env: string[], replicas = 2) => `
apiVersion: storm.apache.org/v1beta1
kind: StormWorkerPool
metadata:
  name: ${name}
spec:
  topologyRef: wordcount
  replicas: ${replicas}
  template:
    spec:
      containers:
        - name: worker
          env:
${env.map((e) => `            - name: ${e.split('=')[0]}\n              value: "${e.split('=')[1]}"`).join('\n')}
`;

test.before(async () => {
  if (!kubectl) return;
  server = await startTestServer();
  kubectl$ = kubectlFor(kubectl.bin, server, ['-n', 'kube-patch']);
});
test.after.always(async () => {
  await server?.stop();
});

maybe('kubectl patch (strategic by default) merges the env list by name', async (t) => {
  await ok(t, ['create', '-f', '-'], { input: pool('smp', ['A=1', 'B=2']) });
  const patch = JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'worker', env: [{ name: 'B', value: '20' }, { name: 'C', value: '3' }] }] } } } });
  t.regex(await ok(t, ['patch', 'swp', 'smp', '-p', patch]), /stormworkerpool.storm.apache.org\/smp patched/);
  t.deepEqual(envOf(await getYaml(t, 'smp')), ['A=1', 'B=20', 'C=3']);
  const removal = JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'worker', env: [{ name: 'A', $patch: 'delete' }] }] } } } });
  await ok(t, ['patch', 'swp', 'smp', '--type=strategic', '-p', removal]);
  t.deepEqual(envOf(await getYaml(t, 'smp')), ['B=20', 'C=3']);
});

maybe('kubectl apply (client-side) twice sends a strategic merge patch: lists merge by key', async (t) => {
  t.regex(await ok(t, ['apply', '-f', '-'], { input: pool('csa', ['A=1', 'B=2']) }), /created/);
  // Someone else adds an env var; the next apply must keep it (a merge patch would replace the list).
  await ok(t, ['patch', 'swp', 'csa', '-p', JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'worker', env: [{ name: 'X', value: 'other' }] }] } } } })]);
  const applied = await run(['apply', '-f', '-', '-v=8'], { input: pool('csa', ['A=1', 'B=22']) });
  t.is(applied.code, 0, applied.stderr);
  t.regex(applied.stdout, /stormworkerpool.storm.apache.org\/csa configured/);
  t.regex(applied.stderr, /Content-Type: application\/strategic-merge-patch\+json/, 'kubectl chose strategic merge patch');
  const obj = await getYaml(t, 'csa', true);
  t.deepEqual([...envOf(obj)].sort(), ['A=1', 'B=22', 'X=other']);
  t.true(obj.metadata.managedFields.some((m: any) => m.manager === 'kubectl-client-side-apply' && m.operation === 'Update'));
});

maybe('kubectl apply --server-side by two managers: conflict, then --force-conflicts', async (t) => {
  t.regex(await ok(t, ['apply', '--server-side', '-f', '-'], { input: pool('ssa', ['A=1'], 2) }), /serverside-applied/);
  t.regex(await ok(t, ['apply', '--server-side', '-f', '-'], { input: pool('ssa', ['A=1'], 2) }), /serverside-applied/);
  const conflict = await run(['apply', '--server-side', '--field-manager=autoscaler', '-f', '-'], { input: pool('ssa', ['A=1'], 5) });
  t.not(conflict.code, 0);
  t.regex(conflict.stderr, /Apply failed with 1 conflict: conflict with "kubectl": \.spec\.replicas/);
  t.is((await getYaml(t, 'ssa')).spec.replicas, 2);
  t.regex(await ok(t, ['apply', '--server-side', '--field-manager=autoscaler', '--force-conflicts', '-f', '-'], { input: pool('ssa', ['A=1'], 5) }), /serverside-applied/);
  const obj = await getYaml(t, 'ssa', true);
  t.is(obj.spec.replicas, 5);
  const entries = Object.fromEntries(obj.metadata.managedFields.map((m: any) => [`${m.manager}/${m.operation}`, m]));
  t.deepEqual(Object.keys(entries).sort(), ['autoscaler/Apply', 'kubectl/Apply']);
  t.truthy(entries['autoscaler/Apply'].fieldsV1['f:spec']['f:replicas']);
  t.falsy(entries['kubectl/Apply'].fieldsV1['f:spec']['f:replicas'], 'force moved spec.replicas to the autoscaler');
  t.deepEqual(entries['kubectl/Apply'].fieldsV1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"worker"}']['f:env'], {
    'k:{"name":"A"}': { '.': {}, 'f:name': {}, 'f:value': {} },
  });
  // Without the flag, kubectl hides managedFields (client-side filtering); the server sent them.
  t.is((await getYaml(t, 'ssa')).metadata.managedFields, undefined);
  // A config without B's env entry removes what kubectl applied before.
  await ok(t, ['apply', '--server-side', '-f', '-'], { input: pool('ssa', ['A=1', 'B=2'], 5) });
  await ok(t, ['apply', '--server-side', '-f', '-'], { input: pool('ssa', ['A=1'], 5) });
  t.deepEqual(envOf(await getYaml(t, 'ssa')), ['A=1']);
});

maybe('kubectl edit through a KUBE_EDITOR script', async (t) => {
  await ok(t, ['create', '-f', '-'], { input: pool('edit', ['A=1'], 1) });
  const editor = join(server.dir, 'editor.sh');
  writeFileSync(editor, '#!/bin/sh\nsed -i -e \'s/replicas: 1/replicas: 6/\' "$1"\n');
  chmodSync(editor, 0o755);
  t.regex(await ok(t, ['edit', 'swp', 'edit'], { env: { KUBE_EDITOR: editor, EDITOR: editor } }), /stormworkerpool.storm.apache.org\/edit edited/);
  const obj = await getYaml(t, 'edit', true);
  t.is(obj.spec.replicas, 6);
  const edit = obj.metadata.managedFields.find((m: any) => m.manager === 'kubectl-edit');
  t.truthy(edit, 'kubectl edit is recorded as manager kubectl-edit');
  t.deepEqual(edit.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
});

maybe('kubectl apply --server-side after client-side apply takes over without conflicts', async (t) => {
  await ok(t, ['apply', '-f', '-'], { input: pool('migrate', ['A=1'], 2) });
  t.regex(await ok(t, ['apply', '--server-side', '-f', '-'], { input: pool('migrate', ['A=1'], 3) }), /serverside-applied/);
  const obj = await getYaml(t, 'migrate', true);
  t.is(obj.spec.replicas, 3);
  const lastApplied = JSON.parse(obj.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
  t.is(lastApplied.spec.replicas, 3, 'the last-applied annotation follows the server-side apply');
  const kubectlApply = obj.metadata.managedFields.find((m: any) => m.manager === 'kubectl' && m.operation === 'Apply');
  t.truthy(kubectlApply?.fieldsV1['f:spec']['f:replicas'], 'kubectl owns spec.replicas now');
  // Another manager still conflicts: only kubectl's own client-side fields are taken over.
  const other = await run(['apply', '--server-side', '--field-manager=someone-else', '-f', '-'], { input: pool('migrate', ['A=1'], 4) });
  t.not(other.code, 0);
  t.regex(other.stderr, /conflict with "kubectl"/);
});
