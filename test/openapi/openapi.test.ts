import test from 'ava';
import Fastify from 'fastify';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { pathNotFound } from '../../apiserver/errors.js';
import { sendStatus } from '../../apiserver/response.js';
import type { KindDeclaration } from '../../registry/kind.js';
import { buildV2 as buildV2Doc, buildV3 as buildV3Doc, definitionName, DEFAULT_PATCH_CONTENT_TYPES, routesOf } from '../../openapi/build.js';
import { installOpenAPI, v3URL } from '../../openapi/index.js';
import { fromZod, toV2, toV3, walkSchema, type JsonSchema } from '../../openapi/schema.js';
import { gadget, gizmo, testKinds, thing } from './fixtures.js';
import { findKubectl } from '../helpers/kubectl.js';
import { startE2EServer } from './kubectl.js';

type Doc = Record<string, any>;

const buildV2 = (...args: Parameters<typeof buildV2Doc>) => buildV2Doc(...args) as Doc;
const buildV3 = (...args: Parameters<typeof buildV3Doc>) => buildV3Doc(...args) as Doc;
const sha512 = (s: string) => createHash('sha512').update(s).digest('hex').toUpperCase();
const METHODS = ['get', 'put', 'post', 'patch', 'delete'];

async function appFor(kinds: KindDeclaration[] = testKinds, options?: Parameters<typeof installOpenAPI>[2]) {
  const app = Fastify();
  app.setNotFoundHandler((_req, reply) => sendStatus(reply, pathNotFound().status));
  const docs = installOpenAPI(app, kinds, options);
  await app.ready();
  return { app, docs };
}

// ---- what every kind must publish -------------------------------------------------------------

interface ExpectedOp {
  path: string;
  method: string;
  action: string;
  kind: string;
  group: string;
  version: string;
}

/** The operations Kubernetes publishes for a CRD-like kind, written out independently of build.ts. */
function expectedOperations(k: KindDeclaration, version: string): ExpectedOp[] {
  const base = `/apis/${k.group}/${version}`;
  const coll = k.namespaced ? `${base}/namespaces/{namespace}/${k.plural}` : `${base}/${k.plural}`;
  const item = `${coll}/{name}`;
  const own = { kind: k.kind, group: k.group, version };
  const scale = { kind: 'Scale', group: 'autoscaling', version: 'v1' };
  const ops: ExpectedOp[] = [
    { path: coll, method: 'get', action: 'list', ...own },
    { path: coll, method: 'post', action: 'post', ...own },
    { path: coll, method: 'delete', action: 'deletecollection', ...own },
    { path: item, method: 'get', action: 'get', ...own },
    { path: item, method: 'put', action: 'put', ...own },
    { path: item, method: 'patch', action: 'patch', ...own },
    { path: item, method: 'delete', action: 'delete', ...own },
    { path: `${item}/status`, method: 'get', action: 'get', ...own },
    { path: `${item}/status`, method: 'put', action: 'put', ...own },
    { path: `${item}/status`, method: 'patch', action: 'patch', ...own },
  ];
  if (k.namespaced) ops.push({ path: `${base}/${k.plural}`, method: 'get', action: 'list', ...own });
  if (k.scale) {
    ops.push(
      { path: `${item}/scale`, method: 'get', action: 'get', ...scale },
      { path: `${item}/scale`, method: 'put', action: 'put', ...scale },
      { path: `${item}/scale`, method: 'patch', action: 'patch', ...scale },
    );
  }
  return ops;
}

function publishedOperations(doc: Doc): ExpectedOp[] {
  const out: ExpectedOp[] = [];
  for (const [path, item] of Object.entries<Doc>(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const gvk = op['x-kubernetes-group-version-kind'];
      out.push({ path, method, action: op['x-kubernetes-action'], kind: gvk?.kind, group: gvk?.group, version: gvk?.version });
    }
  }
  return out;
}

const byKey = (a: ExpectedOp, b: ExpectedOp) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`);

test('v2 lists every path and verb of every kind and version, each with its GVK and action', (t) => {
  const doc = buildV2(testKinds);
  const expected = testKinds.flatMap((k) => k.versions.flatMap((v) => expectedOperations(k, v)));
  t.deepEqual(publishedOperations(doc).sort(byKey), expected.sort(byKey));
  t.is(doc.swagger, '2.0');
});

for (const [group, version] of [
  ['demo.example.com', 'v1beta1'],
  ['demo.example.com', 'v1alpha1'],
  ['things.example.org', 'v1'],
]) {
  test(`v3 ${group}/${version} lists exactly that group version's paths`, (t) => {
    const doc = buildV3(testKinds, group, version);
    const expected = testKinds.filter((k) => k.group === group && k.versions.includes(version)).flatMap((k) => expectedOperations(k, version));
    t.deepEqual(publishedOperations(doc).sort(byKey), expected.sort(byKey));
    t.is(doc.openapi, '3.0.0');
  });
}

