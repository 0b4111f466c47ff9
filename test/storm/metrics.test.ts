// GET …/stormtopologies/{name}/metrics over HTTPS: numbers read live from the stand-in Nimbus
// (a Thrift server from the same IDL; a real Nimbus cannot run here), through the real client pool.
import test from 'ava';
import { ThriftNimbusPool } from '../../controllers/storm/nimbus/index.js';
import { decodeObject } from '../../registry/codec.js';
import type { KubeObject } from '../../registry/meta.js';
import type { Store } from '../../registry/store.js';
import { NIMBUS } from '../../registry/storm.apache.org/upstreams.js';
import { sample } from '../controllers/helpers.js';
import { httpsRequest, startTestServer, type TestServer } from '../helpers/server.js';
import { startStandInNimbus, type StandInNimbus } from '../stand-ins/nimbus/index.js';

const NS = 'metrics';
let server: TestServer;
let nimbus: StandInNimbus;
let pool: ThriftNimbusPool;

async function createObject(store: Store, obj: KubeObject): Promise<void> {
  await store.create(obj.metadata.namespace, decodeObject(store.decl, store.decl.versions[0]!, structuredClone(obj), 'Strict'), { dryRun: false });
}

const get = (path: string) => httpsRequest(server, 'GET', `/apis/storm.apache.org/v1beta1/namespaces/${NS}/stormtopologies/${path}`);

test.before(async () => {
  nimbus = await startStandInNimbus();
  pool = new ThriftNimbusPool({ resolve: () => nimbus.address });
  server = await startTestServer({ storage: 'memory' }, { extensions: { controllers: [], upstreams: [[NIMBUS, pool]] } });
  const clusters = server.stores.get('stormclusters.storm.apache.org')!;
  const topologies = server.stores.get('stormtopologies.storm.apache.org')!;
  // No retries: a down Nimbus answers 503 at once.
  await createObject(clusters, sample('StormCluster', 'prod', NS, (c) => Object.assign(c.spec.nimbus.thrift, { maxRetries: 0, connectionTimeout: 2 })));
  for (const [name, stormName] of [['wc', 'word-count'], ['not-submitted', 'never-submitted']]) {
    await createObject(
      topologies,
      sample('StormTopology', name, NS, (tp) => {
        tp.spec.clusterRef = 'prod';
        tp.spec.topology.name = stormName;
      }),
    );
  }
  nimbus.addTopology({ name: 'word-count', id: 'word-count-3-1700000000', numWorkers: 2, numExecutors: 5, numTasks: 9, uptimeSecs: 3600 });
  nimbus.setStats('word-count', '600', {
    emitted: 1200,
    transferred: 1100,
    acked: 950,
    failed: 7,
    completeLatencyMs: 14.25,
    spouts: { sentences: { numExecutors: 1, numTasks: 1, emitted: 1000, transferred: 1000, acked: 950, failed: 7, completeLatencyMs: 14.25 } },
    bolts: {
      split: { numExecutors: 2, numTasks: 4, emitted: 200, transferred: 100, acked: 180, failed: 0, executed: 190, capacity: 0.873, executeLatencyMs: 0.5, processLatencyMs: 0.625 },
      count: { numExecutors: 2, numTasks: 4, executed: 200, capacity: 0.25, executeLatencyMs: 0.1, lastError: { error: 'NPE in count', errorTimeSecs: 1_700_000_500 } },
    },
  });
  nimbus.setStats('word-count', ':all-time', {
    emitted: 9_000_000_000, // beyond 32 bits
    acked: 8_999_999_000,
    failed: 1000,
    completeLatencyMs: 20,
    spouts: { sentences: { emitted: 9_000_000_000, acked: 8_999_999_000, failed: 1000 } },
    bolts: {},
  });
  nimbus.topologies.get('word-count')!.errors = {
    count: [
      { error: 'NPE in count', errorTimeSecs: 1_700_000_500, host: 'worker-1', port: 6701 },
      { error: 'timeout', errorTimeSecs: 1_700_000_100 },
    ],
    split: [{ error: 'bad line', errorTimeSecs: 1_700_000_300 }],
  };
});

test.after.always(async () => {
  await server?.stop();
  await pool?.close();
  await nimbus?.stop();
});

