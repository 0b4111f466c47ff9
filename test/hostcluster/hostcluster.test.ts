// The stand-in host cluster driven by @kubernetes/client-node unchanged (and kubectl when it is on
// the PATH): the core group on this project's generic server, the other built-in groups, delegated
// auth reviews, the node proxy's kubelet metrics, and the simulated kubelet's behaviours.
import * as k8s from '@kubernetes/client-node';
import test from 'ava';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { apiError, checkStatusBody, expectStatus, rawRequest, rejectsWithStatus, type Endpoint } from '../conformance/client.js';
import { findKubectl } from '../helpers/kubectl.js';
import { formatGoFloat, startHostCluster, type HostCluster, type VolumeStats } from './index.js';

let cluster: HostCluster;
let kc: k8s.KubeConfig;
let endpoint: Endpoint & { clientCert: { cert: string; key: string } };

test.before(async () => {
  cluster = await startHostCluster();
  kc = cluster.kubeConfig();
  const user = kc.getCurrentUser()!;
  endpoint = {
    url: cluster.url,
    caPem: cluster.caPem,
    clientCert: { cert: Buffer.from(user.certData!, 'base64').toString(), key: Buffer.from(user.keyData!, 'base64').toString() },
  };
});
test.after.always(async () => {
  await cluster?.stop();
});

