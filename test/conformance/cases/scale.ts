// The scale subresource (autoscaling/v1 Scale) for kinds that declare one; 404 for the others.
import * as k8s from '@kubernetes/client-node';
import type { KindCase } from '../harness.js';
import { expectOk, expectStatus, rejectsWithStatus } from '../client.js';
import { getPath } from '../objects.js';

export const cases: KindCase[] = [
  {
    name: 'scale: GET returns an autoscaling/v1 Scale of spec/status replicas and the selector',
    when: (kind) => kind.scale !== undefined,
    async run(t, ctx) {
      const mapping = ctx.kind.scale!;
      const obj = await ctx.createSample(t, 'sc');
      const scale = (await ctx.api.getNamespacedCustomObjectScale({ ...ctx.gvr(), name: 'sc' })) as any;
      t.is(scale.kind, 'Scale');
      t.is(scale.apiVersion, 'autoscaling/v1');
      t.is(scale.metadata.name, 'sc');
      t.is(scale.metadata.namespace, ctx.ns);
      t.is(scale.metadata.uid, obj.metadata.uid);
      t.is(scale.metadata.resourceVersion, obj.metadata.resourceVersion);
      t.is(scale.spec.replicas, getPath(obj, mapping.specReplicasPath));
      t.is(scale.status.replicas, 0, 'no status yet: 0 observed replicas');
      t.is(scale.status.selector, mapping.labelSelector(obj));
      const observed = getPath(ctx.fixture.status, mapping.statusReplicasPath.replace(/^status\./, ''));
      t.is(typeof observed, 'number', 'the fixture status sets the observed replicas');
      await ctx.setStatus(t, 'sc', ctx.fixture.status);
      const after = (await ctx.api.getNamespacedCustomObjectScale({ ...ctx.gvr(), name: 'sc' })) as any;
      t.is(after.status.replicas, observed, 'status.replicas follows the object status');
      await rejectsWithStatus(t, ctx.api.getNamespacedCustomObjectScale({ ...ctx.gvr(), name: 'absent' }), 404, 'NotFound');
    },
  },
  {
    name: 'scale: PUT and merge/JSON patch change spec.replicas (and the generation)',
    when: (kind) => kind.scale !== undefined,
    async run(t, ctx) {
      const mapping = ctx.kind.scale!;
      const obj = await ctx.createSample(t, 'sc');
      const current = (await ctx.api.getNamespacedCustomObjectScale({ ...ctx.gvr(), name: 'sc' })) as any;
      const put = structuredClone(current);
      put.spec.replicas = 5;
      const res = await ctx.api.replaceNamespacedCustomObjectScaleWithHttpInfo({ ...ctx.gvr(), name: 'sc', body: put });
      t.is(res.httpStatusCode, 200);
      t.is((res.data as any).kind, 'Scale');
      t.is((res.data as any).spec.replicas, 5);
      let stored = await ctx.get(t, 'sc');
      t.is(getPath(stored, mapping.specReplicasPath), 5);
      t.is(stored.metadata.generation, 2, 'scaling is a spec change');
      t.is((res.data as any).metadata.resourceVersion, stored.metadata.resourceVersion);
      // A stale resourceVersion in the Scale is a conflict.
      await rejectsWithStatus(t, ctx.api.replaceNamespacedCustomObjectScale({ ...ctx.gvr(), name: 'sc', body: { ...put, spec: { replicas: 6 } } }), 409, 'Conflict', 'stale Scale');
      // Merge patch (kubectl scale) and JSON patch.
      const merged = (await ctx.api.patchNamespacedCustomObjectScale(
        { ...ctx.gvr(), name: 'sc', body: { spec: { replicas: 2 } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      )) as any;
      t.is(merged.spec.replicas, 2);
      stored = await ctx.get(t, 'sc');
      t.is(getPath(stored, mapping.specReplicasPath), 2);
      const jp = await ctx.raw('PATCH', `${ctx.item('sc')}/scale`, {
        body: JSON.stringify([{ op: 'replace', path: '/spec/replicas', value: 0 }]),
        headers: { 'Content-Type': 'application/json-patch+json' },
      });
      t.is(expectOk(t, jp).spec.replicas, 0, 'scale to zero');
      stored = await ctx.get(t, 'sc');
      t.is(getPath(stored, mapping.specReplicasPath), 0);
      t.is(stored.metadata.generation, 4);
      // The rest of the spec is untouched.
      const { [mapping.specReplicasPath.split('.')[1]]: _a, ...restNow } = stored.spec;
      const { [mapping.specReplicasPath.split('.')[1]]: _b, ...restBefore } = obj.spec;
      t.deepEqual(restNow, restBefore);
      // dryRun leaves it.
      const dry = await ctx.raw('PATCH', `${ctx.item('sc')}/scale`, {
        body: JSON.stringify({ spec: { replicas: 9 } }),
        headers: { 'Content-Type': 'application/merge-patch+json' },
        query: { dryRun: 'All' },
      });
      t.is(expectOk(t, dry).spec.replicas, 9);
      t.is(getPath(await ctx.get(t, 'sc'), mapping.specReplicasPath), 0);
    },
  },
  {
    name: 'scale: negative replicas are 422 Invalid on spec.replicas',
    when: (kind) => kind.scale !== undefined,
    async run(t, ctx) {
      const obj = await ctx.createSample(t, 'sc');
      const res = await ctx.raw('PATCH', `${ctx.item('sc')}/scale`, {
        body: JSON.stringify({ spec: { replicas: -1 } }),
        headers: { 'Content-Type': 'application/merge-patch+json' },
      });
      const status = expectStatus(t, res, 422, 'Invalid');
      t.deepEqual(status.details?.causes?.map((c) => [c.reason, c.field]), [['FieldValueInvalid', 'spec.replicas']]);
      t.is(status.details?.kind, 'Scale');
      const put = await ctx.raw('PUT', `${ctx.item('sc')}/scale`, {
        body: { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'sc', namespace: ctx.ns }, spec: { replicas: -3 } },
      });
      expectStatus(t, put, 422, 'Invalid', 'PUT');
      const got = await ctx.get(t, 'sc');
      t.is(got.metadata.resourceVersion, obj.metadata.resourceVersion, 'nothing written');
    },
  },
  {
    name: 'no scale subresource: /scale is 404',
    when: (kind) => kind.scale === undefined,
    async run(t, ctx) {
      await ctx.createSample(t, 'ns');
      expectStatus(t, await ctx.raw('GET', `${ctx.item('ns')}/scale`), 404, 'NotFound');
      expectStatus(
        t,
        await ctx.raw('PATCH', `${ctx.item('ns')}/scale`, { body: '{"spec":{"replicas":1}}', headers: { 'Content-Type': 'application/merge-patch+json' } }),
        404,
        'NotFound',
      );
    },
  },
];
