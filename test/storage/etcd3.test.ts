// The etcd3 driver against a real etcd: the shared storage conformance suite on one server for
// the file (each test under its own key prefix; compacting cases get a server of their own), plus
// etcd-specific cases: the key prefix on the wire, compact_rev_key, the transaction shapes kine
// accepts, and etcd dying, restarting or hanging under a client.
import test, { type ExecutionContext } from 'ava';
import { Etcd3, KVClient, type ITxnRequest } from 'etcd3';
import { openEtcd3Backend } from '../../registry/storage/etcd3.js';
import type { Backend, KeyValue } from '../../registry/storage/index.js';
import { requireEtcd, startEtcd, type EtcdServer } from '../helpers/etcd.js';
import { code, collect, drain, failure, registerStorageConformance, value } from './cases.js';

const REQUEST_TIMEOUT_MS = 1_000;

if (requireEtcd(test, 'etcd3 backend')) {
  let shared: EtcdServer;
  let prefixCounter = 0;

  test.before(async () => {
    shared = await startEtcd();
  });
  test.after.always(async () => {
    await shared?.stop();
  });

  /** A backend on the shared etcd whose keys live under a prefix no other test uses. */
  function openOnShared(etcdPrefix = `/test-${++prefixCounter}`): Promise<Backend> {
    return openEtcd3Backend({ url: shared.url, endpoints: [shared.endpoint], etcdPrefix, requestTimeoutMs: REQUEST_TIMEOUT_MS });
  }

  async function openIsolated(t: ExecutionContext, etcdPrefix?: string): Promise<Backend> {
    const backend = await openOnShared(etcdPrefix);
    t.teardown(() => backend.close());
    return backend;
  }

  registerStorageConformance('etcd3', {
    async open({ exclusive }) {
      if (!exclusive) return { backend: await openOnShared() };
      const etcd = await startEtcd();
      const backend = await openEtcd3Backend({ url: etcd.url, endpoints: [etcd.endpoint], requestTimeoutMs: REQUEST_TIMEOUT_MS });
      return { backend, cleanup: () => etcd.stop() };
    },
  });

  // ---- etcd-specific cases ----

  test('etcdPrefix is prepended on the wire and stripped from results', async (t) => {
    const prefix = `/test-${++prefixCounter}`;
    const store = await openIsolated(t, prefix);
    const neighbour = await openIsolated(t);
    await store.create('/registry/x', value('mine'));
    await neighbour.create('/registry/x', value('theirs'));
    t.deepEqual(keys((await store.list('/registry/')).items), ['/registry/x']);
    t.deepEqual((await store.get('/registry/x'))?.value, value('mine'));

    const raw = new Etcd3({ hosts: shared.endpoint });
    t.teardown(() => raw.close());
    t.deepEqual(await raw.getAll().prefix(`${prefix}/`).keys(), [`${prefix}/registry/x`]);
  });

  // Compaction is global to an etcd (every prefix loses the same history), so these cases run on
  // a server of their own instead of disturbing the other tests' reads at old revisions.
  test('compact records the revision in compact_rev_key, outside every registry key', async (t) => {
    const { store, etcd } = await ownServer(t);
    const v1 = await store.create('/registry/a', value('1'));
    const v2 = await store.update('/registry/a', value('2'), v1.modRevision);
    await store.compact(v2.modRevision);

    const raw = new Etcd3({ hosts: etcd.endpoint });
    t.teardown(() => raw.close());
    t.is(await raw.get('compact_rev_key').string(), String(v2.modRevision), 'as kube-apiserver writes it');
    t.is(await store.compactedRevision(), v2.modRevision);
    t.is((await failure(store.get('/registry/a', { revision: v1.modRevision }))).revision, v2.modRevision);
    // The key has no leading slash: no list or watch of `/`-rooted keys sees it.
    t.deepEqual(keys((await store.list('/')).items), ['/registry/a']);
  });

  test('concurrent compactions agree through the version compare on compact_rev_key', async (t) => {
    const { store, etcd } = await ownServer(t);
    const other = await openEtcd3Backend({ url: etcd.url, endpoints: [etcd.endpoint] });
    t.teardown(() => other.close());
    const revisions: number[] = [];
    for (let i = 0; i < 10; i++) revisions.push((await store.create(`/registry/k${i}`, value('v'))).modRevision);
    await Promise.all(revisions.map((revision, i) => (i % 2 ? store : other).compact(revision)));
    const recorded = await store.compactedRevision();
    t.true(revisions.includes(recorded));
    t.is((await failure(store.get('/registry/k0', { revision: revisions[0] - 1 }))).code, 'Compacted');
  });

  // Serial (ava runs serial tests first, alone) because it records every transaction in the process.
  test.serial('the driver emits only the four transaction shapes kine accepts', async (t) => {
    const { store } = await ownServer(t);
    const requests = recordTransactions(t);
    const a = await store.create('/registry/a', value('1'));
    await code(store.create('/registry/a', value('1')));
    const a2 = await store.update('/registry/a', value('2'), a.modRevision);
    await code(store.update('/registry/a', value('3'), a.modRevision));
    await code(store.delete('/registry/a', a.modRevision));
    await store.delete('/registry/a', a2.modRevision);
    await store.create('/registry/b', value('1'));
    await store.delete('/registry/b');
    await code(store.delete('/registry/b'));
    await store.compact(await store.currentRevision());
    await store.compact(await store.currentRevision());

    const shapes = requests.map(kineShape);
    t.deepEqual(shapes, [
      'create',
      'create',
      'update',
      'update',
      'delete',
      'delete',
      'create',
      'delete (unconditional)',
      'delete (unconditional)',
      'compact',
      'compact',
    ]);
  });

  // ---- etcd going away ----

  test('an etcd restart mid-watch fails the watch with Unavailable; re-watching from the last seen revision misses nothing', async (t) => {
    const { store, etcd } = await ownServer(t);
    const start = await store.currentRevision();
    const written: KeyValue[] = [];
    const write = async (name: string) => written.push(await store.create(`/registry/${name}`, value(name)));

    const watch = store.watch('/registry/', start);
    const events = collect(watch);
    for (const name of ['before-1', 'before-2', 'before-3']) await write(name);
    await events.until((all) => all.length >= 1);
    // Written just before the kill: the watcher may or may not have received these.
    for (const name of ['racing-1', 'racing-2']) await write(name);
    await etcd.kill();

    const outcome = await events.done;
    t.like(outcome, { ended: 'with an error', code: 'Unavailable' });
    t.is(await code(store.create('/registry/during', value('x'))), 'Unavailable');

    const seenBefore = await events.until(() => true);
    const lastSeen = seenBefore.length ? seenBefore[seenBefore.length - 1].kv.modRevision : start;
    t.deepEqual(
      seenBefore.map((e) => e.kv.key),
      written.filter((kv) => kv.modRevision <= lastSeen).map((kv) => kv.key),
      'events before the failure are a gap-free prefix of the writes',
    );

    await etcd.start();
    for (const name of ['after-restart-1', 'after-restart-2']) await write(name);
    const rewatch = store.watch('/registry/', lastSeen);
    const resumed = collect(rewatch);
    for (const name of ['after-rewatch-1', 'after-rewatch-2']) await write(name);
    const expected = written.filter((kv) => kv.modRevision > lastSeen);
    const seenAfter = await resumed.until((all) => all.length >= expected.length);
    // Give a duplicate the chance to show up before comparing.
    await new Promise((resolve) => setTimeout(resolve, 200));
    t.deepEqual(
      (await resumed.until(() => true)).map((e) => [e.kv.key, e.kv.modRevision]),
      expected.map((kv) => [kv.key, kv.modRevision]),
    );
    t.is(seenAfter.length, expected.length);
    rewatch.close();
  });

  test('requests fail with Unavailable within the deadline while etcd is down or hung, and work again after', async (t) => {
    const { store, etcd } = await ownServer(t);
    const a = await store.create('/registry/a', value('1'));

    // Hung: the connection stays open, nothing answers. Only the deadline ends these calls.
    await etcd.pause();
    for (const [what, call] of [
      ['get', () => store.get('/registry/a')],
      ['list', () => store.list('/registry/')],
      // Whether etcd applies this once it resumes is unknown to the client; nothing below depends on it.
      ['create', () => store.create('/registry/written-while-hung', value('1'))],
      ['currentRevision', () => store.currentRevision()],
      ['watch', () => drain(store.watch('/registry/', a.modRevision))],
    ] as const) {
      const started = Date.now();
      t.is(await code(call(), `${what} while etcd is hung`), 'Unavailable', `${what} while etcd is hung`);
      t.true(Date.now() - started < REQUEST_TIMEOUT_MS * 5, `${what} took ${Date.now() - started} ms`);
    }
    etcd.resume();
    t.deepEqual((await store.get('/registry/a'))?.value, value('1'));

    // Down: the connection is refused.
    await etcd.kill();
    for (const [what, call] of [
      ['get', () => store.get('/registry/a')],
      ['create', () => store.create('/registry/b', value('1'))],
      ['ping', () => store.ping()],
      ['watch', () => drain(store.watch('/registry/', a.modRevision))],
    ] as const) {
      const started = Date.now();
      t.is(await code(call(), `${what} while etcd is down`), 'Unavailable', `${what} while etcd is down`);
      t.true(Date.now() - started < REQUEST_TIMEOUT_MS * 5, `${what} took ${Date.now() - started} ms`);
    }
    await etcd.start();
    await store.ping();
    t.deepEqual((await store.get('/registry/a'))?.value, value('1'));
  });

  /** A store on an etcd of this test's own, for cases that disturb the whole server. */
  async function ownServer(t: ExecutionContext): Promise<{ store: Backend; etcd: EtcdServer }> {
    const etcd = await startEtcd();
    t.teardown(() => etcd.stop());
    const store = await openEtcd3Backend({
      url: etcd.url,
      endpoints: [etcd.endpoint],
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
    });
    t.teardown(() => store.close());
    return { store, etcd };
  }
}