let namespaces = 0;
/** A fresh namespace per test: tests of one file run concurrently against the shared cluster. */
async function namespace(prefix: string): Promise<string> {
  const name = `${prefix}-${++namespaces}`;
  await kc.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

const raw = (method: string, path: string, options: Parameters<typeof rawRequest>[3] = {}) => rawRequest(endpoint, method, path, options);

// ---- discovery and protocol -------------------------------------------------------------------

test('discovery: /api, /api/v1 and /apis list the core group and the built-in groups (stand-in host cluster)', async (t) => {
  const versions = await kc.makeApiClient(k8s.CoreApi).getAPIVersions();
  t.deepEqual(versions.versions, ['v1']);
  t.true(versions.serverAddressByClientCIDRs.length > 0);

  const core = await kc.makeApiClient(k8s.CoreV1Api).getAPIResources();
  t.is(core.groupVersion, 'v1');
  const names = core.resources.map((r) => r.name);
  for (const r of ['pods', 'pods/status', 'services', 'configmaps', 'secrets', 'persistentvolumeclaims', 'nodes', 'events', 'namespaces']) t.true(names.includes(r), r);
  t.false(names.includes('configmaps/status'), 'a kind without status has no status subresource');
  t.false(names.includes('events/status'));

  const groups = await kc.makeApiClient(k8s.ApisApi).getAPIVersions();
  t.deepEqual(groups.groups.map((g) => g.preferredVersion?.groupVersion).sort(), [
    'apps/v1',
    'autoscaling/v2',
    'batch/v1',
    'coordination.k8s.io/v1',
    'storage.k8s.io/v1',
  ]);

  const aggregatedAccept = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';
  const aggregated = await raw('GET', '/api', { headers: { Accept: aggregatedAccept } });
  t.is(aggregated.status, 200);
  t.regex(String(aggregated.headers['content-type']), /as=APIGroupDiscoveryList/);
  t.is(aggregated.json.items.length, 1);
  t.is(aggregated.json.items[0].metadata.name, undefined, 'the core group has no name');
  const pods = aggregated.json.items[0].versions[0].resources.find((r: { resource: string }) => r.resource === 'pods');
  t.deepEqual(pods.responseKind, { group: '', version: 'v1', kind: 'Pod' });
  const apis = await raw('GET', '/apis', { headers: { Accept: aggregatedAccept } });
  t.false(apis.json.items.some((i: { metadata: { name?: string } }) => !i.metadata.name), '/apis does not repeat the core group');

  const openapi = await raw('GET', '/openapi/v3');
  t.truthy(openapi.json.paths['api/v1']);
  const v1 = await raw('GET', openapi.json.paths['api/v1'].serverRelativeURL);
  t.is(v1.status, 200);
  t.truthy(v1.json.paths['/api/v1/namespaces/{namespace}/pods']);
  t.truthy(v1.json.components.schemas['io.k8s.api.core.v1.ConfigMap'].properties.data);
  t.is(v1.json.components.schemas['io.k8s.api.core.v1.ConfigMap'].properties.spec, undefined);
});

// ---- CRUD through the typed clients -----------------------------------------------------------

interface CrudCase {
  kind: string;
  create: (ns: string, name: string) => Promise<any>;
  read: (ns: string, name: string) => Promise<any>;
  list: (ns: string) => Promise<{ items: any[] }>;
  remove: (ns: string, name: string) => Promise<unknown>;
  apiVersion: string;
  check?: (t: import('ava').ExecutionContext, obj: any) => void;
}

function crudCases(): CrudCase[] {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const hpa = kc.makeApiClient(k8s.AutoscalingV2Api);
  const storage = kc.makeApiClient(k8s.StorageV1Api);
  const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
  const template = { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
  return [
    {
      kind: 'ConfigMap',
      apiVersion: 'v1',
      create: (namespace, name) => core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data: { 'app.conf': 'x=1' }, binaryData: { blob: 'AAE=' } } }),
      read: (namespace, name) => core.readNamespacedConfigMap({ namespace, name }),
      list: (namespace) => core.listNamespacedConfigMap({ namespace }),
      remove: (namespace, name) => core.deleteNamespacedConfigMap({ namespace, name }),
      check: (t, cm) => {
        t.deepEqual(cm.data, { 'app.conf': 'x=1' });
        t.deepEqual(cm.binaryData, { blob: 'AAE=' });
      },
    },
    {
      kind: 'Secret',
      apiVersion: 'v1',
      create: (namespace, name) => core.createNamespacedSecret({ namespace, body: { metadata: { name }, stringData: { password: 's3cret' }, data: { user: Buffer.from('admin').toString('base64') } } }),
      read: (namespace, name) => core.readNamespacedSecret({ namespace, name }),
      list: (namespace) => core.listNamespacedSecret({ namespace }),
      remove: (namespace, name) => core.deleteNamespacedSecret({ namespace, name }),
      check: (t, secret) => {
        t.is(secret.type, 'Opaque');
        t.is(Buffer.from(secret.data.password, 'base64').toString(), 's3cret', 'stringData is merged into data');
        t.is(Buffer.from(secret.data.user, 'base64').toString(), 'admin');
        t.is(secret.stringData, undefined, 'stringData is write-only');
      },
    },
    {
      kind: 'Service',
      apiVersion: 'v1',
      create: (namespace, name) => core.createNamespacedService({ namespace, body: { metadata: { name }, spec: { selector: { app: 'x' }, ports: [{ port: 80, targetPort: 8080 }] } } }),
      read: (namespace, name) => core.readNamespacedService({ namespace, name }),
      list: (namespace) => core.listNamespacedService({ namespace }),
      remove: (namespace, name) => core.deleteNamespacedService({ namespace, name }),
      check: (t, svc) => t.is(svc.spec.ports[0].port, 80),
    },
    {
      kind: 'Event',
      apiVersion: 'v1',
      create: (namespace, name) =>
        core.createNamespacedEvent({
          namespace,
          body: {
            metadata: { name },
            involvedObject: { kind: 'Pod', name: 'p', namespace, apiVersion: 'v1' },
            reason: 'Scaled',
            message: 'scaled up',
            type: 'Normal',
            source: { component: 'test' },
            count: 1,
            firstTimestamp: new Date('2026-01-02T03:04:05Z'),
            lastTimestamp: new Date('2026-01-02T03:04:05Z'),
            reportingComponent: 'test',
            reportingInstance: 'test-1',
            action: 'Scale',
          },
        }),
      read: (namespace, name) => core.readNamespacedEvent({ namespace, name }),
      list: (namespace) => core.listNamespacedEvent({ namespace }),
      remove: (namespace, name) => core.deleteNamespacedEvent({ namespace, name }),
      check: (t, ev) => {
        t.is(ev.reason, 'Scaled');
        t.is(ev.involvedObject.name, 'p');
        t.is(ev.count, 1);
        t.is(new Date(ev.firstTimestamp).toISOString(), '2026-01-02T03:04:05.000Z');
      },
    },
    {
      kind: 'PersistentVolumeClaim',
      apiVersion: 'v1',
      create: (namespace, name) =>
        core.createNamespacedPersistentVolumeClaim({ namespace, body: { metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } }),
      read: (namespace, name) => core.readNamespacedPersistentVolumeClaim({ namespace, name }),
      list: (namespace) => core.listNamespacedPersistentVolumeClaim({ namespace }),
      remove: (namespace, name) => core.deleteNamespacedPersistentVolumeClaim({ namespace, name }),
    },
    {
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      create: (namespace, name) => apps.createNamespacedDeployment({ namespace, body: { metadata: { name }, spec: { selector: { matchLabels: { app: 'x' } }, template } } }),
      read: (namespace, name) => apps.readNamespacedDeployment({ namespace, name }),
      list: (namespace) => apps.listNamespacedDeployment({ namespace }),
      remove: (namespace, name) => apps.deleteNamespacedDeployment({ namespace, name }),
      check: (t, d) => t.is(d.spec.replicas, 1, 'replicas defaults to 1'),
    },
    {
      kind: 'StatefulSet',
      apiVersion: 'apps/v1',
      create: (namespace, name) =>
        apps.createNamespacedStatefulSet({ namespace, body: { metadata: { name }, spec: { serviceName: name, replicas: 2, selector: { matchLabels: { app: 'x' } }, template } } }),
      read: (namespace, name) => apps.readNamespacedStatefulSet({ namespace, name }),
      list: (namespace) => apps.listNamespacedStatefulSet({ namespace }),
      remove: (namespace, name) => apps.deleteNamespacedStatefulSet({ namespace, name }),
    },
    {
      kind: 'DaemonSet',
      apiVersion: 'apps/v1',
      create: (namespace, name) => apps.createNamespacedDaemonSet({ namespace, body: { metadata: { name }, spec: { selector: { matchLabels: { app: 'x' } }, template } } }),
      read: (namespace, name) => apps.readNamespacedDaemonSet({ namespace, name }),
      list: (namespace) => apps.listNamespacedDaemonSet({ namespace }),
      remove: (namespace, name) => apps.deleteNamespacedDaemonSet({ namespace, name }),
    },
    {
      kind: 'Job',
      apiVersion: 'batch/v1',
      create: (namespace, name) => batch.createNamespacedJob({ namespace, body: { metadata: { name }, spec: { template: { spec: { ...template.spec, restartPolicy: 'Never' } } } } }),
      read: (namespace, name) => batch.readNamespacedJob({ namespace, name }),
      list: (namespace) => batch.listNamespacedJob({ namespace }),
      remove: (namespace, name) => batch.deleteNamespacedJob({ namespace, name }),
      check: (t, job) => t.is(job.spec.backoffLimit, 6),
    },
    {
      kind: 'HorizontalPodAutoscaler',
      apiVersion: 'autoscaling/v2',
      create: (namespace, name) =>
        hpa.createNamespacedHorizontalPodAutoscaler({
          namespace,
          body: {
            metadata: { name },
            spec: {
              scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
              minReplicas: 1,
              maxReplicas: 5,
              metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
            },
          },
        }),
      read: (namespace, name) => hpa.readNamespacedHorizontalPodAutoscaler({ namespace, name }),
      list: (namespace) => hpa.listNamespacedHorizontalPodAutoscaler({ namespace }),
      remove: (namespace, name) => hpa.deleteNamespacedHorizontalPodAutoscaler({ namespace, name }),
      check: (t, h) => t.is(h.spec.metrics[0].resource.target.averageUtilization, 80),
    },
    {
      kind: 'Lease',
      apiVersion: 'coordination.k8s.io/v1',
      create: (namespace, name) =>
        coordination.createNamespacedLease({ namespace, body: { metadata: { name }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: new k8s.V1MicroTime() } } }),
      read: (namespace, name) => coordination.readNamespacedLease({ namespace, name }),
      list: (namespace) => coordination.listNamespacedLease({ namespace }),
      remove: (namespace, name) => coordination.deleteNamespacedLease({ namespace, name }),
      check: (t, lease) => t.is(lease.spec.holderIdentity, 'a'),
    },
    {
      kind: 'StorageClass',
      apiVersion: 'storage.k8s.io/v1',
      // Cluster-scoped: the namespace only makes the name unique.
      create: (namespace, name) => storage.createStorageClass({ body: { metadata: { name: `${namespace}-${name}` }, provisioner: 'ebs.csi.aws.com', allowVolumeExpansion: true } }),
      read: (namespace, name) => storage.readStorageClass({ name: `${namespace}-${name}` }),
      list: async (namespace) => {
        const all = await storage.listStorageClass();
        return { items: all.items.filter((sc) => sc.metadata?.name?.startsWith(`${namespace}-`)) };
      },
      remove: (namespace, name) => storage.deleteStorageClass({ name: `${namespace}-${name}` }),
      check: (t, sc) => {
        t.is(sc.provisioner, 'ebs.csi.aws.com');
        t.is(sc.reclaimPolicy, 'Delete');
        t.is(sc.volumeBindingMode, 'Immediate');
      },
    },
  ];
}

