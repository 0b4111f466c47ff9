// Watch (watch.go, watchlist.go): event order from an RV, restart without gap or duplicate,
// leaving a selector, concurrent watchers, watch-list bookmarks, 410 after compaction,
// timeoutSeconds, and the newline-delimited JSON framing.
import * as k8s from '@kubernetes/client-node';
import type { ExecutionContext } from 'ava';
import type { Ctx, KindCase } from '../harness.js';
import { expectStatus, summarize, withTimeout, type RawWatch, type WatchEventJson } from '../client.js';

interface Seen {
  type: string;
  name: string;
  rv: string;
}

const seen = (e: WatchEventJson): Seen => ({ type: e.type, name: e.object?.metadata?.name, rv: e.object?.metadata?.resourceVersion });

/** Asserts the framing of a raw watch: 200, JSON, chunked, one JSON event per line. */
function checkFraming(t: ExecutionContext, w: RawWatch): void {
  t.is(w.status, 200, `watch status (body: ${w.errorBody.slice(0, 300)})`);
  t.regex(String(w.headers['content-type']), /^application\/json/, 'watch Content-Type');
  t.is(w.headers['transfer-encoding'], 'chunked', 'watch is chunked');
  t.deepEqual(w.framingErrors, [], 'every line is one JSON watch event');
}

function rvs(events: WatchEventJson[]): number[] {
  return events.map((e) => Number(e.object.metadata.resourceVersion));
}

function strictlyIncreasing(t: ExecutionContext, values: number[], what: string): void {
  for (let i = 1; i < values.length; i++) t.true(values[i] > values[i - 1], `${what}: ${values.join(',')}`);
}