test.serial('metrics of the 600 s window equal what Nimbus reports (stand-in Nimbus)', async (t) => {
  const res = await get('wc/metrics?window=600');
  t.is(res.status, 200, res.body);
  const body = JSON.parse(res.body);
  t.like(body, { apiVersion: 'storm.apache.org/v1beta1', kind: 'TopologyMetrics', metadata: { name: 'wc', namespace: NS }, window: '600' });
  t.deepEqual(body.topology, { name: 'word-count', id: 'word-count-3-1700000000', status: 'ACTIVE', uptimeSeconds: 3600, workers: 2, executors: 5, tasks: 9 });
  t.deepEqual(body.totals, { emitted: 1200, transferred: 1100, acked: 950, failed: 7, completeLatencyMs: 14.25, pendingTuples: 1000 - 950 - 7, capacityPercent: 87 });
  t.deepEqual(body.components, [
    { id: 'sentences', type: 'spout', executors: 1, tasks: 1, emitted: 1000, transferred: 1000, acked: 950, failed: 7, completeLatencyMs: 14.25 },
    { id: 'count', type: 'bolt', executors: 2, tasks: 4, executed: 200, capacity: 0.25, executeLatencyMs: 0.1, lastError: 'NPE in count' },
    { id: 'split', type: 'bolt', executors: 2, tasks: 4, emitted: 200, transferred: 100, acked: 180, failed: 0, executed: 190, capacity: 0.873, executeLatencyMs: 0.5, processLatencyMs: 0.625 },
  ]);
  t.deepEqual(body.errors, [
    { component: 'count', error: 'NPE in count', time: '2023-11-14T22:21:40.000Z', host: 'worker-1', port: 6701 },
    { component: 'split', error: 'bad line', time: '2023-11-14T22:18:20.000Z' },
    { component: 'count', error: 'timeout', time: '2023-11-14T22:15:00.000Z' },
  ]);
  const page = nimbus.callsOf('getTopologyPageInfo').at(-1)!;
  t.deepEqual(page.args, ['word-count-3-1700000000', '600', false]);
  t.false(Number.isNaN(Date.parse(body.timestamp)));
});

const windowCases = [
  { query: '', window: 'all-time', stormWindow: ':all-time', emitted: 9_000_000_000 },
  { query: '?window=all-time', window: 'all-time', stormWindow: ':all-time', emitted: 9_000_000_000 },
  { query: '?window=10800', window: '10800', stormWindow: '10800', emitted: undefined },
];

test.serial('the window parameter picks Storm’s window; all-time is the default (stand-in Nimbus)', async (t) => {
  for (const { query, window, stormWindow, emitted } of windowCases) {
    const res = await get(`wc/metrics${query}`);
    t.is(res.status, 200, res.body);
    const body = JSON.parse(res.body);
    t.is(body.window, window);
    t.is(body.totals.emitted, emitted, `emitted in ${window}`);
    t.is(nimbus.callsOf('getTopologyPageInfo').at(-1)!.args[1], stormWindow);
  }
  const allTime = JSON.parse((await get('wc/metrics')).body);
  t.is(allTime.totals.pendingTuples, 9_000_000_000 - 8_999_999_000 - 1000);
});

const errorCases = [
  { what: 'a missing StormTopology', path: 'nope/metrics', status: 404, reason: 'NotFound', message: /stormtopologies.storm.apache.org "nope" not found/ },
  { what: 'an unknown window', path: 'wc/metrics?window=60', status: 400, reason: 'BadRequest', message: /window "60" is not one of 600, 10800, 86400, all-time/ },
  { what: 'a topology Nimbus does not run', path: 'not-submitted/metrics', status: 409, reason: 'Conflict', message: /not alive in Nimbus/ },
];

test.serial('errors: 404 missing object, 400 bad window, 409 not running in Storm (stand-in Nimbus)', async (t) => {
  for (const { what, path, status, reason, message } of errorCases) {
    const res = await get(path);
    t.is(res.status, status, what);
    const body = JSON.parse(res.body);
    t.like(body, { kind: 'Status', status: 'Failure', reason, code: status }, what);
    t.regex(body.message, message, what);
  }
});

test.serial('503 while Nimbus is down, live numbers again when it returns (stand-in Nimbus)', async (t) => {
  t.is((await get('wc/metrics?window=600')).status, 200);
  await nimbus.setDown(true);
  try {
    const res = await get('wc/metrics?window=600');
    t.is(res.status, 503);
    const body = JSON.parse(res.body);
    t.is(body.reason, 'ServiceUnavailable');
    t.regex(body.message, /^Nimbus at 127\.0\.0\.1:\d+ is unavailable: /);
    t.false(res.body.includes('"totals"'), 'no numbers while Nimbus cannot be asked');
  } finally {
    await nimbus.setDown(false);
  }
  nimbus.setStats('word-count', '600', { emitted: 1300, acked: 1000, failed: 7, spouts: {}, bolts: {} });
  const res = await get('wc/metrics?window=600');
  t.is(res.status, 200);
  t.like(JSON.parse(res.body).totals, { emitted: 1300, acked: 1000 });
});
