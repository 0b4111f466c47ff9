// The Nimbus client (framed strict binary Thrift, pooled) against the stand-in Nimbus: a Thrift
// server built from the same storm.thrift, since a real Nimbus (a JVM) cannot run here.
import test from 'ava';
import { ThriftNimbusPool } from '../../controllers/storm/nimbus/index.js';
import type { KubeObject } from '../../registry/meta.js';
import { NimbusError, nimbusAddressOf, nimbusErrorToStatus, type Nimbus, type NimbusClientSettings } from '../../registry/storm.apache.org/upstreams.js';
import { eventually } from '../controllers/helpers.js';
import { startStandInNimbus, type StandInNimbus } from '../stand-ins/nimbus/index.js';

/** Fast settings: tests must not wait seconds for backoff. */
const FAST: NimbusClientSettings = { connectionTimeout: 2, requestTimeout: 5, maxRetries: 2, retryDelay: 0.01 };

async function setup(t: { teardown(fn: () => unknown): void }, settings: NimbusClientSettings = FAST, options: ConstructorParameters<typeof ThriftNimbusPool>[0] = {}) {
  const standIn = await startStandInNimbus();
  const pool = new ThriftNimbusPool(options);
  t.teardown(async () => {
    await pool.close();
    await standIn.stop();
  });
  const nimbus = pool.forCluster({ ...standIn.address, settings });
  return { standIn, pool, nimbus, endpoint: `${standIn.host}:${standIn.port}` };
}

function wordCount(standIn: StandInNimbus) {
  return standIn.addTopology({
    name: 'word-count',
    id: 'word-count-7-1700000000',
    numTasks: 6,
    numExecutors: 3,
    numWorkers: 2,
    uptimeSecs: 120,
    topologyVersion: '1.2.0',
    executors: [
      {
        taskStart: 1,
        taskEnd: 2,
        componentId: 'split',
        host: 'worker-a',
        port: 6700,
        uptimeSecs: 100,
        stats: {
          emitted: { '600': { default: 40 } },
          transferred: { '600': { default: 40 } },
          rate: 1,
          // Struct-keyed maps: two input streams must stay two entries.
          bolt: {
            acked: { '600': { 'sentences:default': 7, 'sentences:retry': 3 } },
            failed: { '600': { 'sentences:default': 1 } },
            processMsAvg: { '600': { 'sentences:default': 1.5, 'sentences:retry': 2.5 } },
            executed: { '600': { 'sentences:default': 8, 'sentences:retry': 3 } },
            executeMsAvg: { '600': { 'sentences:default': 0.75 } },
          },
        },
      },
      {
        taskStart: 3,
        taskEnd: 3,
        componentId: 'sentences',
        host: 'worker-b',
        port: 6701,
        uptimeSecs: 100,
        stats: {
          emitted: { '600': { default: 12 } },
          transferred: { '600': { default: 12 } },
          rate: 1,
          spout: { acked: { '600': { default: 10 } }, failed: { '600': { default: 1 } }, completeMsAvg: { '600': { default: 12.5 } } },
        },
      },
    ],
    errors: { split: [{ error: 'older', errorTimeSecs: 1_700_000_010, host: 'worker-a', port: 6700 }, { error: 'newest', errorTimeSecs: 1_700_000_020 }] },
    windows: {
      '600': {
        emitted: 5_000_000_000_123, // beyond 2^32: i64 on the wire
        transferred: 52,
        acked: 10,
        failed: 1,
        completeLatencyMs: 12.5,
        spouts: { sentences: { numExecutors: 1, numTasks: 1, emitted: 12, acked: 10, failed: 1, completeLatencyMs: 12.5 } },
        bolts: { split: { numExecutors: 2, numTasks: 5, emitted: 40, executed: 11, capacity: 0.42, executeLatencyMs: 0.75, processLatencyMs: 1.5 } },
      },
    },
  });
}

