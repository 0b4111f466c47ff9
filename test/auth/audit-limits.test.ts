// Audit events (one per request, the right fields, policy levels, Audit-ID on every response),
// max-in-flight (429 with Retry-After; watches not counted), the request timeout (504) and
// anonymous access turned off (401).
import test from 'ava';
import { readFileSync } from 'node:fs';
import type { ClientRequest } from 'node:http';
import { request } from 'node:https';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { openWatch } from '../conformance/client.js';
import { call, eventually, tempDir, writeFile, type Response } from './helpers.js';
import { testPolicyText, tokenFileText, tokenOf, USERS } from './policy.js';

const NS = '/apis/storm.apache.org/v1beta1/namespaces/storm-prod';
const pool = (name: string) => ({
  apiVersion: 'storm.apache.org/v1beta1',
  kind: 'StormWorkerPool',
  metadata: { name },
  spec: { topologyRef: 'wordcount', replicas: 2 },
});

const AUDIT_POLICY = `
apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: None
    nonResourceURLs: ["/healthz*", "/livez*", "/readyz*"]
  - level: Request
    verbs: ["create"]
    resources: [{ group: storm.apache.org, resources: ["stormworkerpools"] }]
  - level: Metadata
`;

async function startWith(flags: Record<string, string>): Promise<{ server: TestServer; dir: string }> {
  const dir = tempDir('audit-limits-');
  const server = await startTestServer({
    storage: 'memory',
    'rbac-policy-file': writeFile(dir, 'rbac.yaml', testPolicyText()),
    'token-auth-file': writeFile(dir, 'tokens.csv', tokenFileText()),
    ...flags,
  });
  return { server, dir };
}

function auditEvents(path: string): any[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l)
    .map((l) => JSON.parse(l));
}

test('audit: one audit.k8s.io/v1 event per request with user, verb, objectRef (subresource), status and timestamps', async (t) => {
  const dir = tempDir('audit-');
  const auditPath = join(dir, 'audit.log');
  const { server } = await startWith({ 'audit-log-path': auditPath, 'audit-policy-file': writeFile(dir, 'audit-policy.yaml', AUDIT_POLICY) });
  t.teardown(() => server.stop());
  const bob = { token: tokenOf(USERS.editor) };
  const requests: Array<[string, Promise<Response>]> = [
    ['create', call(server, 'POST', `${NS}/stormworkerpools`, bob, pool('wc'))],
  ];
  const created = await requests[0][1];
  t.is(created.status, 201, created.body);
  requests.push(
    ['get', call(server, 'GET', `${NS}/stormworkerpools/wc`, bob)],
    ['status', call(server, 'GET', `${NS}/stormworkerpools/wc/status`, { token: tokenOf(USERS.statusOnly) })],
    ['forbidden', call(server, 'POST', `${NS}/stormtopologies/wc/rebalance`, { token: tokenOf(USERS.operator) }, {})],
    ['unauthorized', call(server, 'GET', `${NS}/stormworkerpools`, { token: 'nope' })],
    ['client audit id', call(server, 'GET', '/apis', { token: tokenOf(USERS.reader), headers: { 'Audit-ID': 'my-own-audit-id' } })],
    ['healthz', call(server, 'GET', '/healthz')],
  );
  const responses = new Map<string, Response>();
  for (const [name, pending] of requests) responses.set(name, await pending);
  for (const [name, res] of responses) t.truthy(res.headers['audit-id'], `${name} has an Audit-ID header`);
  t.is(responses.get('client audit id')!.headers['audit-id'], 'my-own-audit-id');

  const audited = [...responses].filter(([name]) => name !== 'healthz');
  const events = await eventually('every audit event', async () => {
    const all = auditEvents(auditPath);
    return audited.every(([, res]) => all.some((e) => e.auditID === res.headers['audit-id'])) ? all : undefined;
  });
  const eventOf = (name: string) => {
    const matching = events.filter((e) => e.auditID === responses.get(name)!.headers['audit-id']);
    t.is(matching.length, 1, `exactly one event for ${name}`);
    return matching[0];
  };
  t.false(events.some((e) => e.auditID === responses.get('healthz')!.headers['audit-id']), 'level None writes nothing');

  const create = eventOf('create');
  t.like(create, {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Request',
    stage: 'ResponseComplete',
    verb: 'create',
    requestURI: `${NS}/stormworkerpools`,
    user: { username: 'bob', uid: 'uid-editor', groups: ['system:authenticated'] },
    objectRef: { resource: 'stormworkerpools', namespace: 'storm-prod', apiGroup: 'storm.apache.org', apiVersion: 'v1beta1' },
    responseStatus: { code: 201 },
    requestObject: { kind: 'StormWorkerPool', metadata: { name: 'wc' } },
  });
  t.regex(create.requestReceivedTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  t.regex(create.stageTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  t.true(create.stageTimestamp >= create.requestReceivedTimestamp);
  t.deepEqual(create.sourceIPs, ['127.0.0.1']);

  const get = eventOf('get');
  t.like(get, { level: 'Metadata', verb: 'get', objectRef: { resource: 'stormworkerpools', name: 'wc' }, responseStatus: { code: 200 } });
  t.is(get.requestObject, undefined, 'Metadata level has no request body');
  t.like(eventOf('status'), { verb: 'get', user: { username: 'sam' }, objectRef: { resource: 'stormworkerpools', name: 'wc', subresource: 'status' }, responseStatus: { code: 200 } });
  t.like(eventOf('forbidden'), {
    verb: 'create',
    user: { username: 'alice' },
    objectRef: { resource: 'stormtopologies', name: 'wc', subresource: 'rebalance' },
    responseStatus: { code: 403, status: 'Failure', reason: 'Forbidden' },
  });
  t.like(eventOf('unauthorized'), { verb: 'list', responseStatus: { code: 401, reason: 'Unauthorized' } });
  t.like(eventOf('client audit id'), { verb: 'get', requestURI: '/apis', user: { username: 'rita' } });
  t.is(eventOf('client audit id').objectRef, undefined);
});

/** A create whose body never finishes: it stays in flight until destroyed. */
function heldCreate(server: TestServer): { req: ClientRequest; response: Promise<Response> } {
  let req!: ClientRequest;
  const response = new Promise<Response>((resolve, reject) => {
    req = request(
      new URL(`${NS}/stormworkerpools`, server.url),
      {
        method: 'POST',
        ca: server.caPem,
        cert: server.clientCert?.cert,
        key: server.clientCert?.key,
        agent: false,
        headers: { 'Content-Type': 'application/json', 'Content-Length': '1000' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: JSON.parse(body) });
        });
      },
    );
    req.on('error', reject);
    req.write('{"apiVersion":');
  });
  response.catch(() => {});
  return { req, response };
}

