// p99 of the custom verb `POST …/stormtopologies/<name>/promote` against the stand-in Nimbus, next
// to the stand-in's own p99 for the Thrift calls one promote makes (getTopologyPageInfo for the
// pre-promotion analysis, deactivate of the active version, activate of the candidate), measured
// with the server's own Nimbus client (ThriftNimbusPool) from this process in the same run.
//
// Setup without controllers or host cluster: the server (a child process, sqlite, controllers
// off) is pointed at the stand-in through the StormCluster's nimbus-endpoint annotation, and each
// topology is put in the promotable state the Storm controller would leave it in (active version
// 1.0.0, candidate 2.0.0 submitted and inactive) by writing its status through `/status`; the
// stand-in holds both Storm topologies. Each promote consumes one topology (a repeat is an
// idempotent no-op), so the part prepares one per request and promotes them one at a time.
import { performance } from 'node:perf_hooks';
import { ThriftNimbusPool } from '../../../controllers/storm/nimbus/index.js';
import { blueGreenStormName } from '../../../registry/storm.apache.org/stormtopology/revisions.js';
import type { TopologySpec } from '../../../registry/storm.apache.org/stormtopology/types.js';
import { NIMBUS_ENDPOINT_ANNOTATION } from '../../../registry/storm.apache.org/upstreams.js';
import { startStandInNimbus, type StandInNimbus } from '../../../test/stand-ins/nimbus/index.js';
import { Client } from '../../lib/https-client.js';
import { figure, round } from '../lib/figures.js';
import type { BenchPart } from '../lib/part.js';
import { startApiServer, type ApiServer } from '../lib/processes.js';
import { knob, percentile, timeEach } from '../lib/stats.js';

const NAMESPACE = 'bench';
const API = '/apis/storm.apache.org/v1beta1';
const TOPOLOGIES = `${API}/namespaces/${NAMESPACE}/stormtopologies`;
/** Added on top of the stand-in's p99 by the target. */
const BUDGET_MS = 20;
const WARMUP = 20;
const STATS = { ':all-time': { emitted: 500, transferred: 500, acked: 400, failed: 2, completeLatencyMs: 20 } };
const ANALYSIS = [
  { metricName: 'failed', threshold: '<10' },
  { metricName: 'errorRate', threshold: '<0.05', query: 'failed / (acked + failed)' },
];

async function expect(client: Client, method: string, path: string, status: number, body?: unknown): Promise<any> {
  const res = await client.request(method, path, { body });
  if (res.status !== status) throw new Error(`${method} ${path} answered ${res.status} (expected ${status}): ${res.body.slice(0, 500)}`);
  return res.json;
}

function topologyObject(name: string, version: string): Record<string, unknown> {
  return {
    apiVersion: 'storm.apache.org/v1beta1',
    kind: 'StormTopology',
    metadata: { name, namespace: NAMESPACE },
    spec: {
      clusterRef: 'storm',
      topology: {
        name,
        jar: { url: 'https://jars.example.com/wordcount.jar', checksum: { algorithm: 'sha256', value: 'a'.repeat(64) } },
        mainClass: 'org.apache.storm.starter.WordCountTopology',
        config: { 'topology.version': version },
      },
      workers: { replicas: 2 },
      deploymentStrategy: { type: 'blueGreen', blueGreen: { scaleDownDelaySeconds: 30, prePromotionAnalysis: ANALYSIS } },
    },
  };
}

/**
 * Creates `name` with version 2.0.0 in its spec and writes the status of a blue-green deployment
 * whose active version 1.0.0 runs and whose candidate 2.0.0 is submitted (inactive) in the
 * stand-in, as the controller leaves it before a promote.
 */
async function promotableTopology(client: Client, nimbus: StandInNimbus, name: string): Promise<void> {
  const created = await expect(client, 'POST', TOPOLOGIES, 201, topologyObject(name, '2.0.0'));
  const v2Topology = created.spec.topology as TopologySpec;
  // The stored v1 topology is the v2 one with the old version (defaults are the same for both).
  const v1Topology = { ...v2Topology, config: { ...v2Topology.config, 'topology.version': '1.0.0' } } as TopologySpec;
  const v1 = blueGreenStormName(v1Topology);
  const v2 = blueGreenStormName(v2Topology);
  nimbus.addTopology({ name: v1, id: `${v1}-1`, status: 'ACTIVE', numWorkers: 2, numExecutors: 4, numTasks: 4, windows: STATS });
  nimbus.addTopology({ name: v2, id: `${v2}-2`, status: 'INACTIVE', numWorkers: 2, numExecutors: 4, numTasks: 4, windows: STATS });
  const at = `${new Date().toISOString().slice(0, 19)}Z`;
  created.status = {
    phase: 'Running',
    topologyName: v1,
    topologyId: `${v1}-1`,
    deployedVersion: '1.0.0',
    currentRevision: 1,
    history: [{ revision: 1, version: '1.0.0', topology: v1Topology, topologyId: `${v1}-1`, color: 'blue', cause: 'Created', deployedAt: at }],
    blueGreen: {
      activeColor: 'blue',
      activeTopologyName: v1,
      activeTopologyId: `${v1}-1`,
      candidate: { color: 'green', topologyName: v2, topologyId: `${v2}-2`, version: '2.0.0', startedAt: at },
    },
  };
  await expect(client, 'PUT', `${TOPOLOGIES}/${name}/status`, 200, created);
}