test('every Nimbus method round-trips over framed strict binary Thrift (stand-in Nimbus)', async (t) => {
  const { standIn, nimbus } = await setup(t);
  wordCount(standIn);
  standIn.supervisors = [
    { host: 'sup-a', uptimeSecs: 50, numWorkers: 4, numUsedWorkers: 2, supervisorId: 'a', version: '2.6.0' },
    { host: 'sup-b', uptimeSecs: 60, numWorkers: 4, numUsedWorkers: 1, supervisorId: 'b', version: '2.6.0' },
  ];
  standIn.nimbuses = [
    { host: 'nimbus-0', port: 6627, uptimeSecs: 300, isLeader: false, version: '2.6.0' },
    { host: 'nimbus-1', port: 6627, uptimeSecs: 200, isLeader: true, version: '2.6.0', tlsPort: 6628 },
  ];

  const cluster = await nimbus.getClusterInfo();
  t.deepEqual(cluster.supervisors, standIn.supervisors);
  t.deepEqual(cluster.nimbuses, standIn.nimbuses);
  t.deepEqual(cluster.topologies.map((s) => [s.name, s.id, s.status, s.numWorkers, s.topologyVersion]), [['word-count', 'word-count-7-1700000000', 'ACTIVE', 2, '1.2.0']]);

  t.deepEqual(await nimbus.getLeader(), standIn.nimbuses[1]);

  const summary = await nimbus.getTopologySummaryByName('word-count');
  t.like(summary, { id: 'word-count-7-1700000000', name: 'word-count', numTasks: 6, numExecutors: 3, numWorkers: 2, uptimeSecs: 120, status: 'ACTIVE', topologyVersion: '1.2.0' });

  const page = await nimbus.getTopologyPageInfo(summary.id, '600', false);
  t.deepEqual(page.topologyStats, {
    windowToEmitted: { '600': 5_000_000_000_123 },
    windowToTransferred: { '600': 52 },
    windowToCompleteLatenciesMs: { '600': 12.5 },
    windowToAcked: { '600': 10 },
    windowToFailed: { '600': 1 },
  });
  t.deepEqual(page.spoutAggStats, { sentences: { type: 'SPOUT', numExecutors: 1, numTasks: 1, emitted: 12, acked: 10, failed: 1, completeLatencyMs: 12.5 } });
  t.deepEqual(page.boltAggStats, {
    split: { type: 'BOLT', numExecutors: 2, numTasks: 5, emitted: 40, executed: 11, capacity: 0.42, executeLatencyMs: 0.75, processLatencyMs: 1.5 },
  });
  t.deepEqual(standIn.callsOf('getTopologyPageInfo')[0]!.args, [summary.id, '600', false]);

  const info = await nimbus.getTopologyInfoByName('word-count');
  t.is(info.executors.length, 2);
  const split = info.executors.find((e) => e.componentId === 'split')!;
  t.like(split, { taskStart: 1, taskEnd: 2, host: 'worker-a', port: 6700 });
  t.deepEqual(split.stats?.bolt?.acked, { '600': { 'sentences:default': 7, 'sentences:retry': 3 } }, 'struct-keyed BoltStats maps keep every stream');
  t.deepEqual(split.stats?.bolt?.processMsAvg, { '600': { 'sentences:default': 1.5, 'sentences:retry': 2.5 } });
  t.deepEqual(info.executors.find((e) => e.componentId === 'sentences')!.stats?.spout?.completeMsAvg, { '600': { default: 12.5 } });
  t.deepEqual(info.errors.split!.map((e) => e.error), ['older', 'newest']);

  for (const [choice, errors] of [['NONE', undefined], ['ONE', ['newest']], ['ALL', ['older', 'newest']]] as const) {
    const withOpts = await nimbus.getTopologyInfoByName('word-count', { numErrChoice: choice });
    t.deepEqual(withOpts.errors.split?.map((e) => e.error), errors, `numErrChoice ${choice}`);
  }

  t.false(await nimbus.isTopologyNameAllowed('word-count'), 'taken');
  t.false(await nimbus.isTopologyNameAllowed('a/b'), 'not a valid Storm name');
  t.true(await nimbus.isTopologyNameAllowed('fresh'));

  await nimbus.deactivate('word-count');
  t.is(standIn.topologies.get('word-count')!.summary.status, 'INACTIVE');
  await nimbus.activate('word-count');
  t.is(standIn.topologies.get('word-count')!.summary.status, 'ACTIVE');
  await nimbus.rebalance('word-count', { waitSecs: 0, numWorkers: 3, numExecutors: { split: 4 } });
  t.deepEqual({ ...(standIn.callsOf('rebalance')[0]!.args[1] as object) }, { wait_secs: 0, num_workers: 3, num_executors: { split: 4 }, topology_resources_overrides: null, topology_conf_overrides: null, principal: null });
  t.is(standIn.topologies.get('word-count')!.summary.numWorkers, 3);
  await nimbus.killTopologyWithOpts('word-count', { waitSecs: 0 });
  t.like(standIn.callsOf('killTopologyWithOpts')[0]!.args[1] as object, { wait_secs: 0 });
  await eventually(() => !standIn.topologies.has('word-count'), 'the killed topology to disappear');
});

