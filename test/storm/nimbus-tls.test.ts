// Nimbus over TLS (spec.nimbus.thrift.useTLS, tls.certSecret, tls.insecureSkipVerify): the
// StormCluster controller and the metrics subresource through the real Thrift pool, against the
// stand-in Nimbus in TLS mode (it requires a client certificate of the test CA), with the client
// material in a Secret of the stand-in host cluster.
import { CoreV1Api } from '@kubernetes/client-node';
import test from 'ava';
import { createCertificateAuthority, issueCertificate } from '../../apiserver/tls.js';
import { HostClient } from '../../controllers/host-client.js';
import { stormClusterController } from '../../controllers/storm/cluster.js';
import { hostSecretTlsMaterial, materialOf, ThriftNimbusPool } from '../../controllers/storm/nimbus/index.js';
import { findCondition, type Condition } from '../../controllers/status.js';
import type { KubeObject } from '../../registry/meta.js';
import type { Store } from '../../registry/store.js';
import { isNimbusError, NIMBUS, nimbusAddressOf } from '../../registry/storm.apache.org/upstreams.js';
import { create, eventually, sample, update } from '../controllers/helpers.js';
import { httpsRequest, startTestServer, type TestServer } from '../helpers/server.js';
import { startHostCluster, type HostCluster } from '../hostcluster/index.js';
import { startStandInNimbus, type StandInNimbus } from '../stand-ins/nimbus/index.js';

const NS = 'tls-ns';
const CLIENT_CN = 'operators-apiserver-nimbus-client';

let host: HostCluster;
let nimbus: StandInNimbus;
let pool: ThriftNimbusPool;
let server: TestServer;
let clusters: Store;
let topologies: Store;
let core: CoreV1Api;
const goodCa = createCertificateAuthority('nimbus-ca');
const otherCa = createCertificateAuthority('some-other-ca');
// The certificate names the Service hosts the clusters dial (`<cluster>-nimbus.tls-ns.svc`).
const serving = issueCertificate(goodCa, { commonName: 'nimbus', hosts: [`*.${NS}.svc`], usage: 'server' });
const client = issueCertificate(goodCa, { commonName: CLIENT_CN, usage: 'client' });

const b64 = (text: string) => Buffer.from(text).toString('base64');
const tlsSecret = (name: string, ca: string) => ({
  metadata: { name, namespace: NS },
  type: 'kubernetes.io/tls',
  data: { 'ca.crt': b64(ca), 'tls.crt': b64(client.cert), 'tls.key': b64(client.key) },
});

test.before(async () => {
  host = await startHostCluster();
  core = host.kubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NS } } });
  await core.createNamespacedSecret({ namespace: NS, body: tlsSecret('nimbus-tls', goodCa.cert) });
  await core.createNamespacedSecret({ namespace: NS, body: tlsSecret('nimbus-tls-other-ca', otherCa.cert) });
  await core.createNamespacedSecret({ namespace: NS, body: tlsSecret('nimbus-tls-rotating', otherCa.cert) });
  nimbus = await startStandInNimbus({ tls: { cert: serving.cert, key: serving.key, clientCa: goodCa.cert } });
  nimbus.addTopology({ name: 'wc', id: 'wc-1-1', numWorkers: 2, numExecutors: 4, numTasks: 4 });
  nimbus.setStats('wc', ':all-time', { emitted: 100, acked: 90, failed: 2 });
  // Every cluster's address dials the stand-in; the certificate is checked against the cluster's own host name.
  pool = new ThriftNimbusPool({ resolve: () => nimbus.address, tlsMaterial: hostSecretTlsMaterial(new HostClient(host.kubeConfig())), tlsRefreshMs: 200 });
  server = await startTestServer(
    { storage: 'memory', kubeconfig: host.kubeconfigPath, controllers: '*' },
    { extensions: { controllers: [stormClusterController({ pollMs: 150, notReadyPollMs: 100 })], upstreams: [[NIMBUS, pool]] } },
  );
  clusters = server.stores.get('stormclusters.storm.apache.org')!;
  topologies = server.stores.get('stormtopologies.storm.apache.org')!;
});

test.after.always(async () => {
  await server?.stop();
  await pool?.close();
  await nimbus?.stop();
  await host?.stop();
});

const available = (obj: KubeObject) => findCondition(obj.status?.conditions as Condition[] | undefined, 'Available');

function tlsCluster(name: string, tls: Record<string, unknown> | undefined, useTLS = true): KubeObject {
  return sample('StormCluster', name, NS, (c) => {
    c.spec.nimbus.thrift = { ...c.spec.nimbus.thrift, maxRetries: 0, connectionTimeout: 15, useTLS, ...(tls ? { tls } : {}) };
  });
}

/** The cluster once its Available condition has `reason`. */
function availableReason(name: string, reason: string): Promise<KubeObject> {
  return eventually(async () => {
    const obj = await clusters.get({ namespace: NS, name });
    return available(obj)?.reason === reason && obj.status?.observedGeneration === obj.metadata.generation ? obj : undefined;
  }, `${name}: Available reason ${reason}`);
}