/** cli-runtime's query_param_verifier_v3: the first PATCH for the GVK decides. */
function supportsFieldValidationV3(doc: Doc, gvk: { group: string; version: string; kind: string }): boolean {
  for (const item of Object.values<Doc>(doc.paths)) {
    const op = item.patch;
    if (!op) continue;
    const ext = op['x-kubernetes-group-version-kind'];
    if (ext?.group !== gvk.group || ext?.version !== gvk.version || ext?.kind !== gvk.kind) continue;
    return (op.parameters as Doc[]).some((p) => p.name === 'fieldValidation' && p.in === 'query');
  }
  return false;
}

test('kubectl finds fieldValidation on PATCH (v3 and v2), and on every write', (t) => {
  for (const k of testKinds) {
    for (const version of k.versions) {
      const v3 = buildV3(testKinds, k.group, version);
      t.true(supportsFieldValidationV3(v3, { group: k.group, version, kind: k.kind }), `${k.kind} ${version}`);
    }
  }
  for (const doc of [buildV2(testKinds), ...[['demo.example.com', 'v1beta1'], ['things.example.org', 'v1']].map(([g, v]) => buildV3(testKinds, g, v))]) {
    for (const [path, item] of Object.entries<Doc>(doc.paths)) {
      for (const method of ['post', 'put', 'patch']) {
        if (!item[method]) continue;
        const names = (item[method].parameters as Doc[]).filter((p) => p.in === 'query').map((p) => p.name);
        for (const want of ['fieldValidation', 'dryRun', 'fieldManager']) t.true(names.includes(want), `${method} ${path} ${want}`);
        if (method === 'patch') t.true(names.includes('force'));
      }
    }
  }
});

test('list operations carry the list and watch parameters', (t) => {
  const wanted = [
    'labelSelector',
    'fieldSelector',
    'limit',
    'continue',
    'resourceVersion',
    'resourceVersionMatch',
    'watch',
    'allowWatchBookmarks',
    'sendInitialEvents',
    'timeoutSeconds',
  ];
  for (const doc of [buildV2(testKinds), buildV3(testKinds, 'demo.example.com', 'v1beta1')]) {
    for (const [path, item] of Object.entries<Doc>(doc.paths)) {
      if (item.get?.['x-kubernetes-action'] !== 'list') continue;
      const names = (item.get.parameters as Doc[]).map((p) => p.name);
      for (const w of wanted) t.true(names.includes(w), `${path} ${w}`);
      t.true((item.parameters as Doc[]).some((p) => p.name === 'pretty'));
    }
  }
  // Path parameters are declared where they are used, and are required.
  const v2 = buildV2(testKinds);
  const item = v2.paths['/apis/demo.example.com/v1beta1/namespaces/{namespace}/gadgets/{name}'];
  t.deepEqual(
    (item.parameters as Doc[]).filter((p) => p.in === 'path').map((p) => [p.name, p.required]),
    [
      ['name', true],
      ['namespace', true],
    ],
  );
  t.false('namespace' in Object.fromEntries((v2.paths['/apis/demo.example.com/v1beta1/gizmos/{name}'].parameters as Doc[]).map((p) => [p.name, p])));
});

test('PATCH bodies list the configured patch types (kubectl picks SMP only if listed)', (t) => {
  const v3 = buildV3(testKinds, 'demo.example.com', 'v1beta1');
  const v2 = buildV2(testKinds);
  const itemPath = '/apis/demo.example.com/v1beta1/namespaces/{namespace}/gadgets/{name}';
  t.deepEqual(Object.keys(v3.paths[itemPath].patch.requestBody.content), DEFAULT_PATCH_CONTENT_TYPES);
  t.deepEqual(DEFAULT_PATCH_CONTENT_TYPES, [
    'application/json-patch+json',
    'application/merge-patch+json',
    'application/strategic-merge-patch+json',
    'application/apply-patch+yaml',
  ]);
  t.deepEqual(v2.paths[itemPath].patch.consumes, DEFAULT_PATCH_CONTENT_TYPES);
  t.deepEqual(v3.paths[itemPath].patch.requestBody.content['application/merge-patch+json'].schema, {
    $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch',
  });
  const grown = ['application/json-patch+json', 'application/merge-patch+json'];
  const v3b = buildV3(testKinds, 'demo.example.com', 'v1beta1', { patchContentTypes: grown });
  t.deepEqual(Object.keys(v3b.paths[itemPath].patch.requestBody.content), grown);
  t.deepEqual(Object.keys(v3b.paths[`${itemPath}/status`].patch.requestBody.content), grown);
  t.deepEqual(buildV2(testKinds, { patchContentTypes: grown }).paths[`${itemPath}/scale`].patch.consumes, grown);
});