// method: one that declares the exception (AlreadyAlive is declared only by submitTopology, which
// the server does not call: an undeclared exception reaches the client as an application error).
const exceptionCases = [
  { failure: 'NotAlive', method: 'getTopologySummaryByName', code: 'NotAlive', status: 409, reason: 'Conflict' },
  { failure: 'InvalidTopology', method: 'rebalance', code: 'InvalidTopology', status: 400, reason: 'BadRequest' },
  { failure: 'Authorization', method: 'getTopologySummaryByName', code: 'Authorization', status: 403, reason: 'Forbidden' },
  { failure: 'AlreadyAlive', method: 'getTopologySummaryByName', code: 'Protocol', status: 500, reason: 'InternalError' },
  { failure: 'Application', method: 'rebalance', code: 'Protocol', status: 500, reason: 'InternalError' },
] as const;

const statusCases = [
  { code: 'NotAlive', status: 409, reason: 'Conflict' },
  { code: 'AlreadyAlive', status: 409, reason: 'Conflict' },
  { code: 'InvalidTopology', status: 400, reason: 'BadRequest' },
  { code: 'Authorization', status: 403, reason: 'Forbidden' },
  { code: 'Unavailable', status: 503, reason: 'ServiceUnavailable' },
  { code: 'Timeout', status: 503, reason: 'ServiceUnavailable' },
  { code: 'Protocol', status: 500, reason: 'InternalError' },
] as const;

test('Thrift exceptions become NimbusErrors and API Status errors, and are never retried (stand-in Nimbus)', async (t) => {
  const { standIn, nimbus } = await setup(t);
  wordCount(standIn);
  for (const { failure, method, code } of exceptionCases) {
    const before = standIn.callsOf(method).length;
    standIn.failNext(method, failure, `stand-in says ${failure}`);
    const call = method === 'rebalance' ? nimbus.rebalance('word-count', { numWorkers: 1 }) : nimbus.getTopologySummaryByName('word-count');
    const err = await t.throwsAsync(call, { instanceOf: NimbusError });
    t.is(err!.code, code, failure);
    t.regex(err!.message, new RegExp(`stand-in says ${failure}`));
    t.is(standIn.callsOf(method).length, before + 1, `${failure}: exactly one call`);
  }
  const ref = { group: 'storm.apache.org', resource: 'stormtopologies', name: 'wc' };
  for (const { code, status, reason } of statusCases) {
    const mapped = nimbusErrorToStatus(new NimbusError(code, 'the detail', { endpoint: 'nimbus:6627' }), ref);
    t.is(mapped.code, status, `${code} → ${status}`);
    t.is(mapped.reason, reason);
    t.regex(mapped.message, /Nimbus at nimbus:6627.*the detail/);
  }
  // A missing topology raises NotAlive from the stand-in itself.
  t.is((await t.throwsAsync(nimbus.activate('missing'), { instanceOf: NimbusError }))!.code, 'NotAlive');
});

test('transport failures are retried for reads, not for changes that may have reached Nimbus (stand-in Nimbus)', async (t) => {
  const { standIn, nimbus } = await setup(t);
  wordCount(standIn);
  standIn.failNext('getTopologySummaryByName', 'Drop');
  t.is((await nimbus.getTopologySummaryByName('word-count')).name, 'word-count');
  t.is(standIn.callsOf('getTopologySummaryByName').length, 2, 'dropped once, retried once');

  standIn.failNext('deactivate', 'Drop');
  const err = await t.throwsAsync(nimbus.deactivate('word-count'), { instanceOf: NimbusError });
  t.is(err!.code, 'Unavailable');
  t.is(standIn.callsOf('deactivate').length, 1, 'a dropped deactivate is not repeated');
});

test('Nimbus down: Unavailable after the retries; the same client recovers when it returns (stand-in Nimbus)', async (t) => {
  const { standIn, nimbus } = await setup(t);
  await nimbus.getClusterInfo();
  await standIn.setDown(true);
  const err = await t.throwsAsync(nimbus.getClusterInfo(), { instanceOf: NimbusError });
  t.is(err!.code, 'Unavailable');
  t.true(err!.transient);
  // A change is retried too when the connection could not even be made (nothing was sent).
  t.is((await t.throwsAsync(nimbus.activate('x'), { instanceOf: NimbusError }))!.code, 'Unavailable');
  await standIn.setDown(false);
  t.is((await nimbus.getClusterInfo()).supervisors.length, 2);
});

test('a call without an answer fails with Timeout (stand-in Nimbus)', async (t) => {
  const { standIn, nimbus } = await setup(t, { ...FAST, requestTimeout: 0.2, maxRetries: 0 });
  standIn.setLatency(5_000);
  const err = await t.throwsAsync(nimbus.getLeader(), { instanceOf: NimbusError });
  t.is(err!.code, 'Timeout');
});

