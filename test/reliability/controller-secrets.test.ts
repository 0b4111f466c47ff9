// Secrets on the controllers' side (issue 13, Security): Hourglass operator keys, a performer's API
// key, registry credentials (a dockerconfigjson pull secret) and S3 credentials for a topology jar
// live in Secrets on the stand-in host cluster. The server runs as a child process with every
// controller, trace logging (`LOG_LEVEL=trace`, `--v=8`) and a RequestResponse audit log; it is
// given objects that reference those Secrets, and an executor whose operator key is given as a
// plain value (rejected). None of the secret values — raw or base64 — may appear in the server's
// log, the audit log, an API answer, our objects' status, an Event, or a host object the
// controllers wrote (those carry references: valueFrom.secretKeyRef, envFrom.secretRef,
// imagePullSecrets). The controllers never read those Secrets at all (a spy on the host's Secret
// storage records every read).
import { AppsV1Api, BatchV1Api, CoreV1Api } from '@kubernetes/client-node';
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { NIMBUS_ENDPOINT_ANNOTATION } from '../../registry/storm.apache.org/upstreams.js';
import type { Store } from '../../registry/store.js';
import { startHostCluster, type HostCluster } from '../hostcluster/index.js';
import { startStandInNimbus, type StandInNimbus } from '../stand-ins/nimbus/index.js';
import { Client, startServerProcess, until, type ServerProcess } from './helpers.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const secretValue = (what: string) => `${what}-${randomBytes(16).toString('hex')}`;

const BLS_KEY = secretValue('bls-private-key');
const ECDSA_KEY = secretValue('ecdsa-private-key');
const RPC_API_KEY = secretValue('rpc-api-key');
const REGISTRY_PASSWORD = secretValue('registry-password');
const S3_SECRET_KEY = secretValue('aws-secret-access-key');
const PLAIN_OPERATOR_KEY = secretValue('plain-operator-key');
const DOCKER_CONFIG = JSON.stringify({ auths: { 'ghcr.io': { username: 'bot', password: REGISTRY_PASSWORD, auth: b64(`bot:${REGISTRY_PASSWORD}`) } } });

/** Every form a secret could leak in: the value, its base64 (Secret `data`), the docker auth pair. */
const LEAKS: Record<string, string> = {
  'BLS operator key': BLS_KEY,
  'BLS operator key (base64)': b64(BLS_KEY),
  'ECDSA operator key': ECDSA_KEY,
  'ECDSA operator key (base64)': b64(ECDSA_KEY),
  'performer RPC API key': RPC_API_KEY,
  'performer RPC API key (base64)': b64(RPC_API_KEY),
  'registry password': REGISTRY_PASSWORD,
  'registry auth (base64 user:password)': b64(`bot:${REGISTRY_PASSWORD}`),
  'registry .dockerconfigjson (base64)': b64(DOCKER_CONFIG),
  'S3 secret access key': S3_SECRET_KEY,
  'S3 secret access key (base64)': b64(S3_SECRET_KEY),
};

const HG = 'hourglass-system';
const PERF = 'hourglass-performers';
const STORM = 'storm';