test('create, read, list and delete every kind through its client-node API (stand-in host cluster)', async (t) => {
  const ns = await namespace('crud');
  for (const c of crudCases()) {
    const created = await c.create(ns, 'one');
    t.is(created.apiVersion, c.apiVersion, `${c.kind} apiVersion`);
    t.is(created.kind, c.kind);
    const read = await c.read(ns, 'one');
    t.is(read.metadata.uid, created.metadata.uid, c.kind);
    c.check?.(t, read);
    const list = await c.list(ns);
    t.is(list.items.length, 1, `${c.kind} list`);
    await c.remove(ns, 'one');
    await rejectsWithStatus(t, c.read(ns, 'one'), 404, 'NotFound', c.kind);
  }
});

test('unknown top-level fields are reported under fieldValidation, and spec is unknown on a ConfigMap (stand-in host cluster)', async (t) => {
  const ns = await namespace('fields');
  const res = await raw('POST', `/api/v1/namespaces/${ns}/configmaps?fieldValidation=Strict`, { body: { metadata: { name: 'cm' }, data: { a: 'b' }, spec: {} } });
  const status = expectStatus(t, res, 400, 'BadRequest');
  t.regex(status.message!, /unknown field "spec"/);
  const warn = await raw('POST', `/api/v1/namespaces/${ns}/configmaps`, { body: { metadata: { name: 'cm' }, data: { a: 'b' }, bogus: 1 } });
  t.is(warn.status, 201);
  t.regex(String(warn.headers.warning), /unknown field \\"bogus\\"/);
  const typed = await raw('POST', `/api/v1/namespaces/${ns}/configmaps`, { body: { metadata: { name: 'cm2' }, data: { a: 1 } } });
  const invalid = expectStatus(t, typed, 422, 'Invalid');
  t.is(invalid.details?.causes?.[0].field, 'data.a');
  const mismatch = await raw('POST', `/api/v1/namespaces/${ns}/configmaps`, { body: { apiVersion: 'core/v1', kind: 'ConfigMap', metadata: { name: 'cm3' } } });
  expectStatus(t, mismatch, 400, 'BadRequest');
});

test('events: field selectors on involvedObject, reason, type and source, as controllers use them (stand-in host cluster)', async (t) => {
  const ns = await namespace('events');
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const event = (name: string, pod: string, reason: string, type: string) =>
    core.createNamespacedEvent({
      namespace: ns,
      body: { metadata: { name }, involvedObject: { kind: 'Pod', name: pod, namespace: ns }, reason, type, message: reason, source: { component: 'hourglass' }, count: 1 },
    });
  await event('e1', 'a', 'Started', 'Normal');
  await event('e2', 'a', 'Failed', 'Warning');
  await event('e3', 'b', 'Started', 'Normal');
  const cases: Array<[string, string[]]> = [
    ['involvedObject.name=a', ['e1', 'e2']],
    ['involvedObject.kind=Pod,reason=Started', ['e1', 'e3']],
    ['type=Warning', ['e2']],
    ['source=hourglass,involvedObject.name!=a', ['e3']],
  ];
  for (const [fieldSelector, names] of cases) {
    const list = await core.listNamespacedEvent({ namespace: ns, fieldSelector });
    t.deepEqual(list.items.map((e) => e.metadata?.name).sort(), names, fieldSelector);
  }
});

test('leases: an update with a stale resourceVersion is a 409 Conflict (stand-in host cluster)', async (t) => {
  const ns = await namespace('lease');
  const leases = kc.makeApiClient(k8s.CoordinationV1Api);
  const lease = await leases.createNamespacedLease({ namespace: ns, body: { metadata: { name: 'leader' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } } });
  const renewed = await leases.replaceNamespacedLease({ namespace: ns, name: 'leader', body: { ...lease, spec: { ...lease.spec, holderIdentity: 'b', leaseTransitions: 1 } } });
  t.is(renewed.spec?.holderIdentity, 'b');
  t.not(renewed.metadata?.resourceVersion, lease.metadata?.resourceVersion);
  await rejectsWithStatus(t, leases.replaceNamespacedLease({ namespace: ns, name: 'leader', body: { ...lease, spec: { ...lease.spec, holderIdentity: 'c' } } }), 409, 'Conflict', 'stale lease');
  t.is((await leases.readNamespacedLease({ namespace: ns, name: 'leader' })).spec?.holderIdentity, 'b');
});

