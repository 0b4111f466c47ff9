// dryRun, fieldValidation (field_validation.go), and 422 Invalid with field paths.
import type { ExecutionContext } from 'ava';
import type { Ctx, KindCase } from '../harness.js';
import { expectOk, expectStatus, rejectsWithStatus, type RawResponse } from '../client.js';
import { applyPaths } from '../objects.js';

/** The `Warning: 299 - "text"` headers of a response, as texts. */
export function warnings(res: RawResponse | { headers: Record<string, unknown> }): string[] {
  const raw = res.headers['warning'];
  const values = raw === undefined ? [] : Array.isArray(raw) ? raw : String(raw).split(/,(?=\s*299 )/);
  return values.map((v) => {
    const m = /^\s*299 - "((?:[^"\\]|\\.)*)"\s*$/.exec(String(v));
    return m ? JSON.parse(`"${m[1]}"`) : `<malformed: ${String(v)}>`;
  });
}

function unknownWarnings(res: RawResponse): string[] {
  return warnings(res).filter((w) => /unknown field|duplicate field|malformed/.test(w));
}

/** The example with `spec.x` and an unknown top-level field. */
function withUnknown(ctx: Ctx, name: string): any {
  const obj = ctx.sample(name);
  obj.spec.x = 1;
  return obj;
}

/** JSON text of the example with `metadata.name` written twice (only raw text can). */
function withDuplicate(ctx: Ctx, name: string): string {
  const obj = ctx.sample(name);
  const text = JSON.stringify(obj);
  return text.replace(`"name":"${name}"`, `"name":"${name}","name":"${name}"`);
}

async function assertAbsent(t: ExecutionContext, ctx: Ctx, name: string): Promise<void> {
  expectStatus(t, await ctx.raw('GET', ctx.item(name)), 404, 'NotFound', `${name} must not exist`);
}

