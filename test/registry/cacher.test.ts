// The watch cache on the memory and sqlite drivers: initial list, watch replay from an RV, initial
// events, selector transitions, expiry, freshness across prefixes, slow watchers, ordering,
// upstream failure and compaction recovery, and a fan-out of 1,000 watchers.
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheError, Cacher, type CacheEvent, type CacherOptions, type CacheWatch } from '../../registry/cacher.js';
import type { KubeObject } from '../../registry/meta.js';
import {
  openBackend,
  StorageError,
  type Backend,
  type KeyValue,
  type Watch,
  type WatchEvent,
  type WatchOptions,
} from '../../registry/storage/index.js';
import { WatchQueue } from '../../registry/storage/watch-queue.js';

const PREFIX = '/registry/test.io/widgets/';
const OTHER_PREFIX = '/registry/test.io/gadgets/';

// ---- fixtures ----

const drivers: Array<{ name: string; open: (t: ExecutionContext) => Promise<Backend> }> = [
  { name: 'memory', open: async () => openBackend({ url: 'memory' }) },
  {
    name: 'sqlite',
    open: async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'cacher-test-'));
      t.teardown(() => rmSync(dir, { recursive: true, force: true }));
      return openBackend({ url: `sqlite://${dir}/x.db` });
    },
  },
];

function decode(kv: KeyValue): KubeObject {
  const obj = JSON.parse(kv.value.toString('utf8')) as KubeObject;
  obj.metadata.resourceVersion = String(kv.modRevision);
  return obj;
}

function widget(namespace: string, name: string, labels: Record<string, string> = {}, spec: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'test.io/v1', kind: 'Widget', metadata: { name, namespace, labels }, spec };
}

function keyOf(obj: KubeObject, prefix = PREFIX): string {
  return `${prefix}${obj.metadata.namespace}/${obj.metadata.name}`;
}

function encode(obj: KubeObject): Buffer {
  return Buffer.from(JSON.stringify(obj));
}

/** Writes through the backend, tracking modRevisions so updates and deletes are conditional. */
class Writer {
  private readonly revisions = new Map<string, number>();
  constructor(private readonly backend: Backend) {}

  async create(obj: KubeObject, prefix = PREFIX): Promise<number> {
    const kv = await this.backend.create(keyOf(obj, prefix), encode(obj));
    this.revisions.set(kv.key, kv.modRevision);
    return kv.modRevision;
  }

  async update(obj: KubeObject): Promise<number> {
    const key = keyOf(obj);
    const kv = await this.backend.update(key, encode(obj), this.revisions.get(key)!);
    this.revisions.set(key, kv.modRevision);
    return kv.modRevision;
  }

  async delete(obj: KubeObject): Promise<number> {
    const key = keyOf(obj);
    const kv = await this.backend.delete(key, this.revisions.get(key));
    this.revisions.delete(key);
    return kv.modRevision;
  }
}

async function startCacher(t: ExecutionContext, backend: Backend, options: Partial<CacherOptions> = {}): Promise<Cacher> {
  const cacher = new Cacher({ backend, prefix: PREFIX, decode, freezeObjects: true, retryInitialMs: 10, retryMaxMs: 50, ...options });
  t.teardown(async () => {
    await cacher.stop();
    await backend.close();
  });
  await cacher.start();
  return cacher;
}

/** Reads a watch in the background, collecting its events. */
class Reader {
  readonly events: CacheEvent[] = [];
  ended = false;
  error: unknown;

  constructor(readonly watch: CacheWatch) {
    void this.pump();
  }

  private async pump(): Promise<void> {
    try {
      for await (const batch of this.watch) this.events.push(...batch);
    } catch (err) {
      this.error = err;
    }
    this.ended = true;
  }

  /** The non-bookmark events. */
  get changes(): Array<Extract<CacheEvent, { object: KubeObject }>> {
    return this.events.filter((e): e is Extract<CacheEvent, { object: KubeObject }> => e.type !== 'BOOKMARK');
  }