// ---- the simulated kubelet --------------------------------------------------------------------

test('pods become Running and Ready on a registered node, seen through an informer (stand-in host cluster)', async (t) => {
  const ns = await namespace('pods');
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const informer = k8s.makeInformer(kc, `/api/v1/namespaces/${ns}/pods`, () => core.listNamespacedPod({ namespace: ns }));
  const ready = new Promise<k8s.V1Pod>((resolve) => {
    informer.on('update', (pod) => {
      if (pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) resolve(pod);
    });
  });
  await informer.start();
  t.teardown(() => informer.stop());
  await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'web' }, spec: { containers: [{ name: 'app', image: 'nginx', resources: { requests: { cpu: '1' }, limits: { cpu: '1' } } }] } } });
  const pod = await ready;
  t.is(pod.status?.phase, 'Running');
  // Other tests of this file register nodes too: the pod is on one of the cluster's nodes.
  const node = await core.readNode({ name: pod.spec?.nodeName ?? '' });
  t.is(node.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  t.deepEqual(pod.status?.conditions?.map((c) => `${c.type}=${c.status}`).sort(), [
    'ContainersReady=True',
    'Initialized=True',
    'PodReadyToStartContainers=True',
    'PodScheduled=True',
    'Ready=True',
  ]);
  t.regex(pod.status?.podIP ?? '', /^10\.244\./);
  t.is(pod.status?.hostIP, node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address);
  t.regex(pod.status?.hostIP ?? '', /^10\.0\.0\./);
  t.is(pod.status?.containerStatuses?.[0].ready, true);
  t.is(pod.status?.qosClass, 'Burstable');

  const running = await core.listPodForAllNamespaces({ fieldSelector: `status.phase=Running,spec.nodeName=${node.metadata?.name},metadata.namespace=${ns}` });
  t.deepEqual(running.items.map((p) => p.metadata?.name), ['web']);
});

test('held pods stay Pending and Unschedulable until released (stand-in host cluster)', async (t) => {
  const ns = await namespace('hold');
  const core = kc.makeApiClient(k8s.CoreV1Api);
  cluster.kubelet.holdPods(`hold-${ns}=true`);
  t.teardown(() => cluster.kubelet.holdPods(false));
  await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'big', labels: { [`hold-${ns}`]: 'true' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } });
  await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'small' }, spec: { containers: [{ name: 'c', image: 'x' }] } } });
  await cluster.kubelet.settled();
  const held = await core.readNamespacedPod({ namespace: ns, name: 'big' });
  t.is(held.status?.phase, 'Pending');
  t.is(held.spec?.nodeName, undefined);
  const scheduled = held.status?.conditions?.find((c) => c.type === 'PodScheduled');
  t.is(scheduled?.status, 'False');
  t.is(scheduled?.reason, 'Unschedulable');
  t.regex(scheduled?.message ?? '', /nodes are available/);
  t.is((await core.readNamespacedPod({ namespace: ns, name: 'small' })).status?.phase, 'Running');

  cluster.kubelet.holdPods(false);
  await cluster.kubelet.settled();
  const released = await core.readNamespacedPod({ namespace: ns, name: 'big' });
  t.is(released.status?.phase, 'Running');
  t.is(released.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status, 'True');
});