test('definitions are named like CRD definitions and carry their GVK', (t) => {
  t.is(definitionName('storm.apache.org', 'v1beta1', 'StormTopology'), 'org.apache.storm.v1beta1.StormTopology');
  t.is(definitionName('pvc-chonker.io', 'v1alpha1', 'PVCPolicy'), 'io.pvc-chonker.v1alpha1.PVCPolicy');
  t.is(definitionName('hourglass.eigenlayer.io', 'v1alpha1', 'Performer'), 'io.eigenlayer.hourglass.v1alpha1.Performer');

  const v2 = buildV2(testKinds);
  const names = Object.keys(v2.definitions);
  for (const n of [
    'com.example.demo.v1beta1.Gadget',
    'com.example.demo.v1beta1.GadgetList',
    'com.example.demo.v1alpha1.Gadget',
    'com.example.demo.v1beta1.Gizmo',
    'org.example.things.v1.Thing',
    'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
    'io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta',
    'io.k8s.apimachinery.pkg.apis.meta.v1.Status',
    'io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent',
    'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions',
    'io.k8s.apimachinery.pkg.apis.meta.v1.Time',
    'io.k8s.apimachinery.pkg.apis.meta.v1.Patch',
    'io.k8s.api.autoscaling.v1.Scale',
  ]) {
    t.true(names.includes(n), n);
  }
  t.deepEqual(v2.definitions['com.example.demo.v1beta1.Gadget']['x-kubernetes-group-version-kind'], [
    { group: 'demo.example.com', kind: 'Gadget', version: 'v1beta1' },
  ]);
  t.deepEqual(v2.definitions['com.example.demo.v1beta1.GadgetList']['x-kubernetes-group-version-kind'], [
    { group: 'demo.example.com', kind: 'GadgetList', version: 'v1beta1' },
  ]);
  t.deepEqual(v2.definitions['io.k8s.api.autoscaling.v1.Scale']['x-kubernetes-group-version-kind'], [{ group: 'autoscaling', kind: 'Scale', version: 'v1' }]);

  // The object: apiVersion, kind, metadata → ObjectMeta, spec and status from zod.
  const gadgetV2 = v2.definitions['com.example.demo.v1beta1.Gadget'];
  t.deepEqual(Object.keys(gadgetV2.properties), ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
  t.is(gadgetV2.description, gadget.description);
  t.is(gadgetV2.properties.metadata.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
  const list = v2.definitions['com.example.demo.v1beta1.GadgetList'];
  t.deepEqual(list.required, ['items']);
  t.deepEqual(list.properties.items.items, { $ref: '#/definitions/com.example.demo.v1beta1.Gadget' });
  t.is(list.properties.metadata.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta');

  // v3 wraps refs that carry a description in allOf, as kube-openapi does.
  const v3 = buildV3(testKinds, 'demo.example.com', 'v1beta1');
  const gadgetV3 = v3.components.schemas['com.example.demo.v1beta1.Gadget'];
  t.deepEqual(gadgetV3.properties.metadata.allOf, [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }]);
  // Only the kinds of the group version (and what they reference) are in its document.
  t.false('org.example.things.v1.Thing' in v3.components.schemas);
  t.false('com.example.demo.v1alpha1.Gadget' in v3.components.schemas);
  t.false('io.k8s.api.autoscaling.v1.Scale' in buildV3(testKinds, 'things.example.org', 'v1').components.schemas);
});

test('spec and status schemas: defaults, enums, formats, int-or-string, preserve-unknown-fields, nullable', (t) => {
  const v3 = buildV3(testKinds, 'demo.example.com', 'v1beta1').components.schemas['com.example.demo.v1beta1.Gadget'];
  const v2 = buildV2(testKinds).definitions['com.example.demo.v1beta1.Gadget'];
  const spec3 = v3.properties.spec;
  const spec2 = v2.properties.spec;

  t.is(spec3.description, 'The desired state of a gadget.');
  t.deepEqual(spec3.required, ['owner'], 'fields with defaults are optional on input');
  t.deepEqual(spec3.properties.replicas, { default: 1, description: 'Number of gadget pods.', type: 'integer', minimum: 0, format: 'int32' });
  t.deepEqual(spec3.properties.mode, { default: 'Safe', type: 'string', enum: ['Fast', 'Safe'], description: 'How the gadget runs: Fast or Safe.' });
  t.deepEqual(spec3.properties.sizes.items, { type: 'integer', minimum: 1, format: 'int64' });
  t.is(spec3.properties.window.properties.start.format, 'date-time');
  t.deepEqual(spec3.properties.window.properties.hours, {
    default: 2,
    description: 'Length of the window in hours.',
    type: 'number',
    minimum: 0,
    exclusiveMinimum: true,
  });

  // int-or-string: v3 as controller-gen writes it; v2 untyped with the extension, as Kubernetes does.
  t.deepEqual(spec3.properties.port, {
    description: 'Port of the gadget, a number or a named port.',
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    'x-kubernetes-int-or-string': true,
  });
  t.deepEqual(spec2.properties.port, { description: 'Port of the gadget, a number or a named port.', 'x-kubernetes-int-or-string': true });
  t.true(spec3.properties.memory['x-kubernetes-int-or-string']);
  t.is(typeof spec3.properties.memory.pattern, 'string', 'the quantity pattern is kept');
  t.false('type' in spec2.properties.memory);
  t.false('anyOf' in spec2.properties.memory);

  // Opaque structures.
  t.deepEqual(spec3.properties.affinity, {
    type: 'object',
    description: 'Scheduling constraints (core/v1 Affinity).',
    'x-kubernetes-preserve-unknown-fields': true,
  });
  t.deepEqual(spec2.properties.affinity, spec3.properties.affinity);

  // Nullable: OpenAPI 3.0 `nullable`; untyped in v2 (apiextensions' ToStructuralOpenAPIV2).
  t.deepEqual(spec3.properties.note, { nullable: true, type: 'string', description: 'A free-form note; null clears it.' });
  t.deepEqual(spec2.properties.note, { description: 'A free-form note; null clears it.' });

  // Shared building blocks keep their descriptions; conditions are an array of objects.
  t.is(spec3.properties.selector.properties.matchExpressions.items.properties.operator.enum.length, 4);
  t.is(v3.properties.status.properties.conditions.items.properties.status.type, 'string');
  t.deepEqual(v3.properties.status.properties.conditions.items.required, ['type', 'status']);
});

// ---- structural checks: what kubectl's parsers accept ------------------------------------------

/** The rules of kube-openapi `pkg/util/proto` (kubectl's v2 parser; one bad schema fails the document). */
function v2Problems(doc: Doc): string[] {
  const problems: string[] = [];
  const defs = doc.definitions as Record<string, JsonSchema>;
  const check = (s: Doc, where: string) => {
    if (typeof s.$ref === 'string') {
      if (!s.$ref.startsWith('#/definitions/')) problems.push(`${where}: ref ${s.$ref}`);
      else if (!(s.$ref.slice('#/definitions/'.length) in defs)) problems.push(`${where}: dangling ref ${s.$ref}`);
      if (s.type !== undefined || s.properties !== undefined) problems.push(`${where}: ref with type or properties`);
      return;
    }
    for (const k of ['anyOf', 'oneOf', 'allOf', 'not', 'nullable', '$schema', 'const', 'prefixItems']) if (k in s) problems.push(`${where}: has ${k}`);
    if (s.additionalProperties === false) problems.push(`${where}: additionalProperties false`);
    if (Array.isArray(s.type)) problems.push(`${where}: multiple types`);
    if (s.type === 'array' && (typeof s.items !== 'object' || Array.isArray(s.items))) problems.push(`${where}: array without one items schema`);
    if (s.type !== undefined && !['object', 'array', 'string', 'number', 'integer', 'boolean'].includes(s.type)) problems.push(`${where}: type ${s.type}`);
    if (s['x-kubernetes-int-or-string'] && s.type !== undefined) problems.push(`${where}: typed int-or-string`);
    if (s['x-kubernetes-preserve-unknown-fields'] && (s.properties || s.items)) problems.push(`${where}: preserve-unknown-fields with fields`);
  };
  for (const [name, def] of Object.entries(defs)) walkSchema(def, (node, path) => check(node, `${name}${path}`));
  for (const [path, item] of Object.entries<Doc>(doc.paths)) {
    for (const method of METHODS) {
      for (const p of (item[method]?.parameters ?? []) as Doc[]) {
        if (p.schema) check(p.schema, `${method} ${path} body`);
      }
      for (const [code, res] of Object.entries<Doc>(item[method]?.responses ?? {})) if (res.schema) check(res.schema, `${method} ${path} ${code}`);
    }
  }
  return problems;
}

/** OpenAPI 3.0 as kube-openapi's spec3 and kubectl explain read it. */
function v3Problems(doc: Doc): string[] {
  const problems: string[] = [];
  const schemas = doc.components.schemas as Record<string, JsonSchema>;
  const text = JSON.stringify(doc);
  for (const m of text.matchAll(/"\$ref":"([^"]+)"/g)) {
    if (!m[1].startsWith('#/components/schemas/')) problems.push(`ref ${m[1]}`);
    else if (!(m[1].slice('#/components/schemas/'.length) in schemas)) problems.push(`dangling ref ${m[1]}`);
  }
  for (const [name, def] of Object.entries(schemas)) {
    walkSchema(def, (s: Doc, path) => {
      const where = `${name}${path}`;
      if (typeof s.$ref === 'string' && Object.keys(s).length > 1) problems.push(`${where}: $ref with siblings`);
      if (Array.isArray(s.type) || s.type === 'null') problems.push(`${where}: JSON-schema null type`);
      for (const k of ['$schema', 'definitions', '$defs', 'const', 'prefixItems', 'examples']) if (k in s) problems.push(`${where}: has ${k}`);
      if (s.additionalProperties === false) problems.push(`${where}: additionalProperties false`);
      if (s.type === 'array' && typeof s.items !== 'object') problems.push(`${where}: array without items`);
    });
  }
  return problems;
}

test('the documents pass the structural rules of kubectl’s v2 and v3 readers', (t) => {
  t.deepEqual(v2Problems(buildV2(testKinds)), []);
  for (const [g, v] of [
    ['demo.example.com', 'v1beta1'],
    ['demo.example.com', 'v1alpha1'],
    ['things.example.org', 'v1'],
  ]) {
    t.deepEqual(v3Problems(buildV3(testKinds, g, v)), [], `${g}/${v}`);
  }
});

test('the seven declared kinds build valid documents', async (t) => {
  let kinds: KindDeclaration[];
  try {
    ({ allKinds: kinds } = (await import('../../registry/kinds.js')) as { allKinds: KindDeclaration[] });
  } catch (err) {
    t.log(`registry/kinds.js did not load (${String(err)}); covered by the fixtures only`);
    t.pass();
    return;
  }
  t.true(kinds.length > 0);
  const v2 = buildV2(kinds);
  t.deepEqual(v2Problems(v2), []);
  const gvs = new Set(kinds.flatMap((k) => k.versions.map((v) => `${k.group}/${v}`)));
  for (const gv of gvs) {
    const [g, v] = gv.split('/');
    const doc = buildV3(kinds, g, v);
    t.deepEqual(v3Problems(doc), [], gv);
    for (const k of kinds.filter((x) => x.group === g && x.versions.includes(v))) {
      t.true(supportsFieldValidationV3(doc, { group: g, version: v, kind: k.kind }), `${k.kind}`);
      t.truthy(doc.components.schemas[definitionName(g, v, k.kind)], k.kind);
    }
  }
  t.is(routesOf(kinds).length > 0, true);
});

// ---- zod conversion units ---------------------------------------------------------------------

const conversionCases: { name: string; schema: z.ZodType; v3: JsonSchema; v2?: JsonSchema }[] = [
  {
    name: 'nullable object',
    schema: z.strictObject({ a: z.string() }).nullable(),
    v3: { nullable: true, type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
    v2: {},
  },
  {
    name: 'union of string and object',
    schema: z.union([z.string(), z.strictObject({ x: z.number() })]),
    v3: { anyOf: [{ type: 'string' }, { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] }] },
    v2: {},
  },
  {
    name: 'discriminated union of objects (v2 keeps the union of fields)',
    schema: z.discriminatedUnion('k', [z.strictObject({ k: z.literal('a') }), z.strictObject({ k: z.literal('b'), y: z.string() })]),
    v3: {
      oneOf: [
        { type: 'object', properties: { k: { type: 'string', enum: ['a'] } }, required: ['k'] },
        { type: 'object', properties: { k: { type: 'string', enum: ['b'] }, y: { type: 'string' } }, required: ['k', 'y'] },
      ],
    },
    v2: { type: 'object', properties: { k: { type: 'string', enum: ['b'] }, y: { type: 'string' } } },
  },
  {
    name: 'record of unknown',
    schema: z.record(z.string(), z.unknown()),
    v3: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  },
  {
    name: 'loose object keeps its fields in v3 only',
    schema: z.looseObject({ a: z.string() }),
    v3: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], 'x-kubernetes-preserve-unknown-fields': true },
    v2: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  },
  {
    name: 'literal',
    schema: z.literal('x'),
    v3: { type: 'string', enum: ['x'] },
  },
  {
    name: 'array of int32',
    schema: z.array(z.int32()),
    v3: { type: 'array', items: { type: 'integer', format: 'int32' } },
  },
  {
    name: 'transform (input side)',
    schema: z.string().transform((s) => s.length),
    v3: { type: 'string' },
  },
];