test('the pool keeps at most maxConnections and closes idle ones down to minIdleConnections (stand-in Nimbus)', async (t) => {
  const { standIn, pool, nimbus, endpoint } = await setup(t, { ...FAST, maxConnections: 3, minIdleConnections: 1, maxIdleTime: 0.2 });
  standIn.setLatency(50);
  const results = await Promise.all(Array.from({ length: 12 }, () => nimbus.getClusterInfo()));
  t.is(results.length, 12);
  t.is(standIn.peakConnections, 3, 'calls beyond maxConnections waited for a connection');
  t.true(pool.stats(endpoint)!.open <= 3);
  await eventually(() => standIn.openConnections === 1 && pool.stats(endpoint)!.idle === 1, 'idle connections closed down to minIdleConnections');
  await nimbus.getClusterInfo();
  t.is(standIn.peakConnections, 3);
});

test('frames are capped at 1 MiB both ways; the pool stays usable (stand-in Nimbus)', async (t) => {
  const { standIn, nimbus } = await setup(t, { ...FAST, maxRetries: 0 });
  wordCount(standIn);
  // A request over the limit is refused before anything is sent.
  const executors = Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [`component-with-a-long-name-${i}`, 1]));
  const tooBig = await t.throwsAsync(nimbus.rebalance('word-count', { numExecutors: executors }), { instanceOf: NimbusError });
  t.is(tooBig!.code, 'Protocol');
  t.regex(tooBig!.message, /exceeds the 1048576-byte Thrift frame limit/);
  t.is(standIn.callsOf('rebalance').length, 0);
  // A reply over the limit fails the call.
  standIn.topologies.get('word-count')!.errors.split = [{ error: 'x'.repeat(1_100_000), errorTimeSecs: 1 }];
  const reply = await t.throwsAsync(nimbus.getTopologyInfoByName('word-count'), { instanceOf: NimbusError });
  t.is(reply!.code, 'Protocol');
  t.regex(reply!.message, /frame of \d+ bytes; the limit is 1048576/);
  t.is((await nimbus.getTopologySummaryByName('word-count')).name, 'word-count');
});

test('forCluster resolves addresses and applies each cluster’s settings (stand-in Nimbus)', async (t) => {
  const standIn = await startStandInNimbus();
  const pool = new ThriftNimbusPool({ resolve: () => standIn.address });
  t.teardown(async () => {
    await pool.close();
    await standIn.stop();
  });
  const nimbus: Nimbus = pool.forCluster({ host: 'prod-nimbus.storm.svc', port: 6627, settings: FAST });
  t.is((await nimbus.getLeader()).host, 'nimbus-0');
  await pool.close();
  t.is((await t.throwsAsync(nimbus.getLeader(), { instanceOf: NimbusError }))!.code, 'Unavailable');
});

const addressCases: Array<{ what: string; cluster: Partial<KubeObject>; want: { host: string; port: number } }> = [
  { what: 'create mode: the <name>-nimbus Service', cluster: { spec: { managementMode: 'create', nimbus: { thrift: { port: 7000 } } } }, want: { host: 'prod-nimbus.storm.svc', port: 7000 } },
  {
    what: 'reference mode: resourceNames.nimbusService',
    cluster: { spec: { managementMode: 'reference', resourceNames: { nimbusService: 'their-nimbus' }, nimbus: { thrift: {} } } },
    want: { host: 'their-nimbus.storm.svc', port: 6627 },
  },
  {
    what: 'the nimbus-endpoint annotation',
    cluster: { metadata: { annotations: { 'storm.apache.org/nimbus-endpoint': '[::1]:16627' } }, spec: { managementMode: 'create' } },
    want: { host: '::1', port: 16627 },
  },
];

test('nimbusAddressOf: where a StormCluster’s Nimbus is dialled, with its thrift settings', (t) => {
  for (const { what, cluster, want } of addressCases) {
    const obj = { apiVersion: 'storm.apache.org/v1beta1', kind: 'StormCluster', ...cluster, metadata: { name: 'prod', namespace: 'storm', ...cluster.metadata } } as KubeObject;
    t.like(nimbusAddressOf(obj), want, what);
  }
  const settings = nimbusAddressOf({
    apiVersion: 'storm.apache.org/v1beta1',
    kind: 'StormCluster',
    metadata: { name: 'p', namespace: 'n' },
    spec: { nimbus: { thrift: { port: 6627, maxConnections: 4, retryDelay: 2, useTLS: false } } },
  }).settings;
  t.deepEqual(settings, { maxConnections: 4, retryDelay: 2 });
});
