import test from 'ava';
import Fastify from 'fastify';
import { createHash } from 'node:crypto';
import {
  aggregatedContentType,
  aggregatedDiscovery,
  apiResourceList,
  compareVersionPriority,
  installDiscovery,
  negotiateDiscovery,
  storageVersionHash,
} from '../../apiserver/discovery.js';
import { pathNotFound } from '../../apiserver/errors.js';
import { sendStatus } from '../../apiserver/response.js';
import { gadget, testKinds } from '../openapi/fixtures.js';
import { findKubectl } from '../helpers/kubectl.js';
import { parseColumns, startE2EServer } from '../openapi/kubectl.js';

const CLIENT_GO_ACCEPT =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
const V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
const V2BETA1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

async function appFor(kinds = testKinds) {
  const app = Fastify();
  app.setNotFoundHandler((_req, reply) => sendStatus(reply, pathNotFound().status));
  installDiscovery(app, kinds);
  await app.ready();
  return app;
}

const sha512 = (s: string) => createHash('sha512').update(s).digest('hex').toUpperCase();

// ---- the documents ----------------------------------------------------------------------------

const LEGACY_GROUP_LIST = {
  kind: 'APIGroupList',
  apiVersion: 'v1',
  groups: [
    {
      name: 'demo.example.com',
      versions: [
        { groupVersion: 'demo.example.com/v1beta1', version: 'v1beta1' },
        { groupVersion: 'demo.example.com/v1alpha1', version: 'v1alpha1' },
      ],
      preferredVersion: { groupVersion: 'demo.example.com/v1beta1', version: 'v1beta1' },
    },
    {
      name: 'things.example.org',
      versions: [{ groupVersion: 'things.example.org/v1', version: 'v1' }],
      preferredVersion: { groupVersion: 'things.example.org/v1', version: 'v1' },
    },
  ],
};

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const SUB_VERBS = ['get', 'patch', 'update'];

test('APIResourceList lists each kind with its status and scale subresources', (t) => {
  const gadgetHash = storageVersionHash('demo.example.com', 'v1beta1', 'Gadget');
  t.deepEqual(apiResourceList(testKinds, 'demo.example.com', 'v1beta1'), {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'demo.example.com/v1beta1',
    resources: [
      {
        name: 'gadgets',
        singularName: 'gadget',
        namespaced: true,
        kind: 'Gadget',
        verbs: VERBS,
        shortNames: ['gd', 'gdt'],
        categories: ['all', 'demo'],
        storageVersionHash: gadgetHash,
      },
      { name: 'gadgets/status', singularName: '', namespaced: true, kind: 'Gadget', verbs: SUB_VERBS },
      { name: 'gadgets/scale', singularName: '', namespaced: true, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: SUB_VERBS },
      {
        name: 'gizmos',
        singularName: 'gizmo',
        namespaced: false,
        kind: 'Gizmo',
        verbs: VERBS,
        storageVersionHash: storageVersionHash('demo.example.com', 'v1beta1', 'Gizmo'),
      },
      { name: 'gizmos/status', singularName: '', namespaced: false, kind: 'Gizmo', verbs: SUB_VERBS },
    ],
  });
  // The older version lists only the kinds it serves; the hash names the storage version.
  const alpha = apiResourceList(testKinds, 'demo.example.com', 'v1alpha1');
  t.deepEqual(
    alpha.resources.map((r) => r.name),
    ['gadgets', 'gadgets/status', 'gadgets/scale'],
  );
  t.is(alpha.resources[0].storageVersionHash, gadgetHash);
  t.regex(gadgetHash, /^[A-Za-z0-9+/]{11}=$/, 'base64 of 8 bytes');
});