test('max-in-flight: over --max-mutating-requests-inflight is 429 TooManyRequests with Retry-After; freed when the request ends', async (t) => {
  const { server } = await startWith({ 'max-mutating-requests-inflight': '1' });
  t.teardown(() => server.stop());
  const held = heldCreate(server);
  const bob = { token: tokenOf(USERS.editor) };
  let n = 0;
  const rejected = await eventually('a 429 while the held create is in flight', async () => {
    const res = await call(server, 'POST', `${NS}/stormworkerpools`, bob, pool(`burst-${n++}`));
    return res.status === 429 ? res : undefined;
  });
  t.is(rejected.headers['retry-after'], '1');
  t.like(rejected.json, { kind: 'Status', status: 'Failure', reason: 'TooManyRequests', code: 429, details: { retryAfterSeconds: 1 } });
  // Reads have their own budget.
  t.is((await call(server, 'GET', `${NS}/stormworkerpools`, bob)).status, 200);
  held.req.destroy();
  const after = await eventually('the budget to be freed', async () => {
    const res = await call(server, 'POST', `${NS}/stormworkerpools`, bob, pool('after'));
    return res.status === 429 ? undefined : res;
  });
  t.is(after.status, 201);
});

test('max-in-flight: watches are long-running and not counted against --max-requests-inflight', async (t) => {
  const { server } = await startWith({ 'max-requests-inflight': '1' });
  t.teardown(() => server.stop());
  const watches = await Promise.all([openWatch(server, `${NS}/stormworkerpools`), openWatch(server, `${NS}/stormworkerpools`)]);
  t.teardown(() => watches.forEach((w) => w.close()));
  t.deepEqual(watches.map((w) => w.status), [200, 200]);
  t.is((await call(server, 'GET', `${NS}/stormworkerpools`, { token: tokenOf(USERS.reader) })).status, 200);
});

test('request timeout: a request still running after --request-timeout is 504 Timeout; an invalid timeout parameter is 400', async (t) => {
  const { server } = await startWith({ 'request-timeout': '1s' });
  t.teardown(() => server.stop());
  const held = heldCreate(server);
  const res = await held.response;
  held.req.destroy();
  t.is(res.status, 504);
  t.like(res.json, { kind: 'Status', reason: 'Timeout', code: 504, message: 'Timeout: request did not complete within requested timeout - context deadline exceeded' });
  const bad = await call(server, 'GET', `${NS}/stormworkerpools?timeout=soon`, { token: tokenOf(USERS.reader) });
  t.is(bad.status, 400);
  t.like(bad.json, { reason: 'BadRequest' });
});

test('--anonymous-auth=false: a request without credentials is 401 Unauthorized, also on /healthz', async (t) => {
  const { server } = await startWith({ 'anonymous-auth': 'false' });
  t.teardown(() => server.stop());
  for (const path of [`${NS}/stormworkerpools`, '/healthz', '/apis']) {
    const res = await call(server, 'GET', path);
    t.is(res.status, 401, path);
    t.like(res.json, { kind: 'Status', reason: 'Unauthorized', code: 401 });
  }
  t.is((await call(server, 'GET', '/healthz', { token: tokenOf(USERS.nobody) })).status, 200);
});
