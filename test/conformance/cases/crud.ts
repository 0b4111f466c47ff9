// Create, get, list and delete: the server-set metadata, defaults, AlreadyExists, NotFound,
// generateName, namespaced and all-namespaces lists (client-node CustomObjectsApi).
import type { KindCase } from '../harness.js';
import { checkStatusBody, expectStatus, rejectsWithStatus } from '../client.js';
import { getPath, names } from '../objects.js';

const UID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const RV = /^[1-9]\d*$/;

export const cases: KindCase[] = [
  {
    name: 'create returns 201 with uid, creationTimestamp, resourceVersion, generation 1 and defaults',
    async run(t, ctx) {
      const body = ctx.sample('created');
      // A status sent on create is dropped: it is written only through /status.
      body.status = structuredClone(ctx.fixture.status);
      const res = await ctx.api.createNamespacedCustomObjectWithHttpInfo({ ...ctx.gvr(), body });
      t.is(res.httpStatusCode, 201);
      const obj = res.data;
      t.is(obj.apiVersion, ctx.kind.apiVersion);
      t.is(obj.kind, ctx.kind.kind);
      t.is(obj.metadata.name, 'created');
      t.is(obj.metadata.namespace, ctx.ns);
      t.regex(obj.metadata.uid ?? '', UID, 'metadata.uid');
      t.regex(obj.metadata.creationTimestamp ?? '', TIMESTAMP, 'metadata.creationTimestamp (RFC 3339, seconds, UTC)');
      t.true(Math.abs(Date.parse(obj.metadata.creationTimestamp) - Date.now()) < 60_000, 'creationTimestamp is now');
      t.regex(obj.metadata.resourceVersion ?? '', RV, 'metadata.resourceVersion');
      t.is(obj.metadata.generation, 1);
      t.is(obj.metadata.deletionTimestamp, undefined);
      t.is(obj.status, undefined, 'status is ignored on create');
      for (const [path, value] of Object.entries(ctx.fixture.defaults)) {
        t.deepEqual(getPath(obj, path), value, `default of ${path}`);
      }
      // Everything the client sent is kept.
      for (const key of Object.keys(ctx.kind.example.spec ?? {})) {
        if (Object.keys(ctx.fixture.defaults).some((p) => p === `spec.${key}`)) continue;
        t.not(obj.spec[key], undefined, `spec.${key} kept`);
      }
      const got = await ctx.api.getNamespacedCustomObject({ ...ctx.gvr(), name: 'created' });
      t.deepEqual(got, obj, 'GET returns what create returned');
    },
  },
  {
    name: 'create ignores client-set uid, creationTimestamp, generation and deletionTimestamp',
    async run(t, ctx) {
      const body = ctx.sample('owned');
      Object.assign(body.metadata, {
        uid: '11111111-1111-1111-1111-111111111111',
        creationTimestamp: '2001-01-01T00:00:00Z',
        generation: 7,
        deletionTimestamp: '2001-01-01T00:00:00Z',
      });
      const obj = await ctx.create(t, body);
      t.not(obj.metadata.uid, '11111111-1111-1111-1111-111111111111');
      t.not(obj.metadata.creationTimestamp, '2001-01-01T00:00:00Z');
      t.is(obj.metadata.generation, 1);
      t.is(obj.metadata.deletionTimestamp, undefined);
      const got = await ctx.get(t, 'owned');
      t.deepEqual(got, obj);
    },
  },
  {
    name: 'create of an existing name is 409 AlreadyExists',
    async run(t, ctx) {
      const first = await ctx.createSample(t, 'twice');
      const status = await rejectsWithStatus(t, ctx.api.createNamespacedCustomObject({ ...ctx.gvr(), body: ctx.sample('twice') }), 409, 'AlreadyExists');
      t.is(status.message, `${ctx.kind.plural}.${ctx.kind.group} "twice" already exists`);
      t.is(status.details?.name, 'twice');
      t.is(status.details?.group, ctx.kind.group);
      t.is(status.details?.kind, ctx.kind.plural);
      const got = await ctx.get(t, 'twice');
      t.is(got.metadata.uid, first.metadata.uid, 'the first object is untouched');
    },
  },
  {
    name: 'generateName makes a unique name',
    async run(t, ctx) {
      const body = ctx.sample('ignored');
      delete body.metadata.name;
      body.metadata.generateName = 'gen-';
      const a = await ctx.create(t, body);
      const b = await ctx.create(t, body);
      t.regex(a.metadata.name, /^gen-[a-z0-9]{5}$/);
      t.regex(b.metadata.name, /^gen-[a-z0-9]{5}$/);
      t.not(a.metadata.name, b.metadata.name);
      t.is(a.metadata.generateName, 'gen-');
      const got = await ctx.get(t, a.metadata.name);
      t.is(got.metadata.uid, a.metadata.uid);
    },
  },
  {
    name: 'create without name or generateName is 422 Invalid on metadata.name',
    async run(t, ctx) {
      const body = ctx.sample('x');
      delete body.metadata.name;
      const res = await ctx.raw('POST', ctx.collection(), { body });
      const status = expectStatus(t, res, 422, 'Invalid');
      t.deepEqual(
        status.details?.causes?.map((c) => [c.reason, c.field]),
        [['FieldValueRequired', 'metadata.name']],
      );
    },
  },
  {
    name: 'get of a missing object is 404 NotFound',
    async run(t, ctx) {
      const status = await rejectsWithStatus(t, ctx.api.getNamespacedCustomObject({ ...ctx.gvr(), name: 'missing' }), 404, 'NotFound');
      t.is(status.message, `${ctx.kind.plural}.${ctx.kind.group} "missing" not found`);
      t.is(status.details?.name, 'missing');
      t.is(status.details?.group, ctx.kind.group);
      t.is(status.details?.kind, ctx.kind.plural);
    },
  },
  {
    name: 'list in a namespace and across all namespaces',
    async run(t, ctx) {
      const other = `${ctx.ns}-b`;
      await ctx.createSample(t, 'a');
      await ctx.createSample(t, 'b');
      await ctx.createSample(t, 'c', { ns: other });
      const list = (await ctx.api.listNamespacedCustomObject({ ...ctx.gvr() })) as any;
      t.is(list.kind, ctx.kind.listKind);
      t.is(list.apiVersion, ctx.kind.apiVersion);
      t.regex(list.metadata.resourceVersion, RV);
      t.deepEqual(names(list.items), ['a', 'b']);
      for (const item of list.items) {
        t.is(item.kind, ctx.kind.kind, 'items carry kind');
        t.is(item.apiVersion, ctx.kind.apiVersion, 'items carry apiVersion');
        t.true(Number(item.metadata.resourceVersion) <= Number(list.metadata.resourceVersion), 'item RV <= list RV');
      }
      const otherList = (await ctx.api.listNamespacedCustomObject({ ...ctx.gvr(other) })) as any;
      t.deepEqual(names(otherList.items), ['c']);

      const all = (await ctx.api.listClusterCustomObject({
        group: ctx.kind.group,
        version: ctx.kind.version,
        plural: ctx.kind.plural,
        labelSelector: ctx.selector(),
      })) as any;
      t.is(all.kind, ctx.kind.listKind);
      t.deepEqual(
        all.items.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`).sort(),
        [`${ctx.ns}/a`, `${ctx.ns}/b`, `${other}/c`].sort(),
      );
      const empty = (await ctx.api.listNamespacedCustomObject({ ...ctx.gvr(`${ctx.ns}-empty`) })) as any;
      t.deepEqual(empty.items, [], 'an empty list has items: []');
    },
  },
  {
    name: 'a namespace in the body that differs from the URL is 400 BadRequest',
    async run(t, ctx) {
      const body = ctx.sample('x', { ns: `${ctx.ns}-other` });
      const res = await ctx.raw('POST', ctx.collection(), { body });
      expectStatus(t, res, 400, 'BadRequest');
      const res2 = await ctx.raw('GET', ctx.item('x', `${ctx.ns}-other`));
      expectStatus(t, res2, 404, 'NotFound', 'nothing was created in the other namespace');
    },
  },
  {
    name: 'a body of another kind or apiVersion is 400 BadRequest',
    async run(t, ctx) {
      const wrongKind = ctx.sample('x');
      wrongKind.kind = 'ConfigMap';
      expectStatus(t, await ctx.raw('POST', ctx.collection(), { body: wrongKind }), 400, 'BadRequest', 'wrong kind');
      const wrongVersion = ctx.sample('x');
      wrongVersion.apiVersion = `${ctx.kind.group}/v9`;
      expectStatus(t, await ctx.raw('POST', ctx.collection(), { body: wrongVersion }), 400, 'BadRequest', 'wrong apiVersion');
      expectStatus(t, await ctx.raw('POST', ctx.collection(), { body: '[1,2]', headers: { 'Content-Type': 'application/json' } }), 400, 'BadRequest', 'not an object');
    },
  },
  {
    name: 'delete returns 200 with the object, then get is 404 and a second delete is 404',
    async run(t, ctx) {
      const created = await ctx.createSample(t, 'gone');
      const res = await ctx.api.deleteNamespacedCustomObjectWithHttpInfo({ ...ctx.gvr(), name: 'gone' });
      t.is(res.httpStatusCode, 200);
      const body = res.data as any;
      // kube-apiserver answers a delete with the deleted object (or a Success Status).
      if (body.kind === 'Status') {
        t.is(body.status, 'Success');
        t.is(body.details?.uid, created.metadata.uid);
      } else {
        t.is(body.kind, ctx.kind.kind);
        t.is(body.metadata.uid, created.metadata.uid);
      }
      await rejectsWithStatus(t, ctx.api.getNamespacedCustomObject({ ...ctx.gvr(), name: 'gone' }), 404, 'NotFound', 'get after delete');
      await rejectsWithStatus(t, ctx.api.deleteNamespacedCustomObject({ ...ctx.gvr(), name: 'gone' }), 404, 'NotFound', 'second delete');
      // Re-creating the name gives a new object.
      const again = await ctx.createSample(t, 'gone');
      t.not(again.metadata.uid, created.metadata.uid);
      t.is(again.metadata.generation, 1);
    },
  },
  {
    name: 'unsupported methods are 405 MethodNotAllowed',
    async run(t, ctx) {
      await ctx.createSample(t, 'm');
      const res = await ctx.raw('POST', ctx.item('m'), { body: ctx.sample('m') });
      const status = expectStatus(t, res, 405, 'MethodNotAllowed', 'POST on an item');
      checkStatusBody(t, status, 405, 'MethodNotAllowed');
      expectStatus(t, await ctx.raw('PUT', ctx.collection(), { body: ctx.sample('m') }), 405, 'MethodNotAllowed', 'PUT on a collection');
      expectStatus(t, await ctx.raw('DELETE', `${ctx.item('m')}/status`), 405, 'MethodNotAllowed', 'DELETE on /status');
    },
  },
];