test('aggregated discovery v2 lists groups, versions (preferred first) and resources', (t) => {
  const doc = aggregatedDiscovery(testKinds, 'v2');
  const status = (group: string, version: string, kind: string) => ({
    subresource: 'status',
    responseKind: { group, version, kind },
    verbs: SUB_VERBS,
  });
  const scale = { subresource: 'scale', responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: SUB_VERBS };
  t.deepEqual(doc, {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items: [
      {
        metadata: { name: 'demo.example.com' },
        versions: [
          {
            version: 'v1beta1',
            resources: [
              {
                resource: 'gadgets',
                responseKind: { group: 'demo.example.com', version: 'v1beta1', kind: 'Gadget' },
                scope: 'Namespaced',
                singularResource: 'gadget',
                verbs: VERBS,
                shortNames: ['gd', 'gdt'],
                categories: ['all', 'demo'],
                subresources: [status('demo.example.com', 'v1beta1', 'Gadget'), scale],
              },
              {
                resource: 'gizmos',
                responseKind: { group: 'demo.example.com', version: 'v1beta1', kind: 'Gizmo' },
                scope: 'Cluster',
                singularResource: 'gizmo',
                verbs: VERBS,
                subresources: [status('demo.example.com', 'v1beta1', 'Gizmo')],
              },
            ],
            freshness: 'Current',
          },
          {
            version: 'v1alpha1',
            resources: [
              {
                resource: 'gadgets',
                responseKind: { group: 'demo.example.com', version: 'v1alpha1', kind: 'Gadget' },
                scope: 'Namespaced',
                singularResource: 'gadget',
                verbs: VERBS,
                shortNames: ['gd', 'gdt'],
                categories: ['all', 'demo'],
                subresources: [status('demo.example.com', 'v1alpha1', 'Gadget'), scale],
              },
            ],
            freshness: 'Current',
          },
        ],
      },
      {
        metadata: { name: 'things.example.org' },
        versions: [
          {
            version: 'v1',
            resources: [
              {
                resource: 'things',
                responseKind: { group: 'things.example.org', version: 'v1', kind: 'Thing' },
                scope: 'Namespaced',
                singularResource: 'thing',
                verbs: VERBS,
                shortNames: ['th'],
                categories: ['demo'],
                subresources: [status('things.example.org', 'v1', 'Thing')],
              },
            ],
            freshness: 'Current',
          },
        ],
      },
    ],
  });
});

test('version priority follows Kubernetes: GA, beta, alpha, higher first, others last', (t) => {
  const versions = ['v1alpha1', 'foo', 'v2beta1', 'v1', 'v1beta2', 'v2', 'v1beta1', 'v11alpha2', 'bar'];
  t.deepEqual([...versions].sort(compareVersionPriority), ['v2', 'v1', 'v2beta1', 'v1beta2', 'v1beta1', 'v11alpha2', 'v1alpha1', 'bar', 'foo']);
  // A group's preferred version is its first kind's first version, whatever the priority says.
  const preferAlpha = { ...gadget, versions: ['v1alpha1', 'v1beta1'] };
  t.deepEqual(
    aggregatedDiscovery([preferAlpha]).items[0].versions.map((v) => v.version),
    ['v1alpha1', 'v1beta1'],
  );
});

// ---- negotiation ------------------------------------------------------------------------------

