// Discovery (discovery.go, aggregated_discovery.go) and health endpoints.
import type { Case, KindCase, ServerCase } from '../harness.js';
import { expectOk, expectStatus } from '../client.js';

const MAIN_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const SUB_VERBS = ['get', 'patch', 'update'];
const AGGREGATED_ACCEPT =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

const sorted = (xs: string[] | undefined) => [...(xs ?? [])].sort();

const kindCases: KindCase[] = [
  {
    name: 'discovery: /apis lists the group with its preferred version',
    async run(t, ctx) {
      const res = await ctx.raw('GET', '/apis', { headers: { Accept: 'application/json' } });
      const list = expectOk(t, res);
      t.is(list.kind, 'APIGroupList');
      t.is(list.apiVersion, 'v1');
      const group = list.groups.find((g: any) => g.name === ctx.kind.group);
      t.truthy(group, `${ctx.kind.group} in /apis`);
      const versions = ctx.kind.decl.versions;
      t.deepEqual(group.versions, versions.map((v) => ({ groupVersion: `${ctx.kind.group}/${v}`, version: v })));
      t.deepEqual(group.preferredVersion, { groupVersion: ctx.kind.apiVersion, version: ctx.kind.version });
      const single = expectOk(t, await ctx.raw('GET', `/apis/${ctx.kind.group}`));
      t.is(single.kind, 'APIGroup');
      t.is(single.name, ctx.kind.group);
      t.deepEqual(single.preferredVersion, group.preferredVersion);
      t.deepEqual(single.versions, group.versions);
    },
  },
  {
    name: 'discovery: /apis/<group>/<version> lists the resource with verbs, shortNames, categories and subresources',
    async run(t, ctx) {
      for (const version of ctx.kind.decl.versions) {
        const res = await ctx.raw('GET', `/apis/${ctx.kind.group}/${version}`, { headers: { Accept: 'application/json' } });
        const list = expectOk(t, res, 200, version);
        t.regex(String(res.headers['content-type']), /^application\/json/);
        t.is(list.kind, 'APIResourceList');
        t.is(list.groupVersion, `${ctx.kind.group}/${version}`);
        const main = list.resources.find((r: any) => r.name === ctx.kind.plural);
        t.truthy(main, `${ctx.kind.plural} in ${version}`);
        t.is(main.singularName, ctx.kind.singular);
        t.is(main.namespaced, ctx.kind.namespaced);
        t.is(main.kind, ctx.kind.kind);
        t.deepEqual(sorted(main.verbs), MAIN_VERBS);
        t.deepEqual(sorted(main.shortNames), sorted(ctx.kind.shortNames));
        t.deepEqual(sorted(main.categories), sorted(ctx.kind.categories));
        const status = list.resources.find((r: any) => r.name === `${ctx.kind.plural}/status`);
        t.truthy(status, 'status subresource');
        t.is(status.kind, ctx.kind.kind);
        t.is(status.namespaced, ctx.kind.namespaced);
        t.deepEqual(sorted(status.verbs), SUB_VERBS);
        const scale = list.resources.find((r: any) => r.name === `${ctx.kind.plural}/scale`);
        if (ctx.kind.scale) {
          t.truthy(scale, 'scale subresource');
          t.is(scale.kind, 'Scale');
          t.is(scale.group, 'autoscaling');
          t.is(scale.version, 'v1');
          t.deepEqual(sorted(scale.verbs), SUB_VERBS);
        } else t.is(scale, undefined, 'no scale subresource');
        // Every resource of the list is one of this group's declared kinds or their subresources.
        for (const r of list.resources) t.true(typeof r.name === 'string' && Array.isArray(r.verbs), JSON.stringify(r));
      }
      expectStatus(t, await ctx.raw('GET', `/apis/${ctx.kind.group}/v0nope`), 404, 'NotFound', 'unknown version');
    },
  },
  {
    name: 'aggregated discovery: /apis with the v2 Accept lists the resource, with ETag and 304',
    async run(t, ctx) {
      const res = await ctx.raw('GET', '/apis', { headers: { Accept: AGGREGATED_ACCEPT } });
      const doc = expectOk(t, res);
      const type = String(res.headers['content-type']);
      t.regex(type, /^application\/json/);
      for (const p of ['g=apidiscovery.k8s.io', 'v=v2', 'as=APIGroupDiscoveryList']) t.true(type.replace(/\s/g, '').includes(p), `Content-Type has ${p}: ${type}`);
      t.is(doc.kind, 'APIGroupDiscoveryList');
      t.is(doc.apiVersion, 'apidiscovery.k8s.io/v2');
      const group = doc.items.find((g: any) => g.metadata?.name === ctx.kind.group);
      t.truthy(group, 'the group is listed');
      t.deepEqual(group.versions.map((v: any) => v.version), ctx.kind.decl.versions, 'versions, preferred first');
      const version = group.versions[0];
      const r = version.resources.find((x: any) => x.resource === ctx.kind.plural);
      t.truthy(r, 'the resource is listed');
      t.deepEqual(r.responseKind, { group: ctx.kind.group, version: ctx.kind.version, kind: ctx.kind.kind });
      t.is(r.scope, ctx.kind.namespaced ? 'Namespaced' : 'Cluster');
      t.is(r.singularResource, ctx.kind.singular);
      t.deepEqual(sorted(r.verbs), MAIN_VERBS);
      t.deepEqual(sorted(r.shortNames), sorted(ctx.kind.shortNames));
      t.deepEqual(sorted(r.categories), sorted(ctx.kind.categories));
      const subs = new Map<string, any>((r.subresources ?? []).map((s: any) => [s.subresource, s]));
      const declared = ctx.kind.decl.subresources ?? [];
      t.deepEqual([...subs.keys()].sort(), [...(ctx.kind.scale ? ['scale', 'status'] : ['status']), ...declared.map((d) => d.name)].sort());
      for (const d of declared) {
        t.deepEqual(subs.get(d.name).responseKind, { group: ctx.kind.group, version: ctx.kind.version, kind: d.kind }, d.name);
        t.deepEqual(subs.get(d.name).verbs, [d.verb], d.name);
      }
      t.deepEqual(subs.get('status').responseKind, { group: ctx.kind.group, version: ctx.kind.version, kind: ctx.kind.kind });
      t.deepEqual(sorted(subs.get('status').verbs), SUB_VERBS);
      if (ctx.kind.scale) {
        t.deepEqual(subs.get('scale').responseKind, { group: 'autoscaling', version: 'v1', kind: 'Scale' });
        t.deepEqual(sorted(subs.get('scale').verbs), SUB_VERBS);
      }
      const etag = res.headers['etag'];
      t.regex(String(etag), /^"[0-9a-fA-F]+"$/, 'a quoted ETag');
      const again = await ctx.raw('GET', '/apis', { headers: { Accept: AGGREGATED_ACCEPT, 'If-None-Match': String(etag) } });
      t.is(again.status, 304, 'If-None-Match with the ETag is 304');
      t.is(again.body, '');
      // v2beta1 alone is served too (older clients).
      const betaRes = await ctx.raw('GET', '/apis', { headers: { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList' } });
      const beta = expectOk(t, betaRes);
      t.is(beta.apiVersion, 'apidiscovery.k8s.io/v2beta1');
      t.true(String(betaRes.headers['content-type']).replace(/\s/g, '').includes('v=v2beta1'), String(betaRes.headers['content-type']));
      t.truthy(beta.items.find((g: any) => g.metadata?.name === ctx.kind.group));
      // Only an unknown aggregated version: nothing acceptable.
      expectStatus(t, await ctx.raw('GET', '/apis', { headers: { Accept: 'application/json;g=apidiscovery.k8s.io;v=v9;as=APIGroupDiscoveryList' } }), 406, 'NotAcceptable', 'v9 only');
      // Without as=APIGroupDiscoveryList it is the legacy list.
      const legacy = expectOk(t, await ctx.raw('GET', '/apis', { headers: { Accept: 'application/json' } }));
      t.is(legacy.kind, 'APIGroupList');
    },
  },
];

const serverCases: ServerCase[] = [
  {
    scope: 'server',
    name: 'health: /healthz, /livez and /readyz answer ok',
    async run(t, ctx) {
      for (const path of ['/healthz', '/livez', '/readyz']) {
        const res = await ctx.raw('GET', path);
        t.is(res.status, 200, path);
        t.is(res.body, 'ok', path);
        t.regex(String(res.headers['content-type']), /^text\/plain/);
      }
      const verbose = await ctx.raw('GET', '/readyz?verbose');
      t.is(verbose.status, 200);
      t.regex(verbose.body, /\[\+\]storage ok/);
      t.regex(verbose.body, /readyz check passed\n$/);
    },
  },
  {
    scope: 'server',
    name: 'unknown paths are 404 NotFound Status',
    async run(t, ctx) {
      for (const path of ['/apis/example.com/v1/things', '/apis/storm.apache.org/v1beta1/namespaces/x/nothings', '/nope']) {
        expectStatus(t, await ctx.raw('GET', path), 404, 'NotFound', path);
      }
    },
  },
];

export const cases: Case[] = [...kindCases, ...serverCases];
