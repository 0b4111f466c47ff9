// deploy/: certificates from hack/gen-certs.ts, both overlays rendered by `kubectl kustomize`
// (when kubectl is installed) and every object validated against the Kubernetes schemas
// (kubernetes-models), the properties the install relies on (APIServices, restricted pods,
// probes, TLS to etcd, the NetworkPolicy, PDBs), and RBAC: the ServiceAccount may make every host
// call the server's code makes (controllers/host-permissions.ts, cross-checked against the
// sources) and nothing more; the user roles and aggregation labels; deploy/monitoring.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { AuthorizationAttributes } from '../../apiserver/authz/authorizer.js';
import { RbacAuthorizer, RbacPolicy, type Binding, type Role } from '../../apiserver/authz/rbac.js';
import { HOST_PERMISSIONS, type HostPermission } from '../../controllers/host-permissions.js';
import { DEFAULTS, generateCertificates } from '../../hack/gen-certs.js';
import { httpsRequest, startTestServer } from '../helpers/server.js';
import { hostCallsIn } from './host-calls.js';
import { rootTypeOf, unknownFields } from './strict-fields.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const KUBECTL = '/usr/bin/kubectl';
const HAS_KUBECTL = existsSync(KUBECTL);
const NAMESPACE = DEFAULTS.namespace;
const SERVICE_ACCOUNT = `system:serviceaccount:${NAMESPACE}:operators-apiserver`;

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

// Loose accessors for the rendered objects (plain YAML, not typed models).
/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

function parseYamlObjects(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null && typeof o === 'object');
}