async function metricsOf(cluster: string, topologyName: string) {
  const name = `${cluster}-topology`;
  await create(
    topologies,
    sample('StormTopology', name, NS, (t) => {
      t.spec.clusterRef = cluster;
      t.spec.topology.name = topologyName;
    }),
  ).catch(() => undefined);
  return httpsRequest(server, 'GET', `/apis/storm.apache.org/v1beta1/namespaces/${NS}/stormtopologies/${name}/metrics`);
}

const failures: Array<{ title: string; cluster: string; tls: Record<string, unknown>; message: RegExp }> = [
  {
    title: 'a CA that did not sign the Nimbus certificate',
    cluster: 'wrong-ca',
    tls: { certSecret: 'nimbus-tls-other-ca' },
    message: /the TLS handshake with Nimbus failed: .*(certificate|CERT)/,
  },
  {
    title: 'a certSecret that does not exist',
    cluster: 'no-secret',
    tls: { certSecret: 'absent' },
    message: /Secret tls-ns\/absent \(spec\.nimbus\.thrift\.tls\.certSecret\) not found in the host cluster/,
  },
];

test.serial('useTLS: status and metrics over TLS with the client certificate of the Secret (stand-in host cluster, stand-in Nimbus)', async (t) => {
  await create(clusters, tlsCluster('secure', { certSecret: 'nimbus-tls' }));
  const running = await availableReason('secure', 'Running');
  t.like(running.status, { phase: 'Running', slotsInfo: '0/8', topologyCount: 1 });
  t.true(nimbus.tlsClients.includes(CLIENT_CN), 'the client certificate of tls.crt was presented');

  const metrics = await metricsOf('secure', 'wc');
  t.is(metrics.status, 200, metrics.body);
  t.like(JSON.parse(metrics.body), { kind: 'TopologyMetrics', topology: { name: 'wc', id: 'wc-1-1' }, totals: { emitted: 100, acked: 90, failed: 2 } });
});

for (const f of failures) {
  test.serial(`useTLS: ${f.title} is a NimbusTLSError condition and a 503 naming it (stand-in host cluster, stand-in Nimbus)`, async (t) => {
    await create(clusters, tlsCluster(f.cluster, f.tls));
    const failed = await availableReason(f.cluster, 'NimbusTLSError');
    t.is(available(failed)!.status, 'False');
    t.is(failed.status?.phase, 'Failed');
    t.regex(available(failed)!.message!, new RegExp(`^Nimbus at ${f.cluster}-nimbus\\.tls-ns\\.svc:6627 cannot be reached over TLS: `));
    t.regex(available(failed)!.message!, f.message);
    for (const field of ['slotsInfo', 'topologyCount']) t.false(field in failed.status!, `${field} not reported`);

    const metrics = await metricsOf(f.cluster, 'wc');
    t.is(metrics.status, 503, metrics.body);
    const status = JSON.parse(metrics.body);
    t.is(status.reason, 'ServiceUnavailable');
    t.regex(status.message, /cannot be reached over TLS: /);
    t.regex(status.message, f.message);
  });
}

test.serial('useTLS: insecureSkipVerify accepts a certificate the CA does not (stand-in host cluster, stand-in Nimbus)', async (t) => {
  await create(clusters, tlsCluster('skip-verify', { certSecret: 'nimbus-tls-other-ca', insecureSkipVerify: true }));
  const running = await availableReason('skip-verify', 'Running');
  t.is(running.status?.phase, 'Running');
});

test.serial('useTLS: a fixed spec or a fixed Secret gets new connections (stand-in host cluster, stand-in Nimbus)', async (t) => {
  // The spec names another Secret: the pool is keyed by the TLS settings.
  await create(clusters, tlsCluster('respec', { certSecret: 'nimbus-tls-other-ca' }));
  await availableReason('respec', 'NimbusTLSError');
  await update(clusters, await clusters.get({ namespace: NS, name: 'respec' }), (c) => (c.spec.nimbus.thrift.tls.certSecret = 'nimbus-tls'));
  await availableReason('respec', 'Running');

  // The Secret itself is corrected: its material is read again.
  await create(clusters, tlsCluster('rotate', { certSecret: 'nimbus-tls-rotating' }));
  await availableReason('rotate', 'NimbusTLSError');
  await core.replaceNamespacedSecret({ namespace: NS, name: 'nimbus-tls-rotating', body: tlsSecret('nimbus-tls-rotating', goodCa.cert) });
  const running = await availableReason('rotate', 'Running');
  t.is(running.status?.phase, 'Running');
});

test.serial('useTLS false against a TLS Nimbus does not talk plaintext to it successfully (stand-in host cluster, stand-in Nimbus)', async (t) => {
  await create(clusters, tlsCluster('plain', undefined, false));
  const failed = await availableReason('plain', 'NimbusUnavailable');
  t.regex(available(failed)!.message!, /cannot be reached/);
});

