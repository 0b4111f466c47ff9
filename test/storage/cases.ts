// The storage conformance suite: one table of cases, run unchanged against every Backend driver.
//
//   registerStorageConformance('memory', { open: async () => ({ backend: await openMemoryBackend() }) });
//
// registers one ava test per case, titled `<driver>: <case>`. Each test opens its own store
// through `open` and closes it afterwards. A driver whose tests share one server (etcd) isolates
// them by key prefix; the cases then never assume that nobody else moves the global revision,
// except `exclusive` cases, which change the whole store (compaction): those run serially, and
// `open` must give them a store of their own. For etcd3, e.g.:
//
//   registerStorageConformance('etcd3', {
//     async open({ exclusive }) {
//       if (!exclusive) return { backend: await openEtcd3Backend({ ...sharedServer, etcdPrefix: `/test-${++n}` }) };
//       const etcd = await startEtcd();
//       return { backend: await openEtcd3Backend({ url: etcd.url, endpoints: [etcd.endpoint] }), cleanup: () => etcd.stop() };
//     },
//   });
//
// Cases use keys under `/registry/<case>/`, with neighbours just outside the prefix to catch scans
// that leak.
import test, { type ExecutionContext } from 'ava';
import { isStorageError, StorageError, type Backend, type KeyValue, type Watch, type WatchEvent } from '../../registry/storage/index.js';

export interface OpenedStore {
  backend: Backend;
  /** Runs after the test, also when it failed; the backend itself is closed by the suite. */
  cleanup?: () => Promise<void> | void;
}

export interface StorageConformanceOptions {
  /**
   * Opens the store for one test. `exclusive` is true for a case that compacts: it needs a store
   * no other test reads (compaction is global to a store).
   */
  open(context: { exclusive: boolean }): Promise<OpenedStore>;
}

export interface StorageCase {
  title: string;
  exclusive?: boolean;
  run(t: ExecutionContext, store: Backend): Promise<void>;
}

export function registerStorageConformance(driver: string, options: StorageConformanceOptions): void {
  for (const storageCase of storageCases) {
    const register = storageCase.exclusive ? test.serial : test;
    register(`${driver}: ${storageCase.title}`, async (t) => {
      const opened = await options.open({ exclusive: storageCase.exclusive ?? false });
      t.teardown(async () => {
        await opened.backend.close();
        await opened.cleanup?.();
      });
      await storageCase.run(t, opened.backend);
    });
  }
}

