// Create throughput at 50 connections: (1) the server on etcd against the raw `etcd3` client doing
// the same create-if-absent transactions (same key layout, same value bytes, 50 in flight) on the
// same etcd in the same run; (2) the server on its embedded sqlite store against (1)'s etcd figure.
// Every create names a fresh object, so each request really writes.
import { Etcd3 } from 'etcd3';
import { performance } from 'node:perf_hooks';
import { figure, round } from '../lib/figures.js';
import { assertClean, load, type LoadResult } from '../lib/load.js';
import { benchObject, POLICIES } from '../lib/objects.js';
import type { BenchPart } from '../lib/part.js';
import { startApiServer, type ApiServer } from '../lib/processes.js';
import { knob, percentile } from '../lib/stats.js';
import { Client } from '../../lib/https-client.js';
import { startEtcd } from '../../lib/etcd.js';

const CONNECTIONS = 50;
const WARMUP_SECONDS = 2;
const NAMESPACE = 'default';

/** POSTs of fresh PVCPolicies (`<prefix>-<n>`) for `seconds` at 50 connections. */
async function createLoad(server: ApiServer, prefix: string, seconds: number): Promise<LoadResult> {
  let next = 0;
  const template = JSON.stringify(benchObject(`${prefix}-0`));
  return assertClean(
    `create ${prefix}`,
    await load({
      url: server.url,
      tls: server.tls,
      request: { method: 'POST', path: POLICIES(NAMESPACE), body: template },
      connections: CONNECTIONS,
      durationSeconds: seconds,
      setupRequest: (request) => ({ ...request, body: JSON.stringify(benchObject(`${prefix}-${next++}`)) }),
    }),
  );
}

/** The object as the server stores it (what a create puts into etcd), for the raw baseline's value. */
async function storedValue(server: ApiServer): Promise<{ value: Buffer; objectBytes: number }> {
  const client = new Client(server.endpoint);
  try {
    const created = await client.request('POST', POLICIES(NAMESPACE), { body: benchObject('bench-create-sample') });
    if (created.status !== 201) throw new Error(`create answered ${created.status}: ${created.body}`);
    const stored = created.json as { metadata: Record<string, unknown> };
    delete stored.metadata.resourceVersion;
    return { value: Buffer.from(JSON.stringify(stored)), objectBytes: created.body.length };
  } finally {
    client.close();
  }
}

/**
 * The raw etcd3 client doing the server's create: `compare mod_revision(key) == 0, put` with 50
 * transactions in flight for `seconds`, each on a fresh key under the server's key layout.
 */
