// Update (PUT), merge patch and JSON patch of the main resource and of `/status`: optimistic
// concurrency, metadata.generation, the status/spec split.
import * as k8s from '@kubernetes/client-node';
import type { KindCase } from '../harness.js';
import { expectOk, expectStatus, rejectsWithStatus } from '../client.js';
import { applyPaths, getPath, mergePatchOf, pointer, setPath } from '../objects.js';

const STALE = 'the object has been modified; please apply your changes to the latest version and try again';
const mergePatchOptions = () => k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const jsonPatchOptions = () => k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);

export const cases: KindCase[] = [
  {
    name: 'update with a stale resourceVersion is 409 Conflict',
    async run(t, ctx) {
      const created = await ctx.createSample(t, 'cas');
      const first = structuredClone(created);
      first.metadata.labels.step = 'one';
      const updated = (await ctx.api.replaceNamespacedCustomObject({ ...ctx.gvr(), name: 'cas', body: first })) as any;
      t.true(Number(updated.metadata.resourceVersion) > Number(created.metadata.resourceVersion), 'the update got a newer RV');
      const stale = structuredClone(created);
      stale.metadata.labels.step = 'two';
      const status = await rejectsWithStatus(t, ctx.api.replaceNamespacedCustomObject({ ...ctx.gvr(), name: 'cas', body: stale }), 409, 'Conflict');
      t.is(status.message, `Operation cannot be fulfilled on ${ctx.kind.plural}.${ctx.kind.group} "cas": ${STALE}`);
      t.is(status.details?.name, 'cas');
      t.is(status.details?.kind, ctx.kind.plural);
      const got = await ctx.get(t, 'cas');
      t.is(got.metadata.labels.step, 'one', 'the stale write did not land');
      t.is(got.metadata.resourceVersion, updated.metadata.resourceVersion);
      // A merge patch carrying a stale metadata.resourceVersion is a precondition too.
      const res = await ctx.raw('PATCH', ctx.item('cas'), {
        body: JSON.stringify({ metadata: { resourceVersion: created.metadata.resourceVersion, labels: { step: 'three' } } }),
        headers: { 'Content-Type': 'application/merge-patch+json' },
      });
      expectStatus(t, res, 409, 'Conflict', 'patch with a stale resourceVersion');
      // An update without resourceVersion is unconditional (custom resources allow it).
      const unconditional = structuredClone(got);
      delete unconditional.metadata.resourceVersion;
      unconditional.metadata.labels.step = 'four';
      const forced = (await ctx.api.replaceNamespacedCustomObject({ ...ctx.gvr(), name: 'cas', body: unconditional })) as any;
      t.is(forced.metadata.labels.step, 'four');
    },
  },
  {
    name: 'update bumps generation on spec changes only',
    async run(t, ctx) {
      const created = await ctx.createSample(t, 'gen');
      t.is(created.metadata.generation, 1);
      const labelled = structuredClone(created);
      labelled.metadata.labels.extra = 'yes';
      labelled.metadata.annotations = { 'example.com/note': 'metadata only' };
      const afterMeta = (await ctx.api.replaceNamespacedCustomObject({ ...ctx.gvr(), name: 'gen', body: labelled })) as any;
      t.is(afterMeta.metadata.generation, 1, 'labels/annotations keep the generation');
      t.not(afterMeta.metadata.resourceVersion, created.metadata.resourceVersion, 'a metadata change is a write');
      t.is(afterMeta.metadata.uid, created.metadata.uid);
      t.is(afterMeta.metadata.creationTimestamp, created.metadata.creationTimestamp);

      const specChanged = applyPaths(structuredClone(afterMeta), ctx.fixture.specChange);
      const afterSpec = (await ctx.api.replaceNamespacedCustomObject({ ...ctx.gvr(), name: 'gen', body: specChanged })) as any;
      t.is(afterSpec.metadata.generation, 2, 'a spec change bumps the generation');
      for (const [path, value] of Object.entries(ctx.fixture.specChange)) t.deepEqual(getPath(afterSpec, path), value, path);

      // Writing the same object again changes nothing: same RV, same generation.
      const noop = (await ctx.api.replaceNamespacedCustomObject({ ...ctx.gvr(), name: 'gen', body: structuredClone(afterSpec) })) as any;
      t.is(noop.metadata.generation, 2, 'a no-op update keeps the generation');
      t.is(noop.metadata.resourceVersion, afterSpec.metadata.resourceVersion, 'a no-op update is not written');

      // Server-owned metadata cannot be changed by the client.
      const tampered = structuredClone(noop);
      tampered.metadata.generation = 42;
      tampered.metadata.creationTimestamp = '2001-01-01T00:00:00Z';
      const res = await ctx.raw('PUT', ctx.item('gen'), { body: tampered });
      if (res.status === 200) {
        t.is(res.json.metadata.generation, 2, 'generation is server-owned');
      } else {
        expectStatus(t, res, 422, 'Invalid', 'changing creationTimestamp');
      }
      const got = await ctx.get(t, 'gen');
      t.is(got.metadata.generation, 2);
      t.is(got.metadata.creationTimestamp, created.metadata.creationTimestamp, 'creationTimestamp is immutable');
    },
  },
  {
    name: 'defaults are applied on update too',
    when: (kind) => Object.keys(kind.fixture.defaults).length > 0,
    async run(t, ctx) {
      const created = await ctx.createSample(t, 'def', { keepDefaults: true });
      const body = structuredClone(created);
      for (const path of Object.keys(ctx.fixture.defaults)) setPath(body, path, undefined);
      const updated = (await ctx.api.replaceNamespacedCustomObject({ ...ctx.gvr(), name: 'def', body })) as any;
      for (const [path, value] of Object.entries(ctx.fixture.defaults)) t.deepEqual(getPath(updated, path), value, `default of ${path} on update`);
      const patch = mergePatchOf(Object.fromEntries(Object.keys(ctx.fixture.defaults).map((p) => [p, null])));
      const patched = await ctx.mergePatch(t, 'def', patch);
      for (const [path, value] of Object.entries(ctx.fixture.defaults)) t.deepEqual(getPath(patched, path), value, `default of ${path} after a merge patch deletes it`);
    },
  },
  {
    name: 'PUT of a missing object is 404 and a name that differs from the URL is 400',
    async run(t, ctx) {
      await rejectsWithStatus(t, ctx.api.replaceNamespacedCustomObject({ ...ctx.gvr(), name: 'nope', body: ctx.sample('nope') }), 404, 'NotFound');
      const created = await ctx.createSample(t, 'named');
      const renamed = structuredClone(created);
      renamed.metadata.name = 'other';
      expectStatus(t, await ctx.raw('PUT', ctx.item('named'), { body: renamed }), 400, 'BadRequest');
    },
  },
  {
    name: 'metadata.uid is a precondition of PUT (409 Conflict) and immutable under patch (422)',
    async run(t, ctx) {
      // kubectl replace of an object that was deleted and re-created meanwhile must not overwrite it.
      const first = await ctx.createSample(t, 'uid');
      await ctx.raw('DELETE', ctx.item('uid'));
      const second = await ctx.createSample(t, 'uid');
      const stale = structuredClone(first);
      delete stale.metadata.resourceVersion;
      stale.metadata.labels.overwritten = 'yes';
      const res = await ctx.raw('PUT', ctx.item('uid'), { body: stale });
      const status = expectStatus(t, res, 409, 'Conflict', 'PUT with the uid of a deleted object');
      t.true((status.message ?? '').includes(`Precondition failed: UID in precondition: ${first.metadata.uid}, UID in object meta: ${second.metadata.uid}`), status.message);
      const got = await ctx.get(t, 'uid');
      t.is(got.metadata.labels.overwritten, undefined, 'the re-created object was not overwritten');
      // A patch cannot change the uid (ValidateObjectMetaUpdate: field is immutable).
      const patch = await ctx.raw('PATCH', ctx.item('uid'), {
        body: JSON.stringify({ metadata: { uid: first.metadata.uid } }),
        headers: { 'Content-Type': 'application/merge-patch+json' },
      });
      const s2 = expectStatus(t, patch, 422, 'Invalid', 'patch of metadata.uid');
      t.deepEqual(s2.details?.causes?.map((c) => c.field), ['metadata.uid']);
      // A merge patch changing the name is 400 (the name on the URL wins).
      const rename = await ctx.raw('PATCH', ctx.item('uid'), { body: JSON.stringify({ metadata: { name: 'other' } }), headers: { 'Content-Type': 'application/merge-patch+json' } });
      expectStatus(t, rename, 400, 'BadRequest', 'patch of metadata.name');
      t.is((await ctx.get(t, 'uid')).metadata.uid, second.metadata.uid);
    },
  },
  {
    name: 'PUT /status changes only status',
    async run(t, ctx) {
      const created = await ctx.createSample(t, 'st');
      const body = applyPaths(structuredClone(created), ctx.fixture.specChange);
      body.metadata.labels.sneaky = 'yes';
      body.status = structuredClone(ctx.fixture.status);
      const res = await ctx.api.replaceNamespacedCustomObjectStatusWithHttpInfo({ ...ctx.gvr(), name: 'st', body });
      t.is(res.httpStatusCode, 200);
      const updated = res.data as any;
      t.deepEqual(updated.status, ctx.fixture.status, 'status written');
      t.deepEqual(updated.spec, created.spec, 'spec unchanged by /status');
      t.is(updated.metadata.labels.sneaky, undefined, 'labels unchanged by /status');
      t.is(updated.metadata.generation, 1, 'generation unchanged by /status');
      const got = (await ctx.api.getNamespacedCustomObjectStatus({ ...ctx.gvr(), name: 'st' })) as any;
      t.true(Number(got.metadata.resourceVersion) > Number(created.metadata.resourceVersion), 'the status write is a new revision');
      t.is(updated.metadata.resourceVersion, got.metadata.resourceVersion, 'the PUT /status response carries the new resourceVersion');
      t.deepEqual(got.status, ctx.fixture.status, 'GET /status shows it');
      t.deepEqual(got.spec, created.spec);
      // A stale RV on /status is a conflict too.
      const stale = structuredClone(created);
      stale.status = structuredClone(ctx.fixture.status);
      await rejectsWithStatus(t, ctx.api.replaceNamespacedCustomObjectStatus({ ...ctx.gvr(), name: 'st', body: stale }), 409, 'Conflict', 'stale /status');
    },
  },
  {
    name: 'PATCH /status (merge and JSON patch) changes only status',
    async run(t, ctx) {
      const created = await ctx.createSample(t, 'ps');
      const patch = { ...mergePatchOf(ctx.fixture.specChange), metadata: { labels: { sneaky: 'yes' } }, status: ctx.fixture.status };
      const updated = (await ctx.api.patchNamespacedCustomObjectStatus({ ...ctx.gvr(), name: 'ps', body: patch }, mergePatchOptions())) as any;
      t.deepEqual(updated.status, ctx.fixture.status);
      t.deepEqual(updated.spec, created.spec, 'spec unchanged');
      t.is(updated.metadata.labels.sneaky, undefined, 'labels unchanged');
      t.is(updated.metadata.generation, 1);
      const stored = await ctx.get(t, 'ps');
      t.is(updated.metadata.resourceVersion, stored.metadata.resourceVersion, 'the PATCH /status response carries the new resourceVersion');
      t.deepEqual(stored.status, ctx.fixture.status);
      const ops = [{ op: 'replace', path: '/status/observedGeneration', value: 7 }];
      const patched = (await ctx.api.patchNamespacedCustomObjectStatus({ ...ctx.gvr(), name: 'ps', body: ops }, jsonPatchOptions())) as any;
      t.is(patched.status.observedGeneration, 7, 'JSON patch on /status');
      // An invalid status is 422 with the status path.
      const res = await ctx.raw('PATCH', `${ctx.item('ps')}/status`, {
        body: JSON.stringify({ status: { observedGeneration: 'many' } }),
        headers: { 'Content-Type': 'application/merge-patch+json' },
      });
      const status = expectStatus(t, res, 422, 'Invalid', 'invalid status');
      t.deepEqual(status.details?.causes?.map((c) => c.field), ['status.observedGeneration']);
    },
  },
  {
    name: 'main-resource update and patch ignore status',
    async run(t, ctx) {
      await ctx.createSample(t, 'ig');
      await ctx.setStatus(t, 'ig', ctx.fixture.status);
      const withStatus = await ctx.get(t, 'ig');
      const body = structuredClone(withStatus);
      body.status = { observedGeneration: 99 };
      body.metadata.labels.changed = 'yes';
      const updated = (await ctx.api.replaceNamespacedCustomObject({ ...ctx.gvr(), name: 'ig', body })) as any;
      t.deepEqual(updated.status, ctx.fixture.status, 'PUT keeps the stored status');
      t.is(updated.metadata.labels.changed, 'yes', 'but applies the rest');
      const noStatus = structuredClone(updated);
      delete noStatus.status;
      const updated2 = (await ctx.api.replaceNamespacedCustomObject({ ...ctx.gvr(), name: 'ig', body: noStatus })) as any;
      t.deepEqual(updated2.status, ctx.fixture.status, 'PUT without status keeps the stored status');
      const patched = await ctx.mergePatch(t, 'ig', { status: { observedGeneration: 98 } });
      t.deepEqual(patched.status, ctx.fixture.status, 'merge patch of status on the main resource is ignored');
      t.is(patched.metadata.resourceVersion, updated2.metadata.resourceVersion, 'a status-only patch of the main resource writes nothing');
    },
  },
  {
    name: 'merge patch: sets, replaces and deletes (null) fields',
    async run(t, ctx) {
      await ctx.createSample(t, 'mp', { labels: { drop: 'me', keep: 'me' } });
      const patch = { metadata: { labels: { drop: null, added: 'yes' } }, ...mergePatchOf(ctx.fixture.specChange) };
      const res = await ctx.api.patchNamespacedCustomObjectWithHttpInfo({ ...ctx.gvr(), name: 'mp', body: patch }, mergePatchOptions());
      t.is(res.httpStatusCode, 200);
      const obj = res.data as any;
      t.is(obj.metadata.labels.drop, undefined, 'null deletes');
      t.is(obj.metadata.labels.keep, 'me', 'untouched keys stay');
      t.is(obj.metadata.labels.added, 'yes');
      for (const [path, value] of Object.entries(ctx.fixture.specChange)) t.deepEqual(getPath(obj, path), value, path);
      t.is(obj.metadata.generation, 2);
      const got = await ctx.get(t, 'mp');
      t.deepEqual(got, obj, 'the patch was stored');
      // Patching a missing object is 404.
      await rejectsWithStatus(t, ctx.api.patchNamespacedCustomObject({ ...ctx.gvr(), name: 'absent', body: patch }, mergePatchOptions()), 404, 'NotFound');
      // A merge patch that is not an object is 400.
      const bad = await ctx.raw('PATCH', ctx.item('mp'), { body: '[1]', headers: { 'Content-Type': 'application/merge-patch+json' } });
      t.true(bad.status === 400 || bad.status === 422, `a non-object merge patch is 400/422, got ${bad.status}`);
      t.is(bad.json?.kind, 'Status');
    },
  },
  {
    name: 'concurrent patches without resourceVersion are all applied (retried, never 409)',
    async run(t, ctx) {
      await ctx.createSample(t, 'cc');
      const merge = Array.from({ length: 4 }, (_, i) =>
        ctx.raw('PATCH', ctx.item('cc'), { body: JSON.stringify({ metadata: { labels: { [`m${i}`]: 'v' } } }), headers: { 'Content-Type': 'application/merge-patch+json' } }),
      );
      const json = Array.from({ length: 4 }, (_, i) =>
        ctx.raw('PATCH', ctx.item('cc'), { body: JSON.stringify([{ op: 'add', path: `/metadata/labels/j${i}`, value: 'v' }]), headers: { 'Content-Type': 'application/json-patch+json' } }),
      );
      const results = await Promise.all([...merge, ...json]);
      t.deepEqual(
        results.map((r) => (r.status === 200 ? 200 : `${r.status} ${r.json?.reason}: ${r.json?.message}`)),
        Array(8).fill(200),
        'a patch without a resourceVersion precondition is re-applied on conflict (GuaranteedUpdate), not refused',
      );
      const got = await ctx.get(t, 'cc');
      for (let i = 0; i < 4; i++) {
        t.is(got.metadata.labels[`m${i}`], 'v', `m${i} applied`);
        t.is(got.metadata.labels[`j${i}`], 'v', `j${i} applied`);
      }
      // Likewise unconditional PUTs (no resourceVersion) of different labels: the last one wins, none is refused.
      const base = structuredClone(got);
      delete base.metadata.resourceVersion;
      const puts = await Promise.all(
        [0, 1, 2].map((i) => {
          const body = structuredClone(base);
          body.metadata.labels.put = String(i);
          return ctx.raw('PUT', ctx.item('cc'), { body });
        }),
      );
      t.deepEqual(puts.map((r) => r.status), [200, 200, 200]);
    },
  },
  {
    name: 'JSON patch: add, replace, remove and test',
    async run(t, ctx) {
      await ctx.createSample(t, 'jp', { labels: { gone: 'soon' } });
      const [path, value] = Object.entries(ctx.fixture.specChange)[0];
      const ops = [
        { op: 'test', path: '/metadata/name', value: 'jp' },
        { op: 'add', path: '/metadata/labels/added', value: 'yes' },
        { op: 'remove', path: '/metadata/labels/gone' },
        { op: 'add', path: pointer(path), value },
      ];
      const res = await ctx.api.patchNamespacedCustomObjectWithHttpInfo({ ...ctx.gvr(), name: 'jp', body: ops }, jsonPatchOptions());
      t.is(res.httpStatusCode, 200);
      const obj = res.data as any;
      t.is(obj.metadata.labels.added, 'yes');
      t.is(obj.metadata.labels.gone, undefined);
      t.deepEqual(getPath(obj, path), value);
      t.is(obj.metadata.generation, 2);
    },
  },
  {
    name: 'an invalid JSON patch is a 4xx Status and changes nothing',
    async run(t, ctx) {
      const created = await ctx.createSample(t, 'bad');
      const send = (body: string) => ctx.raw('PATCH', ctx.item('bad'), { body, headers: { 'Content-Type': 'application/json-patch+json' } });
      // Not an array of operations.
      expectStatus(t, await send('{"op":"add"}'), 400, 'BadRequest', 'not an array');
      // An unknown operation: 400 (decoding) or 422 (applying) are both what kube-apiserver may answer.
      const unknownOp = await send('[{"op":"frobnicate","path":"/metadata/labels/x","value":"y"}]');
      t.true(unknownOp.status === 400 || unknownOp.status === 422, `unknown op: 400/422, got ${unknownOp.status}`);
      t.is(unknownOp.json?.kind, 'Status', 'unknown op answers a Status');
      // Malformed JSON.
      expectStatus(t, await send('[{"op":'), 400, 'BadRequest', 'malformed JSON');
      // A failing test operation and a path that does not exist cannot be applied: 422, as
      // kube-apiserver's jsonPatcher answers (NewGenericServerResponse(422) → reason Invalid).
      for (const ops of [
        [{ op: 'test', path: '/metadata/name', value: 'other' }],
        [{ op: 'replace', path: '/spec/doesNotExist/deeper', value: 1 }],
        [{ op: 'remove', path: '/metadata/labels/absent' }],
      ]) {
        expectStatus(t, await send(JSON.stringify(ops)), 422, 'Invalid', JSON.stringify(ops));
      }
      const got = await ctx.get(t, 'bad');
      t.is(got.metadata.resourceVersion, created.metadata.resourceVersion, 'nothing was written');
    },
  },
  {
    name: 'a patch that makes the object invalid is 422 with field paths',
    async run(t, ctx) {
      const created = await ctx.createSample(t, 'inv');
      const res = await ctx.raw('PATCH', ctx.item('inv'), {
        body: JSON.stringify(mergePatchOf(ctx.fixture.invalid.set)),
        headers: { 'Content-Type': 'application/merge-patch+json' },
      });
      const status = expectStatus(t, res, 422, 'Invalid');
      // Only the patched paths may be named (a changed immutable field may add a second cause on its path);
      // fields the patch did not touch must not be reported.
      t.deepEqual([...new Set(status.details?.causes?.map((c) => c.field))].sort(), [...ctx.fixture.invalid.fields].sort(), status.message);
      const got = expectOk(t, await ctx.raw('GET', ctx.item('inv')));
      t.is(got.metadata.resourceVersion, created.metadata.resourceVersion);
    },
  },
];