export const verbPart: BenchPart = {
  name: 'verb',
  description: 'p99 of POST stormtopologies/<name>/promote against the stand-in Nimbus vs the stand-in’s own p99 for the same Thrift calls',
  async run({ log }) {
    const promotes = knob('PROMOTES', 300);
    const nimbus = await startStandInNimbus();
    let server: ApiServer | undefined;
    let client: Client | undefined;
    const pool = new ThriftNimbusPool();
    try {
      server = await startApiServer();
      client = new Client(server.endpoint, { maxSockets: 1 });
      await expect(client, 'POST', `${API}/namespaces/${NAMESPACE}/stormclusters`, 201, {
        apiVersion: 'storm.apache.org/v1beta1',
        kind: 'StormCluster',
        metadata: { name: 'storm', namespace: NAMESPACE, annotations: { [NIMBUS_ENDPOINT_ANNOTATION]: `${nimbus.host}:${nimbus.port}` } },
        spec: { zookeeper: { servers: ['zk-0.zk:2181'] } },
      });
      log(`preparing ${WARMUP + promotes} promotable topologies`);
      for (let i = 0; i < WARMUP + promotes; i++) await promotableTopology(client, nimbus, `t${i}`);

      const promote = async (i: number) => {
        const result = await expect(client!, 'POST', `${TOPOLOGIES}/t${i}/promote`, 200, { apiVersion: 'storm.apache.org/v1beta1', kind: 'TopologyPromotion', spec: { version: '2.0.0' } });
        if (result.status?.phase !== 'Succeeded') throw new Error(`promote t${i}: ${JSON.stringify(result)}`);
      };
      log(`${WARMUP} warm-up promotes, then ${promotes} measured, one at a time`);
      await timeEach(WARMUP, (i) => promote(i));
      const verb = await timeEach(promotes, (i) => promote(WARMUP + i));
      const calls = new Set(nimbus.calls.slice(-3).map((c) => c.method));
      for (const method of ['getTopologyPageInfo', 'deactivate', 'activate']) {
        if (!calls.has(method)) throw new Error(`a promote did not call ${method} (last calls: ${[...calls].join(', ')})`);
      }

      // The same three Thrift calls, straight from the Nimbus client, on fresh pairs of topologies.
      const direct = pool.forCluster({ host: nimbus.host, port: nimbus.port });
      for (let i = 0; i < WARMUP + promotes; i++) {
        nimbus.addTopology({ name: `old-${i}`, id: `old-${i}-1`, status: 'ACTIVE', windows: STATS });
        nimbus.addTopology({ name: `new-${i}`, id: `new-${i}-2`, status: 'INACTIVE', windows: STATS });
      }
      const thrift = async (i: number) => {
        await direct.getTopologyPageInfo(`new-${i}-2`, ':all-time', false);
        await direct.deactivate(`old-${i}`);
        await direct.activate(`new-${i}`);
      };
      log(`stand-in: ${WARMUP} + ${promotes} rounds of getTopologyPageInfo, deactivate, activate`);
      await timeEach(WARMUP, (i) => thrift(i));
      const standIn = await timeEach(promotes, (i) => thrift(WARMUP + i));

      const verbP99 = percentile(verb, 99);
      const standInP99 = percentile(standIn, 99);
      const allowed = BUDGET_MS + standInP99;
      return [
        figure({
          part: 'verb',
          figure: 'custom verb (promote, stand-in Nimbus), p99',
          measured: { value: verbP99, unit: 'ms' },
          baseline: { name: 'stand-in Nimbus p99 of the same 3 Thrift calls', value: standInP99, unit: 'ms' },
          ratio: verbP99 / allowed,
          target: `p99 ≤ ${BUDGET_MS} ms + stand-in p99 (ratio = p99 ÷ (${BUDGET_MS} ms + stand-in p99) ≤ 1)`,
          pass: verbP99 <= allowed,
          details: {
            promotes,
            verb: { p50Ms: round(percentile(verb, 50)), p90Ms: round(percentile(verb, 90)), p99Ms: round(verbP99), maxMs: round(Math.max(...verb)) },
            standIn: { p50Ms: round(percentile(standIn, 50)), p99Ms: round(standInP99) },
            serverMode: 'child process, sqlite, controllers off; promotable state written through /status',
          },
        }),
      ];
    } finally {
      client?.close();
      await pool.close();
      await server?.stop();
      await nimbus.stop();
    }
  },
};