// ---- helpers ----

function keys(items: KeyValue[]): string[] {
  return items.map((kv) => kv.key);
}

/** Records every Txn request any etcd3 client in this process sends while the test runs. */
function recordTransactions(t: ExecutionContext): ITxnRequest[] {
  const requests: ITxnRequest[] = [];
  const original = KVClient.prototype.txn;
  KVClient.prototype.txn = function (this: KVClient, request, options) {
    requests.push(request);
    return original.call(this, request, options);
  };
  t.teardown(() => {
    KVClient.prototype.txn = original;
  });
  return requests;
}

/**
 * Which of kine's four accepted transactions a request is, by kine's own predicates
 * (`pkg/server/{create,update,delete,compact}.go`); throws for anything else.
 */
function kineShape(txn: ITxnRequest): string {
  const compare = txn.compare ?? [];
  const success = txn.success ?? [];
  const failure = txn.failure ?? [];
  const onlyCompare = compare.length === 1 ? compare[0] : undefined;
  const modEquals = onlyCompare?.target === 'Mod' && onlyCompare.result === 'Equal';
  if (modEquals && Number(onlyCompare.mod_revision) === 0 && success.length === 1 && success[0].request_put && failure.length === 0) {
    return 'create';
  }
  if (modEquals && success.length === 1 && success[0].request_put && failure.length === 1 && failure[0].request_range) {
    return 'update';
  }
  if (modEquals && success.length === 1 && success[0].request_delete_range && failure.length === 1 && failure[0].request_range) {
    return 'delete';
  }
  if (compare.length === 0 && failure.length === 0 && success.length === 2 && success[0].request_range && success[1].request_delete_range) {
    return 'delete (unconditional)';
  }
  if (
    onlyCompare?.target === 'Version' &&
    onlyCompare.result === 'Equal' &&
    onlyCompare.key?.toString() === 'compact_rev_key' &&
    success.length === 1 &&
    success[0].request_put &&
    failure.length === 1 &&
    failure[0].request_range
  ) {
    return 'compact';
  }
  throw new Error(`transaction shape kine would reject: ${JSON.stringify(txn)}`);
}