  summary(): string[] {
    return this.events.map((e) => (e.type === 'BOOKMARK' ? `BOOKMARK@${e.revision}${e.initialEventsEnd ? ' end' : ''}` : `${e.type} ${e.object.metadata.name}@${e.revision}`));
  }

  async waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    await waitUntil(condition, `${what} (got ${JSON.stringify(this.summary())}, ended=${this.ended})`, timeoutMs);
  }
}

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function cacheError(promise: Promise<unknown>): Promise<CacheError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CacheError) return err;
    throw err;
  }
  throw new Error('expected a CacheError, got success');
}

/**
 * A backend whose watches a test can break (`breakWatches`), refuse (`refuseWatches`) and pause
 * (`pauseDelivery`, so events arrive late). Forwarding is microtasks only, so the driver's
 * synchronous delivery is preserved while not paused.
 */
class FaultyBackend implements Backend {
  refuseWatches = false;
  private paused = false;
  private readonly open = new Set<{ outer: WatchQueue; inner: Watch; pending: WatchEvent[][] }>();

  constructor(private readonly inner: Backend) {}

  get name(): string {
    return this.inner.name;
  }
  get = (key: string, options?: { revision?: number }) => this.inner.get(key, options);
  list = (prefix: string, options?: Parameters<Backend['list']>[1]) => this.inner.list(prefix, options);
  create = (key: string, value: Buffer) => this.inner.create(key, value);
  update = (key: string, value: Buffer, expected: number) => this.inner.update(key, value, expected);
  delete = (key: string, expected?: number) => this.inner.delete(key, expected);
  compact = (revision: number) => this.inner.compact(revision);
  compactedRevision = () => this.inner.compactedRevision();
  currentRevision = () => this.inner.currentRevision();
  ping = () => this.inner.ping();
  close = () => this.inner.close();

  watch(prefix: string, afterRevision: number, options?: WatchOptions): Watch {
    const inner = this.refuseWatches ? undefined : this.inner.watch(prefix, afterRevision, options);
    const entry = { outer: undefined as unknown as WatchQueue, inner: inner!, pending: [] as WatchEvent[][] };
    const outer = new WatchQueue({ maxPendingEvents: options?.maxPendingEvents, onClose: () => {
      this.open.delete(entry);
      inner?.close();
    } });
    entry.outer = outer;
    if (!inner) {
      outer.fail(new StorageError('Unavailable', 'watch refused by the test'));
      return outer;
    }
    this.open.add(entry);
    void (async () => {
      try {
        for await (const batch of inner) {
          if (this.paused) entry.pending.push(batch);
          else outer.push(batch);
        }
      } catch (err) {
        outer.fail(err as StorageError);
      }
    })();
    return outer;
  }

  breakWatches(): void {
    for (const entry of [...this.open]) entry.outer.fail(new StorageError('Unavailable', 'connection lost (test)'));
  }

  pauseDelivery(): void {
    this.paused = true;
  }

  resumeDelivery(): void {
    this.paused = false;
    for (const entry of this.open) for (const batch of entry.pending.splice(0)) entry.outer.push(batch);
  }
}

// ---- tests, once per driver ----

