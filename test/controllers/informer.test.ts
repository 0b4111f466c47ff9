// Informers over the registry (Store list + watch, served by the watch cache) on every backend.
import test from 'ava';
import { expired } from '../../apiserver/errors.js';
import { FakeClock } from '../../controllers/clock.js';
import { Informer, NAMESPACE_INDEX, objectKey } from '../../controllers/informer.js';
import type { KubeObject } from '../../registry/meta.js';
import type { ListOptions, ListResult, WatchEvent, WatchOptions, WatchStream } from '../../registry/rest.js';
import { requireEtcd, startEtcd, type EtcdServer } from '../helpers/etcd.js';
import { create, eventually, openRegistry, sample, update, type TestRegistry } from './helpers.js';

const POOLS = 'stormworkerpools.storm.apache.org';

interface Backend {
  name: string;
  url(): string;
}

let etcd: EtcdServer | undefined;
const backends: Backend[] = [
  { name: 'memory', url: () => 'memory' },
  { name: 'sqlite', url: () => 'sqlite' },
];
if (requireEtcd(test, 'informer on etcd3')) {
  backends.push({ name: 'etcd3', url: () => etcd!.url });
  test.before(async () => {
    etcd = await startEtcd();
  });
  test.after.always(async () => {
    await etcd?.stop();
  });
}

function pool(name: string, namespace: string, topologyRef: string, team: string): KubeObject {
  return sample('StormWorkerPool', name, namespace, (o) => {
    o.spec.topologyRef = topologyRef;
    o.metadata.labels = { team };
  });
}

function recorder(informer: Informer) {
  const events: string[] = [];
  informer.addHandlers({
    add: (o) => events.push(`add ${objectKey(o)}`),
    update: (old, o) => events.push(old === o ? `resync ${objectKey(o)}` : `update ${objectKey(o)}`),
    delete: (o) => events.push(`delete ${objectKey(o)}`),
  });
  return events;
}

const summary = (items: KubeObject[]) => items.map((o) => `${objectKey(o)}@${o.metadata.resourceVersion}`).sort();

for (const backend of backends) {
  test.serial(`[${backend.name}] the informer cache equals a fresh list after creates, updates and deletes; handlers in order; indexes follow`, async (t) => {
    const registry: TestRegistry = await openRegistry(backend.url());
    t.teardown(() => registry.stop());
    const store = registry.store(POOLS);
    let p1 = await create(store, pool('p1', 'a', 'wordcount', 'red'));
    await create(store, pool('p2', 'b', 'wordcount', 'red'));

    const informer = new Informer({
      source: store,
      indexers: { topologyRef: (o) => [String(o.spec?.topologyRef)], team: (o) => (o.metadata.labels?.team ? [o.metadata.labels.team] : []) },
    });
    const events = recorder(informer);
    informer.start();
    t.teardown(() => informer.stop());
    await informer.synced;
    t.deepEqual([...events].sort(), ['add a/p1', 'add b/p2']);

    const p3 = await create(store, pool('p3', 'a', 'pagerank', 'blue'));
    p1 = await update(store, p1, (o) => (o.metadata.labels.team = 'blue'));
    p1 = await update(store, p1, (o) => (o.spec.replicas = 5));
    await store.delete({ namespace: 'b', name: 'p2' }, { dryRun: false });
    await update(store, p3, (o) => (o.metadata.labels.team = 'green'));

    const fresh = await store.list({});
    await eventually(() => JSON.stringify(summary(informer.cache.list())) === JSON.stringify(summary(fresh.items)), 'the cache to equal a fresh list');
    t.deepEqual(events.slice(2), ['add a/p3', 'update a/p1', 'update a/p1', 'delete b/p2', 'update a/p3']);
    t.is(informer.cache.get('a/p1')?.metadata.resourceVersion, p1.metadata.resourceVersion);
    t.is(informer.cache.get('a/p1')?.spec?.replicas, 5);

    const names = (items: KubeObject[]) => items.map(objectKey).sort();
    t.deepEqual(names(informer.cache.byIndex(NAMESPACE_INDEX, 'a')), ['a/p1', 'a/p3']);
    t.deepEqual(names(informer.cache.byIndex(NAMESPACE_INDEX, 'b')), []);
    t.deepEqual(names(informer.cache.byIndex('topologyRef', 'wordcount')), ['a/p1']);
    t.deepEqual(names(informer.cache.byIndex('topologyRef', 'pagerank')), ['a/p3']);
    t.deepEqual(names(informer.cache.byIndex('team', 'blue')), ['a/p1']);
    t.deepEqual(names(informer.cache.byIndex('team', 'green')), ['a/p3']);
    t.deepEqual(informer.cache.indexValues('team').sort(), ['blue', 'green']);
  });

  test.serial(`[${backend.name}] resync reports every cached object as an update with old === new (fake clock)`, async (t) => {
    const registry = await openRegistry(backend.url());
    t.teardown(() => registry.stop());
    const store = registry.store(POOLS);
    await create(store, pool('r1', 'a', 'wordcount', 'red'));
    await create(store, pool('r2', 'a', 'wordcount', 'red'));
    const clock = new FakeClock();
    const informer = new Informer({ source: store, resyncPeriodMs: 30_000, clock });
    const events = recorder(informer);
    informer.start();
    t.teardown(() => informer.stop());
    await informer.synced;
    clock.step(29_999);
    t.false(events.some((e) => e.startsWith('resync')));
    clock.step(1);
    t.deepEqual(events.filter((e) => e.startsWith('resync')).sort(), ['resync a/r1', 'resync a/r2']);
    clock.step(30_000);
    t.is(events.filter((e) => e.startsWith('resync')).length, 4, 'again after another period');
  });

  test.serial(`[${backend.name}] a namespace- and label-scoped informer sees only its objects`, async (t) => {
    const registry = await openRegistry(backend.url());
    t.teardown(() => registry.stop());
    const store = registry.store(POOLS);
    await create(store, pool('in', 'a', 'wordcount', 'red'));
    await create(store, pool('other-team', 'a', 'wordcount', 'blue'));
    await create(store, pool('other-ns', 'b', 'wordcount', 'red'));
    const informer = new Informer({ source: store, namespace: 'a', labelSelector: 'team=red' });
    const events = recorder(informer);
    informer.start();
    t.teardown(() => informer.stop());
    await informer.synced;
    await create(store, pool('later', 'a', 'wordcount', 'red'));
    await create(store, pool('later-b', 'b', 'wordcount', 'red'));
    await eventually(() => informer.cache.size === 2, 'the later object');
    t.deepEqual(informer.cache.keys().sort(), ['a/in', 'a/later']);
    t.deepEqual(events, ['add a/in', 'add a/later']);
  });
}

