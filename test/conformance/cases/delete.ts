// Finalizers and graceful deletion, delete preconditions, propagationPolicy, deletecollection.
import type { KindCase } from '../harness.js';
import { expectOk, expectStatus, rejectsWithStatus } from '../client.js';
import { names } from '../objects.js';

const FINALIZER = 'example.com/hold';

export const cases: KindCase[] = [
  {
    name: 'finalizers: delete sets deletionTimestamp, the object stays until the last finalizer goes (watch sees DELETED)',
    async run(t, ctx) {
      const body = ctx.sample('fin');
      body.metadata.finalizers = [FINALIZER, 'example.com/second'];
      const created = await ctx.create(t, body);
      const watch = await ctx.watch(ctx.collection(), { resourceVersion: created.metadata.resourceVersion, fieldSelector: 'metadata.name=fin' });

      const res = await ctx.api.deleteNamespacedCustomObjectWithHttpInfo({ ...ctx.gvr(), name: 'fin' });
      t.true(res.httpStatusCode === 200 || res.httpStatusCode === 202, `delete with finalizers answers 200/202, got ${res.httpStatusCode}`);
      const marked = res.data as any;
      t.is(marked.kind, ctx.kind.kind, 'the answer is the object, still there');
      t.regex(marked.metadata.deletionTimestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      t.is(marked.metadata.deletionGracePeriodSeconds, 0);
      t.deepEqual(marked.metadata.finalizers, [FINALIZER, 'example.com/second']);

      const got = await ctx.get(t, 'fin');
      t.is(got.metadata.deletionTimestamp, marked.metadata.deletionTimestamp, 'GET shows the deletionTimestamp');
      t.is(got.metadata.uid, created.metadata.uid);
      const modified = await watch.waitFor((e) => e.type === 'MODIFIED' && !!e.object.metadata.deletionTimestamp, 'MODIFIED with deletionTimestamp');
      t.is(modified.object.metadata.resourceVersion, got.metadata.resourceVersion);

      // Deleting again changes nothing.
      const again = await ctx.raw('DELETE', ctx.item('fin'));
      t.true(again.status === 200 || again.status === 202, `second delete: ${again.status}`);
      const still = await ctx.get(t, 'fin');
      t.is(still.metadata.deletionTimestamp, marked.metadata.deletionTimestamp, 'the deletionTimestamp is not moved');

      // An update cannot clear the deletionTimestamp.
      const cleared = structuredClone(still);
      delete cleared.metadata.deletionTimestamp;
      cleared.metadata.labels.touched = 'yes';
      const upd = (await ctx.api.replaceNamespacedCustomObject({ ...ctx.gvr(), name: 'fin', body: cleared })) as any;
      t.is(upd.metadata.deletionTimestamp, marked.metadata.deletionTimestamp, 'deletionTimestamp survives updates');

      // Removing one finalizer keeps it; removing the last deletes it.
      const one = (await ctx.mergePatch(t, 'fin', { metadata: { finalizers: ['example.com/second'] } })) as any;
      t.deepEqual(one.metadata.finalizers, ['example.com/second']);
      await ctx.get(t, 'fin');
      const last = await ctx.raw('PATCH', ctx.item('fin'), {
        body: JSON.stringify({ metadata: { finalizers: null } }),
        headers: { 'Content-Type': 'application/merge-patch+json' },
      });
      expectOk(t, last, 200, 'removing the last finalizer');
      await rejectsWithStatus(t, ctx.api.getNamespacedCustomObject({ ...ctx.gvr(), name: 'fin' }), 404, 'NotFound', 'gone after the last finalizer');
      const deleted = await watch.waitFor((e) => e.type === 'DELETED', 'DELETED');
      t.is(deleted.object.metadata.name, 'fin');
      const types = watch.events.map((e) => e.type);
      t.is(types[types.length - 1], 'DELETED', `DELETED is the last event: ${types.join(',')}`);
      t.is(types.filter((x) => x === 'DELETED').length, 1);
    },
  },
  {
    name: 'delete preconditions: a stale resourceVersion or another uid is 409 Conflict',
    async run(t, ctx) {
      const created = await ctx.createSample(t, 'pre');
      const updated = await ctx.mergePatch(t, 'pre', { metadata: { labels: { v: '2' } } });
      const rv = await rejectsWithStatus(
        t,
        ctx.api.deleteNamespacedCustomObject({ ...ctx.gvr(), name: 'pre', body: { preconditions: { resourceVersion: created.metadata.resourceVersion } } }),
        409,
        'Conflict',
        'stale resourceVersion',
      );
      t.true(rv.message!.startsWith(`Operation cannot be fulfilled on ${ctx.kind.plural}.${ctx.kind.group} "pre": `), rv.message);
      t.true(rv.message!.includes('Precondition failed'), rv.message);
      await rejectsWithStatus(
        t,
        ctx.api.deleteNamespacedCustomObject({ ...ctx.gvr(), name: 'pre', body: { preconditions: { uid: '00000000-0000-0000-0000-000000000000' } } }),
        409,
        'Conflict',
        'other uid',
      );
      await ctx.get(t, 'pre');
      const ok = await ctx.raw('DELETE', ctx.item('pre'), {
        body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: created.metadata.uid, resourceVersion: updated.metadata.resourceVersion } },
      });
      expectOk(t, ok, 200, 'matching preconditions');
      expectStatus(t, await ctx.raw('GET', ctx.item('pre')), 404, 'NotFound');
    },
  },
  {
    name: 'propagationPolicy is accepted; an unknown one is 400',
    async run(t, ctx) {
      for (const policy of ['Background', 'Foreground', 'Orphan']) {
        const name = policy.toLowerCase();
        await ctx.createSample(t, name);
        const res = await ctx.api.deleteNamespacedCustomObjectWithHttpInfo({ ...ctx.gvr(), name, propagationPolicy: policy });
        t.true(res.httpStatusCode === 200 || res.httpStatusCode === 202, `${policy}: ${res.httpStatusCode}`);
      }
      // Foreground adds the foregroundDeletion finalizer only while dependents exist; here there are none.
      await ctx.createSample(t, 'bogus');
      expectStatus(t, await ctx.raw('DELETE', ctx.item('bogus'), { query: { propagationPolicy: 'Sometimes' } }), 400, 'BadRequest');
      await ctx.get(t, 'bogus');
    },
  },
  {
    name: 'deletecollection deletes exactly what the label selector selects',
    async run(t, ctx) {
      for (const n of ['d1', 'd2', 'd3']) await ctx.createSample(t, n, { labels: { doomed: 'yes' } });
      for (const n of ['k1', 'k2']) await ctx.createSample(t, n, { labels: { doomed: 'no' } });
      const other = `${ctx.ns}-other`;
      await ctx.createSample(t, 'd4', { ns: other, labels: { doomed: 'yes' } });
      const start = (await ctx.list(t)).metadata.resourceVersion;
      const watch = await ctx.watch(ctx.collection(), { resourceVersion: start });
      const res = await ctx.api.deleteCollectionNamespacedCustomObjectWithHttpInfo({ ...ctx.gvr(), labelSelector: 'doomed=yes' });
      t.is(res.httpStatusCode, 200);
      const body = res.data as any;
      if (body.kind === 'Status') t.is(body.status, 'Success');
      else {
        t.is(body.kind, ctx.kind.listKind);
        t.deepEqual(names(body.items), ['d1', 'd2', 'd3'], 'the answer lists what was deleted');
      }
      const left = await ctx.list(t);
      t.deepEqual(names(left.items), ['k1', 'k2']);
      const events = await watch.take(3);
      t.deepEqual(events.map((e) => `${e.type} ${e.object.metadata.name}`).sort(), ['DELETED d1', 'DELETED d2', 'DELETED d3'], 'a watcher sees one DELETED per object');
      const otherLeft = await ctx.list(t, {}, ctx.collection(other));
      t.deepEqual(names(otherLeft.items), ['d4'], 'deletecollection stays in its namespace');

      // With a field selector, and with finalizers (those are only marked).
      const fin = ctx.sample('kf', { labels: { doomed: 'no' } });
      fin.metadata.finalizers = ['example.com/hold'];
      await ctx.create(t, fin);
      expectOk(t, await ctx.raw('DELETE', ctx.collection(), { query: { fieldSelector: 'metadata.name!=k1' } }), 200, 'deletecollection with a field selector');
      const after = await ctx.list(t);
      t.deepEqual(names(after.items), ['k1', 'kf']);
      t.truthy(after.items.find((i: any) => i.metadata.name === 'kf').metadata.deletionTimestamp, 'kf is only marked');
      // dryRun deletes nothing.
      expectOk(t, await ctx.raw('DELETE', ctx.collection(), { query: { dryRun: 'All' } }), 200, 'dry-run deletecollection');
      t.deepEqual(names((await ctx.list(t)).items), ['k1', 'kf']);
      await ctx.mergePatch(t, 'kf', { metadata: { finalizers: null } });
    },
  },
];
