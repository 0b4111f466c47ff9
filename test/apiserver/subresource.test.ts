// The generic glue of computed subresources and custom verbs (`registry/subresource.ts`): routes,
// request-object decoding, dryRun, upstream clients, discovery, OpenAPI and RBAC names — with a
// test kind carrying one computed read and one verb, so the machinery is tested apart from the
// operators' own subresources.
import test from 'ava';
import { z } from 'zod';
import { serviceUnavailable } from '../../apiserver/errors.js';
import type { KindDeclaration } from '../../registry/kind.js';
import { declaration as pvcpolicy } from '../../registry/pvc-chonker.io/pvcpolicy/index.js';
import { upstreamKey, type SubresourceDeclaration } from '../../registry/subresource.js';
import { httpsRequest, startTestServer, type TestServer } from '../helpers/server.js';

interface Greeter {
  greet(who: string): string;
}
const GREETER = upstreamKey<Greeter>('test.greeter');

const summary: SubresourceDeclaration = {
  name: 'summary',
  verb: 'get',
  kind: 'PolicySummary',
  description: 'A summary computed at request time.',
  response: z.object({ status: z.object({ labels: z.number(), window: z.string() }) }),
  queryParameters: { window: 'Which window to summarize.' },
  connect: (services) => async (request) => {
    const obj = await services.store.get({ namespace: request.namespace, name: request.name }, {});
    return {
      object: {
        metadata: { name: request.name, namespace: request.namespace },
        status: { labels: Object.keys(obj.metadata.labels ?? {}).length, window: request.query.window ?? 'all' },
      },
    };
  },
};

const greet: SubresourceDeclaration = {
  name: 'greet',
  verb: 'create',
  kind: 'PolicyGreeting',
  description: 'Greets someone through the greeter upstream.',
  requestSpec: z.object({ who: z.string().min(1), times: z.number().int().min(1).default(1) }).strict(),
  response: z.object({ status: z.object({ message: z.string(), user: z.string(), dryRun: z.boolean() }) }),
  connect: (services) => async (request) => {
    const greeter = services.upstream(GREETER);
    if (!greeter) throw serviceUnavailable('no greeter is configured');
    await services.store.get({ namespace: request.namespace, name: request.name }, {});
    const spec = request.body!.spec as { who: string; times: number };
    return {
      code: 201,
      object: {
        metadata: { name: request.name, namespace: request.namespace },
        spec,
        status: { message: greeter.greet(spec.who).repeat(spec.times), user: request.user.username, dryRun: request.dryRun },
      },
    };
  },
};

const kind: KindDeclaration = { ...pvcpolicy, subresources: [summary, greet] };
const base = '/apis/pvc-chonker.io/v1alpha1/namespaces/team/pvcpolicies';
const POLICY_SPEC = { selector: { matchLabels: { app: 'db' } }, template: { threshold: '80%' } };

let server: TestServer;
test.before(async () => {
  server = await startTestServer({}, { kinds: [kind], extensions: { upstreams: [[GREETER, { greet: (who: string) => `hello ${who}. ` }]] } });
  const created = await httpsRequest(server, 'POST', base, {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ apiVersion: 'pvc-chonker.io/v1alpha1', kind: 'PVCPolicy', metadata: { name: 'p', labels: { a: '1', b: '2' } }, spec: POLICY_SPEC }),
  });
  if (created.status !== 201) throw new Error(`create failed: ${created.body}`);
});
test.after.always(async () => server?.stop());

const cases: Array<{ title: string; method: string; path: string; body?: string; headers?: Record<string, string>; status: number; check?: (json: any) => void }> = [
  {
    title: 'a computed read answers with its kind and the query parameter',
    method: 'GET',
    path: `${base}/p/summary?window=600`,
    status: 200,
    check: (json) => {
      if (json.apiVersion !== 'pvc-chonker.io/v1alpha1' || json.kind !== 'PolicySummary') throw new Error(JSON.stringify(json));
      if (json.status.labels !== 2 || json.status.window !== '600') throw new Error(JSON.stringify(json));
    },
  },
  { title: 'a computed read of a missing object is 404', method: 'GET', path: `${base}/missing/summary`, status: 404 },
  { title: 'POST to a computed read is 405', method: 'POST', path: `${base}/p/summary`, body: '{}', status: 405 },
  { title: 'GET of a verb is 405', method: 'GET', path: `${base}/p/greet`, status: 405 },
  {
    title: 'a verb without Content-Type is JSON (kubectl create --raw) and defaults its spec',
    method: 'POST',
    path: `${base}/p/greet`,
    body: JSON.stringify({ apiVersion: 'pvc-chonker.io/v1alpha1', kind: 'PolicyGreeting', spec: { who: 'ann' } }),
    status: 201,
    check: (json) => {
      if (json.kind !== 'PolicyGreeting' || json.spec.times !== 1 || json.status.message !== 'hello ann. ') throw new Error(JSON.stringify(json));
      if (json.status.user !== 'operators-local' || json.status.dryRun !== false) throw new Error(JSON.stringify(json));
    },
  },
  {
    title: 'a verb takes YAML',
    method: 'POST',
    path: `${base}/p/greet?dryRun=All`,
    headers: { 'content-type': 'application/yaml' },
    body: 'kind: PolicyGreeting\nspec:\n  who: bo\n  times: 2\n',
    status: 201,
    check: (json) => {
      if (json.status.message !== 'hello bo. hello bo. ' || json.status.dryRun !== true) throw new Error(JSON.stringify(json));
    },
  },
  {
    title: 'an invalid request spec is 422 with field paths',
    method: 'POST',
    path: `${base}/p/greet`,
    body: JSON.stringify({ spec: { who: '', times: 0 } }),
    status: 422,
    check: (json) => {
      const fields = json.details.causes.map((c: any) => c.field).sort();
      if (JSON.stringify(fields) !== JSON.stringify(['spec.times', 'spec.who'])) throw new Error(JSON.stringify(json));
    },
  },
  { title: 'a wrong kind is 400', method: 'POST', path: `${base}/p/greet`, body: JSON.stringify({ kind: 'Other', spec: { who: 'x' } }), status: 400 },
  { title: 'a wrong apiVersion is 400', method: 'POST', path: `${base}/p/greet`, body: JSON.stringify({ apiVersion: 'v1', spec: { who: 'x' } }), status: 400 },
  { title: 'an unknown field under Strict is 400', method: 'POST', path: `${base}/p/greet?fieldValidation=Strict`, body: JSON.stringify({ spec: { who: 'x', extra: 1 } }), status: 400 },
  { title: 'a body that is not an object is 400', method: 'POST', path: `${base}/p/greet`, body: '[1]', status: 400 },
  { title: 'a verb on a missing object is 404', method: 'POST', path: `${base}/missing/greet`, body: JSON.stringify({ spec: { who: 'x' } }), status: 404 },
];