/** A source whose watches are scripted: each watch yields its batches, then throws `end` if given. */
function scriptedSource(lists: ListResult[], watches: Array<{ batches: WatchEvent[][]; end?: Error }>) {
  const calls: string[] = [];
  return {
    calls,
    async list(options: ListOptions): Promise<ListResult> {
      calls.push(`list`);
      void options;
      return lists.shift()!;
    },
    async watch(options: WatchOptions): Promise<WatchStream> {
      calls.push(`watch@${options.resourceVersion}`);
      const script = watches.shift() ?? { batches: [] };
      let closed = false;
      return {
        close: () => (closed = true),
        requestBookmark() {},
        async *[Symbol.asyncIterator]() {
          for (const batch of script.batches) yield batch;
          if (script.end) throw script.end;
          while (!closed) await new Promise((r) => setTimeout(r, 5));
        },
      };
    },
  };
}

const obj = (name: string, rv: number): KubeObject => ({ apiVersion: 'v1', kind: 'X', metadata: { name, namespace: 'n', resourceVersion: String(rv) } });

test('a 410 from the watch relists, and the difference is reported as add/update/delete (unchanged objects are not)', async (t) => {
  const source = scriptedSource(
    [
      { items: [obj('a', 1), obj('b', 2), obj('c', 3)], resourceVersion: '3' },
      { items: [obj('a', 1), obj('c', 7), obj('d', 8)], resourceVersion: '9' },
    ],
    [{ batches: [[{ type: 'MODIFIED', object: obj('a', 1) }]], end: expired('too old resource version: 3 (5)') }, { batches: [] }],
  );
  const informer = new Informer({ source });
  const events = recorder(informer);
  informer.start();
  t.teardown(() => informer.stop());
  await eventually(() => source.calls.length === 4, 'the relist and the second watch');
  t.deepEqual(source.calls, ['list', 'watch@3', 'list', 'watch@9']);
  t.deepEqual(events, ['add n/a', 'add n/b', 'add n/c', 'update n/c', 'add n/d', 'delete n/b']);
  t.deepEqual(informer.cache.keys().sort(), ['n/a', 'n/c', 'n/d']);
});

test('a watch that ends normally (slow watcher cut off) re-watches from the last resourceVersion without relisting', async (t) => {
  const ended = { batches: [[{ type: 'ADDED' as const, object: obj('b', 4) }], [{ type: 'BOOKMARK' as const, object: obj('', 6) }]] };
  const source = scriptedSource([{ items: [obj('a', 1)], resourceVersion: '3' }], [{ ...ended, end: undefined }, { batches: [] }]);
  // The first scripted watch ends after its batches: emulate with a stream that returns.
  const watch = source.watch.bind(source);
  let first = true;
  source.watch = async (options) => {
    const stream = await watch(options);
    if (!first) return stream;
    first = false;
    return {
      ...stream,
      async *[Symbol.asyncIterator]() {
        for (const b of ended.batches) yield b;
      },
    };
  };
  const informer = new Informer({ source });
  const events = recorder(informer);
  informer.start();
  t.teardown(() => informer.stop());
  await eventually(() => source.calls.length === 3, 'the second watch');
  t.deepEqual(source.calls, ['list', 'watch@3', 'watch@6']);
  t.deepEqual(events, ['add n/a', 'add n/b']);
});