export const storageCases: StorageCase[] = [
  {
    title: 'create of an existing key fails with AlreadyExists; a deleted key can be created again',
    async run(t, store) {
      const key = '/registry/create/a';
      const created = await store.create(key, value('1'));
      t.deepEqual(created, { key, value: value('1'), createRevision: created.modRevision, modRevision: created.modRevision });

      const error = await failure(store.create(key, value('2')));
      t.is(error.code, 'AlreadyExists');
      t.deepEqual(await store.get(key), created, 'the failed create changed nothing');

      const deleted = await store.delete(key);
      const recreated = await store.create(key, value('3'));
      t.true(recreated.modRevision > deleted.modRevision);
      t.is(recreated.createRevision, recreated.modRevision, 'a re-created key starts a new life');
      t.deepEqual(await store.get(key), recreated);
    },
  },
  {
    title: 'successive writes get strictly increasing revisions and currentRevision reaches the last',
    async run(t, store) {
      const a = await store.create('/registry/revisions/a', value('1'));
      const b = await store.create('/registry/revisions/b', value('1'));
      const a2 = await store.update('/registry/revisions/a', value('2'), a.modRevision);
      const bGone = await store.delete('/registry/revisions/b');
      t.true(a.modRevision < b.modRevision);
      t.true(b.modRevision < a2.modRevision);
      t.true(a2.modRevision < bGone.modRevision);
      t.true((await store.currentRevision()) >= bGone.modRevision);
    },
  },
  {
    title: 'update with a stale modRevision fails with Conflict carrying the current value',
    async run(t, store) {
      const key = '/registry/update/a';
      const v1 = await store.create(key, value('1'));
      const v2 = await store.update(key, value('2'), v1.modRevision);
      t.deepEqual(v2, { key, value: value('2'), createRevision: v1.createRevision, modRevision: v2.modRevision });
      t.true(v2.modRevision > v1.modRevision);

      const stale = await failure(store.update(key, value('stale'), v1.modRevision));
      t.is(stale.code, 'Conflict');
      t.deepEqual(stale.current, v2);

      const never = await failure(store.update(key, value('never'), 0));
      t.is(never.code, 'Conflict', 'expected modRevision 0 never matches an existing key');
      t.deepEqual(never.current, v2);
      t.deepEqual(await store.get(key), v2, 'the failed updates changed nothing');
    },
  },
  {
    title: 'update of a missing or deleted key fails with NotFound',
    async run(t, store) {
      t.is(await code(store.update('/registry/update/never-created', value('x'), 1)), 'NotFound');
      t.is(await code(store.update('/registry/update/never-created', value('x'), 0)), 'NotFound');
      const created = await store.create('/registry/update/deleted', value('1'));
      await store.delete('/registry/update/deleted');
      t.is(await code(store.update('/registry/update/deleted', value('x'), created.modRevision)), 'NotFound');
      t.is(await store.get('/registry/update/deleted'), undefined, 'the failed update did not re-create the key');
    },
  },
  {
    title: 'delete with a precondition: a match deletes, a mismatch fails with Conflict carrying the current value, a missing key fails with NotFound',
    async run(t, store) {
      const key = '/registry/delete/a';
      const v1 = await store.create(key, value('1'));
      const v2 = await store.update(key, value('2'), v1.modRevision);

      const mismatch = await failure(store.delete(key, v1.modRevision));
      t.is(mismatch.code, 'Conflict');
      t.deepEqual(mismatch.current, v2);
      t.deepEqual(await store.get(key), v2, 'the failed delete changed nothing');

      const deleted = await store.delete(key, v2.modRevision);
      t.true(deleted.modRevision > v2.modRevision);
      t.deepEqual(deleted, { key, value: value('2'), createRevision: v1.createRevision, modRevision: deleted.modRevision });
      t.is(await store.get(key), undefined);

      t.is(await code(store.delete(key, v2.modRevision)), 'NotFound');
      t.is(await code(store.delete(key)), 'NotFound');
      t.is(await code(store.delete('/registry/delete/never-created', 1)), 'NotFound');

      const b = await store.create('/registry/delete/b', value('b'));
      const unconditional = await store.delete('/registry/delete/b');
      t.deepEqual(unconditional, { key: b.key, value: value('b'), createRevision: b.createRevision, modRevision: unconditional.modRevision });
      t.true(unconditional.modRevision > b.modRevision);
    },
  },
  {
    title: 'get and list at a past revision see the store as it was then; a future revision fails with FutureRevision',
    async run(t, store) {
      const p = '/registry/history/';
      const a1 = await store.create(`${p}a`, value('a1'));
      const b1 = await store.create(`${p}b`, value('b1'));
      const a2 = await store.update(`${p}a`, value('a2'), a1.modRevision);
      const bGone = await store.delete(`${p}b`);
      const c1 = await store.create(`${p}c`, value('c1'));
      await store.create('/registry/historyx', value('not under the prefix'));

      t.deepEqual(await store.get(`${p}a`, { revision: a1.modRevision }), a1);
      t.deepEqual(await store.get(`${p}a`, { revision: b1.modRevision }), a1, 'between two writes of a key');
      t.deepEqual(await store.get(`${p}a`, { revision: a2.modRevision }), a2);
      t.deepEqual(await store.get(`${p}b`, { revision: a2.modRevision }), b1, 'before its delete');
      t.is(await store.get(`${p}b`, { revision: bGone.modRevision }), undefined, 'at its delete');
      t.is(await store.get(`${p}c`, { revision: a1.modRevision }), undefined, 'before its create');
      t.deepEqual(await store.get(`${p}c`), c1);

      t.deepEqual(await store.list(p, { revision: a1.modRevision }), {
        items: [a1],
        revision: a1.modRevision,
        more: false,
        remaining: 0,
      });
      t.deepEqual(await store.list(p, { revision: a2.modRevision }), {
        items: [a2, b1],
        revision: a2.modRevision,
        more: false,
        remaining: 0,
      });
      t.deepEqual((await store.list(p, { revision: bGone.modRevision })).items, [a2]);
      const now = await store.list(p);
      t.deepEqual(now.items, [a2, c1]);
      t.true(now.revision >= c1.modRevision, 'a current list reports the revision it read at');

      const future = (await store.currentRevision()) + 1_000_000;
      const getFuture = await failure(store.get(`${p}a`, { revision: future }));
      t.is(getFuture.code, 'FutureRevision');
      t.true(getFuture.revision !== undefined && getFuture.revision >= c1.modRevision, 'carries the current revision');
      t.is(await code(store.list(p, { revision: future })), 'FutureRevision');
    },
  },
  {
    title: 'list pages through 1,000 keys at the first page revision while writes land between pages',
    async run(t, store) {
      const p = '/registry/paging/';
      const total = 1000;
      const pageSize = 128;
      const keyOf = (i: number) => `${p}${String(i).padStart(4, '0')}`;
      for (let i = 0; i < total; i += 50) {
        await Promise.all(Array.from({ length: 50 }, (_, j) => store.create(keyOf(i + j), value('original'))));
      }
      // Neighbours just outside the prefix on either side.
      await store.create('/registry/paging', value('outside'));
      await store.create('/registry/pagingx', value('outside'));

      const pages: Array<{ pageKeys: string[]; revision: number; more: boolean; remaining: number }> = [];
      let page = await store.list(p, { limit: pageSize });
      const snapshot = page.revision;
      const changedKeys: string[] = [];
      for (;;) {
        pages.push({ pageKeys: keys(page.items), revision: page.revision, more: page.more, remaining: page.remaining });
        t.true(
          page.items.every((kv) => kv.value.toString() === 'original' && kv.modRevision <= snapshot),
          `page ${pages.length} shows the values of the first page revision`,
        );
        if (!page.more) break;
        // Between pages, change keys that a later page will return: update one, delete one, and
        // create one that sorts among them. The pages must not see any of it.
        const target = pages.length * pageSize + 10;
        const updated = await store.get(keyOf(target));
        await store.update(keyOf(target), value('changed'), updated!.modRevision);
        await store.delete(keyOf(target + 1));
        await store.create(`${keyOf(target)}-new`, value('new'));
        changedKeys.push(keyOf(target), keyOf(target + 1), `${keyOf(target)}-new`);
        page = await store.list(p, { limit: pageSize, startKey: `${page.items[page.items.length - 1].key}\0`, revision: snapshot });
      }

      const expectedPages = Math.ceil(total / pageSize);
      t.is(pages.length, expectedPages);
      t.deepEqual(
        pages.map(({ pageKeys, revision, more, remaining }) => ({ count: pageKeys.length, revision, more, remaining })),
        Array.from({ length: expectedPages }, (_, i) => {
          const after = Math.min(total, (i + 1) * pageSize);
          return { count: after - i * pageSize, revision: snapshot, more: after < total, remaining: total - after };
        }),
      );
      t.deepEqual(
        pages.flatMap((pg) => pg.pageKeys),
        Array.from({ length: total }, (_, i) => keyOf(i)),
        'every key once, in order, and nothing from outside the prefix',
      );
      t.is(changedKeys.length, (expectedPages - 1) * 3, 'writes landed between every two pages');

      const whole = await store.list(p, { revision: snapshot });
      t.deepEqual({ count: whole.items.length, more: whole.more, remaining: whole.remaining }, { count: total, more: false, remaining: 0 });
      const current = await store.list(p);
      t.true(current.revision > snapshot);
      t.is(current.items.length, total, `${expectedPages - 1} keys deleted, as many created`);
      const currentValues = new Map(current.items.map((kv) => [kv.key, kv.value.toString()]));
      t.is(currentValues.get(keyOf(pageSize + 10)), 'changed');
      t.false(currentValues.has(keyOf(pageSize + 11)));
      t.is(currentValues.get(`${keyOf(pageSize + 10)}-new`), 'new');

      t.is(await code(store.list(p, { startKey: '/registry/other/a' })), 'InvalidArgument');
    },
  },
  {
    title: 'watch from a past revision replays exactly the events after it, in order, then continues live without duplicates',
    async run(t, store) {
      const p = '/registry/watch/';
      const before = await store.create(`${p}before`, value('before'));
      const a1 = await store.create(`${p}a`, value('a1'));
      const a2 = await store.update(`${p}a`, value('a2'), a1.modRevision);
      await store.create('/registry/watchx', value('not under the prefix'));
      const b1 = await store.create(`${p}b`, value('b1'));
      const aGone = await store.delete(`${p}a`);

      const fromStart = collect(store.watch(p, before.modRevision));
      const fromMiddle = collect(store.watch(p, a2.modRevision));
      const b2 = await store.update(`${p}b`, value('b2'), b1.modRevision);
      const a3 = await store.create(`${p}a`, value('a3'));

      const expected: WatchEvent[] = [
        { type: 'put', kv: a1 },
        { type: 'put', kv: a2, prevKv: a1 },
        { type: 'put', kv: b1 },
        {
          type: 'delete',
          kv: { key: `${p}a`, value: Buffer.alloc(0), createRevision: 0, modRevision: aGone.modRevision },
          prevKv: a2,
        },
        { type: 'put', kv: b2, prevKv: b1 },
        { type: 'put', kv: a3 },
      ];
      await fromStart.until((events) => events.length >= expected.length);
      await fromMiddle.until((events) => events.length >= expected.length - 2);
      await settle(); // room for a duplicate or a stray event to arrive
      t.deepEqual(fromStart.events().map(normalized), expected);
      t.deepEqual(fromMiddle.events().map(normalized), expected.slice(2));
    },
  },
  {
    title: 'after compaction, reads and watches below the compacted revision fail with Compacted; current values and open watches are unaffected',
    exclusive: true,
    async run(t, store) {
      const p = '/registry/compact/';
      const a1 = await store.create(`${p}a`, value('a1'));
      const a2 = await store.update(`${p}a`, value('a2'), a1.modRevision);
      const b1 = await store.create(`${p}b`, value('b1'));
      const bGone = await store.delete(`${p}b`);
      const c1 = await store.create(`${p}c`, value('c1'));
      const openWatch = collect(store.watch(p, c1.modRevision));
      t.is(await store.compactedRevision(), 0);

      const compactAt = bGone.modRevision;
      await store.compact(compactAt);
      t.is(await store.compactedRevision(), compactAt);

      // compactAt - 1: the first event wanted is the compacted revision's own, which is gone.
      for (const after of [a1.modRevision - 1, b1.modRevision, compactAt - 1]) {
        const error = await failure(drain(store.watch(p, after)));
        t.is(error.code, 'Compacted', `watch after ${after}`);
        t.is(error.revision, compactAt, `watch after ${after} reports the compacted revision`);
      }
      const oldGet = await failure(store.get(`${p}a`, { revision: a1.modRevision }));
      t.is(oldGet.code, 'Compacted');
      t.is(oldGet.revision, compactAt);
      t.is(await code(store.list(p, { revision: a2.modRevision })), 'Compacted');

      // At the compacted revision itself, and after it, everything is still there.
      t.deepEqual(await store.get(`${p}a`, { revision: compactAt }), a2);
      t.deepEqual((await store.list(p, { revision: compactAt })).items, [a2]);
      t.deepEqual((await store.list(p)).items, [a2, c1]);
      t.like(await store.list(p, { limit: 1 }), { items: [a2], more: true, remaining: 1 });
      t.is(await store.get(`${p}b`), undefined);
      const fromCompaction = collect(store.watch(p, compactAt));

      const d1 = await store.create(`${p}d`, value('d1'));
      await openWatch.until((events) => events.length >= 1);
      await fromCompaction.until((events) => events.length >= 2);
      await settle();
      t.deepEqual(openWatch.events().map(normalized), [{ type: 'put', kv: d1 }], 'a watch open across compaction goes on');
      t.deepEqual(fromCompaction.events().map(normalized), [
        { type: 'put', kv: c1 },
        { type: 'put', kv: d1 },
      ]);

      await store.compact(a1.modRevision);
      t.is(await store.compactedRevision(), compactAt, 'compacting below the compacted revision changes nothing');
      const future = await failure(store.compact((await store.currentRevision()) + 1_000));
      t.is(future.code, 'FutureRevision');
    },
  },
  {
    title: '50 concurrent read-modify-write updates of one key, retried on Conflict: each success has its own revision and none is lost',
    async run(t, store) {
      const key = '/registry/concurrent/counter';
      const writers = 50;
      const initial = await store.create(key, value('0'));
      const successes: Array<{ basedOn: number; written: KeyValue }> = [];
      let conflicts = 0;
      await Promise.all(
        Array.from({ length: writers }, async () => {
          for (;;) {
            const current = (await store.get(key))!;
            const next = value(String(Number(current.value.toString()) + 1));
            try {
              successes.push({ basedOn: current.modRevision, written: await store.update(key, next, current.modRevision) });
              return;
            } catch (err) {
              if (!isStorageError(err, 'Conflict')) throw err;
              conflicts++;
            }
          }
        }),
      );
      const final = (await store.get(key))!;
      t.is(final.value.toString(), String(writers), 'no increment lost');
      t.is(successes.length, writers);
      t.true(conflicts > 0, 'the writers did race');

      successes.sort((x, y) => x.written.modRevision - y.written.modRevision);
      t.is(new Set(successes.map((s) => s.written.modRevision)).size, writers, 'every success has its own revision');
      // Exactly one writer won from each revision: the successes form one chain from the create.
      t.deepEqual(
        successes.map((s) => s.basedOn),
        [initial.modRevision, ...successes.slice(0, -1).map((s) => s.written.modRevision)],
      );
      t.deepEqual(
        successes.map((s) => s.written.value.toString()),
        Array.from({ length: writers }, (_, i) => String(i + 1)),
      );
      t.deepEqual(final, successes[writers - 1].written);
    },
  },
  {
    title: 'a watcher that falls more than maxPendingEvents behind is cut off with WatchOverflow; a keeping-up watcher is not',
    async run(t, store) {
      const p = '/registry/overflow/';
      const start = await store.currentRevision();
      const slow = store.watch(p, start, { maxPendingEvents: 5 });
      const keepingUp = collect(store.watch(p, start));
      for (let i = 0; i < 20; i++) await store.create(`${p}${i}`, value('v'));
      await keepingUp.until((events) => events.length >= 20);
      await settle(); // let the slow watcher's stream receive the same events

      let delivered = 0;
      const error = await failure(
        (async () => {
          for await (const batch of slow) delivered += batch.length;
        })(),
      );
      t.is(error.code, 'WatchOverflow');
      t.is(delivered, 0, 'what was queued when it was cut off is dropped');
      t.is(keepingUp.events().length, 20);
      t.is(keepingUp.outcome(), undefined, 'the other watcher is still open');
    },
  },
  {
    title: 'closing a watch ends its iteration normally and stops delivery',
    async run(t, store) {
      const p = '/registry/watch-close/';
      const watch = store.watch(p, await store.currentRevision());
      const events = collect(watch);
      const first = await store.create(`${p}a`, value('1'));
      await events.until((all) => all.length >= 1);
      watch.close();
      t.deepEqual(await events.done, { ended: 'normally' });
      await store.create(`${p}b`, value('1'));
      await settle();
      t.deepEqual(events.events().map(normalized), [{ type: 'put', kv: first }]);
    },
  },
  {
    title: 'closing the store ends open watches with Closed and refuses further calls',
    async run(t, store) {
      const p = '/registry/store-close/';
      const events = collect(store.watch(p, await store.currentRevision()));
      await store.create(`${p}a`, value('1'));
      await events.until((all) => all.length >= 1);
      await store.close();
      t.like(await events.done, { ended: 'with an error', code: 'Closed' });
      t.is(await code(store.get(`${p}a`)), 'Closed');
      t.is(await code(store.create(`${p}b`, value('1'))), 'Closed');
      t.is(await code(store.list(p)), 'Closed');
      t.is((await failure(drain(store.watch(p, 0)))).code, 'Closed');
      await store.close(); // closing twice is harmless
    },
  },
];

