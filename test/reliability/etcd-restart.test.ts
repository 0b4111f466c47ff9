// etcd goes away under load (killed, then hung), and comes back on the same data: requests fail
// with a 503/504 Status while it is down (never a hang past the request timeout, never a 500,
// never a crash), /readyz reports it, and everything recovers without help. Watchers see either
// a continuous stream or an ERROR/410 and relist, never a silent gap: a raw reflector checks that
// each object's counter advances by exactly one between consecutive events, and both it and
// client-node's informer end with a cache equal to a fresh LIST.
import test, { type ExecutionContext } from 'ava';
import * as k8s from '@kubernetes/client-node';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { requireEtcd, startEtcd, type EtcdServer } from '../helpers/etcd.js';
import { Client, policy, POLICIES, sleep, until } from './helpers.js';
import { request } from 'node:https';

const NAMESPACE = 'outage';
const WRITERS = 8;
const REQUEST_TIMEOUT_MS = 4_000;
/** A client gives up on an answer after this long: the request timeout plus generous slack. */
const CLIENT_TIMEOUT_MS = REQUEST_TIMEOUT_MS + 16_000;

interface Outcome {
  phase: string;
  status: number | 'no answer';
  what: string;
}

/** list + watch + relist, as client-go's reflector does, recording every gap it can see. */
class Reflector {
  readonly cache = new Map<string, any>();
  readonly gaps: string[] = [];
  relists = 0;
  errors: string[] = [];
  private rv = '';
  private stopped = false;
  private abort: (() => void) | undefined;
  readonly done: Promise<void>;

  constructor(private readonly client: Client) {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (!this.rv) await this.relist();
        await this.watchOnce();
      } catch (err) {
        this.errors.push(String(err));
        await sleep(300);
      }
    }
  }

  private async relist(): Promise<void> {
    const res = await this.client.request('GET', POLICIES(NAMESPACE), { timeoutMs: CLIENT_TIMEOUT_MS });
    if (res.status !== 200) throw new Error(`relist: ${res.status}`);
    this.cache.clear();
    for (const o of res.json.items) this.cache.set(o.metadata.name, o);
    this.rv = res.json.metadata.resourceVersion;
    this.relists++;
  }

  /** One watch request from `rv`; returns when it ends (a 410 clears `rv` so the loop relists). */
  private watchOnce(): Promise<void> {
    const endpoint = this.client.endpoint;
    return new Promise((resolve, reject) => {
      const url = new URL(`${POLICIES(NAMESPACE)}?watch=true&allowWatchBookmarks=true&resourceVersion=${this.rv}&timeoutSeconds=30`, endpoint.url);
      const req = request(url, { ca: endpoint.caPem, cert: endpoint.clientCert?.cert, key: endpoint.clientCert?.key, agent: false }, (res) => {
        if (res.statusCode !== 200) {
          let body = '';
          res.on('data', (c: Buffer) => (body += c));
          res.on('end', () => {
            if (res.statusCode === 410) this.rv = '';
            reject(new Error(`watch: ${res.statusCode} ${body.slice(0, 200)}`));
          });
          return;
        }
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let nl;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 1);
            if (line.trim()) this.apply(JSON.parse(line));
          }
        });
        res.on('end', resolve);
        res.on('error', resolve);
        res.on('aborted', resolve);
      });
      this.abort = () => req.destroy();
      req.on('error', resolve);
      req.end();
    });
  }

  private apply(event: { type: string; object: any }): void {
    const obj = event.object;
    if (event.type === 'ERROR') {
      this.errors.push(`ERROR ${obj.code} ${obj.reason}`);
      if (obj.code === 410) this.rv = '';
      return;
    }
    this.rv = obj.metadata.resourceVersion;
    if (event.type === 'BOOKMARK') return;
    const name = obj.metadata.name;
    const previous = this.cache.get(name);
    if (event.type === 'DELETED') {
      this.cache.delete(name);
      return;
    }
    if (event.type === 'MODIFIED' && previous) {
      const was = Number(previous.metadata.labels?.counter);
      const now = Number(obj.metadata.labels?.counter);
      if (now !== was + 1) this.gaps.push(`${name}: counter ${was} → ${now} (rv ${previous.metadata.resourceVersion} → ${obj.metadata.resourceVersion})`);
    }
    this.cache.set(name, obj);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.();
    await this.done;
  }
}

