// Content negotiation (table_conversion.go, TestTransform): Table and PartialObjectMetadata(List)
// for get, list and watch, YAML, 406 for unacceptable Accept, 415 for unknown body types,
// 413 for bodies over 3 MiB, 400 for malformed bodies.
import type { ExecutionContext } from 'ava';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { Ctx, KindCase } from '../harness.js';
import { expectOk, expectStatus, summarize } from '../client.js';
import { names } from '../objects.js';

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';
const KUBECTL_GET = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const POM = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';
const METADATA_CLIENT_LIST =
  'application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
const METADATA_CLIENT_GET =
  'application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

/** Asserts the column definitions are the kind's declared columns. */
function checkColumns(t: ExecutionContext, ctx: Ctx, defs: any[]): void {
  const cols = ctx.kind.decl.columns;
  t.deepEqual(defs.map((c) => c.name), cols.map((c) => c.name), 'columnDefinitions are the declared columns');
  t.is(defs[0].format, 'name', 'the first column is the name column');
  defs.forEach((d, i) => {
    t.is(d.priority, cols[i].priority, `priority of ${d.name}`);
    t.true(['string', 'integer', 'number', 'boolean', 'date'].includes(d.type), `type of ${d.name}: ${d.type}`);
    t.is(typeof d.description, 'string');
  });
}

function checkRow(t: ExecutionContext, ctx: Ctx, row: any, obj: any, include: 'None' | 'Metadata' | 'Object'): void {
  t.is(row.cells.length, ctx.kind.decl.columns.length, 'one cell per column');
  t.is(row.cells[0], obj.metadata.name, 'the name cell');
  // Every cell is what the kind's column declaration computes (ages only roughly: time passes).
  const now = new Date();
  ctx.kind.decl.columns.forEach((col, i) => {
    const expected = col.cell(obj, now);
    if (expected === undefined) t.true(row.cells[i] === null || row.cells[i] === '' || row.cells[i] === 0, `${col.name}: an empty cell, got ${JSON.stringify(row.cells[i])}`);
    else if (col.type === 'date') t.is(typeof row.cells[i], 'string', `${col.name} is an age`);
    else if (expected === undefined) t.true(row.cells[i] === null || row.cells[i] === '' || row.cells[i] === 0, `${col.name}: an empty cell, got ${JSON.stringify(row.cells[i])}`);
    else t.deepEqual(row.cells[i], expected, `cell ${col.name}`);
  });
  if (include === 'None') t.is(row.object, undefined, 'includeObject=None: no object');
  if (include === 'Metadata') {
    t.is(row.object.kind, 'PartialObjectMetadata');
    t.is(row.object.apiVersion, 'meta.k8s.io/v1');
    t.is(row.object.metadata.name, obj.metadata.name);
    t.is(row.object.metadata.namespace, obj.metadata.namespace, 'kubectl -A needs the namespace');
    t.deepEqual(row.object.metadata.labels, obj.metadata.labels, 'kubectl --show-labels needs the labels');
    t.is(row.object.spec, undefined);
  }
  if (include === 'Object') {
    t.is(row.object.kind, ctx.kind.kind);
    t.is(row.object.apiVersion, ctx.kind.apiVersion);
    t.deepEqual(row.object.spec, obj.spec);
  }
}