for (const driver of drivers) {
  const name = (title: string) => `${driver.name}: ${title}`;

  test(name('start lists the prefix; lists are sorted by key, filtered by namespace and predicate'), async (t) => {
    const backend = await driver.open(t);
    const w = new Writer(backend);
    for (const [ns, n, app] of [['b', 'z', 'x'], ['a', 'y', 'y'], ['b', 'a', 'y'], ['a', 'b', 'x'], ['ab', 'c', 'x']] as const) {
      await w.create(widget(ns, n, { app }));
    }
    await w.create(widget('a', 'elsewhere'), OTHER_PREFIX);
    const cacher = await startCacher(t, backend);
    t.true(cacher.ready);
    const current = await backend.currentRevision();
    const names = (items: KubeObject[]) => items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`);

    const cases: Array<{ title: string; options: Parameters<Cacher['list']>[0]; want: string[] }> = [
      { title: 'everything', options: {}, want: ['a/b', 'a/y', 'ab/c', 'b/a', 'b/z'] },
      { title: 'namespace a (not ab)', options: { namespace: 'a' }, want: ['a/b', 'a/y'] },
      { title: 'namespace b', options: { namespace: 'b' }, want: ['b/a', 'b/z'] },
      { title: 'empty namespace', options: { namespace: 'none' }, want: [] },
      { title: 'predicate', options: { predicate: (o) => o.metadata.labels?.app === 'x' }, want: ['a/b', 'ab/c', 'b/z'] },
      { title: 'namespace and predicate', options: { namespace: 'b', predicate: (o) => o.metadata.labels?.app === 'y' }, want: ['b/a'] },
    ];
    for (const c of cases) {
      const { items, revision } = cacher.list(c.options);
      t.deepEqual(names(items), c.want, c.title);
      t.is(revision, current, c.title);
    }
    // Objects carry their resourceVersion and are frozen (shared).
    const first = cacher.list().items[0];
    t.truthy(first.metadata.resourceVersion);
    t.true(Object.isFrozen(first) && Object.isFrozen(first.metadata));
    t.is(cacher.getByKey(`${PREFIX}a/b`).object, first);

    // Later writes show up once the cache is fresh.
    await w.create(widget('a', 'new'));
    await w.delete(widget('b', 'z'));
    await cacher.waitUntilFresh(await backend.currentRevision());
    t.deepEqual(names(cacher.list().items), ['a/b', 'a/new', 'a/y', 'ab/c', 'b/a']);
  });

  test(name('a watch from an RV sees exactly the later events, then live ones'), async (t) => {
    const backend = await driver.open(t);
    const w = new Writer(backend);
    const cacher = await startCacher(t, backend);
    const a = widget('ns', 'a');
    const ra = await w.create(a);
    const rb = await w.create(widget('ns', 'b'));
    const ra2 = await w.update({ ...a, spec: { size: 2 } });
    const rb2 = await w.delete(widget('ns', 'b'));
    await cacher.waitUntilFresh(rb2);

    const cases = [
      { after: 0, want: [`ADDED a@${ra}`, `ADDED b@${rb}`, `MODIFIED a@${ra2}`, `DELETED b@${rb2}`] },
      { after: ra, want: [`ADDED b@${rb}`, `MODIFIED a@${ra2}`, `DELETED b@${rb2}`] },
      { after: ra2, want: [`DELETED b@${rb2}`] },
      { after: rb2, want: [] },
    ];
    const readers = await Promise.all(cases.map(async (c) => new Reader(await cacher.watch({ afterRevision: c.after }))));
    const rc = await w.create(widget('ns', 'c'));
    for (const [i, c] of cases.entries()) {
      await readers[i].waitFor(() => readers[i].events.length >= c.want.length + 1, `after ${c.after}`);
      t.deepEqual(readers[i].summary(), [...c.want, `ADDED c@${rc}`], `after ${c.after}`);
    }
    // The DELETED event carries the last state with the delete revision.
    const deleted = readers[0].changes[3];
    t.is(deleted.object.metadata.name, 'b');
    t.is(deleted.object.metadata.resourceVersion, String(rb2));
    for (const r of readers) r.watch.close();
    await waitUntil(() => readers.every((r) => r.ended), 'all readers ended');
    t.true(readers.every((r) => r.error === undefined && r.watch.endReason === 'closed'));
  });

  test(name('initial events: ADDED for the current state, the end bookmark, then changes'), async (t) => {
    const backend = await driver.open(t);
    const w = new Writer(backend);
    await w.create(widget('n1', 'b', { app: 'x' }));
    await w.create(widget('n1', 'a', { app: 'x' }));
    await w.create(widget('n2', 'c', { app: 'x' }));
    await w.create(widget('n1', 'd', { app: 'y' }));
    const cacher = await startCacher(t, backend);
    const snapshotRev = cacher.revision();

    const cases = [
      { title: 'all', options: {}, want: ['ADDED a', 'ADDED b', 'ADDED d', 'ADDED c'] },
      { title: 'namespace n1', options: { namespace: 'n1' }, want: ['ADDED a', 'ADDED b', 'ADDED d'] },
      { title: 'selector app=x', options: { predicate: (o: KubeObject) => o.metadata.labels?.app === 'x' }, want: ['ADDED a', 'ADDED b', 'ADDED c'] },
    ];
    const readers = await Promise.all(cases.map(async (c) => new Reader(await cacher.watch({ ...c.options, initialEvents: true }))));
    const re = await w.create(widget('n1', 'e', { app: 'x' }));
    for (const [i, c] of cases.entries()) {
      const r = readers[i];
      await r.waitFor(() => r.events.length >= c.want.length + 2, c.title);
      t.deepEqual(
        r.events.map((e) => (e.type === 'BOOKMARK' ? `BOOKMARK@${e.revision} ${e.initialEventsEnd}` : `${e.type} ${e.object.metadata.name}`)),
        [...c.want, `BOOKMARK@${snapshotRev} true`, 'ADDED e'],
        c.title,
      );
      t.is(r.events[r.events.length - 1].revision, re);
      t.is(r.watch.currentRevision(), re);
    }
  });

  test(name('selector transitions: entering is ADDED, leaving is DELETED with the new version'), async (t) => {
    const backend = await driver.open(t);
    const w = new Writer(backend);
    const cacher = await startCacher(t, backend);
    const start = cacher.revision();
    const selected = (o: KubeObject) => o.metadata.labels?.app === 'x';
    const live = new Reader(await cacher.watch({ predicate: selected }));

    const steps: Array<{ title: string; write: () => Promise<number>; want?: string }> = [
      { title: 'created unmatched: skipped', write: () => w.create(widget('ns', 'o', { app: 'y' })) },
      { title: 'starts matching: ADDED', write: () => w.update(widget('ns', 'o', { app: 'x' })), want: 'ADDED x' },
      { title: 'still matching: MODIFIED', write: () => w.update(widget('ns', 'o', { app: 'x' }, { n: 1 })), want: 'MODIFIED x' },
      { title: 'stops matching: DELETED (new version)', write: () => w.update(widget('ns', 'o', { app: 'z' })), want: 'DELETED z' },
      { title: 'matches neither: skipped', write: () => w.update(widget('ns', 'o', { app: 'y' }, { n: 2 })) },
      { title: 'matches again: ADDED', write: () => w.update(widget('ns', 'o', { app: 'x' }, { n: 3 })), want: 'ADDED x' },
      { title: 'deleted while matching: DELETED (last version)', write: () => w.delete(widget('ns', 'o')), want: 'DELETED x' },
      { title: 'created matching: ADDED', write: () => w.create(widget('ns', 'p', { app: 'x' })), want: 'ADDED x' },
      { title: 'other object unmatched, deleted: skipped', write: async () => (await w.create(widget('ns', 'q'))) && w.delete(widget('ns', 'q')) },
    ];
    const want: string[] = [];
    for (const step of steps) {
      const revision = await step.write();
      if (step.want) want.push(`${step.want}@${revision}`);
    }
    await cacher.waitUntilFresh(await backend.currentRevision());
    const summary = (r: Reader) => r.changes.map((e) => `${e.type} ${e.object.metadata.labels?.app}@${e.revision}`);
    await live.waitFor(() => live.changes.length >= want.length, 'live events');
    t.deepEqual(summary(live), want, 'live');
    // The same transitions when replayed from the history.
    const replay = new Reader(await cacher.watch({ afterRevision: start, predicate: selected }));
    await replay.waitFor(() => replay.changes.length >= want.length, 'replayed events');
    t.deepEqual(summary(replay), want, 'replayed');
  });

  test(name('an RV older than the history is Expired (time window and event count)'), async (t) => {
    const cases = [
      { title: 'older than the 75 s window', options: {}, advanceMs: 76_000 },
      { title: 'beyond maxHistoryEvents', options: { maxHistoryEvents: 3 }, advanceMs: 0 },
    ];
    for (const c of cases) {
      const backend = await driver.open(t);
      const w = new Writer(backend);
      let clock = 1_000_000;
      const cacher = await startCacher(t, backend, { ...c.options, now: () => clock });
      const first = await w.create(widget('ns', 'a'));
      for (let i = 0; i < 4; i++) await w.update(widget('ns', 'a', {}, { i }));
      clock += c.advanceMs;
      const last = await w.create(widget('ns', 'b'));
      await cacher.waitUntilFresh(last);
      const err = await cacheError(cacher.watch({ afterRevision: first }));
      t.is(err.code, 'Expired', c.title);
      t.regex(err.message, new RegExp(`^too old resource version: ${first} \\(\\d+\\)$`), c.title);
      // The newest revision is still served.
      const r = new Reader(await cacher.watch({ afterRevision: last - 1 }));
      await r.waitFor(() => r.changes.length === 1, c.title);
      t.deepEqual(r.summary(), [`ADDED b@${last}`], c.title);
    }
  });

  for (const freshness of ['sync-delivery', 'list-compare'] as const) {
    test(name(`waitUntilFresh after writes to ANOTHER prefix resolves (${freshness})`), async (t) => {
      const backend = await driver.open(t);
      const w = new Writer(backend);
      const cacher = await startCacher(t, backend, { freshness });
      await w.create(widget('ns', 'mine'));
      for (let i = 0; i < 5; i++) await w.create(widget('ns', `g${i}`), OTHER_PREFIX);
      const current = await backend.currentRevision();
      t.true(current > cacher.revision());
      await cacher.waitUntilFresh(current, 2_000);
      t.true(cacher.revision() >= current);
      t.true(cacher.list().revision >= current);
      // A watch from that revision opens and sees only what follows.
      const r = new Reader(await cacher.watch({ afterRevision: current }));
      const next = await w.create(widget('ns', 'later'));
      await r.waitFor(() => r.changes.length === 1, 'the later event');
      t.deepEqual(r.summary(), [`ADDED later@${next}`]);
      // A revision the store has not reached: TooLargeResourceVersion, for waits and watches.
      const future = (await backend.currentRevision()) + 100;
      t.is((await cacheError(cacher.waitUntilFresh(future, 200))).code, 'TooLargeResourceVersion');
      t.is((await cacheError(cacher.watch({ afterRevision: future, timeoutMs: 200 }))).code, 'TooLargeResourceVersion');
    });
  }

  test(name('a slow watcher is cut off while a fast one receives everything'), async (t) => {
    const backend = await driver.open(t);
    const w = new Writer(backend);
    const cacher = await startCacher(t, backend, { watcherBufferEvents: 10 });
    const start = cacher.revision();
    const slow = await cacher.watch({}); // never read until the end
    const fast = new Reader(await cacher.watch({}));
    const revisions: number[] = [];
    for (let i = 0; i < 60; i++) revisions.push(await w.create(widget('ns', `o${i}`)));
    await fast.waitFor(() => fast.changes.length >= 60, 'all 60 events');
    t.deepEqual(fast.changes.map((e) => e.revision), revisions);
    t.is(fast.watch.endReason, undefined);

    t.is(slow.endReason, 'slow');
    const late = new Reader(slow);
    await late.waitFor(() => late.ended, 'the slow watch ends');
    t.is(late.error, undefined, 'ends normally: the client re-watches');
    t.deepEqual(late.events, []);
    // Re-watching from its last revision replays from the history.
    const again = new Reader(await cacher.watch({ afterRevision: start }));
    await again.waitFor(() => again.changes.length >= 60, 'replay');
    t.deepEqual(again.changes.map((e) => e.revision), revisions);
    t.is(cacher.stats().watchers, 2);
  });

  test(name('two watchers see the same events in the same order'), async (t) => {
    const backend = await driver.open(t);
    const w = new Writer(backend);
    const cacher = await startCacher(t, backend);
    const one = new Reader(await cacher.watch({}));
    const two = new Reader(await cacher.watch({}));
    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        await w.create(widget(`ns${i % 3}`, `o${i}`));
        await w.update(widget(`ns${i % 3}`, `o${i}`, {}, { step: 1 }));
        if (i % 2 === 0) await w.delete(widget(`ns${i % 3}`, `o${i}`));
      }),
    );
    await one.waitFor(() => one.changes.length === 50, 'one');
    await two.waitFor(() => two.changes.length === 50, 'two');
    t.deepEqual(one.summary(), two.summary());
    const revisions = one.changes.map((e) => e.revision);
    t.deepEqual(revisions, [...revisions].sort((a, b) => a - b));
    t.is(new Set(revisions).size, revisions.length);
  });

  test(name('bookmarks: currentRevision and in-order requestBookmark'), async (t) => {
    const backend = await driver.open(t);
    const w = new Writer(backend);
    const cacher = await startCacher(t, backend);
    const r = new Reader(await cacher.watch({}));
    const rev = await w.create(widget('ns', 'a'));
    await r.waitFor(() => r.changes.length === 1, 'the event');
    t.is(r.watch.currentRevision(), rev);
    await w.create(widget('ns', 'g'), OTHER_PREFIX);
    await cacher.waitUntilFresh(await backend.currentRevision());
    r.watch.requestBookmark();
    await r.waitFor(() => r.events.length === 2, 'the bookmark');
    t.deepEqual(r.events[1], { type: 'BOOKMARK', revision: cacher.revision(), initialEventsEnd: false });
    t.true(cacher.bookmarkRevision() > rev);
  });

  test(name('upstream failure: re-watch misses nothing; compaction meanwhile: relist, watchers Expired'), async (t) => {
    const faulty = new FaultyBackend(await driver.open(t));
    const w = new Writer(faulty);
    const cacher = await startCacher(t, faulty);
    await w.create(widget('ns', 'a'));
    const rb = await w.create(widget('ns', 'b'));
    const watcher = new Reader(await cacher.watch({ afterRevision: rb }));

    // A plain connection loss: the cache re-watches from its revision and misses nothing.
    faulty.refuseWatches = true;
    faulty.breakWatches();
    const rc = await w.create(widget('ns', 'c'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    faulty.refuseWatches = false;
    await cacher.waitUntilFresh(rc);
    await watcher.waitFor(() => watcher.changes.length === 1, 'the event written while disconnected');
    t.deepEqual(watcher.summary(), [`ADDED c@${rc}`]);

    // Disconnected while the store changes and compacts: the cache relists and converges.
    const before = cacher.revision();
    faulty.refuseWatches = true;
    faulty.breakWatches();
    await w.update(widget('ns', 'a', {}, { v: 2 }));
    await w.delete(widget('ns', 'b'));
    await w.create(widget('ns', 'd'));
    await w.create(widget('ns', 'g'), OTHER_PREFIX);
    const current = await faulty.currentRevision();
    await faulty.compact(current);
    faulty.refuseWatches = false;
    await cacher.waitUntilFresh(current);
    await waitUntil(() => cacher.ready, 'the cache to be ready again');
    t.deepEqual(
      cacher.list().items.map((o) => `${o.metadata.name}:${JSON.stringify(o.spec)}`),
      ['a:{"v":2}', 'c:{}', 'd:{}'],
    );
    t.true(cacher.revision() >= current);
    await watcher.waitFor(() => watcher.ended, 'the old watcher to end');
    t.true(watcher.error instanceof CacheError && watcher.error.code === 'Expired');
    t.is(watcher.watch.endReason, 'expired');
    t.is((await cacheError(cacher.watch({ afterRevision: before }))).code, 'Expired');
    // New watches work from the new revision.
    const fresh = new Reader(await cacher.watch({ afterRevision: cacher.revision() }));
    const re = await w.create(widget('ns', 'e'));
    await fresh.waitFor(() => fresh.changes.length === 1, 'a new event');
    t.deepEqual(fresh.summary(), [`ADDED e@${re}`]);
  });

  test(name('list-compare: a late transient event forces a relist instead of a wrong history'), async (t) => {
    const faulty = new FaultyBackend(await driver.open(t));
    const w = new Writer(faulty);
    const cacher = await startCacher(t, faulty, { freshness: 'list-compare' });
    await w.create(widget('ns', 'a'));
    await cacher.waitUntilFresh(await faulty.currentRevision());
    const watcher = new Reader(await cacher.watch({}));
    faulty.pauseDelivery();
    await w.create(widget('ns', 'transient'));
    await w.delete(widget('ns', 'transient'));
    await w.create(widget('ns', 'g'), OTHER_PREFIX);
    const current = await faulty.currentRevision();
    // The state at `current` equals the cache's: the claim is made although two events are in flight.
    await cacher.waitUntilFresh(current);
    faulty.resumeDelivery();
    await watcher.waitFor(() => watcher.ended, 'the watcher to be expired');
    t.true(watcher.error instanceof CacheError && watcher.error.code === 'Expired');
    await waitUntil(() => cacher.ready, 'relisted');
    t.deepEqual(cacher.list().items.map((o) => o.metadata.name), ['a']);
  });

  test(name('1,000 watchers x 200 events: each delivered exactly once, in order'), async (t) => {
    const backend = await driver.open(t);
    const w = new Writer(backend);
    const cacher = await startCacher(t, backend);
    const readers = await Promise.all(
      Array.from({ length: 1_000 }, async (_, i) => new Reader(await cacher.watch(i % 2 === 0 ? {} : { namespace: 'ns' }))),
    );
    const revisions: number[] = [];
    for (let i = 0; i < 100; i++) revisions.push(await w.create(widget('ns', `o${i}`)));
    for (let i = 0; i < 100; i++) revisions.push(await w.update(widget('ns', `o${i}`, {}, { i })));
    await waitUntil(() => readers.every((r) => r.events.length >= 200), 'every watcher to get 200 events', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    let exact = 0;
    for (const r of readers) {
      const got = r.changes.map((e) => e.revision);
      if (got.length === 200 && got.every((rev, j) => rev === revisions[j]) && r.watch.endReason === undefined) exact++;
    }
    t.is(exact, 1_000);
  });

  test(name('stop ends watchers and fails waiters with NotReady'), async (t) => {
    const backend = await driver.open(t);
    const cacher = await startCacher(t, backend);
    const r = new Reader(await cacher.watch({}));
    const waiting = cacheError(cacher.waitUntilFresh(cacher.revision() + 10, 5_000));
    await cacher.stop();
    t.is((await waiting).code, 'NotReady');
    await r.waitFor(() => r.ended, 'the watch to end');
    t.is(r.watch.endReason, 'stopped');
    t.false(cacher.ready);
    t.throws(() => cacher.list(), { instanceOf: CacheError });
  });
}

test('a cache started before the store is reachable retries and becomes ready', async (t) => {
  const inner = await openBackend({ url: 'memory' });
  let failLists = 3;
  const flaky = new FaultyBackend(inner);
  const realList = flaky.list;
  flaky.list = async (prefix, options) => {
    if (failLists-- > 0) throw new StorageError('Unavailable', 'store down (test)');
    return realList(prefix, options);
  };
  const cacher = new Cacher({ backend: flaky, prefix: PREFIX, decode, retryInitialMs: 5, retryMaxMs: 20 });
  t.teardown(() => cacher.stop());
  t.false(cacher.ready);
  t.is((await cacheError(cacher.waitUntilFresh(1, 10))).code, 'NotReady');
  t.throws(() => cacher.list(), { instanceOf: CacheError, message: /not ready/ });
  await cacher.start();
  t.true(cacher.ready);
  t.is(failLists, -1);
});