test('useTLS with a certSecret on a standalone server (no host cluster): status says the Secret cannot be read', async (t) => {
  // The server's own Nimbus upstream (no override): no host cluster, so no Secrets to read.
  const standalone = await startTestServer({ storage: 'memory', controllers: '*' }, { extensions: { controllers: [stormClusterController({ pollMs: 150, notReadyPollMs: 100 })] } });
  t.teardown(() => standalone.stop());
  const store = standalone.stores.get('stormclusters.storm.apache.org')!;
  await create(store, tlsCluster('standalone', { certSecret: 'nimbus-tls' }));
  const failed = await eventually(async () => {
    const obj = await store.get({ namespace: NS, name: 'standalone' });
    return available(obj)?.reason === 'NimbusTLSError' ? obj : undefined;
  }, 'the standalone cluster to report the TLS Secret');
  t.regex(
    available(failed)!.message!,
    /cannot be reached over TLS: spec\.nimbus\.thrift\.tls\.certSecret names Secret tls-ns\/nimbus-tls, but the server has no host cluster \(--kubeconfig or in-cluster\) to read it from/,
  );
});

test('useTLS without a certSecret on a standalone server: the system CAs, which do not trust the test CA (stand-in Nimbus)', async (t) => {
  const standalone = new ThriftNimbusPool({ resolve: () => nimbus.address, tlsMaterial: hostSecretTlsMaterial(undefined) });
  t.teardown(() => standalone.close());
  const err = await t.throwsAsync(standalone.forCluster(nimbusAddressOf(tlsCluster('system-cas', undefined))).getClusterInfo());
  t.true(isNimbusError(err, 'TLS'), String(err));
  t.regex(err!.message, /the TLS handshake with Nimbus failed/);
});

test('nimbusAddressOf: useTLS carries the Secret, its namespace, insecureSkipVerify and the name to verify', (t) => {
  const cases: Array<{ what: string; thrift: Record<string, unknown>; annotations?: Record<string, string>; want: unknown }> = [
    { what: 'plaintext', thrift: { useTLS: false, tls: { certSecret: 'x' } }, want: undefined },
    { what: 'TLS with a Secret', thrift: { useTLS: true, tls: { certSecret: 'nimbus-tls' } }, want: { certSecret: 'nimbus-tls', secretNamespace: NS, insecureSkipVerify: false, serverName: `c-nimbus.${NS}.svc` } },
    { what: 'TLS, system CAs', thrift: { useTLS: true }, want: { secretNamespace: NS, insecureSkipVerify: false, serverName: `c-nimbus.${NS}.svc` } },
    { what: 'TLS, skip verify', thrift: { useTLS: true, tls: { insecureSkipVerify: true } }, want: { secretNamespace: NS, insecureSkipVerify: true, serverName: `c-nimbus.${NS}.svc` } },
    {
      what: 'TLS to an annotated endpoint: verified against that host',
      thrift: { useTLS: true, tls: { certSecret: 's' } },
      annotations: { 'storm.apache.org/nimbus-endpoint': 'nimbus.example.com:6700' },
      want: { certSecret: 's', secretNamespace: NS, insecureSkipVerify: false, serverName: 'nimbus.example.com' },
    },
  ];
  for (const c of cases) {
    const cluster = { apiVersion: 'storm.apache.org/v1beta1', kind: 'StormCluster', metadata: { name: 'c', namespace: NS, annotations: c.annotations }, spec: { nimbus: { thrift: { port: 6627, ...c.thrift } } } } as KubeObject;
    const address = nimbusAddressOf(cluster);
    t.deepEqual(address.tls, c.want, c.what);
    t.false('useTLS' in (address.settings ?? {}) || 'tls' in (address.settings ?? {}), `${c.what}: pool settings without TLS fields`);
  }
});

test('the TLS Secret: ca.crt, tls.crt and tls.key, a client certificate needs both halves', (t) => {
  const cases: Array<{ what: string; data: Record<string, string>; error?: RegExp; keys?: string[] }> = [
    { what: 'all three', data: { 'ca.crt': b64('CA'), 'tls.crt': b64('CERT'), 'tls.key': b64('KEY') }, keys: ['ca', 'cert', 'key'] },
    { what: 'CA only', data: { 'ca.crt': b64('CA') }, keys: ['ca'] },
    { what: 'client certificate only (system CAs)', data: { 'tls.crt': b64('CERT'), 'tls.key': b64('KEY') }, keys: ['cert', 'key'] },
    { what: 'certificate without key', data: { 'ca.crt': b64('CA'), 'tls.crt': b64('CERT') }, error: /Secret ns\/s has tls\.crt without tls\.key/ },
    { what: 'key without certificate', data: { 'tls.key': b64('KEY') }, error: /Secret ns\/s has tls\.key without tls\.crt/ },
    { what: 'none of the keys', data: { 'other': b64('x') }, error: /Secret ns\/s has none of ca\.crt, tls\.crt, tls\.key/ },
  ];
  for (const c of cases) {
    if (c.error) {
      const err = t.throws(() => materialOf('ns/s', c.data), undefined, c.what);
      t.true(isNimbusError(err, 'TLS'), c.what);
      t.regex(err!.message, c.error, c.what);
    } else {
      t.deepEqual(Object.keys(materialOf('ns/s', c.data)).sort(), c.keys!.sort(), c.what);
    }
  }
});
