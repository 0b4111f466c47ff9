// Compaction while watching and while paging (k8s-api-wire.md §3.5), on every backend that
// compacts (sqlite, etcd3): a watch from a compacted resourceVersion and a list at one answer
// 410 Expired; an expired continue token answers 410 Expired whose Status carries an
// inconsistent-continue token (`rv: -1`) that lists the rest at the current revision; a watch
// that was open across the compaction keeps streaming without a gap.
import test, { type ExecutionContext } from 'ava';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { requireEtcd, startEtcd, type EtcdServer } from '../helpers/etcd.js';
import { Client, policy, POLICIES } from './helpers.js';
import { openWatch } from '../conformance/client.js';

const NAMESPACE = 'compaction';
const OBJECTS = 12;

function decodeContinue(token: string): { v: string; rv: number; start: string } {
  return JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
}

async function scenario(t: ExecutionContext, server: TestServer): Promise<void> {
  const client = new Client(server);
  try {
    for (let i = 0; i < OBJECTS; i++) {
      const res = await client.request('POST', POLICIES(NAMESPACE), { body: policy(`p-${String(i).padStart(2, '0')}`) });
      t.is(res.status, 201, res.body);
    }
    const before = await client.request('GET', POLICIES(NAMESPACE));
    const oldRv = before.json.metadata.resourceVersion as string;

    // A watch open across the compaction, and a first page read before it.
    const openAcross = await openWatch(server, POLICIES(NAMESPACE), { resourceVersion: oldRv });
    const page1 = await client.request('GET', `${POLICIES(NAMESPACE)}?limit=5`);
    t.is(page1.status, 200, page1.body);
    t.is(page1.json.items.length, 5);
    const token = page1.json.metadata.continue as string;
    t.truthy(token);

    // Change every object, then compact everything up to now.
    for (let i = 0; i < OBJECTS; i++) {
      const name = `p-${String(i).padStart(2, '0')}`;
      const patched = await client.request('PATCH', `${POLICIES(NAMESPACE)}/${name}`, {
        body: { metadata: { labels: { round: '2' } } },
        headers: { 'content-type': 'application/merge-patch+json' },
      });
      t.is(patched.status, 200, patched.body);
    }
    const deleted = await client.request('DELETE', `${POLICIES(NAMESPACE)}/p-11`);
    t.is(deleted.status, 200, deleted.body);
    const current = await server.backend.currentRevision();
    await server.backend.compact(current);

    // Watch from a compacted resourceVersion: 410 Expired (as an HTTP status or an ERROR event).
    const stale = await openWatch(server, POLICIES(NAMESPACE), { resourceVersion: oldRv });
    if (stale.status !== 200) {
      t.is(stale.status, 410, `watch from a compacted RV: ${stale.errorBody}`);
      t.is(JSON.parse(stale.errorBody).reason, 'Expired');
    } else {
      const first = await stale.waitFor(() => true, 'an event on the stale watch', 10_000);
      t.is(first.type, 'ERROR', 'watch from a compacted RV starts with ERROR');
      t.is(first.object.code, 410);
      t.is(first.object.reason, 'Expired');
      stale.close();
    }

    // List at a compacted resourceVersion (Exact): 410 Expired.
    const exact = await client.request('GET', `${POLICIES(NAMESPACE)}?resourceVersion=${oldRv}&resourceVersionMatch=Exact`);
    t.is(exact.status, 410, exact.body);
    t.is(exact.json?.reason, 'Expired');

    // The next page of a list whose snapshot was compacted away: 410 Expired + inconsistent continue.
    const page2 = await client.request('GET', `${POLICIES(NAMESPACE)}?limit=5&continue=${encodeURIComponent(token)}`);
    t.is(page2.status, 410, page2.body);
    t.is(page2.json.kind, 'Status');
    t.is(page2.json.reason, 'Expired');
    const inconsistent = page2.json.metadata?.continue as string | undefined;
    t.truthy(inconsistent, 'the 410 Status carries metadata.continue');
    if (inconsistent) {
      const decoded = decodeContinue(inconsistent);
      t.is(decoded.rv, -1, 'the inconsistent continue token has rv -1');
      t.is(decoded.start, decodeContinue(token).start, 'it resumes where the expired token would have');
      // Following it lists the rest, at the current state (round 2, p-11 gone).
      const rest: any[] = [];
      let next: string | undefined = inconsistent;
      while (next) {
        const page = await client.request('GET', `${POLICIES(NAMESPACE)}?limit=5&continue=${encodeURIComponent(next)}`);
        t.is(page.status, 200, page.body);
        rest.push(...page.json.items);
        next = page.json.metadata.continue || undefined;
      }
      t.deepEqual(
        rest.map((o) => o.metadata.name),
        ['p-05', 'p-06', 'p-07', 'p-08', 'p-09', 'p-10'],
      );
      t.true(rest.every((o) => o.metadata.labels?.round === '2'), 'the rest is read at the current revision');
    }

    // The watch open across the compaction saw every change, in order, without a gap.
    await openAcross.waitFor((e) => e.type === 'DELETED', 'the delete on the open watch', 15_000);
    t.deepEqual(
      openAcross.events.map((e) => `${e.type} ${e.object.metadata?.name}`),
      [...Array.from({ length: OBJECTS }, (_, i) => `MODIFIED p-${String(i).padStart(2, '0')}`), 'DELETED p-11'],
    );
    openAcross.close();
  } finally {
    client.close();
  }
}

test('compaction while watching and paging (sqlite): 410 Expired and the inconsistent continue token', async (t) => {
  const server = await startTestServer({ 'etcd-compaction-interval': '0' });
  try {
    await scenario(t, server);
  } finally {
    await server.stop();
  }
});

if (requireEtcd(test, 'compaction while watching and paging (etcd3)')) {
  test('compaction while watching and paging (etcd3): 410 Expired and the inconsistent continue token', async (t) => {
    let etcd: EtcdServer | undefined;
    let server: TestServer | undefined;
    try {
      etcd = await startEtcd();
      server = await startTestServer({ storage: etcd.url, 'etcd-compaction-interval': '0' });
      await scenario(t, server);
    } finally {
      await server?.stop();
      await etcd?.stop();
    }
  });
}