function find(objects: KubeObject[], kind: string, name: string): Any {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind} ${name} is not rendered`);
  return found;
}

/** Validates `obj` with its kubernetes-models class; undefined when the library has no model for it. */
async function validateWithModel(obj: KubeObject): Promise<string | undefined | 'no-model'> {
  const groupVersion = obj.apiVersion.includes('/') ? obj.apiVersion : `v1`;
  let module: Record<string, unknown>;
  try {
    module = (await import(`kubernetes-models/${groupVersion}/${obj.kind}`)) as Record<string, unknown>;
  } catch {
    return 'no-model';
  }
  const Model = module[obj.kind] as new (data: unknown) => { validate(): void };
  // kustomize wraps the base64 of some Secret values at 70 columns; the API server decodes them
  // as Go does (line breaks ignored), the library's "byte" format does not: unwrap first.
  const data = (obj as { data?: Record<string, unknown> }).data;
  const unwrapped =
    obj.kind === 'Secret' && data ? { ...obj, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, typeof v === 'string' ? v.replace(/\s+/g, '') : v])) } : obj;
  try {
    new Model(unwrapped).validate();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

let workdir: string;
const rendered = new Map<string, KubeObject[]>();
const WEBHOOK_COMPONENT = '../../webhook';
const OVERLAYS: Array<{ name: string; replicas: number; verbosity: string; webhook?: boolean }> = [
  { name: 'dev', replicas: 1, verbosity: '4' },
  { name: 'prod', replicas: 2, verbosity: '2' },
  // prod with the pvc-chonker webhook component, included the way README tells an overlay to.
  { name: 'prod-webhook', replicas: 2, verbosity: '2', webhook: true },
];

/** Makes `prod-webhook` in the work copy: the prod overlay plus `components: [../../webhook]`. */
function addWebhookOverlay(overlays: string): void {
  const dir = join(overlays, 'prod-webhook');
  cpSync(join(overlays, 'prod'), dir, { recursive: true });
  const kustomization = join(dir, 'kustomization.yaml');
  writeFileSync(kustomization, `${readFileSync(kustomization, 'utf8').trimEnd()}\ncomponents:\n  - ${WEBHOOK_COMPONENT}\n`);
}

/** Every `caBundle` value anywhere in `obj`, with its path. */
function caBundles(obj: unknown, path = ''): Array<{ path: string; value: unknown }> {
  if (Array.isArray(obj)) return obj.flatMap((v, i) => caBundles(v, `${path}[${i}]`));
  if (obj === null || typeof obj !== 'object') return [];
  return Object.entries(obj).flatMap(([k, v]) => (k === 'caBundle' ? [{ path: `${path}.${k}`, value: v }] : caBundles(v, `${path}.${k}`)));
}

test.before(() => {
  workdir = mkdtempSync(join(tmpdir(), 'deploy-test-'));
  cpSync(join(ROOT, 'deploy'), join(workdir, 'deploy'), { recursive: true });
  addWebhookOverlay(join(workdir, 'deploy/overlays'));
  for (const overlay of OVERLAYS) {
    const dir = join(workdir, 'deploy/overlays', overlay.name);
    rmSync(join(dir, 'certs'), { recursive: true, force: true });
    rmSync(join(dir, 'cabundle-patch.yaml'), { force: true });
    rmSync(join(dir, 'webhook-cabundle-patch.yaml'), { force: true });
    generateCertificates({ ...DEFAULTS, overlay: dir, newCa: false });
    if (HAS_KUBECTL) rendered.set(overlay.name, parseYamlObjects(execFileSync(KUBECTL, ['kustomize', dir], { encoding: 'utf8' })));
  }
  if (HAS_KUBECTL) rendered.set('monitoring', parseYamlObjects(execFileSync(KUBECTL, ['kustomize', join(workdir, 'deploy/monitoring')], { encoding: 'utf8' })));
});
test.after.always(() => {
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

function certs(overlay: string): Record<string, string> {
  const dir = join(workdir, 'deploy/overlays', overlay, 'certs');
  return Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

// ---- hack/gen-certs ----

test('gen-certs: the serving certificate is for <service>.<namespace>.svc and signed by the CA in the caBundle patches (APIServices, webhook)', (t) => {
  const files = certs('prod');
  const ca = new X509Certificate(files['ca.crt']);
  const serving = new X509Certificate(files['apiserver.crt']);
  t.true(serving.verify(ca.publicKey));
  t.true(serving.checkIssued(ca));
  t.truthy(serving.checkHost(`operators-apiserver.${NAMESPACE}.svc`));
  t.truthy(serving.checkHost(`operators-apiserver.${NAMESPACE}.svc.cluster.local`));
  t.deepEqual(serving.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  for (const file of ['cabundle-patch.yaml', 'webhook-cabundle-patch.yaml']) {
    const patch = readFileSync(join(workdir, 'deploy/overlays/prod', file), 'utf8');
    const value = /value: (\S+)/.exec(patch)?.[1] ?? '';
    t.is(Buffer.from(value, 'base64').toString('utf8'), files['ca.crt'], file);
  }
});

test('gen-certs: etcd has its own CA; the member certificate serves every member name, the client certificate is client-only', (t) => {
  const files = certs('prod');
  const etcdCa = new X509Certificate(files['etcd-ca.crt']);
  const servingCa = new X509Certificate(files['ca.crt']);
  t.not(etcdCa.fingerprint256, servingCa.fingerprint256);
  const member = new X509Certificate(files['etcd-server.crt']);
  const client = new X509Certificate(files['etcd-client.crt']);
  t.true(member.verify(etcdCa.publicKey));
  t.true(client.verify(etcdCa.publicKey));
  t.false(client.verify(servingCa.publicKey));
  for (let i = 0; i < 3; i++) t.truthy(member.checkHost(`operators-etcd-${i}.operators-etcd.${NAMESPACE}.svc`), `member ${i}`);
  t.truthy(member.checkIP('127.0.0.1'));
  t.deepEqual([...(member.keyUsage ?? [])].sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  t.deepEqual(client.keyUsage, ['1.3.6.1.5.5.7.3.2']);
});

test('gen-certs: a second run keeps the CAs (the caBundle stays valid) and re-issues the leaf certificates; --new-ca replaces them', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gen-certs-'));
  try {
    generateCertificates({ ...DEFAULTS, overlay: dir, newCa: false });
    const first = { ca: readFileSync(join(dir, 'certs/ca.crt'), 'utf8'), leaf: readFileSync(join(dir, 'certs/apiserver.crt'), 'utf8') };
    generateCertificates({ ...DEFAULTS, overlay: dir, newCa: false });
    t.is(readFileSync(join(dir, 'certs/ca.crt'), 'utf8'), first.ca);
    t.not(readFileSync(join(dir, 'certs/apiserver.crt'), 'utf8'), first.leaf);
    generateCertificates({ ...DEFAULTS, overlay: dir, newCa: true });
    t.not(readFileSync(join(dir, 'certs/ca.crt'), 'utf8'), first.ca);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- rendered overlays ----

for (const overlay of OVERLAYS) {
  const title = (what: string) => `${overlay.name} overlay (kubectl kustomize): ${what}`;
  const objects = (t: { pass(m?: string): void }): KubeObject[] | undefined => {
    if (!HAS_KUBECTL) {
      t.pass('kubectl is not installed; the overlay was not rendered');
      return undefined;
    }
    return rendered.get(overlay.name)!;
  };

  test(title('every object is valid against the Kubernetes schemas (kubernetes-models), without unknown fields'), async (t) => {
    const all = objects(t);
    if (!all) return;
    t.true(all.length > 20);
    for (const obj of all) {
      const result = await validateWithModel(obj);
      t.not(result, 'no-model', `${obj.apiVersion} ${obj.kind} has a kubernetes-models class`);
      t.is(result, undefined, `${obj.kind} ${obj.metadata.name}: ${String(result)}`);
      // The library's validators accept unknown keys; its type declarations do not.
      const type = rootTypeOf(obj.apiVersion, obj.kind);
      t.truthy(type, `${obj.kind} has a declared type`);
      t.deepEqual(unknownFields(obj, type!), [], `${obj.kind} ${obj.metadata.name}: unknown fields`);
    }
  });

  test(title('four APIServices on the one Service, with the generated caBundle and sensible priorities'), (t) => {
    const all = objects(t);
    if (!all) return;
    const apiServices = all.filter((o) => o.kind === 'APIService') as Any[];
    t.deepEqual(apiServices.map((a) => a.metadata.name).sort(), [
      'v1alpha1.hourglass.eigenlayer.io',
      'v1alpha1.pvc-chonker.io',
      'v1alpha1.storm.apache.org',
      'v1beta1.storm.apache.org',
    ]);
    const ca = certs(overlay.name)['ca.crt'];
    const service = find(all, 'Service', 'operators-apiserver');
    for (const a of apiServices) {
      t.is(a.metadata.name, `${a.spec.version}.${a.spec.group}`);
      t.deepEqual(a.spec.service, { name: 'operators-apiserver', namespace: NAMESPACE, port: 443 });
      t.is(Buffer.from(a.spec.caBundle, 'base64').toString('utf8'), ca, `${a.metadata.name} caBundle`);
      t.is(a.spec.insecureSkipTLSVerify, undefined);
      t.true(a.spec.groupPriorityMinimum > 0 && a.spec.groupPriorityMinimum < 20000);
      t.true(a.spec.versionPriority > 0);
    }
    const storm = (v: string) => apiServices.find((a) => a.metadata.name === `${v}.storm.apache.org`).spec.versionPriority;
    t.true(storm('v1beta1') > storm('v1alpha1'), 'storm.apache.org prefers v1beta1');
    t.is(service.metadata.namespace, NAMESPACE);
    t.deepEqual(service.spec.ports.map((p: Any) => [p.port, p.targetPort]), [[443, 'https']]);
  });

  test(title('no empty caBundle anywhere: every one (APIServices, and the webhook when included) is the serving CA from gen-certs'), (t) => {
    const all = objects(t);
    if (!all) return;
    const ca = certs(overlay.name)['ca.crt'];
    const bundles = all.flatMap((o) => caBundles(o).map((b) => ({ ...b, where: `${o.kind} ${o.metadata.name}${b.path}` })));
    t.is(bundles.length, overlay.webhook ? 5 : 4, bundles.map((b) => b.where).join(', '));
    for (const b of bundles) {
      t.true(typeof b.value === 'string' && b.value !== '', `${b.where} is empty`);
      t.is(Buffer.from(String(b.value), 'base64').toString('utf8'), ca, b.where);
    }
    const webhooks = all.filter((o) => o.kind === 'MutatingWebhookConfiguration' || o.kind === 'ValidatingWebhookConfiguration') as Any[];
    t.deepEqual(webhooks.map((w) => w.metadata.name), overlay.webhook ? ['pvc-chonker.io'] : []);
    for (const w of webhooks.flatMap((c) => c.webhooks)) t.truthy(w.clientConfig.caBundle, `${w.name} caBundle`);
  });

  if (overlay.webhook) {
    test(title('the webhook component: the MutatingWebhookConfiguration calls the server’s Service at /mutate-pvc, and the server serves it'), (t) => {
      const all = objects(t);
      if (!all) return;
      const [webhook] = find(all, 'MutatingWebhookConfiguration', 'pvc-chonker.io').webhooks;
      t.deepEqual(webhook.clientConfig.service, { name: 'operators-apiserver', namespace: NAMESPACE, path: '/mutate-pvc', port: 443 });
      t.is(webhook.failurePolicy, 'Ignore');
      const args: string[] = find(all, 'Deployment', 'operators-apiserver').spec.template.spec.containers[0].args;
      t.true(args.includes('--enable-pvc-webhook=true'));
    });
  }

  test(title(`the server Deployment: ${overlay.replicas} replica(s), leader election, probes, restricted Pod Security`), (t) => {
    const all = objects(t);
    if (!all) return;
    const deployment = find(all, 'Deployment', 'operators-apiserver');
    t.is(deployment.spec.replicas, overlay.replicas);
    const pod = deployment.spec.template.spec;
    t.is(pod.serviceAccountName, 'operators-apiserver');
    t.true(pod.securityContext.runAsNonRoot);
    t.is(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
    const [container] = pod.containers;
    const args: string[] = container.args;
    const flag = (name: string) => args.filter((a) => a.startsWith(`--${name}=`)).map((a) => a.slice(name.length + 3)).at(-1);
    t.is(flag('leader-elect'), 'true');
    t.is(flag('v'), overlay.verbosity);
    t.is(flag('write-kubeconfig'), '');
    t.regex(flag('storage') ?? '', /^etcd3s:\/\/operators-etcd-0\.operators-etcd\.operators-system\.svc:2379,operators-etcd-1\.[^,]+,operators-etcd-2\.[^,]+$/);
    for (const f of ['tls-cert-file', 'tls-private-key-file', 'etcd-cafile', 'etcd-certfile', 'etcd-keyfile', 'kubeconfig']) t.truthy(flag(f), f);
    t.deepEqual(
      [container.readinessProbe.httpGet, container.livenessProbe.httpGet],
      [
        { path: '/readyz', port: 'https', scheme: 'HTTPS' },
        { path: '/livez', port: 'https', scheme: 'HTTPS' },
      ],
    );
    const sc = container.securityContext;
    t.is(sc.allowPrivilegeEscalation, false);
    t.is(sc.readOnlyRootFilesystem, true);
    t.is(sc.runAsNonRoot, true);
    t.deepEqual(sc.capabilities.drop, ['ALL']);
    t.is(sc.seccompProfile.type, 'RuntimeDefault');
    // Every volume's Secret and ConfigMap is rendered (generator names with their hash suffix).
    for (const volume of pod.volumes) {
      if (volume.secret) t.truthy(find(all, 'Secret', volume.secret.secretName));
      if (volume.configMap) t.truthy(find(all, 'ConfigMap', volume.configMap.name));
    }
    const serving = find(all, 'Secret', pod.volumes.find((v: Any) => v.name === 'serving').secret.secretName);
    t.is(serving.type, 'kubernetes.io/tls');
    t.is(Buffer.from(serving.data['tls.crt'], 'base64').toString('utf8'), certs(overlay.name)['apiserver.crt']);
    // The mounted files are the ones the flags name.
    const mountOf = (volume: string) => container.volumeMounts.find((m: Any) => m.name === volume).mountPath;
    t.is(flag('tls-cert-file'), `${mountOf('serving')}/tls.crt`);
    t.is(flag('etcd-certfile'), `${mountOf('etcd-client')}/tls.crt`);
    t.is(flag('kubeconfig'), `${mountOf('host-kubeconfig')}/kubeconfig`);
    const namespace = find(all, 'Namespace', NAMESPACE);
    t.is(namespace.metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted');
  });

  test(title('PodDisruptionBudgets keep the server and an etcd quorum up'), (t) => {
    const all = objects(t);
    if (!all) return;
    const server = find(all, 'PodDisruptionBudget', 'operators-apiserver');
    const etcd = find(all, 'PodDisruptionBudget', 'operators-etcd');
    t.deepEqual(server.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'operators-apiserver' });
    // A budget that allows no disruption at all would block every drain.
    if (overlay.replicas === 1) t.is(server.spec.maxUnavailable, 1);
    else t.is(server.spec.minAvailable, 1);
    t.is(etcd.spec.minAvailable, 2);
  });

  test(title('etcd: 3 members with TLS for clients and peers, reachable only from the server'), (t) => {
    const all = objects(t);
    if (!all) return;
    const sts = find(all, 'StatefulSet', 'operators-etcd');
    t.is(sts.spec.replicas, 3);
    t.is(sts.spec.serviceName, 'operators-etcd');
    const [container] = sts.spec.template.spec.containers;
    const args: string[] = container.args;
    for (const expected of ['--client-cert-auth=true', '--peer-client-cert-auth=true', '--listen-client-urls=https://0.0.0.0:2379', '--listen-peer-urls=https://0.0.0.0:2380']) {
      t.true(args.includes(expected), expected);
    }
    const initialCluster = args.find((a) => a.startsWith('--initial-cluster='))!;
    t.is(initialCluster.split(',').length, 3);
    t.true(initialCluster.split(',').every((m) => m.includes('=https://')));
    t.is(container.securityContext.readOnlyRootFilesystem, true);
    const secret = find(all, 'Secret', sts.spec.template.spec.volumes.find((v: Any) => v.name === 'tls').secret.secretName);
    t.deepEqual(Object.keys(secret.data).sort(), ['ca.crt', 'tls.crt', 'tls.key']);
    t.true(find(all, 'Service', 'operators-etcd').spec.publishNotReadyAddresses);

    const policy = find(all, 'NetworkPolicy', 'operators-etcd');
    t.deepEqual(policy.spec.podSelector.matchLabels, sts.spec.template.metadata.labels['app.kubernetes.io/name'] && { 'app.kubernetes.io/name': 'operators-etcd' });
    t.deepEqual(policy.spec.policyTypes, ['Ingress']);
    const serverLabels = find(all, 'Deployment', 'operators-apiserver').spec.template.metadata.labels;
    const etcdLabels = sts.spec.template.metadata.labels;
    const selects = (from: Any, labels: Record<string, string>) =>
      Object.entries(from.podSelector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v) && !from.namespaceSelector && !from.ipBlock;
    const allowed = (labels: Record<string, string>, port: number) =>
      policy.spec.ingress.some((rule: Any) => rule.ports.some((p: Any) => p.port === port) && rule.from.some((f: Any) => selects(f, labels)));
    t.true(allowed(serverLabels, 2379), 'the server reaches the client port');
    t.false(allowed(serverLabels, 2380), 'the server does not reach the peer port');
    t.true(allowed(etcdLabels, 2380), 'members reach each other');
    t.false(allowed({ 'app.kubernetes.io/name': 'something-else' }, 2379), 'other pods do not reach etcd');
  });

  test(title('RBAC for an aggregated API server: auth-delegator and the kube-system authentication reader'), (t) => {
    const all = objects(t);
    if (!all) return;
    const delegator = all.find((o) => o.kind === 'ClusterRoleBinding' && (o as Any).roleRef.name === 'system:auth-delegator') as Any;
    t.truthy(delegator);
    t.deepEqual(delegator.subjects, [{ kind: 'ServiceAccount', name: 'operators-apiserver', namespace: NAMESPACE }]);
    const reader = all.find((o) => o.kind === 'RoleBinding' && (o as Any).roleRef.name === 'extension-apiserver-authentication-reader') as Any;
    t.is(reader.metadata.namespace, 'kube-system');
    t.deepEqual(reader.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'extension-apiserver-authentication-reader' });
  });

  test(title('the ServiceAccount may make every host call in controllers/host-permissions.ts, and no more'), (t) => {
    const all = objects(t);
    if (!all) return;
    checkHostPermissions(t, all.filter((o) => o.kind.endsWith('Role') || o.kind.endsWith('RoleBinding')) as unknown as Array<Role | Binding>);
  });
}

test('base manifests (without kustomize) are valid against the Kubernetes schemas, without unknown fields', async (t) => {
  const files = readdirSync(join(ROOT, 'deploy/base')).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  t.true(files.length >= 10);
  for (const file of files) {
    for (const obj of baseObjects(file)) {
      t.is(await validateWithModel(obj), undefined, `${file}: ${obj.kind} ${obj.metadata.name}`);
      t.deepEqual(unknownFields(obj, rootTypeOf(obj.apiVersion, obj.kind)!), [], `${file}: ${obj.kind} ${obj.metadata.name}`);
    }
  }
});

test('the unknown-field check finds misspelled keys at any depth', (t) => {
  const deployment = baseObjects('deployment.yaml')[0] as Any;
  t.deepEqual(unknownFields(deployment, rootTypeOf('apps/v1', 'Deployment')!), []);
  const misspelled = structuredClone(deployment);
  misspelled.metadata.lables = {};
  misspelled.spec.template.spec.containers[0].readinesProbe = {};
  misspelled.spec.template.spec.containers[0].securityContext.capabilities.dorp = ['ALL'];
  t.deepEqual(unknownFields(misspelled, rootTypeOf('apps/v1', 'Deployment')!).sort(), [
    'metadata.lables',
    'spec.template.spec.containers[0].readinesProbe',
    'spec.template.spec.containers[0].securityContext.capabilities.dorp',
  ]);
});

// ---- RBAC (also without kubectl: from the base files) ----

/** The built-in roles every cluster has that the delegation bindings refer to (kube's bootstrap policy). */
const BUILT_IN_ROLES: Role[] = [
  {
    kind: 'ClusterRole',
    metadata: { name: 'system:auth-delegator' },
    rules: [
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    ],
  },
  {
    kind: 'Role',
    metadata: { name: 'extension-apiserver-authentication-reader', namespace: 'kube-system' },
    rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['extension-apiserver-authentication'], verbs: ['get', 'list', 'watch'] }],
  },
];

const CLUSTER_SCOPED = new Set(['nodes', 'nodes/proxy', 'storageclasses', 'tokenreviews', 'subjectaccessreviews']);

function attributes(group: string, resourcePath: string, verb: string, namespace: string, name = ''): AuthorizationAttributes {
  const [resource, subresource = ''] = resourcePath.split('/');
  return {
    user: { username: SERVICE_ACCOUNT, groups: ['system:serviceaccounts', `system:serviceaccounts:${NAMESPACE}`, 'system:authenticated'] },
    verb,
    isResourceRequest: true,
    path: '',
    apiGroup: group,
    apiVersion: 'v1',
    namespace: CLUSTER_SCOPED.has(resourcePath) ? '' : namespace,
    resource,
    subresource,
    name,
  };
}

function checkHostPermissions(t: { true(v: boolean, m?: string): void; false(v: boolean, m?: string): void; deepEqual(a: unknown, b: unknown, m?: string): void }, objects: Array<Role | Binding>): void {
  const authorizer = new RbacAuthorizer(() => new RbacPolicy([...objects, ...BUILT_IN_ROLES]));
  const allows = (attrs: AuthorizationAttributes) => authorizer.authorize(attrs).decision === 'allow';
  for (const p of HOST_PERMISSIONS) {
    for (const verb of p.verbs) {
      const what = `${p.caller}: ${verb} ${p.group}/${p.resource} (${p.scope})`;
      if (p.scope === 'cluster') t.true(allows(attributes(p.group, p.resource, verb, 'some-team')), what);
      if (p.scope === 'own-namespace') {
        t.true(allows(attributes(p.group, p.resource, verb, NAMESPACE)), what);
        t.false(allows(attributes(p.group, p.resource, verb, 'some-team')), `${what} only in ${NAMESPACE}`);
      }
      if (p.scope === 'delegation') {
        const namespace = p.resource === 'configmaps' ? 'kube-system' : '';
        const name = p.resource === 'configmaps' ? 'extension-apiserver-authentication' : '';
        t.true(allows(attributes(p.group, p.resource, verb, namespace, name)), what);
      }
    }
  }
  // No more: every (group, resource, verb) our own roles grant is in the table, with the same scope.
  const declared = new Set(HOST_PERMISSIONS.flatMap((p) => p.verbs.map((v) => `${p.scope} ${p.group}/${p.resource} ${v}`)));
  const granted: string[] = [];
  for (const role of objects.filter((o): o is Role => o.kind === 'ClusterRole' || o.kind === 'Role')) {
    const scope: HostPermission['scope'] | undefined =
      role.metadata.name === 'operators-apiserver:controllers' ? 'cluster' : role.metadata.name === 'operators-apiserver:leader-election' ? 'own-namespace' : undefined;
    if (!scope) continue;
    for (const rule of role.rules ?? []) {
      t.false((rule.verbs ?? []).includes('*') || (rule.resources ?? []).includes('*') || (rule.apiGroups ?? []).includes('*'), `no wildcards in ${role.metadata.name}`);
      for (const g of rule.apiGroups ?? []) for (const r of rule.resources ?? []) for (const v of rule.verbs) granted.push(`${scope} ${g}/${r} ${v}`);
    }
  }
  t.deepEqual(
    granted.filter((g) => !declared.has(g)),
    [],
    'granted but not declared in controllers/host-permissions.ts',
  );
  t.deepEqual(
    [...declared].filter((d) => !d.startsWith('delegation') && !granted.includes(d)),
    [],
    'declared but not granted by deploy/base/rbac-host.yaml',
  );
}

function baseObjects(file: string): KubeObject[] {
  return parseYamlObjects(readFileSync(join(ROOT, 'deploy/base', file), 'utf8'));
}

test('base RBAC (without kustomize): the ServiceAccount may make every declared host call, and no more', (t) => {
  checkHostPermissions(t, [...baseObjects('rbac-host.yaml'), ...baseObjects('rbac-delegation.yaml')] as unknown as Array<Role | Binding>);
});

test('every host call in the sources (typed client-node calls, GC types, node proxy) is declared in controllers/host-permissions.ts', (t) => {
  const calls = hostCallsIn(ROOT, ['controllers', 'apiserver/authn', 'apiserver/authz'], ['controllers/host-client.ts', 'controllers/host-permissions.ts']);
  t.true(calls.length > 10, 'the scan finds the calls');
  const declared = (group: string, resource: string, verb: string) =>
    HOST_PERMISSIONS.some((p) => p.group === group && p.resource === resource && p.verbs.includes(verb));
  const undeclared = calls.filter((alternatives) => !alternatives.some((c) => declared(c.group, c.resource, c.verb)));
  t.deepEqual(
    undeclared.map((alternatives) => `${alternatives[0].site} → ${alternatives.map((c) => `${c.verb} ${c.group}/${c.resource}`).join(' or ')}`),
    [],
  );
});

test('user roles: viewer reads, editor writes without custom verbs, topology-promoter may only create promote and rollback', (t) => {
  const roles = baseObjects('rbac-users.yaml') as unknown as Role[];
  const user = { username: 'alice', groups: ['system:authenticated'] };
  const bindingFor = (role: string): Binding => ({
    kind: 'ClusterRoleBinding',
    metadata: { name: role },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: [{ kind: 'User', name: 'alice' }],
  });
  const can = (role: string, verb: string, group: string, resource: string, subresource = '') =>
    new RbacAuthorizer(() => new RbacPolicy([...roles, bindingFor(role)])).authorize({
      user,
      verb,
      isResourceRequest: true,
      path: '',
      apiGroup: group,
      apiVersion: 'v1',
      namespace: 'storm',
      resource,
      subresource,
      name: subresource ? 'wordcount' : '',
    }).decision === 'allow';
  const cases: Array<[string, string, string, string, string, boolean]> = [
    ['operators-viewer', 'list', 'storm.apache.org', 'stormtopologies', '', true],
    ['operators-viewer', 'get', 'storm.apache.org', 'stormtopologies', 'metrics', true],
    ['operators-viewer', 'create', 'storm.apache.org', 'stormtopologies', '', false],
    ['operators-viewer', 'create', 'storm.apache.org', 'stormtopologies', 'promote', false],
    ['operators-editor', 'create', 'pvc-chonker.io', 'pvcgroups', '', true],
    ['operators-editor', 'patch', 'storm.apache.org', 'stormworkerpools', 'scale', true],
    ['operators-editor', 'update', 'storm.apache.org', 'stormtopologies', 'status', false],
    ['operators-editor', 'create', 'storm.apache.org', 'stormtopologies', 'promote', false],
    ['topology-promoter', 'create', 'storm.apache.org', 'stormtopologies', 'promote', true],
    ['topology-promoter', 'create', 'storm.apache.org', 'stormtopologies', 'rollback', true],
    ['topology-promoter', 'create', 'storm.apache.org', 'stormtopologies', 'rebalance', false],
    ['topology-promoter', 'update', 'storm.apache.org', 'stormtopologies', '', false],
    ['topology-promoter', 'create', 'hourglass.eigenlayer.io', 'performers', 'promote', false],
  ];
  for (const [role, verb, group, resource, subresource, expected] of cases) {
    t.is(can(role, verb, group, resource, subresource), expected, `${role} ${verb} ${resource}${subresource ? `/${subresource}` : ''}`);
  }
  // The promoter grants `create` on exactly the two subresources and reads; nothing else.
  const promoter = roles.find((r) => r.metadata.name === 'topology-promoter')!;
  t.deepEqual(
    promoter.rules!.filter((r) => r.verbs.includes('create')),
    [{ apiGroups: ['storm.apache.org'], resources: ['stormtopologies/promote', 'stormtopologies/rollback'], verbs: ['create'] }],
  );
});

test('user roles in deploy/base are the ones in deploy/examples/rbac.yaml', (t) => {
  const examples = parseYamlObjects(readFileSync(join(ROOT, 'deploy/examples/rbac.yaml'), 'utf8'));
  for (const name of ['operators-viewer', 'operators-editor', 'topology-promoter']) {
    const base = baseObjects('rbac-users.yaml').find((o) => o.metadata.name === name) as Any;
    const example = examples.find((o) => o.kind === 'ClusterRole' && o.metadata.name === name) as Any;
    t.deepEqual(base.rules, example.rules, name);
  }
});

test('aggregated ClusterRoles extend the built-in view and edit (and through edit, admin) roles', (t) => {
  const roles = baseObjects('rbac-users.yaml') as Any[];
  const view = roles.find((r) => r.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-view'] === 'true');
  const edit = roles.find((r) => r.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-edit'] === 'true');
  t.truthy(view);
  t.truthy(edit);
  t.true(view.rules.every((r: Any) => r.verbs.every((v: string) => ['get', 'list', 'watch'].includes(v))), 'view only reads');
  t.true(edit.rules.some((r: Any) => r.resources.includes('stormtopologies/promote') && r.verbs.includes('create')));
});

// ---- deploy/monitoring ----

test('monitoring (kubectl kustomize): ServiceMonitor, PrometheusRule and dashboard use metric names the server exports', async (t) => {
  if (!HAS_KUBECTL) {
    t.pass('kubectl is not installed; deploy/monitoring was not rendered');
    return;
  }
  const all = rendered.get('monitoring')!;
  for (const obj of all) {
    const result = await validateWithModel(obj);
    if (result === 'no-model') continue; // ServiceMonitor, PrometheusRule: checked structurally below
    t.is(result, undefined, `${obj.kind} ${obj.metadata.name}: ${String(result)}`);
  }
  const monitor = find(all, 'ServiceMonitor', 'operators-apiserver');
  t.is(monitor.apiVersion, 'monitoring.coreos.com/v1');
  t.deepEqual(monitor.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'operators-apiserver', 'app.kubernetes.io/component': 'apiserver' });
  t.is(monitor.spec.endpoints[0].port, 'https');
  t.is(monitor.spec.endpoints[0].scheme, 'https');
  t.is(monitor.spec.endpoints[0].tlsConfig.insecureSkipVerify, undefined);
  const rules = find(all, 'PrometheusRule', 'operators-apiserver');
  const alerts: Any[] = rules.spec.groups.flatMap((g: Any) => g.rules);
  for (const name of ['OperatorsApiserverErrorRate', 'OperatorsApiserverLatencyP99', 'OperatorsWorkqueueDepthHigh', 'PVCChonkerExpansionsFailing', 'StormTopologyFailed']) {
    t.truthy(alerts.find((a) => a.alert === name), name);
  }
  for (const a of alerts) t.true(typeof a.expr === 'string' && a.expr.length > 0 && a.labels?.severity !== undefined, a.alert);
  const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy/monitoring/grafana-dashboard.json'), 'utf8')) as Any;
  const dashboardMap = find(all, 'ConfigMap', 'operators-apiserver-dashboard');
  t.is(dashboardMap.metadata.labels.grafana_dashboard, '1');
  t.deepEqual(JSON.parse(dashboardMap.data['operators-apiserver.json']), dashboard);
  // The server's own metric names referenced anywhere must be ones a running server exports
  // (the `# TYPE` lines of its /metrics; histograms also as `_bucket`, `_sum`, `_count`).
  const server = await startTestServer();
  let exported: Set<string>;
  try {
    const scrape = await httpsRequest(server, 'GET', '/metrics');
    exported = new Set(['up']);
    for (const m of scrape.body.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      exported.add(m[1]);
      if (m[2] === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(`${m[1]}${suffix}`);
    }
  } finally {
    await server.stop();
  }
  const expressions = [...alerts.map((a) => a.expr as string), ...dashboard.panels.flatMap((p: Any) => p.targets.map((x: Any) => x.expr as string))];
  for (const expr of expressions) {
    for (const m of expr.matchAll(/\b((?:apiserver|etcd|workqueue|reconcile|process|nodejs|operators)_[a-z_]+)\b/g)) t.true(exported.has(m[1]), `${m[1]} in ${expr}`);
  }
});