for (const c of cases) {
  test(`subresource glue: ${c.title}`, async (t) => {
    const res = await httpsRequest(server, c.method, c.path, { headers: c.headers, body: c.body });
    t.is(res.status, c.status, res.body);
    if (c.check) t.notThrows(() => c.check!(JSON.parse(res.body)));
    if (c.status >= 400) t.is(JSON.parse(res.body).kind, 'Status');
  });
}

test('subresource glue: the verb answers 503 when its upstream is missing', async (t) => {
  const bare = await startTestServer({}, { kinds: [kind] });
  try {
    const created = await httpsRequest(bare, 'POST', base, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ metadata: { name: 'p' }, spec: POLICY_SPEC }) });
    t.is(created.status, 201, created.body);
    const res = await httpsRequest(bare, 'POST', `${base}/p/greet`, { body: JSON.stringify({ spec: { who: 'x' } }) });
    t.is(res.status, 503, res.body);
    t.is(JSON.parse(res.body).reason, 'ServiceUnavailable');
  } finally {
    await bare.stop();
  }
});

test('subresource glue: discovery lists both subresources with their kinds and verbs', async (t) => {
  const legacy = JSON.parse((await httpsRequest(server, 'GET', '/apis/pvc-chonker.io/v1alpha1')).body);
  const names = legacy.resources.map((r: any) => `${r.name}:${r.kind}:${r.verbs.join(',')}`);
  t.true(names.includes('pvcpolicies/summary:PolicySummary:get'), names.join(' '));
  t.true(names.includes('pvcpolicies/greet:PolicyGreeting:create'), names.join(' '));
  const aggregated = JSON.parse(
    (await httpsRequest(server, 'GET', '/apis', { headers: { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' } })).body,
  );
  const resource = aggregated.items.find((g: any) => g.metadata.name === 'pvc-chonker.io').versions[0].resources.find((r: any) => r.resource === 'pvcpolicies');
  t.deepEqual(
    resource.subresources.filter((s: any) => s.subresource !== 'status'),
    [
      { subresource: 'summary', responseKind: { group: 'pvc-chonker.io', version: 'v1alpha1', kind: 'PolicySummary' }, verbs: ['get'] },
      { subresource: 'greet', responseKind: { group: 'pvc-chonker.io', version: 'v1alpha1', kind: 'PolicyGreeting' }, verbs: ['create'] },
    ],
  );
});

test('subresource glue: OpenAPI v3 has the operations and the kinds with their GVK', async (t) => {
  const doc = JSON.parse((await httpsRequest(server, 'GET', '/openapi/v3/apis/pvc-chonker.io/v1alpha1')).body);
  const greetPath = doc.paths['/apis/pvc-chonker.io/v1alpha1/namespaces/{namespace}/pvcpolicies/{name}/greet'];
  t.truthy(greetPath?.post, Object.keys(doc.paths).join(' '));
  t.is(greetPath.post['x-kubernetes-action'], 'post');
  t.deepEqual(greetPath.post['x-kubernetes-group-version-kind'], { group: 'pvc-chonker.io', version: 'v1alpha1', kind: 'PolicyGreeting' });
  const summaryPath = doc.paths['/apis/pvc-chonker.io/v1alpha1/namespaces/{namespace}/pvcpolicies/{name}/summary'];
  t.truthy(summaryPath?.get);
  t.true(summaryPath.get.parameters.some((p: any) => p.name === 'window'));
  const greeting = Object.values(doc.components.schemas).find((s: any) => s['x-kubernetes-group-version-kind']?.[0]?.kind === 'PolicyGreeting') as any;
  t.truthy(greeting);
  t.truthy(greeting.properties.spec?.properties?.who);
  t.truthy(greeting.properties.status?.properties?.message);
});