test('deployments and statefulsets report ready replicas, scale and partial readiness (stand-in host cluster)', async (t) => {
  const ns = await namespace('workloads');
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const template = { metadata: { labels: { app: 'w' } }, spec: { containers: [{ name: 'c', image: 'x' }] } };
  await apps.createNamespacedDeployment({ namespace: ns, body: { metadata: { name: 'd' }, spec: { replicas: 3, selector: { matchLabels: { app: 'w' } }, template } } });
  await apps.createNamespacedStatefulSet({ namespace: ns, body: { metadata: { name: 's' }, spec: { replicas: 2, serviceName: 's', selector: { matchLabels: { app: 'w' } }, template } } });
  await cluster.kubelet.settled();
  const d = await apps.readNamespacedDeployment({ namespace: ns, name: 'd' });
  t.like(d.status, { replicas: 3, readyReplicas: 3, availableReplicas: 3, updatedReplicas: 3, observedGeneration: 1 });
  t.is(d.status?.conditions?.find((c) => c.type === 'Available')?.status, 'True');
  const s = await apps.readNamespacedStatefulSet({ namespace: ns, name: 's' });
  t.like(s.status, { replicas: 2, readyReplicas: 2, currentReplicas: 2, updatedReplicas: 2, availableReplicas: 2, observedGeneration: 1 });
  t.is(s.status?.currentRevision, s.status?.updateRevision);

  await apps.patchNamespacedDeploymentScale({ namespace: ns, name: 'd', body: { spec: { replicas: 5 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
  cluster.kubelet.setReadyReplicas('StatefulSet', ns, 's', 1);
  await cluster.kubelet.settled();
  const scaled = await apps.readNamespacedDeployment({ namespace: ns, name: 'd' });
  t.like(scaled.status, { replicas: 5, readyReplicas: 5, observedGeneration: 2 });
  const partial = await apps.readNamespacedStatefulSet({ namespace: ns, name: 's' });
  t.like(partial.status, { replicas: 2, readyReplicas: 1 });
  const scale = await apps.readNamespacedStatefulSetScale({ namespace: ns, name: 's' });
  t.is(scale.status?.selector, 'app=w');
  t.deepEqual(cluster.kubelet.errors.map((e) => e.message), [], 'the kubelet met no unexpected error');
});

test('daemonsets report a ready pod per eligible node, follow nodes and partial readiness (stand-in host cluster)', async (t) => {
  // Its own cluster: the test adds and cordons nodes, which the shared cluster's other tests schedule onto.
  const own = await startHostCluster({ kubelet: { nodes: ['node-a', 'node-b', 'node-c'] } });
  t.teardown(() => own.stop());
  const okc = own.kubeConfig();
  const core = okc.makeApiClient(k8s.CoreV1Api);
  const apps = okc.makeApiClient(k8s.AppsV1Api);
  const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
  await own.kubelet.settled();
  await core.patchNode({ name: 'node-b', body: { metadata: { labels: { storm: 'yes' } } } }, merge);
  await core.patchNode({ name: 'node-c', body: { metadata: { labels: { storm: 'yes' } } } }, merge);
  const template = (nodeSelector?: Record<string, string>) => ({
    metadata: { labels: { app: 'd' } },
    spec: { containers: [{ name: 'c', image: 'x' }], ...(nodeSelector ? { nodeSelector } : {}) },
  });
  await apps.createNamespacedDaemonSet({ namespace: 'default', body: { metadata: { name: 'all' }, spec: { selector: { matchLabels: { app: 'd' } }, template: template() } } });
  await apps.createNamespacedDaemonSet({
    namespace: 'default',
    body: { metadata: { name: 'storm' }, spec: { selector: { matchLabels: { app: 'd' } }, template: template({ storm: 'yes' }) } },
  });
  await own.kubelet.settled();
  const read = async (name: string) => (await apps.readNamespacedDaemonSet({ namespace: 'default', name })).status;
  t.like(await read('all'), { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 3, numberAvailable: 3, numberMisscheduled: 0, observedGeneration: 1 });
  t.like(await read('storm'), { desiredNumberScheduled: 2, numberReady: 2 });

  // A cordoned node no longer counts; partial readiness leaves the rest unavailable.
  await core.patchNode({ name: 'node-c', body: { spec: { unschedulable: true } } }, merge);
  own.kubelet.setReadyReplicas('DaemonSet', 'default', 'all', 1);
  await own.kubelet.settled();
  t.like(await read('all'), { desiredNumberScheduled: 2, numberReady: 1, numberAvailable: 1, numberUnavailable: 1 });
  t.like(await read('storm'), { desiredNumberScheduled: 1, numberReady: 1 });
  t.deepEqual(own.kubelet.errors.map((e) => e.message), [], 'the kubelet met no unexpected error');
});

test('autoscalers keep their target within min and max and follow a recommended count (stand-in host cluster)', async (t) => {
  const ns = await namespace('hpa');
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const autoscaling = kc.makeApiClient(k8s.AutoscalingV2Api);
  const template = { metadata: { labels: { app: 'h' } }, spec: { containers: [{ name: 'c', image: 'x' }] } };
  await apps.createNamespacedDeployment({ namespace: ns, body: { metadata: { name: 'web' }, spec: { replicas: 1, selector: { matchLabels: { app: 'h' } }, template } } });
  const hpa = (name: string, target: string) =>
    autoscaling.createNamespacedHorizontalPodAutoscaler({
      namespace: ns,
      body: {
        metadata: { name },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target },
          minReplicas: 2,
          maxReplicas: 4,
          metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
        },
      },
    });
  await hpa('web', 'web');
  await hpa('orphan', 'nothing');
  await cluster.kubelet.settled();
  const condition = (h: k8s.V2HorizontalPodAutoscaler, type: string) => h.status?.conditions?.find((c) => c.type === type);

  t.is((await apps.readNamespacedDeployment({ namespace: ns, name: 'web' })).spec?.replicas, 2, 'raised to minReplicas');
  let web = await autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace: ns, name: 'web' });
  t.like(web.status, { currentReplicas: 2, desiredReplicas: 2 });
  t.is(condition(web, 'ScalingActive')?.reason, 'FailedGetResourceMetric', 'no metrics API in the cluster');
  t.truthy(web.status?.lastScaleTime);
  const orphan = await autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace: ns, name: 'orphan' });
  t.is(condition(orphan, 'AbleToScale')?.status, 'False');
  t.is(condition(orphan, 'AbleToScale')?.reason, 'FailedGetScale');

  cluster.kubelet.recommendReplicas(ns, 'web', 10);
  await cluster.kubelet.settled();
  t.like((await apps.readNamespacedDeployment({ namespace: ns, name: 'web' })).status, { replicas: 4, readyReplicas: 4 });
  web = await autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace: ns, name: 'web' });
  t.is(condition(web, 'ScalingLimited')?.reason, 'TooManyReplicas');
  t.is(condition(web, 'ScalingActive')?.status, 'True');

  cluster.kubelet.recommendReplicas(ns, 'web', 3);
  await cluster.kubelet.settled();
  t.is((await apps.readNamespacedDeployment({ namespace: ns, name: 'web' })).spec?.replicas, 3);
  t.is(condition(await autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace: ns, name: 'web' }), 'ScalingLimited')?.status, 'False');
});

