// Standalone RBAC end to end over HTTPS: the example policy (deploy/examples/rbac.yaml) plus the
// fixture personas, static bearer tokens, every resource × subresource × verb against the real
// server (routes not built yet answer 404 once authorized, so allow/deny shows for them too),
// kube-apiserver's 403 wording, SelfSubjectAccessReview through `kubectl auth can-i`, and a
// policy file reload.
import test from 'ava';
import { execFile } from 'node:child_process';
import { Agent, request } from 'node:https';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { accessCases, describe, requestFor } from './fixtures.js';
import { call, eventually, tempDir, writeFile } from './helpers.js';
import { personas, testPolicyText, tokenFileText, tokenOf, USERS, type Where } from './policy.js';

let server: TestServer;
let policyPath: string;
let tokenPath: string;

test.before(async () => {
  const dir = tempDir('rbac-e2e-');
  policyPath = writeFile(dir, 'rbac.yaml', testPolicyText());
  server = await startTestServer({
    storage: 'memory',
    'rbac-policy-file': policyPath,
    'token-auth-file': (tokenPath = writeFile(dir, 'tokens.csv', tokenFileText())),
    'file-reload-interval': '100ms',
  });
});
test.after.always(async () => {
  await server?.stop();
});

/** One request as `token`; a watch that is allowed resolves on its headers and is closed. */
function requestAs(agent: Agent, token: string | undefined, method: string, url: string, body?: string): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    headers['Content-Type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve, reject) => {
    const req = request(new URL(url, server.url), { method, agent, headers }, (res) => {
      if (res.statusCode === 200 && url.includes('watch=true')) {
        resolve({ status: 200, json: undefined });
        res.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const places: Where[] = [
  { namespace: 'storm-prod', name: 'wordcount' },
  { namespace: 'storm-dev', name: 'wordcount' },
];

for (const persona of personas) {
  test.serial(`over HTTPS: ${persona.title}`, async (t) => {
    const agent = new Agent({ ca: server.caPem, keepAlive: true, maxSockets: 8 });
    const token = tokenOf(persona.user);
    const mismatches: string[] = [];
    const jobs: Array<Promise<void>> = [];
    for (const c of accessCases()) {
      for (const where of places) {
        const { method, url } = requestFor(c, where.namespace, where.name);
        const body = ['POST', 'PUT', 'PATCH'].includes(method) ? '{}' : undefined;
        jobs.push(
          requestAs(agent, token, method, url, body).then((res) => {
            const expected = persona.allowed(c, where);
            const denied = res.status === 403;
            if (denied && res.json?.reason !== 'Forbidden') mismatches.push(`${method} ${url}: 403 without reason Forbidden`);
            if (denied === expected) {
              mismatches.push(`${describe(c)} in ${where.namespace}: HTTP ${res.status} ${res.json?.message ?? ''}, expected ${expected ? 'allowed' : '403'}`);
            }
          }),
        );
      }
    }
    await Promise.all(jobs);
    agent.destroy();
    t.deepEqual(mismatches, []);
  });
}

test.serial('403 says who cannot do what, exactly as kube-apiserver words it', async (t) => {
  const agent = new Agent({ ca: server.caPem });
  const cases: Array<[string, string | undefined, string, string, string]> = [
    [
      'operator rebalance',
      tokenOf(USERS.operator),
      'POST',
      '/apis/storm.apache.org/v1beta1/namespaces/storm-prod/stormtopologies/x/rebalance',
      'stormtopologies.storm.apache.org "x" is forbidden: User "alice" cannot create resource "stormtopologies/rebalance" in API group "storm.apache.org" in the namespace "storm-prod"',
    ],
    [
      'reader create',
      tokenOf(USERS.reader),
      'POST',
      '/apis/pvc-chonker.io/v1alpha1/namespaces/ns/pvcgroups',
      'pvcgroups.pvc-chonker.io is forbidden: User "rita" cannot create resource "pvcgroups" in API group "pvc-chonker.io" in the namespace "ns"',
    ],
    [
      'editor list across namespaces',
      tokenOf(USERS.editor),
      'GET',
      '/apis/storm.apache.org/v1beta1/stormclusters',
      'stormclusters.storm.apache.org is forbidden: User "bob" cannot list resource "stormclusters" in API group "storm.apache.org" at the cluster scope',
    ],
    ['non-resource path', tokenOf(USERS.nobody), 'GET', '/foo', 'forbidden: User "mallory" cannot get path "/foo"'],
    [
      'anonymous',
      undefined,
      'GET',
      '/apis/storm.apache.org/v1beta1/namespaces/ns/stormtopologies/x',
      'stormtopologies.storm.apache.org "x" is forbidden: User "system:anonymous" cannot get resource "stormtopologies" in API group "storm.apache.org" in the namespace "ns"',
    ],
  ];
  for (const [title, token, method, url, message] of cases) {
    const res = await requestAs(agent, token, method, url, method === 'POST' ? '{}' : undefined);
    t.is(res.status, 403, title);
    t.like(res.json, { kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403, message }, title);
  }
  agent.destroy();
});

test.serial('health and version for everyone; discovery and OpenAPI for authenticated users only', async (t) => {
  const agent = new Agent({ ca: server.caPem });
  const mallory = tokenOf(USERS.nobody);
  for (const path of ['/healthz', '/livez', '/readyz']) t.is((await requestAs(agent, undefined, 'GET', path)).status, 200, path);
  for (const path of ['/apis', '/apis/storm.apache.org/v1beta1', '/openapi/v2', '/openapi/v3']) {
    t.is((await requestAs(agent, mallory, 'GET', path)).status, 200, `${path} authenticated`);
    t.is((await requestAs(agent, undefined, 'GET', path)).status, 403, `${path} anonymous`);
  }
  agent.destroy();
});

test.serial('kubectl auth can-i asks the standalone server (SelfSubjectAccessReview)', async (t) => {
  const kubeconfig = join(server.dir, 'alice.kubeconfig');
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 's', cluster: { server: server.url, 'certificate-authority-data': Buffer.from(server.caPem).toString('base64') } }],
      users: [{ name: 'alice', user: { token: tokenOf(USERS.operator) } }],
      contexts: [{ name: 'alice', context: { cluster: 's', user: 'alice' } }],
      'current-context': 'alice',
    }),
  );
  const canI = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.env.KUBECTL ?? 'kubectl',
        ['--kubeconfig', kubeconfig, '--cache-dir', join(server.dir, 'kubectl-cache'), 'auth', 'can-i', ...args],
        { timeout: 60_000, encoding: 'utf8', env: { ...process.env, HOME: server.dir } },
        (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: stdout.trim(), stderr }),
      );
    });
  const table: Array<[string[], string]> = [
    [['create', 'stormtopologies', '--subresource=promote', '-n', 'storm-prod'], 'yes'],
    [['create', 'stormtopologies', '--subresource=rollback', '-n', 'storm-prod'], 'yes'],
    [['create', 'stormtopologies', '--subresource=rebalance', '-n', 'storm-prod'], 'no'],
    [['create', 'stormtopologies', '--subresource=promote', '-n', 'storm-dev'], 'no'],
    [['get', 'stormtopologies', '-n', 'storm-prod'], 'yes'],
    [['delete', 'stormtopologies', '-n', 'storm-prod'], 'no'],
  ];
  for (const [args, answer] of table) {
    const res = await canI(...args);
    t.is(res.stdout, answer, `${args.join(' ')}: ${res.stderr}`);
    t.is(res.code, answer === 'yes' ? 0 : 1, args.join(' '));
  }
});

