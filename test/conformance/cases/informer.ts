// @kubernetes/client-node's informer (list + watch + cache) against the server.
import * as k8s from '@kubernetes/client-node';
import type { KindCase } from '../harness.js';
import { eventually } from '../client.js';

export const cases: KindCase[] = [
  {
    name: 'client-node makeInformer sees add, update and delete, and its cache equals a fresh list',
    async run(t, ctx) {
      await ctx.createSample(t, 'pre-1');
      await ctx.createSample(t, 'pre-2');
      const seen: Array<[string, string]> = [];
      const errors: unknown[] = [];
      const list = () => ctx.api.listNamespacedCustomObject({ ...ctx.gvr(), labelSelector: ctx.selector() }) as Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>;
      const informer = k8s.makeInformer(ctx.kc, ctx.collection(), list, ctx.selector());
      informer.on('add', (o) => seen.push(['add', o.metadata!.name!]));
      informer.on('update', (o) => seen.push(['update', o.metadata!.name!]));
      informer.on('delete', (o) => seen.push(['delete', o.metadata!.name!]));
      informer.on('error', (err) => errors.push(err));
      ctx.defer(() => informer.stop());
      await informer.start();
      await eventually(() => seen.filter(([v]) => v === 'add').length >= 2, 'the initial adds');
      t.deepEqual(seen.map(([, n]) => n).sort(), ['pre-1', 'pre-2']);

      await ctx.createSample(t, 'live');
      await eventually(() => seen.some(([v, n]) => v === 'add' && n === 'live'), 'add of live');
      const patched = await ctx.mergePatch(t, 'pre-1', { metadata: { labels: { changed: 'yes' } } });
      await eventually(() => seen.some(([v, n]) => v === 'update' && n === 'pre-1'), 'update of pre-1');
      await ctx.raw('DELETE', ctx.item('pre-2'));
      await eventually(() => seen.some(([v, n]) => v === 'delete' && n === 'pre-2'), 'delete of pre-2');
      // An object outside the informer's selector never shows.
      await ctx.create(t, { ...ctx.sample('outsider'), metadata: { name: 'outsider', namespace: ctx.ns, labels: { other: 'x' } } });

      const fresh = (await list()) as any;
      await eventually(() => {
        const cached = informer.list().map((o) => `${o.metadata!.name}@${o.metadata!.resourceVersion}`).sort();
        const listed = fresh.items.map((o: any) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort();
        return JSON.stringify(cached) === JSON.stringify(listed);
      }, 'the informer cache to equal a fresh list');
      t.deepEqual(informer.list().map((o) => o.metadata!.name).sort(), ['live', 'pre-1']);
      const cachedPre1 = informer.get('pre-1', ctx.ns) as any;
      t.is(cachedPre1.metadata.resourceVersion, patched.metadata.resourceVersion);
      t.is(cachedPre1.metadata.labels.changed, 'yes');
      t.false(seen.some(([, n]) => n === 'outsider'));
      t.deepEqual(errors, [], 'no informer errors');
    },
  },
];