async function rawCreates(etcd3: Etcd3, keyPrefix: string, value: Buffer, seconds: number) {
  const deadline = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < deadline) {
        const key = `${keyPrefix}${next++}`;
        const t = performance.now();
        const res = await etcd3.if(key, 'Mod', '==', 0).then(etcd3.put(key).value(value)).commit();
        latencies.push(performance.now() - t);
        if (!res.succeeded) failed++;
      }
    }),
  );
  const durationMs = performance.now() - started;
  if (failed > 0) throw new Error(`raw etcd3: ${failed} create transactions found their key present`);
  return { rps: (latencies.length / durationMs) * 1000, requests: latencies.length, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

const summary = (r: { rps: number; p50Ms: number; p99Ms: number; requests: number }) => ({
  rps: round(r.rps),
  p50Ms: round(r.p50Ms),
  p99Ms: round(r.p99Ms),
  requests: r.requests,
});

/** Sums rounds of one subject: total requests over total time; latencies of the slowest round. */
function combine(rounds: Array<{ rps: number; requests: number; p50Ms: number; p99Ms: number }>) {
  const seconds = rounds.reduce((n, r) => n + r.requests / r.rps, 0);
  const requests = rounds.reduce((n, r) => n + r.requests, 0);
  return { rps: requests / seconds, requests, p50Ms: Math.max(...rounds.map((r) => r.p50Ms)), p99Ms: Math.max(...rounds.map((r) => r.p99Ms)) };
}

export const createPart: BenchPart = {
  name: 'create',
  description: 'create rps at 50 connections: etcd backend vs raw etcd3 txns, sqlite backend vs etcd backend',
  async run({ log }) {
    const seconds = knob('SECONDS', 10);
    // The three subjects take turns (ROUNDS rounds of seconds/ROUNDS each), so that load from
    // outside the benchmark, which comes and goes on a shared machine, falls on all three alike.
    const rounds = 2;
    const slice = seconds / rounds;
    const etcd = await startEtcd();
    let onEtcd: ApiServer | undefined;
    let onSqlite: ApiServer | undefined;
    let raw: Etcd3 | undefined;
    try {
      onEtcd = await startApiServer([`--storage=${etcd.url}`]);
      onSqlite = await startApiServer();
      raw = new Etcd3({ hosts: etcd.endpoint });
      const { value, objectBytes } = await storedValue(onEtcd);
      const keyPrefix = `/registry/pvc-chonker.io/pvcpolicies/raw-${NAMESPACE}/`;
      log(`warm-up: ${WARMUP_SECONDS} s each (objects of ${objectBytes} bytes, raw values of ${value.length} bytes)`);
      await createLoad(onEtcd, 'warm', WARMUP_SECONDS);
      await rawCreates(raw, `${keyPrefix}warm-`, value, WARMUP_SECONDS);
      await createLoad(onSqlite, 'warm', WARMUP_SECONDS);
      const measured = { etcdServer: [] as LoadResult[], rawEtcd: [] as Array<Awaited<ReturnType<typeof rawCreates>>>, sqliteServer: [] as LoadResult[] };
      for (let round = 0; round < rounds; round++) {
        log(`round ${round + 1}/${rounds}: ${slice} s each of the server on etcd, raw etcd3 (${CONNECTIONS} in flight), the server on sqlite`);
        measured.etcdServer.push(await createLoad(onEtcd, `bench${round}`, slice));
        measured.rawEtcd.push(await rawCreates(raw, `${keyPrefix}bench${round}-`, value, slice));
        measured.sqliteServer.push(await createLoad(onSqlite, `bench${round}`, slice));
      }
      const etcdServer = combine(measured.etcdServer);
      const rawEtcd = combine(measured.rawEtcd);
      const sqliteServer = combine(measured.sqliteServer);
      const perRound = (rs: Array<{ rps: number }>) => rs.map((r) => round(r.rps));
      return [
        figure({
          part: 'create',
          figure: `create, rps at ${CONNECTIONS} connections, etcd backend`,
          measured: { value: etcdServer.rps, unit: 'rps' },
          baseline: { name: `raw etcd3 create txns, ${CONNECTIONS} in flight, same etcd`, value: rawEtcd.rps, unit: 'rps' },
          target: 'ratio ≥ 0.70',
          pass: etcdServer.rps / rawEtcd.rps >= 0.7,
          details: {
            seconds,
            rounds,
            objectBytes,
            valueBytes: value.length,
            server: { ...summary(etcdServer), perRound: perRound(measured.etcdServer) },
            rawEtcd3: { ...summary(rawEtcd), perRound: perRound(measured.rawEtcd) },
          },
        }),
        figure({
          part: 'create',
          figure: `create, rps at ${CONNECTIONS} connections, sqlite backend`,
          measured: { value: sqliteServer.rps, unit: 'rps' },
          baseline: { name: 'the server on etcd (row above)', value: etcdServer.rps, unit: 'rps' },
          target: 'ratio ≥ 0.50',
          pass: sqliteServer.rps / etcdServer.rps >= 0.5,
          details: { seconds, rounds, sqlite: { ...summary(sqliteServer), perRound: perRound(measured.sqliteServer) }, etcd: summary(etcdServer) },
        }),
      ];
    } finally {
      raw?.close();
      await onSqlite?.stop();
      await onEtcd?.stop();
      await etcd.stop();
    }
  },
};