test('jobs stay active until a test scripts them Complete or Failed (stand-in host cluster)', async (t) => {
  const ns = await namespace('jobs');
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const spec = { backoffLimit: 2, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } } };
  for (const name of ['ok', 'bad', 'idle']) await batch.createNamespacedJob({ namespace: ns, body: { metadata: { name }, spec } });
  cluster.kubelet.scriptJob(ns, 'ok', 'Complete');
  cluster.kubelet.scriptJob(ns, 'bad', 'Failed');
  await cluster.kubelet.settled();
  const cases: Array<[string, (job: k8s.V1Job) => void]> = [
    [
      'ok',
      (job) => {
        t.is(job.status?.succeeded, 1);
        t.truthy(job.status?.completionTime);
        t.is(job.status?.conditions?.find((c) => c.type === 'Complete')?.status, 'True');
      },
    ],
    [
      'bad',
      (job) => {
        t.is(job.status?.failed, 3);
        t.is(job.status?.completionTime, undefined);
        const failed = job.status?.conditions?.find((c) => c.type === 'Failed');
        t.is(failed?.status, 'True');
        t.is(failed?.reason, 'BackoffLimitExceeded');
      },
    ],
    [
      'idle',
      (job) => {
        t.is(job.status?.active, 1);
        t.truthy(job.status?.startTime);
        t.is(job.status?.conditions, undefined);
      },
    ],
  ];
  for (const [name, check] of cases) check(await batch.readNamespacedJob({ namespace: ns, name }));

  // A finished Job is finished for good.
  cluster.kubelet.scriptJob(ns, 'ok', 'Failed');
  await cluster.kubelet.settled();
  t.is((await batch.readNamespacedJob({ namespace: ns, name: 'ok' })).status?.conditions?.find((c) => c.type === 'Complete')?.status, 'True');
});

test('on sqlite, a default job outcome finishes unscripted jobs and the configured nodes register (stand-in host cluster)', async (t) => {
  const own = await startHostCluster({ storage: 'sqlite', kubelet: { defaultJobOutcome: 'Complete', nodes: ['a', 'b'] } });
  t.is(own.server.backend.name, 'sqlite');
  t.teardown(() => own.stop());
  const okc = own.kubeConfig();
  const batch = okc.makeApiClient(k8s.BatchV1Api);
  await batch.createNamespacedJob({ namespace: 'default', body: { metadata: { name: 'j' }, spec: { template: { spec: { containers: [{ name: 'c', image: 'x' }] } } } } });
  await own.kubelet.settled();
  t.is((await batch.readNamespacedJob({ namespace: 'default', name: 'j' })).status?.succeeded, 1);
  const nodes = await okc.makeApiClient(k8s.CoreV1Api).listNode();
  t.deepEqual(nodes.items.map((n) => n.metadata?.name), ['a', 'b']);
});