export const cases: KindCase[] = [
  {
    name: 'dryRun=All create, update, patch and delete write nothing',
    async run(t, ctx) {
      const res = await ctx.api.createNamespacedCustomObjectWithHttpInfo({ ...ctx.gvr(), body: ctx.sample('dry'), dryRun: 'All' });
      t.is(res.httpStatusCode, 201);
      const dry = res.data as any;
      t.is(dry.metadata.name, 'dry');
      t.is(dry.metadata.generation, 1, 'the dry-run result is what would be stored');
      t.is(dry.metadata.resourceVersion, undefined, 'a dry-run create has no resourceVersion');
      await assertAbsent(t, ctx, 'dry');
      const list = await ctx.list(t);
      t.deepEqual(list.items, [], 'nothing listed after a dry-run create');

      const created = await ctx.createSample(t, 'real');
      const changed = applyPaths(structuredClone(created), ctx.fixture.specChange);
      const updated = (await ctx.api.replaceNamespacedCustomObject({ ...ctx.gvr(), name: 'real', body: changed, dryRun: 'All' })) as any;
      t.is(updated.metadata.generation, 2, 'the dry-run update shows the result');
      const patched = await ctx.mergePatch(t, 'real', { metadata: { labels: { dry: 'run' } } }, '', { dryRun: 'All' });
      t.is(patched.metadata.labels.dry, 'run');
      const del = await ctx.raw('DELETE', ctx.item('real'), { query: { dryRun: 'All' } });
      expectOk(t, del, 200, 'dry-run delete');
      const got = await ctx.get(t, 'real');
      t.deepEqual(got, created, 'the stored object is unchanged after dry-run update, patch and delete');

      // A dry-run create of an existing name still reports the conflict.
      const exists = await ctx.raw('POST', ctx.collection(), { body: ctx.sample('real'), query: { dryRun: 'All' } });
      expectStatus(t, exists, 409, 'AlreadyExists', 'dry-run create of an existing name');
      // A dry-run create of an invalid object still reports it.
      const invalid = await ctx.raw('POST', ctx.collection(), { body: ctx.sample('dry2', { set: ctx.fixture.invalid.set }), query: { dryRun: 'All' } });
      expectStatus(t, invalid, 422, 'Invalid', 'dry-run create of an invalid object');
    },
  },
  {
    name: 'dryRun with an unsupported value is 400',
    async run(t, ctx) {
      const res = await ctx.raw('POST', ctx.collection(), { body: ctx.sample('dry'), query: { dryRun: 'Maybe' } });
      expectStatus(t, res, 400, 'BadRequest');
      await assertAbsent(t, ctx, 'dry');
    },
  },
  {
    name: 'fieldValidation=Strict: unknown fields are 400 "strict decoding error"',
    async run(t, ctx) {
      const status = await rejectsWithStatus(
        t,
        ctx.api.createNamespacedCustomObject({ ...ctx.gvr(), body: withUnknown(ctx, 'strict'), fieldValidation: 'Strict' }),
        400,
        'BadRequest',
      );
      t.is(status.message, 'strict decoding error: unknown field "spec.x"');
      await assertAbsent(t, ctx, 'strict');

      // Unknown metadata and top-level fields are reported with their paths, in one message.
      const obj = ctx.sample('strict2');
      obj.metadata.bogus = 'x';
      obj.extra = true;
      obj.spec.x = 1;
      const res = await ctx.raw('POST', ctx.collection(), { body: obj, query: { fieldValidation: 'Strict' } });
      const s2 = expectStatus(t, res, 400, 'BadRequest');
      t.regex(s2.message ?? '', /^strict decoding error: /);
      for (const f of ['extra', 'metadata.bogus', 'spec.x']) t.true(s2.message!.includes(`unknown field "${f}"`), `names ${f}: ${s2.message}`);

      // Update and patch are validated the same way.
      const created = await ctx.createSample(t, 'later');
      const upd = structuredClone(created);
      upd.spec.x = 1;
      const put = await ctx.raw('PUT', ctx.item('later'), { body: upd, query: { fieldValidation: 'Strict' } });
      t.is(expectStatus(t, put, 400, 'BadRequest', 'PUT').message, 'strict decoding error: unknown field "spec.x"');
      const patch = await ctx.raw('PATCH', ctx.item('later'), {
        body: JSON.stringify({ spec: { x: 1 } }),
        headers: { 'Content-Type': 'application/merge-patch+json' },
        query: { fieldValidation: 'Strict' },
      });
      t.is(expectStatus(t, patch, 400, 'BadRequest', 'PATCH').message, 'strict decoding error: unknown field "spec.x"');
      const got = await ctx.get(t, 'later');
      t.is(got.metadata.resourceVersion, created.metadata.resourceVersion, 'nothing written');
    },
  },
  {
    name: 'fieldValidation=Strict: duplicate fields are 400',
    async run(t, ctx) {
      const res = await ctx.raw('POST', ctx.collection(), {
        body: withDuplicate(ctx, 'dup'),
        headers: { 'Content-Type': 'application/json' },
        query: { fieldValidation: 'Strict' },
      });
      const status = expectStatus(t, res, 400, 'BadRequest');
      t.is(status.message, 'strict decoding error: duplicate field "metadata.name"');
      await assertAbsent(t, ctx, 'dup');
      // Both kinds of problem in one message, unknown first (as kube-apiserver orders them).
      const both = withDuplicate(ctx, 'dup').replace('"spec":{', '"spec":{"x":1,');
      const res2 = await ctx.raw('POST', ctx.collection(), { body: both, headers: { 'Content-Type': 'application/json' }, query: { fieldValidation: 'Strict' } });
      t.is(expectStatus(t, res2, 400, 'BadRequest').message, 'strict decoding error: unknown field "spec.x", duplicate field "metadata.name"');
      // In YAML too.
      const yaml = `apiVersion: ${ctx.kind.apiVersion}\nkind: ${ctx.kind.kind}\nmetadata:\n  name: dupy\n  name: dupy\nspec: ${JSON.stringify(ctx.sample('dupy').spec)}\n`;
      const res3 = await ctx.raw('POST', ctx.collection(), { body: yaml, headers: { 'Content-Type': 'application/yaml' }, query: { fieldValidation: 'Strict' } });
      const s3 = expectStatus(t, res3, 400, 'BadRequest', 'YAML');
      t.true(s3.message!.includes('duplicate field "metadata.name"'), s3.message);
    },
  },
  {
    name: 'fieldValidation=Warn (and the default): 201 with Warning: 299 headers, unknown fields dropped',
    async run(t, ctx) {
      for (const [name, query] of [
        ['warn', { fieldValidation: 'Warn' }],
        ['default', {}],
      ] as const) {
        const res = await ctx.raw('POST', ctx.collection(), { body: withUnknown(ctx, name), query });
        const obj = expectOk(t, res, 201, name);
        t.deepEqual(unknownWarnings(res), ['unknown field "spec.x"'], `${name}: Warning header`);
        t.regex(String(res.headers['warning']), /^299 - "unknown field \\"spec.x\\""/, 'raw header format');
        t.is(obj.spec.x, undefined, `${name}: the unknown field is dropped`);
        const got = await ctx.get(t, name);
        t.is(got.spec.x, undefined);
      }
      const dup = await ctx.raw('POST', ctx.collection(), { body: withDuplicate(ctx, 'dupwarn'), headers: { 'Content-Type': 'application/json' }, query: { fieldValidation: 'Warn' } });
      expectOk(t, dup, 201, 'duplicate under Warn');
      t.deepEqual(unknownWarnings(dup), ['duplicate field "metadata.name"']);
      // Through client-node, the warning is on the response headers.
      const viaClient = await ctx.api.createNamespacedCustomObjectWithHttpInfo({ ...ctx.gvr(), body: withUnknown(ctx, 'client'), fieldValidation: 'Warn' });
      t.is(viaClient.httpStatusCode, 201);
      t.regex(String(viaClient.headers['warning']), /unknown field \\"spec\.x\\"/);
    },
  },
  {
    name: 'fieldValidation=Ignore: 201, no warning, unknown fields dropped',
    async run(t, ctx) {
      const res = await ctx.raw('POST', ctx.collection(), { body: withUnknown(ctx, 'ign'), query: { fieldValidation: 'Ignore' } });
      const obj = expectOk(t, res, 201);
      t.deepEqual(unknownWarnings(res), []);
      t.is(obj.spec.x, undefined);
      const dup = await ctx.raw('POST', ctx.collection(), { body: withDuplicate(ctx, 'ign2'), headers: { 'Content-Type': 'application/json' }, query: { fieldValidation: 'Ignore' } });
      expectOk(t, dup, 201);
      t.deepEqual(unknownWarnings(dup), []);
    },
  },
  {
    name: 'an unsupported fieldValidation value is 400',
    async run(t, ctx) {
      const res = await ctx.raw('POST', ctx.collection(), { body: ctx.sample('fv'), query: { fieldValidation: 'Lenient' } });
      expectStatus(t, res, 400, 'BadRequest');
      await assertAbsent(t, ctx, 'fv');
    },
  },
  {
    name: 'an invalid object is 422 Invalid with every field path in details.causes',
    async run(t, ctx) {
      const body = ctx.sample('invalid', { set: ctx.fixture.invalid.set });
      const status = await rejectsWithStatus(t, ctx.api.createNamespacedCustomObject({ ...ctx.gvr(), body }), 422, 'Invalid');
      t.is(status.details?.name, 'invalid');
      t.is(status.details?.group, ctx.kind.group);
      t.is(status.details?.kind, ctx.kind.kind);
      t.true(status.message!.startsWith(`${ctx.kind.kind}.${ctx.kind.group} "invalid" is invalid: `), status.message);
      const causes = status.details?.causes ?? [];
      t.deepEqual(causes.map((c) => c.field).sort(), [...ctx.fixture.invalid.fields].sort(), JSON.stringify(causes));
      for (const c of causes) {
        t.regex(c.reason ?? '', /^FieldValue/, 'cause reason is a FieldValue* type');
        t.true(typeof c.message === 'string' && c.message.length > 0, 'cause message');
        t.true(status.message!.includes(`${c.field}: `), `the message names ${c.field}`);
      }
      await assertAbsent(t, ctx, 'invalid');

      // Rules beyond the schema are reported the same way.
      const rule = ctx.sample('rule', { set: ctx.fixture.invalidRule.set });
      const s2 = expectStatus(t, await ctx.raw('POST', ctx.collection(), { body: rule }), 422, 'Invalid', 'kind rule');
      t.deepEqual([...new Set(s2.details?.causes?.map((c) => c.field))].sort(), [...ctx.fixture.invalidRule.fields].sort(), JSON.stringify(s2.details?.causes));

      // And on update.
      const created = await ctx.createSample(t, 'valid');
      const upd = applyPaths(structuredClone(created), ctx.fixture.invalid.set);
      const s3 = expectStatus(t, await ctx.raw('PUT', ctx.item('valid'), { body: upd }), 422, 'Invalid', 'update');
      // On update a changed immutable field may add its own cause on the same path; no other path may appear.
      t.deepEqual([...new Set(s3.details?.causes?.map((c) => c.field))].sort(), [...ctx.fixture.invalid.fields].sort(), s3.message);
    },
  },
  {
    name: 'invalid metadata (name, labels, finalizers) is 422 on the metadata paths',
    async run(t, ctx) {
      const bad = ctx.sample('Bad_Name');
      const s1 = expectStatus(t, await ctx.raw('POST', ctx.collection(), { body: bad }), 422, 'Invalid', 'name');
      t.deepEqual([...new Set(s1.details?.causes?.map((c) => c.field))], ['metadata.name']);
      const labels = ctx.sample('labels', { labels: { 'bad key!': 'v' } });
      const s2 = expectStatus(t, await ctx.raw('POST', ctx.collection(), { body: labels }), 422, 'Invalid', 'label key');
      t.deepEqual([...new Set(s2.details?.causes?.map((c) => c.field))], ['metadata.labels']);
      const long = ctx.sample('a'.repeat(254));
      const s4 = expectStatus(t, await ctx.raw('POST', ctx.collection(), { body: long }), 422, 'Invalid', 'name of 254 characters');
      t.deepEqual([...new Set(s4.details?.causes?.map((c) => c.field))], ['metadata.name']);
      const fin = ctx.sample('fin');
      fin.metadata.finalizers = ['not a finalizer'];
      const s3 = expectStatus(t, await ctx.raw('POST', ctx.collection(), { body: fin }), 422, 'Invalid', 'finalizer');
      t.deepEqual([...new Set(s3.details?.causes?.map((c) => c.field))], ['metadata.finalizers[0]']);
    },
  },
  {
    name: 'a namespace that is not a DNS-1123 label is 422 on metadata.namespace',
    async run(t, ctx) {
      // kube-apiserver's ValidateObjectMeta checks the namespace (taken from the URL) with ValidateNamespaceName.
      for (const ns of ['Bad_NS', 'has.dot', 'x'.repeat(64)]) {
        const res = await ctx.raw('POST', ctx.collection(ns), { body: ctx.sample('ns', { ns }) });
        const status = expectStatus(t, res, 422, 'Invalid', `namespace ${ns}`);
        t.deepEqual([...new Set(status.details?.causes?.map((c) => c.field))], ['metadata.namespace'], `namespace ${ns}`);
        expectStatus(t, await ctx.raw('GET', ctx.item('ns', ns)), 404, 'NotFound', `nothing created in ${ns}`);
      }
    },
  },
];