function snapshot(items: any[]): string[] {
  return items.map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort();
}

/**
 * Each writer owns one object and sets its `counter` label to the stored value + 1, re-reading
 * after a conflict (a write whose answer was lost may have been applied).
 */
async function writer(client: Client, name: string, phase: () => string, outcomes: Outcome[], stop: () => boolean, acked: Map<string, number>): Promise<void> {
  let current: any;
  while (!stop()) {
    try {
      if (!current) {
        const got = await client.request('GET', `${POLICIES(NAMESPACE)}/${name}`, { timeoutMs: CLIENT_TIMEOUT_MS });
        outcomes.push({ phase: phase(), status: got.status, what: 'get' });
        if (got.status !== 200) {
          await sleep(200);
          continue;
        }
        current = got.json;
      }
      const next = structuredClone(current);
      next.metadata.labels = { ...next.metadata.labels, counter: String(Number(current.metadata.labels.counter) + 1) };
      const res = await client.request('PUT', `${POLICIES(NAMESPACE)}/${name}`, { body: next, timeoutMs: CLIENT_TIMEOUT_MS });
      outcomes.push({ phase: phase(), status: res.status, what: 'update' });
      if (res.status === 200) {
        current = res.json;
        acked.set(name, Number(current.metadata.labels.counter));
      } else {
        current = undefined;
        await sleep(200);
      }
    } catch (err) {
      outcomes.push({ phase: phase(), status: 'no answer', what: String(err).slice(0, 120) });
      current = undefined;
    }
  }
}

