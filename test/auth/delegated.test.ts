// Delegated authentication and authorization against a stand-in host cluster (test/hostcluster:
// the generic server with core kinds, serving TokenReview and SubjectAccessReview over HTTPS).
// The CAs and header names come from its ConfigMap kube-system/extension-apiserver-authentication,
// re-read when it changes; bearer tokens go to TokenReview; every decision is a
// SubjectAccessReview carrying the full attributes, including `subresource`.
import test from 'ava';
import { CoreV1Api } from '@kubernetes/client-node';
import { startHostCluster, type HostCluster } from '../hostcluster/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call, clientCert, eventually, forbiddenUser, newCa } from './helpers.js';

const NS = '/apis/storm.apache.org/v1beta1/namespaces/storm-prod';
const clientCaA = newCa('host-client-ca-a');
const clientCaB = newCa('host-client-ca-b');
const proxyCa = newCa('host-front-proxy-ca');
let host: HostCluster;
let server: TestServer;

function published(clientCaPem: string): Record<string, string> {
  return {
    'client-ca-file': clientCaPem,
    'requestheader-client-ca-file': proxyCa.cert,
    'requestheader-allowed-names': JSON.stringify(['front-proxy-client']),
    'requestheader-username-headers': JSON.stringify(['X-Remote-User']),
    'requestheader-group-headers': JSON.stringify(['X-Remote-Group']),
    'requestheader-extra-headers-prefix': JSON.stringify(['X-Remote-Extra-']),
  };
}

/** Replaces what the stand-in host cluster publishes with this test's CAs. */
async function publish(clientCaPem: string): Promise<void> {
  await host
    .kubeConfig()
    .makeApiClient(CoreV1Api)
    .replaceNamespacedConfigMap({
      name: 'extension-apiserver-authentication',
      namespace: 'kube-system',
      body: { metadata: { name: 'extension-apiserver-authentication', namespace: 'kube-system' }, data: published(clientCaPem) },
    });
}

test.before(async () => {
  host = await startHostCluster();
  await publish(clientCaA.cert);
  host.tokens.set('dana-token', { username: 'dana', uid: 'u-dana', groups: ['storm-devs'], extra: { scopes: ['a'] } });
  // The host cluster's decision: dana may read status and promote; erin (via the front proxy) may
  // list; nobody else may do anything. A promote of "blocked" is explicitly denied with a reason.
  host.authorize = (spec) => {
    const ra = spec.resourceAttributes;
    if (spec.user === 'dana' && ra?.subresource === 'status' && ra.verb === 'get') return { allowed: true };
    if (spec.user === 'dana' && ra?.subresource === 'promote' && ra.name === 'blocked') return { allowed: false, denied: true, reason: 'change freeze' };
    if (spec.user === 'dana' && ra?.subresource === 'promote') return { allowed: true };
    if (spec.user === 'erin' && ra?.verb === 'list') return { allowed: true };
    return { allowed: false };
  };
  server = await startTestServer({
    storage: 'memory',
    'authentication-kubeconfig': host.kubeconfigPath,
    'authorization-kubeconfig': host.kubeconfigPath,
    'authentication-config-resync': '200ms',
    'authentication-token-webhook-cache-ttl': '10m',
    'authorization-webhook-cache-authorized-ttl': '10m',
    'authorization-webhook-cache-unauthorized-ttl': '10m',
  });
});
test.after.always(async () => {
  await server?.stop();
  await host?.stop();
});

const lastReview = () => host.subjectAccessReviews.at(-1)!;

test.serial('a bearer token is checked by TokenReview and the request by a SubjectAccessReview with the subresource (stand-in host cluster)', async (t) => {
  const res = await call(server, 'GET', `${NS}/stormworkerpools/p1/status`, { token: 'dana-token' });
  t.is(res.status, 404, 'allowed by the host cluster; the object does not exist');
  t.like(host.tokenReviews.at(-1), { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'dana-token' } });
  t.like(lastReview(), {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: 'dana',
      uid: 'u-dana',
      groups: ['storm-devs', 'system:authenticated'],
      extra: { scopes: ['a'] },
      resourceAttributes: {
        namespace: 'storm-prod',
        verb: 'get',
        group: 'storm.apache.org',
        version: 'v1beta1',
        resource: 'stormworkerpools',
        subresource: 'status',
        name: 'p1',
      },
    },
  });
});

test.serial('custom verbs reach the host cluster as their subresource; a denial carries its reason (stand-in host cluster)', async (t) => {
  const allowed = await call(server, 'POST', `${NS}/stormtopologies/wc/promote`, { token: 'dana-token' }, {});
  t.not(allowed.status, 403);
  t.like(lastReview().spec.resourceAttributes, { verb: 'create', resource: 'stormtopologies', subresource: 'promote', name: 'wc' });

  const denied = await call(server, 'POST', `${NS}/stormtopologies/blocked/promote`, { token: 'dana-token' }, {});
  t.is(denied.status, 403);
  t.is(
    denied.json.message,
    'stormtopologies.storm.apache.org "blocked" is forbidden: User "dana" cannot create resource "stormtopologies/promote" in API group "storm.apache.org" in the namespace "storm-prod": change freeze',
  );
  const rebalance = await call(server, 'POST', `${NS}/stormtopologies/wc/rebalance`, { token: 'dana-token' }, {});
  t.is(rebalance.status, 403);
  t.like(lastReview().spec.resourceAttributes, { subresource: 'rebalance' });
});