for (const c of conversionCases) {
  test(`zod → OpenAPI: ${c.name}`, (t) => {
    const neutral = fromZod(c.schema, { definitionPrefix: 'x', definitions: {} });
    t.deepEqual(toV3(neutral), c.v3);
    t.deepEqual(toV2(neutral), c.v2 ?? c.v3);
  });
}

test('zod → OpenAPI: schemas with a meta id become prefixed definitions', (t) => {
  const definitions: Record<string, JsonSchema> = {};
  const part = z.strictObject({ q: z.string() }).meta({ id: 'Part', description: 'A part.' });
  const neutral = fromZod(z.strictObject({ a: part, b: part }), { definitionPrefix: 'com.example.v1.Thing', definitions });
  t.deepEqual(definitions, { 'com.example.v1.Thing.Part': { type: 'object', properties: { q: { type: 'string' } }, required: ['q'], description: 'A part.' } });
  t.deepEqual((neutral.properties as Doc).a, { $ref: '#/definitions/com.example.v1.Thing.Part' });
  t.deepEqual((toV3(neutral).properties as Doc).a, { $ref: '#/components/schemas/com.example.v1.Thing.Part' });
  z.globalRegistry.remove(part);
});

// ---- HTTP -------------------------------------------------------------------------------------

test('/openapi/v3 lists every group version with a hash URL', async (t) => {
  const { app, docs } = await appFor();
  t.teardown(() => app.close());
  const res = await app.inject({ method: 'GET', url: '/openapi/v3', headers: { accept: 'application/json, */*' } });
  t.is(res.statusCode, 200);
  t.is(res.headers['content-type'], 'application/json');
  const root = res.json();
  t.deepEqual(Object.keys(root), ['paths']);
  t.deepEqual(Object.keys(root.paths).sort(), ['apis/demo.example.com/v1alpha1', 'apis/demo.example.com/v1beta1', 'apis/things.example.org/v1']);
  for (const [key, entry] of Object.entries<Doc>(root.paths)) {
    const gv = key.slice('apis/'.length);
    const doc = await app.inject({ method: 'GET', url: `/openapi/v3/${key}` });
    t.is(entry.serverRelativeURL, `/openapi/v3/${key}?hash=${sha512(doc.body)}`);
    t.is(entry.serverRelativeURL, v3URL(gv, docs.v3.get(gv)!.hash));
    t.regex(entry.serverRelativeURL, /\?hash=[0-9A-F]{128}$/);
  }
});

