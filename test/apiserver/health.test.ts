import test from 'ava';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { requireEtcd, startEtcd } from '../helpers/etcd.js';
import { httpsRequest, startTestServer } from '../helpers/server.js';

const backends = [
  { name: 'memory', storage: 'memory' },
  { name: 'sqlite (embedded default)', storage: undefined },
];

for (const { name, storage } of backends) {
  test(`health endpoints answer like kube-apiserver on ${name}`, async (t) => {
    const server = await startTestServer(storage ? { storage } : {});
    t.teardown(() => server.stop());

    const cases = [
      { path: '/healthz', status: 200, body: 'ok' },
      { path: '/livez', status: 200, body: 'ok' },
      { path: '/readyz', status: 200, body: 'ok' },
      { path: '/readyz?verbose', status: 200, body: '[+]ping ok\n[+]storage ok\n[+]watch-cache-sync ok\nreadyz check passed\n' },
      {
        path: '/readyz?verbose&exclude=storage',
        status: 200,
        body: '[+]ping ok\n[+]watch-cache-sync ok\n[+]storage excluded: ok\nreadyz check passed\n',
      },
      { path: '/livez?verbose', status: 200, body: '[+]ping ok\nlivez check passed\n' },
      { path: '/readyz/storage', status: 200, body: 'ok' },
      { path: '/readyz/nope', status: 404, body: '404 page not found\n' },
    ];
    for (const c of cases) {
      const res = await httpsRequest(server, 'GET', c.path);
      t.is(res.status, c.status, c.path);
      t.is(res.body, c.body, c.path);
      t.regex(String(res.headers['content-type']), /^text\/plain; charset=utf-8/, c.path);
    }
  });
}

test('readyz fails with 500 once the store is closed, and says which check failed', async (t) => {
  const server = await startTestServer({ storage: 'memory' });
  t.teardown(() => server.stop());
  await server.backend.close();
  const res = await httpsRequest(server, 'GET', '/readyz');
  t.is(res.status, 500);
  t.regex(res.body, /^\[\+\]ping ok\n\[-\]storage failed: reason withheld\n(.*\n)*readyz check failed\n$/);
  const live = await httpsRequest(server, 'GET', '/livez');
  t.is(live.status, 200);
});

test('the embedded store is a real SQLite file that keeps writes across a restart', async (t) => {
  const server = await startTestServer();
  const dir = server.dir;
  t.teardown(() => server.stop());
  const kv = await server.backend.create('/registry/test/a', Buffer.from('1'));
  await server.close();
  const { openBackend } = await import('../../registry/storage/index.js');
  const reopened = await openBackend({ url: `sqlite://${dir}/state.db` });
  t.teardown(() => reopened.close());
  const got = await reopened.get('/registry/test/a');
  t.is(got?.value.toString(), '1');
  t.is(got?.modRevision, kv.modRevision);
});

test('standalone mode writes a kubeconfig that trusts the serving CA', async (t) => {
  const server = await startTestServer({ storage: 'memory' });
  t.teardown(() => server.stop());
  const config = parse(readFileSync(server.kubeconfigPath, 'utf8'));
  t.is(config['current-context'], 'operators-local');
  t.is(config.clusters[0].cluster.server, server.url);
  t.is(Buffer.from(config.clusters[0].cluster['certificate-authority-data'], 'base64').toString(), server.caPem);
});

const etcdDownTitle = 'with etcd down at start-up the server still answers: livez ok, readyz 500 until etcd is back';
if (requireEtcd(test, etcdDownTitle)) test(etcdDownTitle, async (t) => {
  const etcd = await startEtcd();
  t.teardown(() => etcd.stop());
  await etcd.kill();
  const server = await startTestServer({ storage: etcd.url }, { waitForReady: false });
  t.teardown(() => server.stop());
  t.is((await httpsRequest(server, 'GET', '/livez')).status, 200);
  const down = await httpsRequest(server, 'GET', '/readyz?verbose');
  t.is(down.status, 500);
  t.regex(down.body, /\[-\]storage failed: reason withheld/);
  const list = await httpsRequest(server, 'GET', '/apis/storm.apache.org/v1beta1/stormtopologies');
  t.is(list.status, 503, list.body);
  t.is(JSON.parse(list.body).reason, 'ServiceUnavailable');
  await etcd.start();
  await server.ready;
  const up = await httpsRequest(server, 'GET', '/readyz');
  t.is(up.status, 200, up.body);
});