test.serial('TokenReview and SubjectAccessReview answers are cached (stand-in host cluster)', async (t) => {
  const path = `${NS}/stormworkerpools/p2/status`;
  await call(server, 'GET', path, { token: 'dana-token' });
  const tokenReviews = host.tokenReviews.length;
  const reviews = host.subjectAccessReviews.length;
  await call(server, 'GET', path, { token: 'dana-token' });
  await call(server, 'GET', path, { token: 'dana-token' });
  t.is(host.tokenReviews.length, tokenReviews, 'the token is not reviewed again');
  t.is(host.subjectAccessReviews.length, reviews, 'the decision is not asked again');
  // A denial is cached too.
  await call(server, 'DELETE', `${NS}/stormworkerpools/p2`, { token: 'dana-token' });
  const afterDeny = host.subjectAccessReviews.length;
  t.is((await call(server, 'DELETE', `${NS}/stormworkerpools/p2`, { token: 'dana-token' })).status, 403);
  t.is(host.subjectAccessReviews.length, afterDeny);
});

test.serial('an unknown token is 401 (stand-in host cluster)', async (t) => {
  const res = await call(server, 'GET', `${NS}/stormworkerpools`, { token: 'who-knows' });
  t.is(res.status, 401);
  t.like(host.tokenReviews.at(-1), { spec: { token: 'who-knows' } });
});

test.serial('the front proxy and client CAs come from extension-apiserver-authentication (stand-in host cluster)', async (t) => {
  const viaProxy = await call(server, 'GET', `${NS}/stormworkerpools`, {
    cert: clientCert(proxyCa, 'front-proxy-client'),
    headers: { 'X-Remote-User': 'erin', 'X-Remote-Group': ['g1', 'g2'], 'X-Remote-Extra-Reason': 'oncall' },
  });
  t.is(viaProxy.status, 200);
  t.like(lastReview().spec, { user: 'erin', groups: ['g1', 'g2', 'system:authenticated'], extra: { reason: ['oncall'] }, resourceAttributes: { verb: 'list' } });

  const wrongCn = await call(server, 'GET', `${NS}/stormworkerpools`, { cert: clientCert(proxyCa, 'not-allowed'), headers: { 'X-Remote-User': 'erin' } });
  t.is(forbiddenUser(wrongCn), 'system:anonymous');

  const x509 = await call(server, 'GET', `${NS}/stormworkerpools/x`, { cert: clientCert(clientCaA, 'frank', ['ops']) });
  t.is(forbiddenUser(x509), 'frank');
  t.like(lastReview().spec, { user: 'frank', groups: ['ops', 'system:authenticated'] });
});

test.serial('the local user certificate of the written kubeconfig (the server\'s own CA) stays system:masters in delegated mode (stand-in host cluster)', async (t) => {
  const reviews = host.subjectAccessReviews.length;
  t.is((await call(server, 'GET', `${NS}/stormworkerpools`, { cert: server.clientCert })).status, 200);
  t.is(host.subjectAccessReviews.length, reviews, 'system:masters is allowed without asking the host cluster');
});

test.serial('non-resource requests are reviewed as a path and verb (stand-in host cluster)', async (t) => {
  const res = await call(server, 'GET', '/metrics-not-here', { token: 'dana-token' });
  t.is(res.status, 403);
  t.deepEqual(lastReview().spec.nonResourceAttributes, { path: '/metrics-not-here', verb: 'get' });
  t.is(lastReview().spec.resourceAttributes, undefined);
  t.is((await call(server, 'GET', '/healthz')).status, 200, '/healthz is always allowed, without asking');
});

// Last: it changes the ConfigMap.
test.serial('a change of extension-apiserver-authentication applies without a restart (stand-in host cluster)', async (t) => {
  const frankB = clientCert(clientCaB, 'frank-b');
  t.is(forbiddenUser(await call(server, 'GET', `${NS}/stormworkerpools/x`, { cert: frankB })), 'system:anonymous');
  await publish(clientCaB.cert);
  await eventually('the new client CA', async () =>
    forbiddenUser(await call(server, 'GET', `${NS}/stormworkerpools/x`, { cert: frankB })) === 'frank-b' ? true : undefined,
  );
  t.is(forbiddenUser(await call(server, 'GET', `${NS}/stormworkerpools/x`, { cert: clientCert(clientCaA, 'frank') })), 'system:anonymous');
});