test('/openapi/v3/apis/<g>/<v>: ETag, Vary, immutable with the current hash, 301 with a stale one, 304', async (t) => {
  const { app } = await appFor();
  t.teardown(() => app.close());
  const root = (await app.inject({ method: 'GET', url: '/openapi/v3' })).json();
  const current = root.paths['apis/demo.example.com/v1beta1'].serverRelativeURL as string;
  const plain = '/openapi/v3/apis/demo.example.com/v1beta1';
  const hash = current.split('hash=')[1];

  const noHash = await app.inject({ method: 'GET', url: plain, headers: { accept: 'application/json' } });
  t.is(noHash.statusCode, 200);
  t.is(noHash.headers['content-type'], 'application/json');
  t.is(noHash.headers.etag, `"${hash}"`);
  t.is(noHash.headers.vary, 'Accept');
  t.is(noHash.headers['cache-control'], undefined);
  t.deepEqual(noHash.json(), buildV3(testKinds, 'demo.example.com', 'v1beta1'));

  const before = Date.now();
  const hashed = await app.inject({ method: 'GET', url: current, headers: { accept: 'application/json' } });
  t.is(hashed.statusCode, 200);
  t.is(hashed.headers['cache-control'], 'public, immutable');
  t.is(hashed.headers.vary, 'Accept');
  const expires = Date.parse(String(hashed.headers.expires));
  t.true(Math.abs(expires - (before + 365 * 86_400_000)) < 2 * 86_400_000, `Expires ${hashed.headers.expires} is a year ahead`);
  t.is(hashed.body, noHash.body);

  const stale = await app.inject({ method: 'GET', url: `${plain}?hash=0123ABCD`, headers: { accept: 'application/json' } });
  t.is(stale.statusCode, 301);
  t.is(stale.headers.location, current);
  t.is(stale.headers['cache-control'], undefined);

  for (const url of [plain, current]) {
    const cached = await app.inject({ method: 'GET', url, headers: { accept: 'application/json', 'if-none-match': `"${hash}"` } });
    t.is(cached.statusCode, 304, url);
    t.is(cached.body, '');
    t.is(cached.headers.etag, `"${hash}"`);
  }
  const changed = await app.inject({ method: 'GET', url: plain, headers: { 'if-none-match': '"old"' } });
  t.is(changed.statusCode, 200);
});

