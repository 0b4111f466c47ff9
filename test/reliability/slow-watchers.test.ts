// Slow and stuck watchers: a client that opens a watch and stops reading must not make the server
// buffer without bound, and must not delay the other watchers. The watch cache cuts the stuck
// watcher off once its buffer is full (`endReason: 'slow'`); the readers that keep up see every
// event.
import test from 'ava';
import type { ClientRequest } from 'node:http';
import { request } from 'node:https';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { Client, policy, POLICIES, scale, until } from './helpers.js';

const NAMESPACE = 'slow';
const ANNOTATION_BYTES = 8 * 1024;

let server: TestServer;
test.before(async () => {
  server = await startTestServer({ 'etcd-compaction-interval': '0' });
});
test.after.always(async () => server?.stop());

/** A watch whose response is never read after the headers: the socket's buffers fill up. */
function openStuckWatch(path: string): Promise<{ req: ClientRequest; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(`${path}?watch=true`, server.url), { ca: server.caPem, cert: server.clientCert?.cert, key: server.clientCert?.key, agent: false }, (res) => {
      res.pause();
      const closed = new Promise<void>((r) => {
        res.once('close', () => r());
        res.socket.once('close', () => r());
      });
      resolve({ req, closed });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A watch that keeps up and records only each event's counter label and resourceVersion (small heap). */
function openCounterWatch(path: string, resourceVersion: string): Promise<{ counters: number[]; lastRv: () => string; close(): void }> {
  return new Promise((resolve, reject) => {
    const counters: number[] = [];
    let lastRv = resourceVersion;
    const req = request(new URL(`${path}?watch=true&resourceVersion=${resourceVersion}`, server.url), { ca: server.caPem, cert: server.clientCert?.cert, key: server.clientCert?.key, agent: false }, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let nl;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const event = JSON.parse(buffer.slice(0, nl));
          buffer = buffer.slice(nl + 1);
          if (event.type === 'MODIFIED') counters.push(Number(event.object.metadata.labels.counter));
          if (event.object?.metadata?.resourceVersion) lastRv = event.object.metadata.resourceVersion;
        }
      });
      resolve({ counters, lastRv: () => lastRv, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

test('a stuck watcher is cut off with bounded memory while the other watchers see every event', async (t) => {
  t.timeout(240_000);
  const updates = scale('RELIABILITY_SLOW_WATCH_UPDATES', 3_000, 1_500);
  const client = new Client(server, { maxSockets: 16 });
  const store = server.stores.get('pvcpolicies.pvc-chonker.io');
  const cacher = store?.cacher;
  if (!cacher) throw new Error('no watch cache for pvcpolicies');

  const created = await client.request('POST', POLICIES(NAMESPACE), { body: policy('big', { counter: '0' }) });
  t.is(created.status, 201, created.body);
  const baseline = cacher.stats().watchers;

  const stuck = await Promise.all([openStuckWatch(POLICIES(NAMESPACE)), openStuckWatch(POLICIES(NAMESPACE))]);
  const readers = await Promise.all([0, 1, 2].map(() => openCounterWatch(POLICIES(NAMESPACE), created.json.metadata.resourceVersion)));
  await until(() => cacher.stats().watchers >= baseline + 5, 'all watchers registered');
  const heapBefore = process.memoryUsage().heapUsed;
  let peakHeap = heapBefore;
  let peakWatchers = 0;

  const filler = 'x'.repeat(ANNOTATION_BYTES);
  let current = created.json;
  for (let i = 1; i <= updates; i++) {
    const next = structuredClone(current);
    next.metadata.labels.counter = String(i);
    next.metadata.annotations = { filler };
    const res = await client.request('PUT', `${POLICIES(NAMESPACE)}/big`, { body: next });
    if (res.status !== 200) {
      t.fail(`update ${i}: ${res.status} ${res.body}`);
      break;
    }
    current = res.json;
    if (i % 100 === 0) {
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
      peakWatchers = Math.max(peakWatchers, cacher.stats().watchers);
    }
  }
  const finalRv = current.metadata.resourceVersion;

  // The readers that keep up see every update, in order, none missing.
  for (const [i, reader] of readers.entries()) {
    await until(() => reader.lastRv() === finalRv, `reader ${i} to reach the last update`, 60_000);
    t.deepEqual(reader.counters, Array.from({ length: updates }, (_, k) => k + 1), `reader ${i} saw every update in order`);
    reader.close();
  }
  // The stuck watchers were dropped by the watch cache (it no longer buffers for them).
  await until(() => cacher.stats().watchers <= baseline, 'the stuck watchers to be cut off', 60_000).catch((err) => t.fail(`${err}: ${cacher.stats().watchers} watchers left (baseline ${baseline})`));
  const heapGrowthMb = (peakHeap - heapBefore) / 2 ** 20;
  const streamedMb = (updates * ANNOTATION_BYTES * 2) / 2 ** 20;
  t.log(`${updates} updates of ${ANNOTATION_BYTES / 1024} KiB streamed to 3 readers and 2 stuck watchers (${streamedMb.toFixed(0)} MiB owed to the stuck ones); peak heap growth ${heapGrowthMb.toFixed(1)} MiB; peak watchers ${peakWatchers}`);
  // Bounded: the heap (the in-process server; the readers keep only counters) grows far less than
  // what the stuck watchers were owed; the cut-off above is what bounds it (a watch buffer holds
  // at most 1,000 events).
  t.true(heapGrowthMb < Math.max(128, streamedMb), `heap grew ${heapGrowthMb.toFixed(1)} MiB for ${streamedMb.toFixed(0)} MiB owed`);
  for (const s of stuck) s.req.destroy();
  client.close();
});