export const cases: KindCase[] = [
  {
    name: 'Table for get (as kubectl get asks)',
    async run(t, ctx) {
      const obj = await ctx.createSample(t, 'tbl');
      const res = await ctx.raw('GET', ctx.item('tbl'), { headers: { Accept: KUBECTL_GET } });
      const table = expectOk(t, res);
      t.regex(String(res.headers['content-type']), /^application\/json/);
      t.is(table.kind, 'Table');
      t.is(table.apiVersion, 'meta.k8s.io/v1');
      t.is(table.metadata.resourceVersion, obj.metadata.resourceVersion);
      checkColumns(t, ctx, table.columnDefinitions);
      t.is(table.rows.length, 1);
      checkRow(t, ctx, table.rows[0], obj, 'Metadata');
      // v1beta1 is served too.
      const beta = expectOk(t, await ctx.raw('GET', ctx.item('tbl'), { headers: { Accept: 'application/json;as=Table;v=v1beta1;g=meta.k8s.io' } }));
      t.is(beta.kind, 'Table');
      t.is(beta.apiVersion, 'meta.k8s.io/v1beta1');
      // Table of /status too (TestGetSubresourcesAsTables).
      const status = expectOk(t, await ctx.raw('GET', `${ctx.item('tbl')}/status`, { headers: { Accept: TABLE } }));
      t.is(status.kind, 'Table');
    },
  },
  {
    name: 'Table for list: includeObject None / Metadata / Object, chunked',
    async run(t, ctx) {
      await ctx.createSample(t, 'a');
      await ctx.setStatus(t, 'a', ctx.fixture.status);
      const objs = [await ctx.get(t, 'a'), await ctx.createSample(t, 'b'), await ctx.createSample(t, 'c')];
      for (const include of ['None', 'Metadata', 'Object'] as const) {
        const query = include === 'Metadata' ? {} : { includeObject: include };
        const table = expectOk(t, await ctx.raw('GET', ctx.collection(), { headers: { Accept: TABLE }, query }), 200, include);
        t.is(table.kind, 'Table');
        t.regex(table.metadata.resourceVersion, /^\d+$/);
        checkColumns(t, ctx, table.columnDefinitions);
        t.is(table.rows.length, 3);
        table.rows.forEach((row: any, i: number) => checkRow(t, ctx, row, objs[i], include));
      }
      // kubectl lists with limit and follows continue.
      const page = expectOk(t, await ctx.raw('GET', ctx.collection(), { headers: { Accept: KUBECTL_GET }, query: { limit: 2 } }));
      t.is(page.rows.length, 2);
      t.truthy(page.metadata.continue, 'a chunked Table carries continue');
      const rest = expectOk(t, await ctx.raw('GET', ctx.collection(), { headers: { Accept: KUBECTL_GET }, query: { limit: 2, continue: page.metadata.continue } }));
      t.deepEqual(rest.rows.map((r: any) => r.cells[0]), ['c']);
      t.is(rest.metadata.resourceVersion, page.metadata.resourceVersion);
      // All namespaces (kubectl get -A).
      const all = expectOk(t, await ctx.raw('GET', ctx.allNamespaces, { headers: { Accept: TABLE }, query: { labelSelector: ctx.selector() } }));
      t.deepEqual(all.rows.map((r: any) => r.object.metadata.namespace), [ctx.ns, ctx.ns, ctx.ns]);
      // A bad includeObject is 400.
      expectStatus(t, await ctx.raw('GET', ctx.collection(), { headers: { Accept: TABLE }, query: { includeObject: 'Some' } }), 400, 'BadRequest', 'bad includeObject');
    },
  },
  {
    name: 'Table for watch: columnDefinitions only in the first event',
    async run(t, ctx) {
      await ctx.createSample(t, 'w1');
      const w = await ctx.watch(ctx.collection(), { labelSelector: ctx.selector() }, { Accept: TABLE });
      t.is(w.status, 200);
      await ctx.createSample(t, 'w2');
      await ctx.mergePatch(t, 'w1', { metadata: { labels: { x: 'y' } } });
      const events = await w.take(3);
      t.deepEqual(events.map((e) => e.type), ['ADDED', 'ADDED', 'MODIFIED'], summarize(events));
      for (const e of events) {
        t.is(e.object.kind, 'Table');
        t.is(e.object.apiVersion, 'meta.k8s.io/v1');
        t.is(e.object.rows.length, 1);
        t.is(e.object.rows[0].object.kind, 'PartialObjectMetadata');
      }
      checkColumns(t, ctx, events[0].object.columnDefinitions);
      t.false((events[1].object.columnDefinitions ?? []).length > 0, 'no columnDefinitions after the first event');
      t.false((events[2].object.columnDefinitions ?? []).length > 0);
      t.deepEqual(events.map((e) => e.object.rows[0].cells[0]), ['w1', 'w2', 'w1']);
      t.deepEqual(w.framingErrors, []);
      // includeObject=Object in a watch.
      const wo = await ctx.watch(ctx.collection(), { labelSelector: ctx.selector(), includeObject: 'Object' }, { Accept: TABLE });
      const [first] = await wo.take(1);
      t.is(first.object.rows[0].object.kind, ctx.kind.kind);
    },
  },
  {
    name: 'as=Table with an unknown version or group is 406 NotAcceptable',
    async run(t, ctx) {
      await ctx.createSample(t, 'x');
      for (const accept of ['application/json;as=Table;v=v2;g=meta.k8s.io', 'application/json;as=Table;v=v1;g=example.com', 'application/json;as=Frobnitz;v=v1;g=meta.k8s.io']) {
        expectStatus(t, await ctx.raw('GET', ctx.item('x'), { headers: { Accept: accept } }), 406, 'NotAcceptable', `get ${accept}`);
        expectStatus(t, await ctx.raw('GET', ctx.collection(), { headers: { Accept: accept } }), 406, 'NotAcceptable', `list ${accept}`);
      }
      // A JSON fallback after it is taken.
      const ok = expectOk(t, await ctx.raw('GET', ctx.item('x'), { headers: { Accept: 'application/json;as=Table;v=v2;g=meta.k8s.io, application/json' } }));
      t.is(ok.kind, ctx.kind.kind);
    },
  },
  {
    name: 'PartialObjectMetadata and PartialObjectMetadataList for get, list and watch',
    async run(t, ctx) {
      const a = await ctx.createSample(t, 'a');
      await ctx.createSample(t, 'b');
      await ctx.createSample(t, 'c');
      for (const accept of [POM, METADATA_CLIENT_GET]) {
        const res = await ctx.raw('GET', ctx.item('a'), { headers: { Accept: accept } });
        const pom = expectOk(t, res, 200, accept);
        t.regex(String(res.headers['content-type']), /^application\/json/);
        t.is(pom.kind, 'PartialObjectMetadata');
        t.is(pom.apiVersion, 'meta.k8s.io/v1');
        t.deepEqual(pom.metadata, a.metadata);
        t.is(pom.spec, undefined);
        t.is(pom.status, undefined);
      }
      const list = expectOk(t, await ctx.raw('GET', ctx.collection(), { headers: { Accept: METADATA_CLIENT_LIST } }));
      t.is(list.kind, 'PartialObjectMetadataList');
      t.is(list.apiVersion, 'meta.k8s.io/v1');
      t.regex(list.metadata.resourceVersion, /^\d+$/);
      t.deepEqual(names(list.items), ['a', 'b', 'c']);
      for (const item of list.items) {
        t.is(item.kind, 'PartialObjectMetadata');
        t.is(item.spec, undefined);
      }
      const page = expectOk(t, await ctx.raw('GET', ctx.collection(), { headers: { Accept: METADATA_CLIENT_LIST }, query: { limit: 2 } }));
      t.is(page.items.length, 2);
      t.truthy(page.metadata.continue, 'PartialObjectMetadataList keeps continue');
      t.is(page.metadata.remainingItemCount, 1, 'and remainingItemCount');
      // The singular form on a list is not acceptable.
      expectStatus(t, await ctx.raw('GET', ctx.collection(), { headers: { Accept: POM } }), 406, 'NotAcceptable', 'as=PartialObjectMetadata on a list');
      // Watch with the metadata client's Accept.
      const w = await ctx.watch(ctx.collection(), { labelSelector: ctx.selector() }, { Accept: METADATA_CLIENT_GET });
      const events = await w.take(3);
      for (const e of events) {
        t.is(e.object.kind, 'PartialObjectMetadata');
        t.is(e.object.apiVersion, 'meta.k8s.io/v1');
        t.is(e.object.spec, undefined);
      }
      await ctx.raw('DELETE', ctx.item('b'));
      const del = await w.waitFor((e) => e.type === 'DELETED', 'DELETED');
      t.is(del.object.kind, 'PartialObjectMetadata');
      t.is(del.object.metadata.name, 'b');
    },
  },
  {
    name: 'PartialObjectMetadata watch: BOOKMARK objects are PartialObjectMetadata too',
    async run(t, ctx) {
      await ctx.createSample(t, 'a');
      await ctx.createSample(t, 'b');
      // Bookmarks are transformed too (doTransformObject runs on every watch event): the metadata
      // informers of the garbage collector and namespace controller watch with allowWatchBookmarks.
      const wl = await ctx.watch(
        ctx.collection(),
        { labelSelector: ctx.selector(), sendInitialEvents: 'true', resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: 'true' },
        { Accept: METADATA_CLIENT_GET },
      );
      const initial = await wl.take(3);
      t.deepEqual(initial.map((e) => e.type), ['ADDED', 'ADDED', 'BOOKMARK'], summarize(initial));
      t.is(initial[2].object.kind, 'PartialObjectMetadata', 'the BOOKMARK object is a PartialObjectMetadata');
      t.is(initial[2].object.apiVersion, 'meta.k8s.io/v1');
      t.is(initial[2].object.metadata?.annotations?.['k8s.io/initial-events-end'], 'true');
    },
  },
  {
    name: 'YAML: Accept application/yaml for get and list, and YAML request bodies',
    async run(t, ctx) {
      const body = stringifyYaml(ctx.sample('y'));
      const created = await ctx.raw('POST', ctx.collection(), { body, headers: { 'Content-Type': 'application/yaml', Accept: 'application/yaml' } });
      t.is(created.status, 201, created.body.slice(0, 300));
      t.regex(String(created.headers['content-type']), /^application\/yaml/);
      const obj = parseYaml(created.body);
      t.is(obj.metadata.name, 'y');
      const res = await ctx.raw('GET', ctx.item('y'), { headers: { Accept: 'application/yaml' } });
      t.is(res.status, 200);
      t.regex(String(res.headers['content-type']), /^application\/yaml/);
      const json = expectOk(t, await ctx.raw('GET', ctx.item('y')));
      t.deepEqual(parseYaml(res.body), json, 'the YAML is the same object');
      const list = await ctx.raw('GET', ctx.collection(), { headers: { Accept: 'application/yaml' } });
      t.is(list.status, 200);
      const parsed = parseYaml(list.body);
      t.is(parsed.kind, ctx.kind.listKind);
      t.deepEqual(names(parsed.items), ['y']);
      // Errors stay JSON Status.
      expectStatus(t, await ctx.raw('GET', ctx.item('missing'), { headers: { Accept: 'application/yaml' } }), 404, 'NotFound');
      // PUT with a YAML body.
      const upd = structuredClone(json);
      upd.metadata.labels.format = 'yaml';
      const put = await ctx.raw('PUT', ctx.item('y'), { body: stringifyYaml(upd), headers: { 'Content-Type': 'application/yaml' } });
      t.is(expectOk(t, put).metadata.labels.format, 'yaml');
    },
  },
  {
    name: 'Accept: application/vnd.kubernetes.protobuf alone is 406 NotAcceptable',
    async run(t, ctx) {
      await ctx.createSample(t, 'pb');
      for (const path of [ctx.item('pb'), ctx.collection()]) {
        const res = await ctx.raw('GET', path, { headers: { Accept: 'application/vnd.kubernetes.protobuf' } });
        expectStatus(t, res, 406, 'NotAcceptable', path);
      }
      expectStatus(t, await ctx.raw('GET', ctx.item('pb'), { headers: { Accept: 'text/html' } }), 406, 'NotAcceptable', 'text/html');
      // Protobuf first with a JSON fallback is fine (client-go's default).
      const ok = expectOk(t, await ctx.raw('GET', ctx.item('pb'), { headers: { Accept: 'application/vnd.kubernetes.protobuf, application/json' } }));
      t.is(ok.kind, ctx.kind.kind);
      // */* is JSON.
      const any = await ctx.raw('GET', ctx.item('pb'), { headers: { Accept: '*/*' } });
      t.regex(String(any.headers['content-type']), /^application\/json/);
    },
  },
  {
    name: 'unsupported request body types are 415 UnsupportedMediaType',
    async run(t, ctx) {
      const created = await ctx.createSample(t, 'smp');
      // An unknown patch type: 415 naming the four kube-apiserver accepts.
      const unknownPatch = await ctx.raw('PATCH', ctx.item('smp'), {
        body: JSON.stringify({ metadata: { labels: { a: 'b' } } }),
        headers: { 'Content-Type': 'application/x-unknown-patch+json' },
      });
      const status = expectStatus(t, unknownPatch, 415, 'UnsupportedMediaType', 'unknown patch type');
      for (const type of ['json-patch+json', 'merge-patch+json', 'strategic-merge-patch+json', 'apply-patch+yaml']) t.true(status.message?.includes(`application/${type}`), type);
      const text = await ctx.raw('POST', ctx.collection(), { body: 'hello', headers: { 'Content-Type': 'text/plain' } });
      expectStatus(t, text, 415, 'UnsupportedMediaType', 'text/plain create');
      const putPatchType = await ctx.raw('PATCH', ctx.item('smp'), { body: '{}', headers: { 'Content-Type': 'application/json' } });
      expectStatus(t, putPatchType, 415, 'UnsupportedMediaType', 'PATCH with application/json');
      const got = await ctx.get(t, 'smp');
      t.is(got.metadata.resourceVersion, created.metadata.resourceVersion);
    },
  },
  {
    name: 'a body over 3 MiB is 413 RequestEntityTooLarge',
    async run(t, ctx) {
      const obj = ctx.sample('huge');
      obj.metadata.annotations = { 'example.com/blob': 'x'.repeat(3 * 1024 * 1024 + 10) };
      const res = await ctx.raw('POST', ctx.collection(), { body: obj });
      expectStatus(t, res, 413, 'RequestEntityTooLarge');
      expectStatus(t, await ctx.raw('GET', ctx.item('huge')), 404, 'NotFound');
      // Just under the limit is decoded (and then rejected for the annotation size, 422).
      const big = ctx.sample('big');
      big.metadata.annotations = { 'example.com/blob': 'x'.repeat(300 * 1024) };
      expectStatus(t, await ctx.raw('POST', ctx.collection(), { body: big }), 422, 'Invalid', 'annotations over 256 KiB');
    },
  },
  {
    name: 'malformed JSON or YAML bodies are 400 BadRequest',
    async run(t, ctx) {
      await ctx.createSample(t, 'm');
      const cases: Array<[string, string, string, string]> = [
        ['POST', ctx.collection(), '{"apiVersion":', 'application/json'],
        ['POST', ctx.collection(), '', 'application/json'],
        ['PUT', ctx.item('m'), '{not json}', 'application/json'],
        ['PATCH', ctx.item('m'), '{"metadata":', 'application/merge-patch+json'],
        ['POST', ctx.collection(), 'a: [b\n  c: {', 'application/yaml'],
      ];
      for (const [method, path, body, type] of cases) {
        expectStatus(t, await ctx.raw(method, path, { body, headers: { 'Content-Type': type } }), 400, 'BadRequest', `${method} ${type} ${JSON.stringify(body)}`);
      }
    },
  },
];
