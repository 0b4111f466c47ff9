// Load: N concurrent clients (1,000 on CI) mixing get/list/watch/create/update for S seconds (60
// on CI) against the server run as its own process (so it has a core to itself), as a user
// bound by RBAC and subject to max-in-flight. Checks: no 5xx (429 TooManyRequests is the
// deliberate answer to overload, honoured with its Retry-After), no transport error, and no lost
// update (each client's counter object ends with exactly the count that client had acknowledged).
// p50/p99 latency per operation goes to the test log; nothing asserts on latency.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueCertificate } from '../../apiserver/tls.js';
import { Client, percentile, policy, POLICIES, scale, sleep, startServerProcess, until, type ServerProcess } from './helpers.js';

const CLIENTS = scale('RELIABILITY_LOAD_CLIENTS', 1_000, 100);
const SECONDS = scale('RELIABILITY_LOAD_SECONDS', 60, 10);
const NAMESPACES = 20;

const RBAC = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: policy-editor }
rules:
  - apiGroups: ["pvc-chonker.io"]
    resources: ["pvcpolicies"]
    verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: load-testers }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: policy-editor }
subjects: [{ kind: Group, name: load-testers, apiGroup: rbac.authorization.k8s.io }]
`;

type Op = 'get' | 'list' | 'watch' | 'create' | 'update';
/** Cumulative weights of the mix: 35% get, 15% list, 5% watch, 10% create (+delete), 35% update. */
const MIX: Array<[Op, number]> = [
  ['get', 0.35],
  ['list', 0.5],
  ['watch', 0.55],
  ['create', 0.65],
  ['update', 1],
];

let dir: string;
let server: ServerProcess | undefined;
test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'reliability-load-'));
});
test.after.always(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

test(`${CLIENTS} concurrent clients mixing get/list/watch/create/update for ${SECONDS}s: no 5xx, no lost update`, async (t) => {
  t.timeout((SECONDS + 420) * 1000);
  const policyFile = join(dir, 'rbac.yaml');
  writeFileSync(policyFile, RBAC);
  const certDir = join(dir, 'certs');
  server = await startServerProcess(certDir, [`--storage=sqlite://${join(dir, 'state.db')}`, `--rbac-policy-file=${policyFile}`, '--etcd-compaction-interval=1m']);
  const ca = { cert: readFileSync(join(certDir, 'ca.crt'), 'utf8'), key: readFileSync(join(certDir, 'ca.key'), 'utf8') };
  const loader = issueCertificate(ca, { commonName: 'loader', organizations: ['load-testers'], usage: 'client' });
  const endpoint = { url: server.endpoint.url, caPem: server.endpoint.caPem, clientCert: loader };
  const admin = new Client(server.endpoint, { maxSockets: 4 });
  await until(async () => (await admin.request('GET', '/readyz')).status === 200, 'readyz');

  const statuses = new Map<string, number>();
  const latencies = new Map<Op, number[]>();
  const transportErrors: string[] = [];
  const lostUpdates: string[] = [];
  const count = (op: string, status: number) => statuses.set(`${op} ${status}`, (statuses.get(`${op} ${status}`) ?? 0) + 1);
  let throttled = 0;

  /** One request, retried after the Retry-After of a 429; records latency of each answer. */
  const call = async (client: Client, op: Op, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
    for (;;) {
      const started = performance.now();
      // Generous: on a starved machine the first request of 1,000 clients waits for 1,000 TLS handshakes.
      const res = await client.request(method, path, { body, timeoutMs: 240_000 });
      (latencies.get(op) ?? latencies.set(op, []).get(op)!).push(performance.now() - started);
      count(op, res.status);
      if (res.status !== 429) return res;
      throttled++;
      await sleep(Number(res.headers['retry-after'] ?? 1) * 1000 * (0.5 + Math.random()));
    }
  };

  const deadline = Date.now() + SECONDS * 1000;
  const runClient = async (i: number) => {
    const client = new Client(endpoint, { maxSockets: 1 });
    const ns = `load-${i % NAMESPACES}`;
    const name = `counter-${i}`;
    let acked = 0;
    let creates = 0;
    try {
      let created = await call(client, 'create', 'POST', POLICIES(ns), policy(name, { client: String(i), counter: '0' }));
      if (created.status !== 201) throw new Error(`create ${name}: ${created.status}`);
      let current = created.json;
      while (Date.now() < deadline) {
        const r = Math.random();
        const op = MIX.find(([, w]) => r < w)![0];
        if (op === 'get') {
          await call(client, op, 'GET', `${POLICIES(ns)}/${name}`);
        } else if (op === 'list') {
          await call(client, op, 'GET', `${POLICIES(ns)}?limit=50`);
        } else if (op === 'watch') {
          await call(client, op, 'GET', `${POLICIES(ns)}?watch=true&labelSelector=client%3D${i}&resourceVersion=${current.metadata.resourceVersion}&timeoutSeconds=1`);
        } else if (op === 'create') {
          const extra = `extra-${i}-${creates++}`;
          created = await call(client, op, 'POST', POLICIES(ns), policy(extra, { owner: String(i) }));
          if (created.status === 201) await call(client, op, 'DELETE', `${POLICIES(ns)}/${extra}`);
        } else {
          const next = structuredClone(current);
          next.metadata.labels.counter = String(acked + 1);
          const res = await call(client, op, 'PUT', `${POLICIES(ns)}/${name}`, next);
          if (res.status === 200) {
            acked++;
            current = res.json;
          } else if (res.status === 409) {
            current = (await call(client, 'get', 'GET', `${POLICIES(ns)}/${name}`)).json;
          }
        }
      }
      const final = await call(client, 'get', 'GET', `${POLICIES(ns)}/${name}`);
      if (Number(final.json?.metadata?.labels?.counter) !== acked) lostUpdates.push(`${name}: stored ${final.json?.metadata?.labels?.counter}, acknowledged ${acked}`);
    } catch (err) {
      transportErrors.push(`${name}: ${String(err).slice(0, 160)}`);
    } finally {
      client.close();
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, i) => runClient(i)));

  const total = [...statuses.values()].reduce((a, b) => a + b, 0);
  t.log(`${CLIENTS} clients × ${SECONDS}s: ${total} requests (${(total / SECONDS).toFixed(0)}/s), ${throttled} answered 429 and retried`);
  t.log(`answers: ${[...statuses].sort().map(([k, n]) => `${k}×${n}`).join(', ')}`);
  for (const [op, samples] of latencies) {
    t.log(`${op}: n=${samples.length} p50=${percentile(samples, 50).toFixed(1)}ms p99=${percentile(samples, 99).toFixed(1)}ms max=${Math.max(...samples).toFixed(1)}ms`);
  }
  const serverErrors = [...statuses].filter(([k]) => Number(k.split(' ')[1]) >= 500);
  t.deepEqual(serverErrors, [], 'no 5xx');
  t.deepEqual(transportErrors.slice(0, 5), [], 'every request got an answer');
  t.deepEqual(lostUpdates.slice(0, 5), [], 'no lost update');
  const unexpected = [...statuses].filter(([k]) => !/ (200|201|429)$/.test(k));
  t.deepEqual(unexpected, [], 'only 200/201 and deliberate 429s');
  admin.close();
});
