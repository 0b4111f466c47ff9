// Lists: limit + continue (chunking.go), resourceVersion + resourceVersionMatch, Exact reads of
// the past, 410 Expired after compaction (exclusive: compaction is server-wide).
import type { KindCase } from '../harness.js';
import { checkStatusBody, eventually, expectOk, expectStatus, rejectsWithStatus } from '../client.js';
import { names } from '../objects.js';

async function createMany(t: Parameters<KindCase['run']>[0], ctx: Parameters<KindCase['run']>[1], count: number, labels?: Record<string, string>): Promise<any[]> {
  const out = [];
  for (let i = 0; i < count; i++) out.push(await ctx.createSample(t, `item-${String(i).padStart(2, '0')}`, { labels }));
  return out;
}

export const cases: KindCase[] = [
  {
    name: 'paging: limit + continue, the same RV on every page, remainingItemCount iff continue, every item once',
    async run(t, ctx) {
      const created = await createMany(t, ctx, 7);
      const seen: string[] = [];
      let token: string | undefined;
      let listRv: string | undefined;
      const remaining: Array<number | undefined> = [];
      let page = 0;
      for (;;) {
        const list = (await ctx.api.listNamespacedCustomObject({ ...ctx.gvr(), limit: 3, _continue: token })) as any;
        page++;
        t.true(list.items.length <= 3, `page ${page}: at most limit items`);
        if (listRv === undefined) {
          listRv = list.metadata.resourceVersion;
          // Changes after the first page must not show in later pages: the list is a snapshot.
          await ctx.createSample(t, 'item-99');
          await ctx.mergePatch(t, 'item-06', { metadata: { labels: { late: 'change' } } });
        } else t.is(list.metadata.resourceVersion, listRv, `page ${page}: the same resourceVersion on every page`);
        t.is(list.metadata.continue === undefined || list.metadata.continue === '', list.metadata.remainingItemCount === undefined, `page ${page}: remainingItemCount iff continue`);
        remaining.push(list.metadata.remainingItemCount);
        for (const item of list.items) {
          seen.push(item.metadata.name);
          if (item.metadata.name === 'item-06') t.is(item.metadata.labels.late, undefined, 'later pages show the state at the first page RV');
        }
        token = list.metadata.continue || undefined;
        if (!token) break;
        t.true(page < 10, 'paging terminates');
      }
      t.deepEqual(seen, created.map((o) => o.metadata.name), 'every item exactly once, in key order, nothing added later');
      t.deepEqual(remaining, [4, 1, undefined]);

      // limit larger than the list: no continue.
      const whole = await ctx.list(t, { limit: 100 });
      t.is(whole.metadata.continue, undefined);
      t.is(whole.metadata.remainingItemCount, undefined);
      t.is(whole.items.length, 8);
      // limit=0 is no limit.
      t.is((await ctx.list(t, { limit: 0 })).items.length, 8);
    },
  },
  {
    name: 'paging with a label selector: full pages, continue without remainingItemCount',
    async run(t, ctx) {
      for (let i = 0; i < 8; i++) await ctx.createSample(t, `p-${i}`, { labels: { parity: i % 2 === 0 ? 'even' : 'odd' } });
      const seen: string[] = [];
      let token: string | undefined;
      for (let page = 1; ; page++) {
        const list = await ctx.list(t, { limit: 2, labelSelector: 'parity=even', continue: token });
        seen.push(...list.items.map((i: any) => i.metadata.name));
        token = list.metadata.continue || undefined;
        if (token) {
          t.is(list.items.length, 2, `page ${page} is full`);
          t.is(list.metadata.remainingItemCount, undefined, 'no remainingItemCount with a selector');
        }
        if (!token) break;
        t.true(page < 10);
      }
      t.deepEqual(seen, ['p-0', 'p-2', 'p-4', 'p-6']);
      // All namespaces, paged.
      const all: string[] = [];
      token = undefined;
      for (let page = 1; ; page++) {
        const list = await ctx.list(t, { limit: 3, labelSelector: ctx.selector('parity=odd'), continue: token }, ctx.allNamespaces);
        all.push(...list.items.map((i: any) => i.metadata.name));
        token = list.metadata.continue || undefined;
        if (!token) break;
        t.true(page < 10);
      }
      t.deepEqual(all, ['p-1', 'p-3', 'p-5', 'p-7']);
    },
  },
  {
    name: 'a malformed continue token is 400; continue with resourceVersion is 400',
    async run(t, ctx) {
      await createMany(t, ctx, 3);
      expectStatus(t, await ctx.raw('GET', ctx.collection(), { query: { limit: 1, continue: 'not-a-token' } }), 400, 'BadRequest', 'garbage token');
      const first = await ctx.list(t, { limit: 1 });
      t.truthy(first.metadata.continue);
      expectStatus(
        t,
        await ctx.raw('GET', ctx.collection(), { query: { limit: 1, continue: first.metadata.continue, resourceVersion: first.metadata.resourceVersion } }),
        400,
        'BadRequest',
        'continue with resourceVersion',
      );
      // A token of another namespace's list is not accepted for this one.
      const other = await ctx.raw('GET', ctx.collection(`${ctx.ns}-other`), { query: { limit: 1, continue: first.metadata.continue } });
      expectStatus(t, other, 400, 'BadRequest', 'token from another namespace');
    },
  },
  {
    name: 'resourceVersion=0 and NotOlderThan lists',
    async run(t, ctx) {
      const a = await ctx.createSample(t, 'a');
      const zero = await ctx.list(t, { resourceVersion: '0' });
      t.regex(zero.metadata.resourceVersion, /^\d+$/);
      for (const item of zero.items) t.true(Number(item.metadata.resourceVersion) <= Number(zero.metadata.resourceVersion));
      const rv = a.metadata.resourceVersion;
      for (const query of [{ resourceVersion: rv, resourceVersionMatch: 'NotOlderThan' }, { resourceVersion: rv }]) {
        const list = await ctx.list(t, query);
        t.deepEqual(names(list.items), ['a'], `${JSON.stringify(query)} includes the object`);
        t.true(Number(list.metadata.resourceVersion) >= Number(rv), `${JSON.stringify(query)}: list RV not older than ${rv}`);
      }
      // Consistent (no RV) list sees the latest write at once.
      const b = await ctx.createSample(t, 'b');
      const now = await ctx.list(t);
      t.deepEqual(names(now.items), ['a', 'b']);
      t.true(Number(now.metadata.resourceVersion) >= Number(b.metadata.resourceVersion));
      const r0 = await ctx.list(t, { resourceVersion: '0', resourceVersionMatch: 'NotOlderThan' });
      t.regex(r0.metadata.resourceVersion, /^\d+$/, 'RV 0 with NotOlderThan is allowed');
    },
  },
  {
    name: 'a list from the watch cache equals the storage list at the same resourceVersion, under concurrent writes',
    async run(t, ctx) {
      for (let i = 0; i < 6; i++) await ctx.createSample(t, `o-${i}`, { labels: { n: String(i) } });
      // Writers keep changing the collection while lists are taken.
      let stop = false;
      const writer = (async () => {
        for (let i = 0; !stop && i < 200; i++) {
          const name = `o-${i % 6}`;
          await ctx.raw('PATCH', ctx.item(name), { body: JSON.stringify({ metadata: { labels: { i: String(i) } } }), headers: { 'Content-Type': 'application/merge-patch+json' } });
          if (i % 5 === 0) await ctx.raw('POST', ctx.collection(), { body: ctx.sample(`extra-${i}`) });
          if (i % 7 === 0) await ctx.raw('DELETE', ctx.item(`extra-${i - 7}`));
        }
      })();
      try {
        for (let round = 0; round < 5; round++) {
          for (const query of [{}, { resourceVersion: '0' }, { labelSelector: 'n' }]) {
            const cached = await ctx.list(t, query);
            const exact = await ctx.list(t, { ...query, resourceVersion: cached.metadata.resourceVersion, resourceVersionMatch: 'Exact' });
            t.is(exact.metadata.resourceVersion, cached.metadata.resourceVersion);
            t.deepEqual(
              cached.items.map((o: any) => `${o.metadata.name}@${o.metadata.resourceVersion}`),
              exact.items.map((o: any) => `${o.metadata.name}@${o.metadata.resourceVersion}`),
              `round ${round} ${JSON.stringify(query)}: the list at RV ${cached.metadata.resourceVersion} is the store's state at that RV`,
            );
            t.deepEqual(cached.items, exact.items, 'same objects');
          }
        }
      } finally {
        stop = true;
        await writer;
      }
    },
  },
  {
    name: 'get with resourceVersion: "0" may be served from the cache, a future one is 504',
    async run(t, ctx) {
      const created = await ctx.createSample(t, 'g');
      const got = await eventually(async () => {
        const res = await ctx.raw('GET', ctx.item('g'), { query: { resourceVersion: '0' } });
        return res.status === 200 ? res.json : undefined;
      }, 'get ?resourceVersion=0 to see the object');
      t.is(got.metadata.uid, created.metadata.uid);
      t.true(Number(got.metadata.resourceVersion) >= Number(created.metadata.resourceVersion));
      const exact = expectOk(t, await ctx.raw('GET', ctx.item('g'), { query: { resourceVersion: created.metadata.resourceVersion } }));
      t.is(exact.metadata.uid, created.metadata.uid);
      const future = await ctx.raw('GET', ctx.item('g'), { query: { resourceVersion: '999999999' } });
      const status = expectStatus(t, future, 504, 'Timeout', 'future resourceVersion');
      t.is(status.details?.causes?.[0]?.reason, 'ResourceVersionTooLarge');
      expectStatus(t, await ctx.raw('GET', ctx.item('g'), { query: { resourceVersion: 'x' } }), 400, 'BadRequest', 'bad resourceVersion');
      await ctx.raw('DELETE', ctx.item('g'));
      await eventually(async () => (await ctx.raw('GET', ctx.item('g'), { query: { resourceVersion: '0' } })).status === 404, 'get ?resourceVersion=0 to see the delete');
      expectStatus(t, await ctx.raw('GET', ctx.item('g')), 404, 'NotFound');
    },
  },
  {
    name: 'Exact at an old resourceVersion returns the old state',
    async run(t, ctx) {
      const a1 = await ctx.createSample(t, 'a', { labels: { version: 'one' } });
      const rv1 = a1.metadata.resourceVersion;
      await ctx.mergePatch(t, 'a', { metadata: { labels: { version: 'two' } } });
      await ctx.createSample(t, 'b');
      const old = await ctx.list(t, { resourceVersion: rv1, resourceVersionMatch: 'Exact' });
      t.is(old.metadata.resourceVersion, rv1, 'the list is at the requested RV');
      t.deepEqual(names(old.items), ['a'], 'b did not exist yet');
      t.is(old.items[0].metadata.labels.version, 'one', 'a as it was');
      t.is(old.items[0].metadata.resourceVersion, rv1);
      // Exact with paging keeps the old RV on every page.
      await ctx.createSample(t, 'c');
      const bRv = (await ctx.get(t, 'b')).metadata.resourceVersion;
      const page1 = await ctx.list(t, { resourceVersion: bRv, resourceVersionMatch: 'Exact', limit: 1 });
      t.is(page1.metadata.resourceVersion, bRv);
      t.deepEqual(names(page1.items), ['a']);
      t.is(page1.items[0].metadata.labels.version, 'two');
      t.truthy(page1.metadata.continue);
      const page2 = await ctx.list(t, { continue: page1.metadata.continue, limit: 1 });
      t.is(page2.metadata.resourceVersion, bRv, 'continue keeps the Exact RV');
      t.deepEqual(names(page2.items), ['b']);
      t.falsy(page2.metadata.continue, 'c did not exist at that RV');
      // A deleted object is still in an Exact list from before the delete.
      await ctx.raw('DELETE', ctx.item('b'));
      const before = await ctx.list(t, { resourceVersion: bRv, resourceVersionMatch: 'Exact' });
      t.deepEqual(names(before.items), ['a', 'b']);
    },
  },
  {
    name: 'list parameter validation: resourceVersionMatch rules, bad RV, sendInitialEvents, future RV',
    async run(t, ctx) {
      const cases: Array<[Record<string, string>, string]> = [
        [{ resourceVersionMatch: 'NotOlderThan' }, 'match without resourceVersion'],
        [{ resourceVersion: '0', resourceVersionMatch: 'Exact' }, 'Exact with RV 0'],
        [{ resourceVersion: '1', resourceVersionMatch: 'Sometimes' }, 'unknown match'],
        [{ resourceVersion: 'abc' }, 'non-numeric RV'],
        [{ sendInitialEvents: 'true', resourceVersionMatch: 'NotOlderThan', resourceVersion: '' }, 'sendInitialEvents on a list'],
        [{ limit: '-1' }, 'negative limit'],
        [{ limit: 'many' }, 'non-numeric limit'],
      ];
      for (const [query, what] of cases) expectStatus(t, await ctx.raw('GET', ctx.collection(), { query }), 400, 'BadRequest', what);
      // A resourceVersion the store has not reached: 504 Timeout with cause ResourceVersionTooLarge.
      const status = expectStatus(
        t,
        await ctx.raw('GET', ctx.collection(), { query: { resourceVersion: '999999999', resourceVersionMatch: 'Exact' } }),
        504,
        'Timeout',
        'future RV',
      );
      t.is(status.details?.causes?.[0]?.reason, 'ResourceVersionTooLarge');
    },
  },
  {
    name: 'an invalid timeout query parameter is 400 (request_timeout.go)',
    async run(t, ctx) {
      await ctx.createSample(t, 'to');
      for (const path of [ctx.collection(), ctx.item('to')]) {
        const res = await ctx.raw('GET', path, { query: { timeout: 'soon' } });
        const status = expectStatus(t, res, 400, 'BadRequest', `${path}?timeout=soon`);
        t.true((status.message ?? '').includes('invalid timeout specified in the request URL'), status.message);
        expectOk(t, await ctx.raw('GET', path, { query: { timeout: '30s' } }), 200, `${path}?timeout=30s`);
      }
    },
  },
  {
    name: 'a compacted resourceVersion is 410 Expired',
    exclusive: true,
    async run(t, ctx) {
      const a = await ctx.createSample(t, 'a');
      const rv1 = a.metadata.resourceVersion;
      const a2 = await ctx.mergePatch(t, 'a', { metadata: { labels: { v: '2' } } });
      await ctx.server.backend.compact(Number(a2.metadata.resourceVersion));
      const status = await rejectsWithStatus(
        t,
        ctx.api.listNamespacedCustomObject({ ...ctx.gvr(), resourceVersion: rv1, resourceVersionMatch: 'Exact' }),
        410,
        'Expired',
      );
      t.is(status.message, 'The resourceVersion for the provided list is too old.');
      // The current state is still readable, and so is the compaction revision itself.
      const now = await ctx.list(t);
      t.deepEqual(names(now.items), ['a']);
      const atCompaction = await ctx.list(t, { resourceVersion: a2.metadata.resourceVersion, resourceVersionMatch: 'Exact' });
      t.deepEqual(names(atCompaction.items), ['a']);
    },
  },
  {
    name: 'continue after compaction is 410 Expired with an inconsistent continue token',
    exclusive: true,
    async run(t, ctx) {
      await createMany(t, ctx, 4);
      const first = await ctx.list(t, { limit: 1 });
      t.truthy(first.metadata.continue);
      await ctx.mergePatch(t, 'item-03', { metadata: { labels: { after: 'compaction' } } });
      const current = await ctx.server.backend.currentRevision();
      await ctx.server.backend.compact(current);
      const res = await ctx.raw('GET', ctx.collection(), { query: { limit: 1, continue: first.metadata.continue } });
      const status = expectStatus(t, res, 410, 'Expired');
      t.true((status.message ?? '').startsWith('The provided continue parameter is too old'), status.message);
      const inconsistent = status.metadata?.continue;
      t.truthy(inconsistent, 'the Status carries a continue token for an inconsistent continuation');
      // The token continues where the expired one would have, at the current state.
      const rest: string[] = [];
      let token = inconsistent;
      let sawLate = false;
      for (let page = 0; token && page < 10; page++) {
        const list = expectOk(t, await ctx.raw('GET', ctx.collection(), { query: { limit: 1, continue: token } }));
        for (const item of list.items) {
          rest.push(item.metadata.name);
          if (item.metadata.labels.after === 'compaction') sawLate = true;
        }
        token = list.metadata.continue || undefined;
      }
      t.deepEqual(rest, ['item-01', 'item-02', 'item-03']);
      t.true(sawLate, 'the inconsistent continuation reads the current state');
      checkStatusBody(t, status, 410, 'Expired');
    },
  },
];