test.serial('SelfSubjectAccessReview answers for the requesting user, resource and non-resource', async (t) => {
  const review = (token: string, spec: object) =>
    call(server, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { token }, { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec });
  const promote = { resourceAttributes: { namespace: 'storm-prod', verb: 'create', group: 'storm.apache.org', resource: 'stormtopologies', subresource: 'promote', name: 'wc' } };
  const yes = await review(tokenOf(USERS.operator), promote);
  t.is(yes.status, 201);
  t.like(yes.json, { kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', spec: promote, status: { allowed: true } });
  t.like((await review(tokenOf(USERS.reader), promote)).json, { status: { allowed: false } });
  t.like((await review(tokenOf(USERS.reader), { nonResourceAttributes: { path: '/apis', verb: 'get' } })).json, { status: { allowed: true } });
  t.is((await review(tokenOf(USERS.reader), {})).status, 400);
});

test.serial('an invalid bearer token is 401 even with anonymous access on', async (t) => {
  const res = await call(server, 'GET', '/apis/storm.apache.org/v1beta1/stormtopologies', { token: 'not-a-token' });
  t.is(res.status, 401);
  t.like(res.json, { kind: 'Status', reason: 'Unauthorized', code: 401, message: 'Unauthorized' });
});

test.serial('the token file is reloaded when it changes', async (t) => {
  const url = '/apis/storm.apache.org/v1beta1/namespaces/storm-prod/stormtopologies';
  t.is((await call(server, 'GET', url, { token: 'late-token' })).status, 401);
  writeFileSync(tokenPath, `${tokenFileText()}\nlate-token,late-reader,uid-late,storm-viewers\n`);
  await eventually('the new token', async () => ((await call(server, 'GET', url, { token: 'late-token' })).status === 200 ? true : undefined));
  t.is((await call(server, 'GET', url, { token: tokenOf(USERS.reader) })).status, 200, 'the other tokens stay');
});

// Last: it changes the policy file under the running server.
test.serial('the policy file is reloaded when it changes', async (t) => {
  const url = '/apis/storm.apache.org/v1beta1/namespaces/storm-prod/stormtopologies';
  const token = tokenOf(USERS.nobody);
  t.is((await call(server, 'GET', url, { token })).status, 403);
  writeFileSync(
    policyPath,
    `${testPolicyText()}\n---\n${stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'mallory-views' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'operators-viewer' },
      subjects: [{ kind: 'User', name: 'mallory' }],
    })}`,
  );
  await eventually('mallory to be allowed', async () => ((await call(server, 'GET', url, { token })).status === 200 ? true : undefined));
  writeFileSync(policyPath, 'this is: [not valid');
  // A broken rewrite keeps the previous policy.
  await new Promise((r) => setTimeout(r, 500));
  t.is((await call(server, 'GET', url, { token })).status, 200);
});