const HOST_SECRETS: Array<{ namespace: string; name: string; type?: string; data: Record<string, string> }> = [
  { namespace: HG, name: 'operator-keys', data: { 'bls.key': BLS_KEY, 'ecdsa.key': ECDSA_KEY } },
  { namespace: PERF, name: 'hello-avs-rpc', data: { 'api-key': RPC_API_KEY } },
  ...[HG, PERF, STORM].map((namespace) => ({ namespace, name: 'registry-creds', type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': DOCKER_CONFIG } })),
  { namespace: STORM, name: 's3-creds', data: { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: S3_SECRET_KEY } },
];

function example(kind: string, namespace: string, edit: (o: any) => void): any {
  const obj = parse(readFileSync(join('deploy', 'examples', `${kind.toLowerCase()}.yaml`), 'utf8'));
  obj.metadata.namespace = namespace;
  edit(obj);
  return obj;
}

/** Records every read of the host's Secrets (in-process: the Store behind the host's API). */
function spyOnSecretReads(secrets: Store): string[] {
  const reads: string[] = [];
  const target = secrets as unknown as Record<string, (...args: any[]) => unknown>;
  for (const method of ['get', 'list', 'watch']) {
    const original = target[method].bind(secrets);
    target[method] = (...args: any[]) => {
      reads.push(`${method} ${JSON.stringify(args[0])}`);
      return original(...args);
    };
  }
  return reads;
}

let host: HostCluster;
let nimbus: StandInNimbus;
let dir: string;

test.before(async () => {
  host = await startHostCluster();
  nimbus = await startStandInNimbus();
  dir = mkdtempSync(join(tmpdir(), 'controller-secrets-'));
});
test.after.always(async () => {
  await nimbus?.stop();
  await host?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('controller secrets (operator keys, registry and S3 credentials) never appear in logs, audit, answers, status, events or host objects (stand-in host cluster, stand-in Nimbus)', async (t) => {
  t.timeout(180_000);
  const kc = host.kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  for (const name of [HG, PERF, STORM]) await core.createNamespace({ body: { metadata: { name } } });
  for (const s of HOST_SECRETS) {
    await core.createNamespacedSecret({
      namespace: s.namespace,
      body: { metadata: { name: s.name }, ...(s.type ? { type: s.type } : {}), data: Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, b64(v)])) },
    });
  }
  const secretReads = spyOnSecretReads(host.stores.get('secrets.core')!);

  const auditPath = join(dir, 'audit.log');
  let proc: ServerProcess | undefined = await startServerProcess(
    join(dir, 'certs'),
    [`--storage=sqlite://${join(dir, 'state.db')}`, `--kubeconfig=${host.kubeconfigPath}`, '--controllers=*', `--audit-log-path=${auditPath}`, '--audit-level=RequestResponse', '--v=8'],
    30_000,
    { env: { LOG_LEVEL: 'trace' }, keepOutputBytes: 64 * 1024 * 1024 },
  );
  t.teardown(async () => {
    if (proc && proc.child.exitCode === null) {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
  });
  const api = new Client(proc.endpoint);
  t.teardown(() => api.close());
  const answers: string[] = [];
  const call = async (method: string, path: string, body?: unknown) => {
    const answer = await api.request(method, path, body === undefined ? {} : { body });
    answers.push(answer.body);
    return answer;
  };
  await until(async () => (await api.request('GET', '/readyz')).status === 200, 'readyz');

  const executor = example('HourglassExecutor', HG, (o) => (o.spec.imagePullSecrets = [{ name: 'registry-creds' }]));
  const performer = example('Performer', PERF, (o) => (o.spec.imagePullSecrets = [{ name: 'registry-creds' }]));
  const cluster = {
    apiVersion: 'storm.apache.org/v1beta1',
    kind: 'StormCluster',
    metadata: { name: 'storm', namespace: STORM, annotations: { [NIMBUS_ENDPOINT_ANNOTATION]: nimbus.address.host + ':' + nimbus.address.port } },
    spec: { zookeeper: { servers: ['zk-0.zk:2181'] }, image: { pullSecrets: ['registry-creds'] }, imagePullSecrets: [{ name: 'registry-creds' }] },
  };
  const topology = {
    apiVersion: 'storm.apache.org/v1beta1',
    kind: 'StormTopology',
    metadata: { name: 'wordcount', namespace: STORM },
    spec: {
      clusterRef: 'storm',
      topology: {
        name: 'wordcount',
        jar: { s3: { bucket: 'jars', key: 'wordcount.jar', region: 'eu-west-1', credentialsSecret: 's3-creds' } },
        mainClass: 'org.apache.storm.starter.WordCountTopology',
      },
    },
  };
  const created = [
    ['/apis/hourglass.eigenlayer.io/v1alpha1/namespaces/hourglass-system/hourglassexecutors', executor],
    ['/apis/hourglass.eigenlayer.io/v1alpha1/namespaces/hourglass-performers/performers', performer],
    ['/apis/storm.apache.org/v1beta1/namespaces/storm/stormclusters', cluster],
    ['/apis/storm.apache.org/v1beta1/namespaces/storm/stormtopologies', topology],
  ] as const;
  for (const [path, body] of created) t.is((await call('POST', path, body)).status, 201, path);
  // An operator key given as a plain value is refused, and the answer does not echo it.
  const plain = example('HourglassExecutor', HG, (o) => {
    o.metadata.name = 'plain';
    o.spec.config.operatorKeys.bls = PLAIN_OPERATOR_KEY;
  });
  const refused = await call('POST', created[0][0], plain);
  t.is(refused.status, 422);
  t.regex(refused.body, /operator keys may not be given as plain values/);
  t.false(refused.body.includes(PLAIN_OPERATOR_KEY), 'the 422 answer does not echo the plain key');

  // The controllers did their work with the references.
  const statefulSet = await until(async () => (await apps.listNamespacedStatefulSet({ namespace: HG })).items[0], 'the executor StatefulSet', 60_000);
  const pod = await until(async () => (await core.listNamespacedPod({ namespace: PERF })).items[0], 'the performer Pod', 60_000);
  const job = await until(async () => (await batch.listNamespacedJob({ namespace: STORM })).items[0], 'the topology submission Job', 60_000);
  const executorEnv = statefulSet.spec!.template.spec!.containers[0].env ?? [];
  t.true(executorEnv.length >= 2);
  for (const env of executorEnv) {
    t.is(env.value, undefined, `${env.name}: no value`);
    t.is(env.valueFrom?.secretKeyRef?.name, 'operator-keys', `${env.name}: a reference to the Secret`);
  }
  t.deepEqual(statefulSet.spec!.template.spec!.imagePullSecrets?.map((s) => s.name), ['registry-creds']);
  t.deepEqual(pod.spec!.imagePullSecrets?.map((s) => s.name), ['registry-creds']);
  t.like(pod.spec!.containers[0].env?.find((e) => e.name === 'RPC_API_KEY'), { valueFrom: { secretKeyRef: { name: 'hello-avs-rpc', key: 'api-key' } } });
  const fetch = job.spec!.template.spec!.initContainers![0];
  t.deepEqual(fetch.envFrom?.map((e) => e.secretRef?.name), ['s3-creds']);
  t.true(job.spec!.template.spec!.imagePullSecrets?.some((s) => s.name === 'registry-creds'));

  // Our objects' status, read through the API (also into `answers`).
  const statuses: Record<string, unknown> = {};
  for (const [path, body] of created) {
    const obj = await until(async () => {
      const answer = await call('GET', `${path}/${body.metadata.name}`);
      return answer.json?.status?.conditions ? answer.json : undefined;
    }, `${path}/${body.metadata.name} with a status`, 60_000);
    statuses[path] = obj.status;
  }
  await call('GET', '/apis/hourglass.eigenlayer.io/v1alpha1/hourglassexecutors');
  await call('GET', '/apis/storm.apache.org/v1beta1/stormtopologies');

  // Stop the server so every log and audit line is flushed.
  proc.child.kill('SIGTERM');
  await proc.exited;
  const logs = proc.output();
  proc = undefined;
  const audit = readFileSync(auditPath, 'utf8');
  t.true(audit.includes('hourglassexecutors'), 'the audit log recorded the requests');
  // --v=8: every request is logged (request lines come from --v=3), so the capture is complete.
  t.true(logs.includes('"msg":"incoming request"') && logs.includes('hourglassexecutors'), 'the server logged every request');

  const events = (await core.listEventForAllNamespaces()).items;
  t.true(events.length > 0, 'the controllers recorded events');
  const hostObjects = JSON.stringify([
    (await apps.listStatefulSetForAllNamespaces()).items,
    (await apps.listDeploymentForAllNamespaces()).items,
    (await batch.listJobForAllNamespaces()).items,
    (await core.listPodForAllNamespaces()).items,
    (await core.listConfigMapForAllNamespaces()).items,
    (await core.listServiceForAllNamespaces()).items,
  ]);
  const surfaces: Record<string, string> = {
    'the server log': logs,
    'the audit log': audit,
    'an API answer': answers.join('\n'),
    'a status': JSON.stringify(statuses),
    'an Event': JSON.stringify(events),
    'a host object the controllers wrote': hostObjects,
  };
  for (const [what, value] of Object.entries(LEAKS)) {
    for (const [where, text] of Object.entries(surfaces)) t.false(text.includes(value), `${what} in ${where}`);
  }
  t.false(logs.includes(PLAIN_OPERATOR_KEY), 'the rejected plain operator key is not logged');
  t.false(audit.includes(PLAIN_OPERATOR_KEY), 'the rejected plain operator key is not in the audit log');
  // The rejected request is audited, body included, with the key replaced.
  t.true(audit.includes('"bls":"[REDACTED]"'), 'the audited body of the rejected request shows the key redacted');
  t.log(`secret reads on the host: ${secretReads.length === 0 ? 'none' : secretReads.join('; ')}`);
  const referenced = new Set(HOST_SECRETS.map((s) => s.name));
  t.deepEqual(
    secretReads.filter((r) => r.startsWith('get') && [...referenced].some((name) => r.includes(`"${name}"`))),
    [],
    'the controllers never read a referenced Secret',
  );
  t.deepEqual(
    secretReads.filter((r) => !r.startsWith('get') && !r.includes('operators-apiserver.io')),
    [],
    'Secret lists and watches (if any) select only the server’s own managed Secrets',
  );
});