const negotiationCases: { accept: string | undefined; expect: ReturnType<typeof negotiateDiscovery> }[] = [
  { accept: undefined, expect: { aggregated: false } },
  { accept: '', expect: { aggregated: false } },
  { accept: 'application/json', expect: { aggregated: false } },
  { accept: 'application/json, */*', expect: { aggregated: false } },
  { accept: '*/*', expect: { aggregated: false } },
  { accept: CLIENT_GO_ACCEPT, expect: { aggregated: true, version: 'v2' } },
  { accept: V2, expect: { aggregated: true, version: 'v2' } },
  { accept: `${V2BETA1},application/json`, expect: { aggregated: true, version: 'v2beta1' } },
  // Parameters in any order, extra parameters, spaces.
  { accept: 'application/json; as=APIGroupDiscoveryList; v=v2; g=apidiscovery.k8s.io', expect: { aggregated: true, version: 'v2' } },
  { accept: 'application/json;charset=utf-8;as=APIGroupDiscoveryList;g=apidiscovery.k8s.io;v=v2beta1', expect: { aggregated: true, version: 'v2beta1' } },
  // q-values outrank order; q=0 excludes.
  { accept: `application/json;q=0.5,${V2}`, expect: { aggregated: true, version: 'v2' } },
  { accept: `${V2};q=0,application/json`, expect: { aggregated: false } },
  // Unknown versions and representations are skipped.
  { accept: 'application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList,application/json', expect: { aggregated: false } },
  { accept: 'application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json', expect: { aggregated: false } },
  { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io', expect: undefined },
  { accept: 'application/vnd.kubernetes.protobuf', expect: undefined },
  { accept: 'text/html', expect: undefined },
];

for (const c of negotiationCases) {
  test(`negotiates /apis for Accept ${JSON.stringify(c.accept)}`, (t) => {
    t.deepEqual(negotiateDiscovery(c.accept, true), c.expect);
  });
}

// ---- HTTP -------------------------------------------------------------------------------------

test('GET /apis answers the legacy APIGroupList without an aggregated Accept', async (t) => {
  const app = await appFor();
  t.teardown(() => app.close());
  for (const accept of [undefined, 'application/json', 'application/json, */*']) {
    const res = await app.inject({ method: 'GET', url: '/apis', headers: accept ? { accept } : {} });
    t.is(res.statusCode, 200);
    t.is(res.headers['content-type'], 'application/json');
    t.is(res.headers.vary, 'Accept');
    t.deepEqual(res.json(), LEGACY_GROUP_LIST);
  }
});

const aggregatedCases = [
  { accept: CLIENT_GO_ACCEPT, version: 'v2' },
  { accept: V2, version: 'v2' },
  { accept: V2BETA1, version: 'v2beta1' },
  { accept: 'application/json;as=APIGroupDiscoveryList;v=v2beta1;g=apidiscovery.k8s.io', version: 'v2beta1' },
] as const;

for (const c of aggregatedCases) {
  test(`GET /apis answers aggregated ${c.version} for ${c.accept}`, async (t) => {
    const app = await appFor();
    t.teardown(() => app.close());
    const res = await app.inject({ method: 'GET', url: '/apis', headers: { accept: c.accept } });
    t.is(res.statusCode, 200);
    t.is(res.headers['content-type'], aggregatedContentType(c.version));
    t.is(res.headers['content-type'], `application/json;g=apidiscovery.k8s.io;v=${c.version};as=APIGroupDiscoveryList`);
    t.is(res.headers.etag, `"${sha512(res.body)}"`);
    t.is(res.headers.vary, 'Accept');
    t.is(res.headers['cache-control'], 'public');
    t.deepEqual(res.json(), aggregatedDiscovery(testKinds, c.version));
    t.is(res.json().apiVersion, `apidiscovery.k8s.io/${c.version}`);
  });
}

test('aggregated discovery: a matching If-None-Match is a 304, a stale one a 200', async (t) => {
  const app = await appFor();
  t.teardown(() => app.close());
  const first = await app.inject({ method: 'GET', url: '/apis', headers: { accept: CLIENT_GO_ACCEPT } });
  const etag = String(first.headers.etag);
  const cases = [
    { ifNoneMatch: etag, status: 304 },
    { ifNoneMatch: `W/${etag}`, status: 304 },
    { ifNoneMatch: `"other", ${etag}`, status: 304 },
    { ifNoneMatch: '"0123"', status: 200 },
  ];
  for (const c of cases) {
    const res = await app.inject({ method: 'GET', url: '/apis', headers: { accept: CLIENT_GO_ACCEPT, 'if-none-match': c.ifNoneMatch } });
    t.is(res.statusCode, c.status, c.ifNoneMatch);
    t.is(res.headers.etag, etag);
    t.is(res.headers.vary, 'Accept');
    if (c.status === 304) t.is(res.body, '');
    else t.deepEqual(res.json(), first.json());
  }
  // The v2beta1 body differs (its apiVersion), so its ETag does too.
  const beta = await app.inject({ method: 'GET', url: '/apis', headers: { accept: V2BETA1, 'if-none-match': etag } });
  t.is(beta.statusCode, 200);
  t.not(beta.headers.etag, etag);
  // Another server with other kinds has another ETag.
  const other = await appFor([gadget]);
  t.teardown(() => other.close());
  const res = await other.inject({ method: 'GET', url: '/apis', headers: { accept: V2 } });
  t.not(res.headers.etag, etag);
});

test('/apis/<group> and /apis/<group>/<version> serve APIGroup and APIResourceList', async (t) => {
  const app = await appFor();
  t.teardown(() => app.close());
  const group = await app.inject({ method: 'GET', url: '/apis/demo.example.com', headers: { accept: 'application/json, */*' } });
  t.is(group.statusCode, 200);
  t.deepEqual(group.json(), { kind: 'APIGroup', apiVersion: 'v1', ...LEGACY_GROUP_LIST.groups[0] });
  for (const gv of ['demo.example.com/v1beta1', 'demo.example.com/v1alpha1', 'things.example.org/v1']) {
    const res = await app.inject({ method: 'GET', url: `/apis/${gv}`, headers: { accept: 'application/json' } });
    t.is(res.statusCode, 200, gv);
    t.is(res.headers['content-type'], 'application/json');
    const [g, v] = gv.split('/');
    t.deepEqual(res.json(), apiResourceList(testKinds, g, v), gv);
  }
  // HEAD works like GET, without a body (the aggregator's probes may use either).
  const head = await app.inject({ method: 'HEAD', url: '/apis/demo.example.com/v1beta1' });
  t.is(head.statusCode, 200);
});

const notFoundCases = ['/api', '/apis/nope.example.com', '/apis/demo.example.com/v9', '/apis/nope.example.com/v1', '/apis/things.example.org/v1beta1'];
for (const path of notFoundCases) {
  test(`GET ${path} is a 404 NotFound Status`, async (t) => {
    const app = await appFor();
    t.teardown(() => app.close());
    const res = await app.inject({ method: 'GET', url: path, headers: { accept: CLIENT_GO_ACCEPT } });
    t.is(res.statusCode, 404);
    t.regex(String(res.headers['content-type']), /^application\/json/);
    const body = res.json();
    t.is(body.kind, 'Status');
    t.is(body.apiVersion, 'v1');
    t.is(body.status, 'Failure');
    t.is(body.reason, 'NotFound');
    t.is(body.code, 404);
  });
}

test('an Accept with nothing discovery can produce is a 406 NotAcceptable Status', async (t) => {
  const app = await appFor();
  t.teardown(() => app.close());
  for (const [url, accept] of [
    ['/apis', 'application/vnd.kubernetes.protobuf'],
    ['/apis', 'application/json;as=Table;v=v1;g=meta.k8s.io'],
    ['/apis/demo.example.com/v1beta1', 'application/vnd.kubernetes.protobuf'],
    ['/apis/demo.example.com', 'text/plain'],
  ]) {
    const res = await app.inject({ method: 'GET', url, headers: { accept } });
    t.is(res.statusCode, 406, `${url} ${accept}`);
    t.like(res.json(), { kind: 'Status', reason: 'NotAcceptable', code: 406 });
  }
});

// Latency (p99 ≤ 5 ms) is a benchmark figure, not a test assertion; this checks only that the
// answers are the precomputed ones: byte-identical bodies and one ETag per representation.
test('discovery answers are stable: identical bodies and ETags on repeated requests', async (t) => {
  const app = await appFor();
  t.teardown(() => app.close());
  for (const accept of [CLIENT_GO_ACCEPT, 'application/json']) {
    const first = await app.inject({ method: 'GET', url: '/apis', headers: { accept } });
    const second = await app.inject({ method: 'GET', url: '/apis', headers: { accept } });
    t.is(first.statusCode, 200);
    t.is(second.body, first.body);
    t.is(second.headers.etag, first.headers.etag);
  }
});

// ---- kubectl ----------------------------------------------------------------------------------

const kubectl = findKubectl();
if (!kubectl) {
  console.warn('discovery.test: kubectl not found on the PATH (set KUBECTL to use another binary): skipping the kubectl end-to-end tests');
  test.skip('kubectl reads discovery (kubectl not on the PATH)', () => {});
} else {
  test(`kubectl ${kubectl.version}: api-resources, api-versions and get --raw read our discovery`, async (t) => {
    const server = await startE2EServer(kubectl.bin, testKinds);
    t.teardown(() => server.stop());

    const resources = await server.kubectl(['api-resources']);
    t.is(resources.code, 0, resources.stderr);
    t.log(`kubectl api-resources:\n${resources.stdout}`);
    t.deepEqual(parseColumns(resources.stdout), [
      { NAME: 'gadgets', SHORTNAMES: 'gd,gdt', APIVERSION: 'demo.example.com/v1beta1', NAMESPACED: 'true', KIND: 'Gadget' },
      { NAME: 'gizmos', SHORTNAMES: '', APIVERSION: 'demo.example.com/v1beta1', NAMESPACED: 'false', KIND: 'Gizmo' },
      { NAME: 'things', SHORTNAMES: 'th', APIVERSION: 'things.example.org/v1', NAMESPACED: 'true', KIND: 'Thing' },
    ]);
    t.is(resources.stderr, '', 'no discovery errors (the 404 on /api is tolerated)');
    // kubectl used aggregated discovery: one request for /api, one for /apis, no per-GV fetches.
    const discovery = server.requests.filter((r) => r.url.startsWith('/api'));
    t.true(discovery.some((r) => r.url.startsWith('/apis?') && r.accept?.includes('as=APIGroupDiscoveryList')));
    t.false(discovery.some((r) => r.url.startsWith('/apis/')), 'no legacy per-group-version fallback');

    const wide = await server.kubectl(['api-resources', '-o', 'wide', '--api-group', 'demo.example.com']);
    t.is(wide.code, 0, wide.stderr);
    const rows = parseColumns(wide.stdout);
    t.deepEqual(
      rows.map((r) => [r.NAME, r.VERBS, r.CATEGORIES]),
      [
        ['gadgets', 'create,delete,deletecollection,get,list,patch,update,watch', 'all,demo'],
        ['gizmos', 'create,delete,deletecollection,get,list,patch,update,watch', ''],
      ],
    );

    const categories = await server.kubectl(['api-resources', '--categories', 'demo', '-o', 'name']);
    t.is(categories.code, 0, categories.stderr);
    t.deepEqual(categories.stdout.trim().split('\n'), ['gadgets.demo.example.com', 'things.things.example.org']);

    const versions = await server.kubectl(['api-versions']);
    t.is(versions.code, 0, versions.stderr);
    t.log(`kubectl api-versions:\n${versions.stdout}`);
    t.deepEqual(versions.stdout.trim().split('\n'), ['demo.example.com/v1alpha1', 'demo.example.com/v1beta1', 'things.example.org/v1']);

    const raw = await server.kubectl(['get', '--raw', '/apis']);
    t.is(raw.code, 0, raw.stderr);
    t.deepEqual(JSON.parse(raw.stdout), LEGACY_GROUP_LIST);

    const rawGV = await server.kubectl(['get', '--raw', '/apis/demo.example.com/v1beta1']);
    t.is(rawGV.code, 0, rawGV.stderr);
    t.deepEqual(JSON.parse(rawGV.stdout), apiResourceList(testKinds, 'demo.example.com', 'v1beta1'));

    const missing = await server.kubectl(['get', '--raw', '/apis/nope.example.com']);
    t.not(missing.code, 0);
    t.regex(missing.stderr, /NotFound/);
  });
}