/** A client-node Watch collecting events; resolves once connected. */
async function clientWatch(ctx: Ctx, query: Record<string, string | boolean | number>): Promise<{ events: WatchEventJson[]; abort(): void; done: Promise<unknown>; waitFor(n: number): Promise<WatchEventJson[]> }> {
  const events: WatchEventJson[] = [];
  let finish!: (err: unknown) => void;
  const done = new Promise((r) => (finish = r));
  const watcher = new k8s.Watch(ctx.kc);
  const controller = await watcher.watch(ctx.collection(), query, (type, object) => events.push({ type, object }), (err) => finish(err ?? null));
  ctx.defer(() => controller.abort());
  return {
    events,
    done,
    abort: () => controller.abort(),
    async waitFor(n: number) {
      const deadline = Date.now() + 10_000;
      while (events.length < n) {
        if (Date.now() > deadline) throw new Error(`client-node watch: ${events.length} of ${n} events: ${summarize(events)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return events.slice(0, n);
    },
  };
}

export const cases: KindCase[] = [
  {
    name: 'watch from a resourceVersion: ADDED, MODIFIED, DELETED in order (client-node Watch)',
    async run(t, ctx) {
      const list = (await ctx.api.listNamespacedCustomObject({ ...ctx.gvr(), labelSelector: ctx.selector() })) as any;
      const w = await clientWatch(ctx, { resourceVersion: list.metadata.resourceVersion, labelSelector: ctx.selector() });
      const created = await ctx.createSample(t, 'w');
      const modified = await ctx.mergePatch(t, 'w', { metadata: { labels: { step: 'two' } } });
      await ctx.raw('DELETE', ctx.item('w'));
      const events = await w.waitFor(3);
      t.deepEqual(
        events.map((e) => [e.type, e.object.metadata.name]),
        [
          ['ADDED', 'w'],
          ['MODIFIED', 'w'],
          ['DELETED', 'w'],
        ],
      );
      t.is(events[0].object.metadata.resourceVersion, created.metadata.resourceVersion);
      t.is(events[1].object.metadata.resourceVersion, modified.metadata.resourceVersion);
      t.is(events[1].object.metadata.labels.step, 'two');
      t.is(events[0].object.kind, ctx.kind.kind);
      t.is(events[0].object.apiVersion, ctx.kind.apiVersion);
      strictlyIncreasing(t, rvs(events), 'event RVs');
      t.deepEqual(events[0].object.spec, created.spec, 'the ADDED object is the stored object');
    },
  },
  {
    name: 'watch without resourceVersion (and with "0") starts with the current state as ADDED',
    async run(t, ctx) {
      await ctx.createSample(t, 'a');
      await ctx.createSample(t, 'b');
      for (const query of [{}, { resourceVersion: '0' }]) {
        const w = await ctx.watch(ctx.collection(), { ...query, labelSelector: ctx.selector() });
        checkFraming(t, w);
        const initial = await w.take(2);
        t.deepEqual(initial.map((e) => e.type), ['ADDED', 'ADDED']);
        t.deepEqual(initial.map((e) => e.object.metadata.name).sort(), ['a', 'b']);
        w.close();
      }
      const w = await ctx.watch(ctx.collection(), { labelSelector: ctx.selector() });
      await w.take(2);
      await ctx.createSample(t, 'c');
      const next = await w.waitFor((e) => e.object.metadata.name === 'c', 'c');
      t.is(next.type, 'ADDED');
      t.is(w.events.length, 3, `no duplicates: ${summarize(w.events)}`);
    },
  },
  {
    name: 'a watch across all namespaces sees every namespace, and a namespaced watch only its own',
    async run(t, ctx) {
      const start = (await ctx.list(t, { labelSelector: ctx.selector() }, ctx.allNamespaces)).metadata.resourceVersion;
      const all = await ctx.watch(ctx.allNamespaces, { resourceVersion: start, labelSelector: ctx.selector() });
      const mine = await ctx.watch(ctx.collection(), { resourceVersion: start, labelSelector: ctx.selector() });
      checkFraming(t, all);
      await ctx.createSample(t, 'x');
      await ctx.createSample(t, 'y', { ns: `${ctx.ns}-2` });
      await ctx.createSample(t, 'z');
      const events = await all.take(3);
      t.deepEqual(events.map((e) => `${e.type} ${e.object.metadata.namespace}/${e.object.metadata.name}`), [
        `ADDED ${ctx.ns}/x`,
        `ADDED ${ctx.ns}-2/y`,
        `ADDED ${ctx.ns}/z`,
      ]);
      const own = await mine.take(2);
      t.deepEqual(own.map((e) => e.object.metadata.name), ['x', 'z']);
      // And with a metadata.namespace field selector on the cluster-wide watch.
      const byNs = await ctx.watch(ctx.allNamespaces, { resourceVersion: start, labelSelector: ctx.selector(), fieldSelector: `metadata.namespace=${ctx.ns}-2` });
      const [only] = await byNs.take(1);
      t.is(only.object.metadata.name, 'y');
      await ctx.createSample(t, 'w', { ns: `${ctx.ns}-2` });
      await byNs.waitFor((e) => e.object.metadata.name === 'w', 'w');
      t.deepEqual(byNs.events.map((e) => e.object.metadata.name), ['y', 'w']);
    },
  },
  {
    name: 'a watch from a resourceVersion the store has not reached is a 504 Timeout (before or in the stream)',
    async run(t, ctx) {
      const w = await ctx.watch(ctx.collection(), { resourceVersion: '999999999' });
      if (w.status !== 200) {
        t.is(w.status, 504, w.errorBody);
        const body = JSON.parse(w.errorBody);
        t.is(body.kind, 'Status');
        t.is(body.reason, 'Timeout');
        return;
      }
      const [event] = await w.take(1, 15_000);
      t.is(event.type, 'ERROR', summarize(w.events));
      t.is(event.object.code, 504);
      t.is(event.object.reason, 'Timeout');
    },
  },
  {
    name: 'restarting a watch from the last observed resourceVersion sees no gap and no duplicate',
    async run(t, ctx) {
      const start = (await ctx.list(t, { labelSelector: ctx.selector() })).metadata.resourceVersion;
      const first = await ctx.watch(ctx.collection(), { resourceVersion: start, labelSelector: ctx.selector() });
      const objects = ['r1', 'r2', 'r3'];
      for (const n of objects) await ctx.createSample(t, n);
      const got = await first.take(2);
      first.close();
      const last = got[1].object.metadata.resourceVersion;
      // Changes while no watch is open.
      await ctx.mergePatch(t, 'r1', { metadata: { labels: { step: 'two' } } });
      await ctx.raw('DELETE', ctx.item('r2'));
      const second = await ctx.watch(ctx.collection(), { resourceVersion: last, labelSelector: ctx.selector() });
      checkFraming(t, second);
      const rest = await second.take(3);
      t.deepEqual(
        rest.map(seen).map((s) => [s.type, s.name]),
        [
          ['ADDED', 'r3'],
          ['MODIFIED', 'r1'],
          ['DELETED', 'r2'],
        ],
        'the events after the last observed RV, exactly once',
      );
      strictlyIncreasing(t, [Number(last), ...rvs(rest)], 'RVs continue after the last observed one');
      await new Promise((r) => setImmediate(r));
      t.is(second.events.length, 3, `nothing else: ${summarize(second.events)}`);
    },
  },
  {
    name: 'an object that stops matching the label selector arrives as DELETED (and ADDED when it matches again)',
    async run(t, ctx) {
      const start = (await ctx.list(t)).metadata.resourceVersion;
      const w = await ctx.watch(ctx.collection(), { resourceVersion: start, labelSelector: ctx.selector('watched=yes') });
      await ctx.createSample(t, 'sel', { labels: { watched: 'yes' } });
      await ctx.createSample(t, 'never', { labels: { watched: 'no' } });
      const out = await ctx.mergePatch(t, 'sel', { metadata: { labels: { watched: 'no' } } });
      await ctx.mergePatch(t, 'sel', { metadata: { labels: { other: 'change' } } });
      const back = await ctx.mergePatch(t, 'sel', { metadata: { labels: { watched: 'yes' } } });
      const events = await w.take(3);
      t.deepEqual(events.map((e) => [e.type, e.object.metadata.name]), [
        ['ADDED', 'sel'],
        ['DELETED', 'sel'],
        ['ADDED', 'sel'],
      ]);
      t.is(events[1].object.metadata.resourceVersion, out.metadata.resourceVersion, 'DELETED carries the RV of the change');
      t.is(events[2].object.metadata.resourceVersion, back.metadata.resourceVersion);
      t.false(w.events.some((e) => e.object.metadata.name === 'never'), 'non-matching objects never show');

      // The same through a field selector on metadata.name (what kubectl delete --wait uses).
      const byName = await ctx.watch(ctx.collection(), { resourceVersion: start, fieldSelector: 'metadata.name=never' });
      await ctx.raw('DELETE', ctx.item('never'));
      const ev = await byName.take(2);
      t.deepEqual(ev.map((e) => [e.type, e.object.metadata.name]), [
        ['ADDED', 'never'],
        ['DELETED', 'never'],
      ]);
      // And through a selectable field leaving its value.
      if (ctx.kind.selectableFields.includes('status.phase') && typeof ctx.fixture.status.phase === 'string') {
        const phaseWatch = await ctx.watch(ctx.collection(), { labelSelector: ctx.selector(), fieldSelector: `status.phase=${ctx.fixture.status.phase}` });
        await ctx.setStatus(t, 'sel', ctx.fixture.status);
        await phaseWatch.waitFor((e) => e.type === 'ADDED', 'ADDED when status.phase starts matching');
        await ctx.mergePatch(t, 'sel', { status: { phase: null } }, '/status');
        await phaseWatch.waitFor((e) => e.type === 'DELETED', 'DELETED when status.phase stops matching');
      }
    },
  },
  {
    name: 'concurrent watches see the same events in the same order',
    async run(t, ctx) {
      const start = (await ctx.list(t)).metadata.resourceVersion;
      const watches = await Promise.all([0, 1, 2].map(() => ctx.watch(ctx.collection(), { resourceVersion: start })));
      // Concurrent writes: creates, then patches of different objects, then deletes. (Concurrent
      // patches of one object are the subject of their own case in update.ts.)
      await Promise.all(['c1', 'c2', 'c3'].map((n) => ctx.createSample(t, n)));
      for (const i of [1, 2]) {
        const patched = await Promise.all(
          ['c1', 'c2', 'c3'].map((n) => ctx.raw('PATCH', ctx.item(n), { body: JSON.stringify({ metadata: { labels: { [`k${i}`]: 'v' } } }), headers: { 'Content-Type': 'application/merge-patch+json' } })),
        );
        t.deepEqual(patched.map((r) => r.status), [200, 200, 200]);
      }
      const deleted = await Promise.all(['c1', 'c3'].map((n) => ctx.raw('DELETE', ctx.item(n))));
      t.deepEqual(deleted.map((r) => r.status), [200, 200]);
      const total = 3 + 6 + 2;
      const sequences = await Promise.all(watches.map((w) => w.take(total)));
      const keys = sequences.map((events) => events.map((e) => `${e.type}/${e.object.metadata.name}/${e.object.metadata.resourceVersion}`));
      t.deepEqual(keys[1], keys[0]);
      t.deepEqual(keys[2], keys[0]);
      strictlyIncreasing(t, rvs(sequences[0]), 'one global order');
      t.deepEqual(
        sequences[0].map((e) => e.type).sort(),
        [...Array(3).fill('ADDED'), ...Array(2).fill('DELETED'), ...Array(6).fill('MODIFIED')].sort(),
      );
    },
  },
  {
    name: 'sendInitialEvents=true: ADDED for the current state, then a BOOKMARK annotated k8s.io/initial-events-end',
    async run(t, ctx) {
      const created = [];
      for (const n of ['i1', 'i2', 'i3']) created.push(await ctx.createSample(t, n));
      const maxRv = Math.max(...created.map((o) => Number(o.metadata.resourceVersion)));
      const w = await ctx.watch(ctx.collection(), {
        sendInitialEvents: 'true',
        resourceVersionMatch: 'NotOlderThan',
        allowWatchBookmarks: 'true',
        labelSelector: ctx.selector(),
      });
      checkFraming(t, w);
      const events = await w.take(4);
      t.deepEqual(events.slice(0, 3).map((e) => e.type), ['ADDED', 'ADDED', 'ADDED'], summarize(events));
      t.deepEqual(events.slice(0, 3).map((e) => e.object.metadata.name).sort(), ['i1', 'i2', 'i3']);
      const bookmark = events[3];
      t.is(bookmark.type, 'BOOKMARK');
      t.is(bookmark.object.kind, ctx.kind.kind);
      t.is(bookmark.object.apiVersion, ctx.kind.apiVersion);
      t.is(bookmark.object.metadata?.annotations?.['k8s.io/initial-events-end'], 'true');
      t.true(Number(bookmark.object.metadata.resourceVersion) >= maxRv, 'the bookmark RV covers the initial state');
      t.is(bookmark.object.spec, undefined, 'a bookmark carries only metadata');
      await ctx.createSample(t, 'i4');
      const next = await w.waitFor((e) => e.object.metadata?.name === 'i4', 'i4');
      t.is(next.type, 'ADDED');
      t.true(Number(next.object.metadata.resourceVersion) > Number(bookmark.object.metadata.resourceVersion));

      // With a resourceVersion: the state at least that new, then the bookmark.
      const w2 = await ctx.watch(ctx.collection(), {
        sendInitialEvents: 'true',
        resourceVersionMatch: 'NotOlderThan',
        resourceVersion: String(maxRv),
        allowWatchBookmarks: 'true',
        labelSelector: ctx.selector(),
      });
      const ev2 = await w2.take(5);
      t.deepEqual(ev2.map((e) => e.type), ['ADDED', 'ADDED', 'ADDED', 'ADDED', 'BOOKMARK']);
      // An empty watch-list still ends with the bookmark.
      const w3 = await ctx.watch(ctx.collection(), {
        sendInitialEvents: 'true',
        resourceVersionMatch: 'NotOlderThan',
        allowWatchBookmarks: 'true',
        labelSelector: ctx.selector('none=none'),
      });
      const ev3 = await w3.take(1);
      t.is(ev3[0].type, 'BOOKMARK');
      t.is(ev3[0].object.metadata?.annotations?.['k8s.io/initial-events-end'], 'true');
    },
  },
  {
    name: 'watch parameter validation is 400 before the stream starts',
    async run(t, ctx) {
      const cases: Array<[Record<string, string>, string]> = [
        [{ sendInitialEvents: 'true', resourceVersionMatch: 'NotOlderThan' }, 'sendInitialEvents without allowWatchBookmarks'],
        [{ sendInitialEvents: 'true', allowWatchBookmarks: 'true' }, 'sendInitialEvents without resourceVersionMatch'],
        [{ sendInitialEvents: 'true', allowWatchBookmarks: 'true', resourceVersionMatch: 'Exact', resourceVersion: '1' }, 'sendInitialEvents with Exact'],
        [{ resourceVersionMatch: 'NotOlderThan', resourceVersion: '1' }, 'resourceVersionMatch without sendInitialEvents'],
        [{ resourceVersion: 'abc' }, 'non-numeric RV'],
        [{ timeoutSeconds: 'soon' }, 'non-numeric timeoutSeconds'],
      ];
      for (const [query, what] of cases) {
        const res = await ctx.raw('GET', ctx.collection(), { query: { watch: 'true', ...query } });
        expectStatus(t, res, 400, 'BadRequest', what);
      }
    },
  },
  {
    name: 'timeoutSeconds ends the watch stream',
    async run(t, ctx) {
      const started = Date.now();
      const w = await ctx.watch(ctx.collection(), { timeoutSeconds: '1', labelSelector: ctx.selector() });
      checkFraming(t, w);
      await w.waitEnd(15_000);
      const elapsed = Date.now() - started;
      t.true(elapsed >= 900, `ended after ${elapsed} ms, not before the timeout`);
      t.deepEqual(w.framingErrors, []);
      // client-node's Watch reports the end through its done callback.
      const cw = await clientWatch(ctx, { timeoutSeconds: 1, labelSelector: ctx.selector() });
      await withTimeout(cw.done, 15_000, 'client-node watch done');
      t.pass();
    },
  },
  {
    name: 'allowWatchBookmarks: a BOOKMARK arrives before timeoutSeconds ends the watch (none without it)',
    async run(t, ctx) {
      // kube-apiserver's cache watcher sends a bookmark about every minute and 2 s before the
      // watch deadline (cache_watcher.go nextBookmarkTime), so reflectors keep a fresh RV.
      const created = await ctx.createSample(t, 'bm');
      const query = { resourceVersion: created.metadata.resourceVersion, timeoutSeconds: '4', labelSelector: ctx.selector() };
      const [withBookmarks, without] = await Promise.all([
        ctx.watch(ctx.collection(), { ...query, allowWatchBookmarks: 'true' }),
        ctx.watch(ctx.collection(), query),
      ]);
      await Promise.all([withBookmarks.waitEnd(15_000), without.waitEnd(15_000)]);
      const bookmarks = withBookmarks.events.filter((e) => e.type === 'BOOKMARK');
      t.true(bookmarks.length >= 1, `a BOOKMARK before the deadline: ${summarize(withBookmarks.events)}`);
      for (const b of bookmarks) {
        t.is(b.object.kind, ctx.kind.kind);
        t.is(b.object.apiVersion, ctx.kind.apiVersion);
        t.true(Number(b.object.metadata.resourceVersion) >= Number(created.metadata.resourceVersion), 'bookmark RV not older than the watch start');
        t.is(b.object.spec, undefined);
      }
      t.deepEqual(without.events.filter((e) => e.type === 'BOOKMARK'), [], 'no BOOKMARK unless allowWatchBookmarks');
      t.deepEqual(withBookmarks.framingErrors, []);
    },
  },
  {
    name: 'watch from a compacted resourceVersion is an ERROR event with a 410 Status',
    exclusive: true,
    async run(t, ctx) {
      const a = await ctx.createSample(t, 'old');
      await ctx.mergePatch(t, 'old', { metadata: { labels: { v: '2' } } });
      const latest = await ctx.mergePatch(t, 'old', { metadata: { labels: { v: '3' } } });
      await ctx.server.backend.compact(Number(latest.metadata.resourceVersion));
      const w = await ctx.watch(ctx.collection(), { resourceVersion: a.metadata.resourceVersion });
      if (w.status !== 200) {
        // kube-apiserver may also refuse before streaming; then it is a plain 410 Status.
        t.is(w.status, 410, `status ${w.status}: ${w.errorBody}`);
        const body = JSON.parse(w.errorBody);
        t.is(body.reason, 'Expired');
        return;
      }
      const [event] = await w.take(1);
      t.is(event.type, 'ERROR', summarize(w.events));
      t.is(event.object.kind, 'Status');
      t.is(event.object.apiVersion, 'v1');
      t.is(event.object.status, 'Failure');
      t.is(event.object.code, 410);
      t.is(event.object.reason, 'Expired');
      t.is(typeof event.object.message, 'string');
      await w.waitEnd(10_000);
      t.is(w.events.length, 1, 'the stream ends after the ERROR');
      // client-node sees the same ERROR.
      const cw = await clientWatch(ctx, { resourceVersion: a.metadata.resourceVersion });
      const [ce] = await cw.waitFor(1);
      t.is(ce.type, 'ERROR');
      t.is(ce.object.code, 410);
    },
  },
];