async function scenario(t: ExecutionContext, etcd: EtcdServer, server: TestServer): Promise<void> {
  const client = new Client(server, { maxSockets: 32 });
  const probe = new Client(server, { maxSockets: 2 });
  const names = Array.from({ length: WRITERS }, (_, i) => `obj-${i}`);
  for (const name of names) {
    const res = await client.request('POST', POLICIES(NAMESPACE), { body: policy(name, { counter: '0' }) });
    t.is(res.status, 201, res.body);
  }

  const kc = new k8s.KubeConfig();
  kc.loadFromFile(server.kubeconfigPath);
  const api = kc.makeApiClient(k8s.CustomObjectsApi);
  const list = () => api.listNamespacedCustomObject({ group: 'pvc-chonker.io', version: 'v1alpha1', namespace: NAMESPACE, plural: 'pvcpolicies' }) as Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>;
  const informer = k8s.makeInformer(kc, POLICIES(NAMESPACE), list);
  const informerErrors: string[] = [];
  let informerStopped = false;
  informer.on('error', (err) => {
    informerErrors.push(String(err).slice(0, 120));
    // client-node's informer stops on an error; a client restarts it (it relists).
    if (!informerStopped) setTimeout(() => !informerStopped && informer.start().catch(() => undefined), 500);
  });
  await informer.start();
  const reflector = new Reflector(new Client(server, { maxSockets: 4 }));

  let phase = 'before';
  let stopWriters = false;
  const outcomes: Outcome[] = [];
  const acked = new Map<string, number>();
  const writers = Promise.all(names.map((name) => writer(client, name, () => phase, outcomes, () => stopWriters, acked)));
  const readyz: Array<{ phase: string; status: number | 'no answer' }> = [];
  const readyzLoop = (async () => {
    while (!stopWriters) {
      const asked = phase;
      const res = await probe.request('GET', '/readyz', { timeoutMs: CLIENT_TIMEOUT_MS }).catch(() => undefined);
      readyz.push({ phase: asked, status: res?.status ?? 'no answer' });
      await sleep(250);
    }
  })();

  await until(() => outcomes.filter((o) => o.status === 200).length >= 50, 'writes before the outage');

  // 1. etcd killed: down for a while, then restarted on the same data.
  phase = 'etcd killed';
  await etcd.kill();
  await until(() => readyz.some((r) => r.phase === 'etcd killed' && r.status !== 200), '/readyz to report etcd down', 30_000);
  await until(() => outcomes.filter((o) => o.phase === 'etcd killed' && o.what === 'update').length >= WRITERS, 'every writer to get an answer while etcd is down', 60_000);
  phase = 'etcd restarted';
  await etcd.start();
  await until(() => readyz.some((r) => r.phase === 'etcd restarted' && r.status === 200), '/readyz to recover after etcd restarts', 60_000);
  await until(() => names.every((n) => outcomes.some((o) => o.phase === 'etcd restarted' && o.status === 200)) && outcomes.filter((o) => o.phase === 'etcd restarted' && o.status === 200).length >= 2 * WRITERS, 'writes to succeed again after the restart', 60_000);

  // 2. etcd hung (SIGSTOP): connections stay open and nothing answers.
  phase = 'etcd hung';
  await etcd.pause();
  await until(() => outcomes.filter((o) => o.phase === 'etcd hung' && o.what === 'update').length >= WRITERS, 'every writer to get an answer while etcd hangs', 60_000);
  await until(() => readyz.some((r) => r.phase === 'etcd hung' && r.status !== 200), '/readyz to report a hung etcd', 60_000);
  phase = 'etcd resumed';
  etcd.resume();
  await until(() => outcomes.filter((o) => o.phase === 'etcd resumed' && o.status === 200).length >= 2 * WRITERS, 'writes to succeed after etcd resumes', 60_000);
  await until(() => readyz.some((r) => r.phase === 'etcd resumed' && r.status === 200), '/readyz after etcd resumes', 60_000);

  stopWriters = true;
  await writers;
  await readyzLoop;

  const fresh = await client.request('GET', POLICIES(NAMESPACE));
  t.is(fresh.status, 200);
  const expected = snapshot(fresh.json.items);
  await until(() => JSON.stringify(snapshot([...reflector.cache.values()])) === JSON.stringify(expected), 'the reflector cache to equal a fresh LIST', 60_000).catch((err) => t.fail(`${err}: ${JSON.stringify(snapshot([...reflector.cache.values()]))} vs ${JSON.stringify(expected)}`));
  await until(() => JSON.stringify(snapshot([...informer.list()])) === JSON.stringify(expected), 'the informer cache to equal a fresh LIST', 60_000).catch((err) => t.fail(`${err}: ${JSON.stringify(snapshot([...informer.list()]))} vs ${JSON.stringify(expected)}`));
  for (const o of fresh.json.items) t.true(Number(o.metadata.labels.counter) >= (acked.get(o.metadata.name) ?? 0), `${o.metadata.name}: no acknowledged update lost`);
  t.deepEqual(reflector.gaps, [], 'no watcher saw a silent gap');
  informerStopped = true;
  informer.stop();
  await reflector.stop();

  // Every answer while etcd was away was a success (served from the watch cache), a 503/504
  // Status, or a 409 after an update whose answer was lost; never a 500 or no answer at all.
  const byPhase = new Map<string, Map<string, number>>();
  for (const o of outcomes) {
    const counts = byPhase.get(o.phase) ?? new Map<string, number>();
    const key = `${o.what === 'get' || o.what === 'update' ? o.what : 'transport error'} ${o.status}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    byPhase.set(o.phase, counts);
  }
  for (const [p, counts] of byPhase) t.log(`${p}: ${[...counts].map(([k, n]) => `${k}×${n}`).join(', ')}`);
  t.log(`readyz: ${[...new Set(readyz.map((r) => `${r.phase}=${r.status}`))].join(', ')}`);
  t.log(`reflector relists: ${reflector.relists}, watch errors seen: ${[...new Set(reflector.errors.map((e) => e.slice(0, 60)))].join(' | ')}`);
  t.log(`informer errors (each followed by a restart + relist): ${informerErrors.length} ${[...new Set(informerErrors)].join(' | ')}`);
  const bad = outcomes.filter((o) => !(o.status === 200 || o.status === 503 || o.status === 504 || (o.status === 409 && o.what === 'update')));
  t.deepEqual(bad.slice(0, 10), [], 'only 2xx, 503, 504 (and 409 after a lost answer) while etcd was away');
  client.close();
  probe.close();
}

if (requireEtcd(test, 'etcd restart under load')) {
  test('etcd killed, restarted and hung under load: 503/504 while down, /readyz reports it, watchers never see a silent gap', async (t) => {
    t.timeout(300_000);
    let etcd: EtcdServer | undefined;
    let server: TestServer | undefined;
    try {
      etcd = await startEtcd();
      server = await startTestServer({ storage: etcd.url, 'etcd-compaction-interval': '0', 'request-timeout': `${REQUEST_TIMEOUT_MS / 1000}s` });
      await scenario(t, etcd, server);
    } finally {
      etcd?.resume();
      await server?.stop();
      await etcd?.stop();
    }
  });
}