// ---- helpers ----

export function value(text: string): Buffer {
  return Buffer.from(text);
}

function keys(items: KeyValue[]): string[] {
  return items.map((kv) => kv.key);
}

/** Time for events still in flight (a driver's own stream, a duplicate) to arrive. */
function settle(ms = 200): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An event without an absent `prevKv` property, so that deepEqual compares content only. */
function normalized(event: WatchEvent): WatchEvent {
  return event.prevKv ? { type: event.type, kv: event.kv, prevKv: event.prevKv } : { type: event.type, kv: event.kv };
}

/** The StorageError a promise rejects with; throws (failing the test) when it resolves or rejects otherwise. */
export async function failure(promise: Promise<unknown>, what = 'the call'): Promise<StorageError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof StorageError) return err;
    throw err;
  }
  throw new Error(`expected a StorageError, but ${what} succeeded`);
}

export async function code(promise: Promise<unknown>, what?: string): Promise<string> {
  return (await failure(promise, what)).code;
}

/** Consumes a watch until it ends; a watch still open after `timeoutMs` is closed and this rejects. */
export async function drain(watch: Watch, timeoutMs = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      watch.close();
      reject(new Error(`the watch did not end within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  const consume = async () => {
    for await (const _batch of watch) {
      // discard
    }
  };
  try {
    await Promise.race([consume(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export type WatchOutcome = { ended: 'normally' } | { ended: 'with an error'; code: string; message: string };

export interface CollectedWatch {
  /** Every event so far. */
  events(): WatchEvent[];
  /** Resolves with every event so far once the predicate holds; rejects after the timeout or when the watch ended first. */
  until(predicate: (events: WatchEvent[]) => boolean, timeoutMs?: number): Promise<WatchEvent[]>;
  /** How the watch ended, once it has. */
  outcome(): WatchOutcome | undefined;
  done: Promise<WatchOutcome>;
}

/** Consumes a watch in the background. */
export function collect(watch: Watch): CollectedWatch {
  const events: WatchEvent[] = [];
  let outcome: WatchOutcome | undefined;
  let notify: () => void = () => undefined;
  const done = (async (): Promise<WatchOutcome> => {
    try {
      for await (const batch of watch) {
        events.push(...batch);
        notify();
      }
      outcome = { ended: 'normally' };
    } catch (err) {
      if (!isStorageError(err)) throw err;
      outcome = { ended: 'with an error', code: err.code, message: err.message };
    }
    notify();
    return outcome;
  })();
  return {
    done,
    events: () => [...events],
    outcome: () => outcome,
    async until(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(events)) {
        if (outcome) throw new Error(`watch ended (${JSON.stringify(outcome)}) after ${events.length} events, before the condition held`);
        if (Date.now() > deadline) throw new Error(`watch: condition not met within ${timeoutMs} ms (${events.length} events)`);
        await new Promise<void>((resolve) => {
          notify = resolve;
          setTimeout(resolve, 50);
        });
      }
      return [...events];
    },
  };
}