test('PVCs are Bound; a grown request is granted, or stays Resizing with resize mode never; shrinking is forbidden (stand-in host cluster)', async (t) => {
  const own = await startHostCluster();
  t.teardown(() => own.stop());
  const okc = own.kubeConfig();
  const core = okc.makeApiClient(k8s.CoreV1Api);
  const ns = 'default';
  await okc.makeApiClient(k8s.StorageV1Api).createStorageClass({ body: { metadata: { name: 'expandable' }, provisioner: 'csi.example.com', allowVolumeExpansion: true } });
  await core.createNamespacedPersistentVolumeClaim({
    namespace: ns,
    body: { metadata: { name: 'data' }, spec: { storageClassName: 'expandable', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
  });
  await own.kubelet.settled();
  let pvc = await core.readNamespacedPersistentVolumeClaim({ namespace: ns, name: 'data' });
  t.is(pvc.status?.phase, 'Bound');
  t.is(pvc.status?.capacity?.storage, '1Gi');

  const grow = (storage: string) =>
    core.patchNamespacedPersistentVolumeClaim(
      { namespace: ns, name: 'data', body: { spec: { resources: { requests: { storage } } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
  await grow('2Gi');
  await own.kubelet.settled();
  pvc = await core.readNamespacedPersistentVolumeClaim({ namespace: ns, name: 'data' });
  t.is(pvc.status?.capacity?.storage, '2Gi');

  own.kubelet.setResizeMode('never');
  await grow('3Gi');
  await own.kubelet.settled();
  pvc = await core.readNamespacedPersistentVolumeClaim({ namespace: ns, name: 'data' });
  t.is(pvc.status?.capacity?.storage, '2Gi', 'the resize is not granted');
  t.is(pvc.status?.allocatedResources?.storage, '3Gi');
  t.is(pvc.status?.conditions?.find((c) => c.type === 'Resizing')?.status, 'True');

  own.kubelet.setResizeMode('immediate');
  await own.kubelet.settled();
  pvc = await core.readNamespacedPersistentVolumeClaim({ namespace: ns, name: 'data' });
  t.is(pvc.status?.capacity?.storage, '3Gi');
  t.is(pvc.status?.conditions, undefined);

  const status = await rejectsWithStatus(t, grow('1Gi'), 422, 'Invalid', 'shrink');
  t.is(status.details?.causes?.[0].field, 'spec.resources.requests.storage');
  const immutable = await rejectsWithStatus(
    t,
    core.patchNamespacedPersistentVolumeClaim(
      { namespace: ns, name: 'data', body: { spec: { accessModes: ['ReadWriteMany'] } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    ),
    422,
    'Invalid',
    'immutable spec',
  );
  t.is(immutable.details?.causes?.[0].field, 'spec');
});

test('a PVC may grow only if its StorageClass allows volume expansion: 403 otherwise (stand-in host cluster)', async (t) => {
  const ns = await namespace('resize');
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await kc.makeApiClient(k8s.StorageV1Api).createStorageClass({ body: { metadata: { name: `${ns}-fixed` }, provisioner: 'csi.example.com', allowVolumeExpansion: false } });
  const cases: Array<{ name: string; storageClassName?: string }> = [{ name: 'fixed', storageClassName: `${ns}-fixed` }, { name: 'missing', storageClassName: `${ns}-none` }, { name: 'classless' }];
  for (const c of cases) {
    await core.createNamespacedPersistentVolumeClaim({
      namespace: ns,
      body: { metadata: { name: c.name }, spec: { storageClassName: c.storageClassName, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
    });
    const status = await rejectsWithStatus(
      t,
      core.patchNamespacedPersistentVolumeClaim(
        { namespace: ns, name: c.name, body: { spec: { resources: { requests: { storage: '2Gi' } } } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      ),
      403,
      'Forbidden',
      c.name,
    );
    t.regex(status.message ?? '', /storageclass that provisions the pvc must support resize/);
    t.is((await core.readNamespacedPersistentVolumeClaim({ namespace: ns, name: c.name })).spec?.resources?.requests?.storage, '1Gi');
  }
});

test('deleting a namespace deletes what it held (stand-in host cluster)', async (t) => {
  const ns = await namespace('gone');
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'cm' } } });
  await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } } });
  t.is((await core.readNamespace({ name: ns })).status?.phase, 'Active');
  await core.deleteNamespace({ name: ns });
  await cluster.kubelet.settled();
  t.is((await core.listNamespacedConfigMap({ namespace: ns })).items.length, 0);
  t.is((await core.listNamespacedPod({ namespace: ns })).items.length, 0);
  await rejectsWithStatus(t, core.readNamespace({ name: ns }), 404, 'NotFound');
});

// ---- delegated auth -------------------------------------------------------------------------

test('TokenReview answers from the configured tokens and records every review (stand-in host cluster)', async (t) => {
  const authn = kc.makeApiClient(k8s.AuthenticationV1Api);
  cluster.tokens.set('token-alice', { username: 'alice', uid: 'u-1', groups: ['dev', 'system:authenticated'], extra: { scopes: ['a'] } });
  const before = cluster.tokenReviews.length;
  const cases: Array<{ token: string; authenticated: boolean; username?: string }> = [
    { token: 'token-alice', authenticated: true, username: 'alice' },
    { token: 'nobody', authenticated: false },
  ];
  for (const c of cases) {
    const review = await authn.createTokenReview({ body: { spec: { token: c.token, audiences: ['api'] } } });
    t.is(review.status?.authenticated, c.authenticated, c.token);
    t.is(review.status?.user?.username, c.username, c.token);
  }
  const alice = await authn.createTokenReview({ body: { spec: { token: 'token-alice' } } });
  t.deepEqual({ ...alice.status?.user }, { username: 'alice', uid: 'u-1', groups: ['dev', 'system:authenticated'], extra: { scopes: ['a'] } });
  const recorded = cluster.tokenReviews.slice(before).map((r) => r.spec.token);
  t.deepEqual(recorded.filter((tok) => tok === 'token-alice' || tok === 'nobody'), ['token-alice', 'nobody', 'token-alice']);
  await rejectsWithStatus(t, authn.createTokenReview({ body: { spec: {} } }), 400, 'BadRequest', 'no token');
});

test('SubjectAccessReview: default deny, the test decides, invalid reviews are 422 (stand-in host cluster)', async (t) => {
  const authz = kc.makeApiClient(k8s.AuthorizationV1Api);
  const review = (user: string, verb: string) =>
    authz.createSubjectAccessReview({ body: { spec: { user, groups: ['dev'], resourceAttributes: { group: 'storm.apache.org', resource: 'stormclusters', verb, namespace: 'ns' } } } });
  const original = cluster.authorize;
  const denied = await review('sar-eve', 'get');
  t.false(denied.status?.allowed);
  cluster.authorize = (spec) => (spec.user === 'sar-bob' && spec.resourceAttributes?.verb === 'get' ? { allowed: true, reason: 'test says so' } : { allowed: false, denied: true });
  t.teardown(() => {
    cluster.authorize = original;
  });
  const cases: Array<[string, string, boolean]> = [
    ['sar-bob', 'get', true],
    ['sar-bob', 'delete', false],
    ['sar-eve', 'get', false],
  ];
  for (const [user, verb, allowed] of cases) {
    const answer = await review(user, verb);
    t.is(answer.status?.allowed, allowed, `${user} ${verb}`);
    if (!allowed) t.true(answer.status?.denied);
  }
  const mine = cluster.subjectAccessReviews.filter((r) => String(r.spec?.user).startsWith('sar-'));
  t.deepEqual(mine.map((r) => `${r.spec.user} ${r.spec.resourceAttributes.verb}`), ['sar-eve get', 'sar-bob get', 'sar-bob delete', 'sar-eve get']);
  const bad = await rejectsWithStatus(t, authz.createSubjectAccessReview({ body: { spec: { user: 'x' } } }), 422, 'Invalid', 'no attributes');
  t.is(bad.details?.causes?.[0].field, 'spec.resourceAttributes');
});

test('kube-system/extension-apiserver-authentication publishes the client CA and the front proxy (stand-in host cluster)', async (t) => {
  const cm = await kc.makeApiClient(k8s.CoreV1Api).readNamespacedConfigMap({ namespace: 'kube-system', name: 'extension-apiserver-authentication' });
  t.is(cm.data?.['client-ca-file'], cluster.caPem);
  t.is(cm.data?.['requestheader-client-ca-file'], cluster.frontProxy.caPem);
  t.deepEqual(JSON.parse(cm.data?.['requestheader-allowed-names'] ?? ''), ['front-proxy-client']);
  t.deepEqual(JSON.parse(cm.data?.['requestheader-username-headers'] ?? ''), ['X-Remote-User']);
  const ca = new X509Certificate(cluster.frontProxy.caPem);
  const client = new X509Certificate(cluster.frontProxy.clientCert.cert);
  t.true(client.verify(ca.publicKey), 'the front proxy client certificate is signed by the published CA');
  t.regex(client.subject, /CN=front-proxy-client/);
  const user = new X509Certificate(Buffer.from(kc.getCurrentUser()!.certData!, 'base64').toString());
  t.true(user.verify(new X509Certificate(cluster.caPem).publicKey), 'the kubeconfig user is signed by the client CA');
  t.regex(user.subject, /O=system:masters/);
});

// ---- node metrics ---------------------------------------------------------------------------

/** Prometheus text → `name{labels}` → value, checking every family has HELP and TYPE lines. */
function parseMetrics(t: import('ava').ExecutionContext, text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  const helped = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const help = /^# HELP (\S+) .+$/.exec(line);
    if (help) helped.add(help[1]);
    const type = /^# TYPE (\S+) (gauge|counter|histogram|summary|untyped)$/.exec(line);
    if (type) typed.add(type[1]);
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    t.truthy(m, `a sample line: ${line}`);
    if (!m) continue;
    t.true(typed.has(m[1]) && helped.has(m[1]), `${m[1]} has # HELP and # TYPE before its samples`);
    samples.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return samples;
}

test('node proxy /metrics serves kubelet_volume_stats_* at the values a test sets; unreachable is 503 (stand-in host cluster)', async (t) => {
  const ns = await namespace('metrics');
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await core.createNode({ body: { metadata: { name: `${ns}-node` } } });
  const node = `${ns}-node`;
  const stats: VolumeStats = { capacityBytes: 10 * 2 ** 30, availableBytes: 2 * 2 ** 30, usedBytes: 8 * 2 ** 30, inodes: 655360, inodesUsed: 1200, inodesFree: 654160 };
  cluster.kubelet.setVolumeStats(node, ns, 'data-0', stats);
  cluster.kubelet.setVolumeStats(node, ns, 'data-1', { ...stats, usedBytes: 1, availableBytes: stats.capacityBytes - 1 });

  const text = await core.connectGetNodeProxyWithPath({ name: node, path: 'metrics' });
  const samples = parseMetrics(t, text);
  const labels = `{namespace="${ns}",persistentvolumeclaim="data-0"}`;
  const expected: Array<[string, number]> = [
    ['kubelet_volume_stats_capacity_bytes', stats.capacityBytes],
    ['kubelet_volume_stats_available_bytes', stats.availableBytes],
    ['kubelet_volume_stats_used_bytes', stats.usedBytes],
    ['kubelet_volume_stats_inodes', stats.inodes],
    ['kubelet_volume_stats_inodes_used', stats.inodesUsed],
    ['kubelet_volume_stats_inodes_free', stats.inodesFree],
  ];
  for (const [name, value] of expected) t.is(samples.get(`${name}${labels}`), value, name);
  t.is(samples.get(`kubelet_volume_stats_used_bytes{namespace="${ns}",persistentvolumeclaim="data-1"}`), 1);
  t.regex(text, /kubelet_volume_stats_capacity_bytes\{[^}]+\} 1\.073741824e\+10/, 'values as Go prints them');

  const res = await raw('GET', `/api/v1/nodes/${node}/proxy/metrics`);
  t.is(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');

  cluster.kubelet.clearVolumeStats(node, ns, 'data-1');
  t.false((await core.connectGetNodeProxyWithPath({ name: node, path: 'metrics' })).includes('data-1'));

  cluster.kubelet.setNodeReachable(node, false);
  expectStatus(t, await raw('GET', `/api/v1/nodes/${node}/proxy/metrics`), 503, 'ServiceUnavailable', 'unreachable node');
  try {
    await core.connectGetNodeProxyWithPath({ name: node, path: 'metrics' });
    t.fail('an unreachable node must fail');
  } catch (err) {
    const { code, body } = apiError(err);
    t.is(code, 503);
    checkStatusBody(t, body, 503, 'ServiceUnavailable');
  }
  cluster.kubelet.setNodeReachable(node, true);
  t.is((await raw('GET', `/api/v1/nodes/${node}/proxy/metrics`)).status, 200);
  expectStatus(t, await raw('GET', '/api/v1/nodes/no-such-node/proxy/metrics'), 404, 'NotFound', 'unknown node');
});

test('formatGoFloat prints sample values as Go client_golang does (stand-in host cluster)', (t) => {
  const cases: Array<[number, string]> = [
    [0, '0'],
    [1, '1'],
    [123456, '123456'],
    [1000000, '1e+06'],
    [1073741824, '1.073741824e+09'],
    [10737418240, '1.073741824e+10'],
    [0.5, '0.5'],
    [0.00001, '1e-05'],
    [Number.NaN, 'NaN'],
    [Infinity, '+Inf'],
  ];
  for (const [v, text] of cases) t.is(formatGoFloat(v), text, String(v));
});

// ---- kubectl ----------------------------------------------------------------------------------

const kubectl = findKubectl();
(kubectl ? test : test.skip)('kubectl get pods -A and get --raw node metrics (stand-in host cluster)', async (t) => {
  const ns = await namespace('kubectl');
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'shown' }, spec: { containers: [{ name: 'c', image: 'x' }] } } });
  await cluster.kubelet.settled();
  cluster.kubelet.setVolumeStats('node-1', ns, 'vol', { capacityBytes: 100, availableBytes: 40, usedBytes: 60, inodes: 10, inodesUsed: 1, inodesFree: 9 });
  const cacheDir = mkdtempSync(join(cluster.dir, 'kubectl-cache-'));
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(kubectl!.bin, ['--kubeconfig', cluster.kubeconfigPath, '--cache-dir', cacheDir, ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const pods = await run(['get', 'pods', '-A']);
  t.is(pods.code, 0, pods.stderr);
  t.log(pods.stdout);
  const row = pods.stdout.split('\n').find((l) => l.startsWith(`${ns} `));
  t.truthy(row, 'the pod is listed');
  t.regex(row!, new RegExp(`^${ns}\\s+shown\\s+1/1\\s+Running\\s+0\\s+`));

  const metrics = await run(['get', '--raw', '/api/v1/nodes/node-1/proxy/metrics']);
  t.is(metrics.code, 0, metrics.stderr);
  t.regex(metrics.stdout, new RegExp(`kubelet_volume_stats_used_bytes\\{namespace="${ns}",persistentvolumeclaim="vol"\\} 60`));
  cluster.kubelet.clearVolumeStats('node-1', ns);
});
