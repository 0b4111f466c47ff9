// Label and field selectors on list (and watch, see watch.ts), including each kind's
// selectableFields, and the 400s for bad or unsupported selectors.
import type { KindCase } from '../harness.js';
import { expectStatus, rejectsWithStatus } from '../client.js';
import { names, TEST_LABEL } from '../objects.js';

export const cases: KindCase[] = [
  {
    name: 'label selectors: =, ==, !=, in, notin, exists, !',
    async run(t, ctx) {
      await ctx.createSample(t, 'a', { labels: { env: 'prod', tier: 'web' } });
      await ctx.createSample(t, 'b', { labels: { env: 'dev', tier: 'web' } });
      await ctx.createSample(t, 'c', { labels: { env: 'prod' } });
      await ctx.createSample(t, 'd');
      const expectations: Array<[string, string[]]> = [
        ['env=prod', ['a', 'c']],
        ['env==prod', ['a', 'c']],
        ['env!=prod', ['b', 'd']],
        ['env in (prod,dev)', ['a', 'b', 'c']],
        ['env in (qa)', []],
        ['env notin (prod)', ['b', 'd']],
        ['tier', ['a', 'b']],
        ['!tier', ['c', 'd']],
        ['env=prod,tier=web', ['a']],
        ['env=prod,!tier', ['c']],
        ['env notin (prod,dev),!tier', ['d']],
        ['', ['a', 'b', 'c', 'd']],
      ];
      for (const [selector, expected] of expectations) {
        const list = (await ctx.api.listNamespacedCustomObject({ ...ctx.gvr(), labelSelector: selector })) as any;
        t.deepEqual(names(list.items), expected, `labelSelector=${selector}`);
      }
      // Across namespaces too.
      const all = await ctx.list(t, { labelSelector: `${TEST_LABEL}=${ctx.id},env=prod` }, ctx.allNamespaces);
      t.deepEqual(names(all.items), ['a', 'c'], 'all-namespaces list with a label selector');
    },
  },
  {
    name: 'a malformed label selector is 400 BadRequest',
    async run(t, ctx) {
      for (const selector of ['env in prod', 'a=b=c', 'env in (prod', '!!x', 'bad key!=v', 'k=bad value!']) {
        const status = await rejectsWithStatus(t, ctx.api.listNamespacedCustomObject({ ...ctx.gvr(), labelSelector: selector }), 400, 'BadRequest', selector);
        t.true((status.message ?? '').length > 0);
      }
      const res = await ctx.raw('GET', ctx.collection(), { query: { watch: 'true', labelSelector: 'a=b=c' } });
      expectStatus(t, res, 400, 'BadRequest', 'watch with a malformed label selector');
    },
  },
  {
    name: 'field selectors: metadata.name and metadata.namespace',
    async run(t, ctx) {
      const other = `${ctx.ns}-x`;
      await ctx.createSample(t, 'a');
      await ctx.createSample(t, 'b');
      await ctx.createSample(t, 'a', { ns: other });
      const cases: Array<[string, string[]]> = [
        ['metadata.name=a', ['a']],
        ['metadata.name==a', ['a']],
        ['metadata.name!=a', ['b']],
        ['metadata.name=zzz', []],
        [`metadata.namespace=${ctx.ns}`, ['a', 'b']],
        [`metadata.namespace!=${ctx.ns}`, []],
        [`metadata.name=a,metadata.namespace=${ctx.ns}`, ['a']],
      ];
      for (const [selector, expected] of cases) {
        const list = (await ctx.api.listNamespacedCustomObject({ ...ctx.gvr(), fieldSelector: selector })) as any;
        t.deepEqual(names(list.items), expected, `fieldSelector=${selector}`);
      }
      const all = await ctx.list(t, { labelSelector: ctx.selector(), fieldSelector: 'metadata.name=a' }, ctx.allNamespaces);
      t.deepEqual(all.items.map((i: any) => i.metadata.namespace).sort(), [ctx.ns, other].sort(), 'metadata.name across namespaces');
      const byNs = await ctx.list(t, { labelSelector: ctx.selector(), fieldSelector: `metadata.namespace=${other}` }, ctx.allNamespaces);
      t.deepEqual(byNs.items.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`), [`${other}/a`]);
    },
  },
  {
    name: "field selectors on the kind's selectableFields",
    when: (kind) => kind.selectableFields.length > 0,
    async run(t, ctx) {
      // `a` is the example with the fixture's status; `b` differs in every spec field and has no status.
      await ctx.createSample(t, 'a');
      await ctx.setStatus(t, 'a', ctx.fixture.status);
      await ctx.create(t, ctx.sample('b', { set: ctx.fixture.variant }));
      const a = await ctx.get(t, 'a');
      const b = await ctx.get(t, 'b');
      for (const label of ctx.kind.selectableFields) {
        const value = ctx.kind.decl.selectableFields[label];
        const va = value(a) ?? '';
        const vb = value(b) ?? '';
        t.not(va, vb, `fixture must make a and b differ in ${label}`);
        if (va === vb) continue;
        const eq = (await ctx.api.listNamespacedCustomObject({ ...ctx.gvr(), fieldSelector: `${label}=${va}` })) as any;
        t.deepEqual(names(eq.items), ['a'], `${label}=${va}`);
        const ne = (await ctx.api.listNamespacedCustomObject({ ...ctx.gvr(), fieldSelector: `${label}!=${va}` })) as any;
        t.deepEqual(names(ne.items), ['b'], `${label}!=${va}`);
        const eqb = await ctx.list(t, { fieldSelector: `${label}=${vb}` });
        t.deepEqual(names(eqb.items), ['b'], `${label}=${vb}`);
        const combined = await ctx.list(t, { fieldSelector: `${label}=${va},metadata.name=b` });
        t.deepEqual(names(combined.items), [], `${label}=${va},metadata.name=b`);
        const all = await ctx.list(t, { labelSelector: ctx.selector(), fieldSelector: `${label}=${va}` }, ctx.allNamespaces);
        t.deepEqual(names(all.items), ['a'], `${label}=${va} across namespaces`);
      }
    },
  },
  {
    name: 'an unsupported field selector is 400 BadRequest naming the field',
    async run(t, ctx) {
      for (const selector of ['spec.nope=x', 'metadata.labels=x', 'status.unknown=y']) {
        const status = await rejectsWithStatus(t, ctx.api.listNamespacedCustomObject({ ...ctx.gvr(), fieldSelector: selector }), 400, 'BadRequest', selector);
        const field = selector.split('=')[0];
        t.true((status.message ?? '').includes(`field label not supported: ${field}`), status.message);
      }
      const watch = await ctx.raw('GET', ctx.collection(), { query: { watch: 'true', fieldSelector: 'spec.nope=x' } });
      expectStatus(t, watch, 400, 'BadRequest', 'watch with an unsupported field selector');
      const malformed = await ctx.raw('GET', ctx.collection(), { query: { fieldSelector: 'metadata.name' } });
      expectStatus(t, malformed, 400, 'BadRequest', 'a field selector without an operator');
      const set = await ctx.raw('GET', ctx.collection(), { query: { fieldSelector: 'metadata.name in (a,b)' } });
      expectStatus(t, set, 400, 'BadRequest', 'set-based field selectors do not exist');
    },
  },
];