test('OpenAPI Accept negotiation: JSON and wildcards are served, protobuf alone is a 406 Status', async (t) => {
  const { app } = await appFor();
  t.teardown(() => app.close());
  const cases: { url: string; accept?: string; status: number }[] = [
    { url: '/openapi/v3/apis/demo.example.com/v1beta1', status: 200 },
    { url: '/openapi/v3/apis/demo.example.com/v1beta1', accept: '*/*', status: 200 },
    { url: '/openapi/v3/apis/demo.example.com/v1beta1', accept: 'application/*', status: 200 },
    { url: '/openapi/v3/apis/demo.example.com/v1beta1', accept: 'application/com.github.proto-openapi.spec.v3.v1.0+protobuf, application/json', status: 200 },
    { url: '/openapi/v3/apis/demo.example.com/v1beta1', accept: 'application/com.github.proto-openapi.spec.v3.v1.0+protobuf', status: 406 },
    { url: '/openapi/v3/apis/demo.example.com/v1beta1', accept: 'application/json;q=0', status: 406 },
    { url: '/openapi/v2', accept: 'application/json', status: 200 },
    { url: '/openapi/v2', accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf', status: 406 },
    { url: '/openapi/v3', accept: 'text/html', status: 406 },
  ];
  for (const c of cases) {
    const res = await app.inject({ method: 'GET', url: c.url, headers: c.accept ? { accept: c.accept } : {} });
    t.is(res.statusCode, c.status, `${c.url} ${c.accept}`);
    t.is(res.headers.vary, 'Accept');
    if (c.status === 406) t.like(res.json(), { kind: 'Status', apiVersion: 'v1', reason: 'NotAcceptable', code: 406 });
  }
});

test('/openapi/v2 has an ETag and answers 304; unknown group versions are 404', async (t) => {
  const { app } = await appFor();
  t.teardown(() => app.close());
  const v2 = await app.inject({ method: 'GET', url: '/openapi/v2', headers: { accept: 'application/json' } });
  t.is(v2.statusCode, 200);
  t.is(v2.headers.etag, `"${sha512(v2.body)}"`);
  t.deepEqual(v2.json(), buildV2(testKinds));
  const again = await app.inject({ method: 'GET', url: '/openapi/v2', headers: { 'if-none-match': String(v2.headers.etag) } });
  t.is(again.statusCode, 304);
  for (const url of ['/openapi/v3/apis/nope.example.com/v1', '/openapi/v3/apis/demo.example.com/v9', '/openapi/v3/apis/demo.example.com/v9?hash=AB']) {
    const res = await app.inject({ method: 'GET', url });
    t.is(res.statusCode, 404, url);
    t.like(res.json(), { kind: 'Status', reason: 'NotFound', code: 404 });
  }
});

test('installOpenAPI passes the patch types through to what it serves', async (t) => {
  const types = ['application/merge-patch+json', 'application/strategic-merge-patch+json'];
  const { app } = await appFor([thing], { patchContentTypes: types });
  t.teardown(() => app.close());
  const doc = (await app.inject({ method: 'GET', url: '/openapi/v3/apis/things.example.org/v1' })).json();
  t.deepEqual(Object.keys(doc.paths['/apis/things.example.org/v1/namespaces/{namespace}/things/{name}'].patch.requestBody.content), types);
});

// ---- kubectl ----------------------------------------------------------------------------------

const kubectl = findKubectl();
if (!kubectl) {
  console.warn('openapi.test: kubectl not found on the PATH (set KUBECTL to use another binary): skipping the kubectl end-to-end tests');
  test.skip('kubectl explain and field validation (kubectl not on the PATH)', () => {});
} else {
  test(`kubectl ${kubectl.version}: explain reads our OpenAPI v3`, async (t) => {
    const server = await startE2EServer(kubectl.bin, testKinds);
    t.teardown(() => server.stop());
    const explain = async (...args: string[]) => {
      const res = await server.kubectl(['explain', ...args]);
      t.is(res.code, 0, `explain ${args.join(' ')}: ${res.stderr}`);
      t.log(`kubectl explain ${args.join(' ')}:\n${res.stdout}`);
      return res.stdout;
    };

    t.is(
      await explain('gadgets.spec.replicas'),
      'GROUP:      demo.example.com\nKIND:       Gadget\nVERSION:    v1beta1\n\nFIELD: replicas <integer>\n\n\nDESCRIPTION:\n    Number of gadget pods.\n    \n\n',
    );
    t.is(
      await explain('gd.spec.mode'),
      'GROUP:      demo.example.com\nKIND:       Gadget\nVERSION:    v1beta1\n\nFIELD: mode <string>\nENUM:\n    Fast\n    Safe\n\nDESCRIPTION:\n    How the gadget runs: Fast or Safe.\n    \n\n',
    );
    const spec = await explain('gadgets.spec');
    t.true(spec.includes('FIELD: spec <Object>\n'));
    t.true(spec.includes('DESCRIPTION:\n    The desired state of a gadget.\n'));
    t.true(spec.includes('  owner\t<string> -required-\n    Who owns the gadget.\n'));
    t.true(spec.includes('  affinity\t<Object>\n    Scheduling constraints (core/v1 Affinity).\n'));
    t.true(spec.includes('  sizes\t<[]integer>\n    Sizes, in bytes.\n'));
    t.true(spec.includes('  mode\t<string>\n  enum: Fast, Safe\n'));

    const top = await explain('gizmos');
    t.true(top.startsWith('GROUP:      demo.example.com\nKIND:       Gizmo\nVERSION:    v1beta1\n\nDESCRIPTION:\n    Gizmo is a cluster-scoped demonstration kind.\n'));
    for (const field of ['apiVersion\t<string>', 'kind\t<string>', 'metadata\t<ObjectMeta>', 'spec\t<Object>', 'status\t<Object>']) {
      t.true(top.includes(`  ${field}\n`), field);
    }
    const name = await explain('gizmos.metadata.name');
    t.true(name.includes('FIELD: name <string>\n'));
    t.true(name.includes('Name must be unique within a namespace.'));

    const alpha = await explain('gadgets.spec.window.hours', '--api-version=demo.example.com/v1alpha1');
    t.true(alpha.startsWith('GROUP:      demo.example.com\nKIND:       Gadget\nVERSION:    v1alpha1\n\nFIELD: hours <number>\n'));
    t.true(alpha.includes('Length of the window in hours.'));

    const missing = await server.kubectl(['explain', 'gadgets.spec.nope']);
    t.not(missing.code, 0);
    t.regex(missing.stderr, /field "nope" does not exist/);
    // explain used v3 only.
    t.false(server.requests.some((r) => r.url.startsWith('/openapi/v2')));
  });

  test(`kubectl ${kubectl.version}: sees server-side field validation in OpenAPI v3`, async (t) => {
    const server = await startE2EServer(kubectl.bin, testKinds);
    t.teardown(() => server.stop());
    const manifest = `${server.dir}/gadget.yaml`;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(manifest, 'apiVersion: demo.example.com/v1beta1\nkind: Gadget\nmetadata:\n  name: g1\n  namespace: default\nspec:\n  owner: me\n  bogus: 1\n');
    // Only discovery and OpenAPI are served here, so the create itself is a 404; what matters is
    // that kubectl asked the server to validate (fieldValidation=Strict) instead of validating
    // client-side from /openapi/v2.
    const res = await server.kubectl(['create', '-f', manifest]);
    t.not(res.code, 0);
    const post = server.requests.find((r) => r.method === 'POST');
    t.truthy(post, 'kubectl sent the create');
    t.regex(post!.url, /^\/apis\/demo\.example\.com\/v1beta1\/namespaces\/default\/gadgets\?/);
    t.regex(post!.url, /fieldValidation=Strict/);
    t.false(server.requests.some((r) => r.url.startsWith('/openapi/v2')), 'no client-side validation');
    t.log(`kubectl create -f: ${res.stderr.trim()}; requests: ${server.requests.map((r) => `${r.method} ${r.url.split('?')[0]}`).join(', ')}`);
  });
}
