// Stand-in Nimbus (tests only): a real Thrift server built from the same storm.thrift as the client
// (controllers/storm/nimbus/gen), on a free loopback port, speaking framed transport + strict
// binary protocol with a 1 MiB frame limit like Nimbus. It holds topologies, their executors and
// statistics, supervisors and nimbuses that tests set, records every call, and changes topology
// state on activate/deactivate/kill/rebalance as Nimbus does. See README.md.
//
// It converts the upstream's camelCase types to Thrift structs itself (not with the client's
// converters), so a mistake on one side is not mirrored on the other.
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { nimbusService, strictBinaryProtocol, stormTypes, thriftRuntime } from '../../../controllers/storm/nimbus/generated.js';
import type {
  ComponentAggregateStats,
  ErrorInfo,
  ExecutorSummary,
  NimbusAddress,
  NimbusSummary,
  SupervisorSummary,
  TopologySummary,
} from '../../../registry/storm.apache.org/upstreams.js';

/** Totals and per-component aggregates of one window ("600", "10800", "86400", ":all-time"). */
export interface StandInWindowStats {
  emitted?: number;
  transferred?: number;
  acked?: number;
  failed?: number;
  completeLatencyMs?: number;
  spouts?: Record<string, ComponentAggregateStats>;
  bolts?: Record<string, ComponentAggregateStats>;
}

export interface StandInTopology {
  summary: TopologySummary;
  executors: ExecutorSummary[];
  /** component id → errors, oldest first. */
  errors: Record<string, ErrorInfo[]>;
  /** window → statistics (what getTopologyPageInfo reports). */
  windows: Record<string, StandInWindowStats>;
  /** The last rebalance's num_executors, if any. */
  numExecutorsOverride?: Record<string, number>;
}

export type StandInTopologyInit = Partial<Omit<TopologySummary, 'name'>> & {
  name: string;
  executors?: ExecutorSummary[];
  errors?: Record<string, ErrorInfo[]>;
  windows?: Record<string, StandInWindowStats>;
};

export type StandInFailure = 'NotAlive' | 'AlreadyAlive' | 'InvalidTopology' | 'Authorization' | 'Application' | 'Drop';

export interface StandInCall {
  method: string;
  /** Decoded arguments in IDL order (generated structs, snake_case). */
  args: unknown[];
}

export interface StandInNimbusOptions {
  /** How long a killed topology stays KILLED before it disappears (default: its wait_secs). */
  killRemovalMs?: (waitSecs: number) => number;
  /** How long a rebalance stays REBALANCING (default: its wait_secs). */
  rebalanceMs?: (waitSecs: number) => number;
  /** Frame limit of requests (default 1 MiB); bigger ones close the connection. */
  maxFrameBytes?: number;
  /**
   * TLS mode (Nimbus's nimbus.thrift.tls.port): the listener speaks TLS with this certificate;
   * with `clientCa`, clients must present a certificate signed by it.
   */
  tls?: { cert: string; key: string; clientCa?: string };
}

export interface StandInNimbus {
  host: string;
  port: number;
  /** `{host, port}` to hand to a NimbusPool (or to resolve any cluster's address to). */
  address: NimbusAddress;
  topologies: Map<string, StandInTopology>;
  supervisors: SupervisorSummary[];
  nimbuses: NimbusSummary[];
  /** Every call received, in order (including ones failed by failNext). */
  calls: StandInCall[];
  /** Connections open now, and the most open at once since start. */
  readonly openConnections: number;
  readonly peakConnections: number;
  /** TLS mode: the subject CN of each accepted connection's client certificate ('' without one), in order. */
  tlsClients: string[];
  /** TLS mode: handshakes that failed, as the server saw them (error code or message). */
  tlsFailures: string[];
  /** Nimbus restarted with empty state: the listener closes and connections reset, every topology is forgotten, then it listens again. */
  restartEmpty(): Promise<void>;
  addTopology(init: StandInTopologyInit): StandInTopology;
  setStats(name: string, window: string, stats: StandInWindowStats): void;
  removeTopology(name: string): void;
  /** Down: the listener closes and open connections are reset; up again on the same port. */
  setDown(down: boolean): Promise<void>;
  /** Delay before every answer. */
  setLatency(ms: number): void;
  /** The next call of `method` fails: a Thrift exception, an application exception, or `Drop` (connection closed unanswered). */
  failNext(method: string, failure: StandInFailure, message?: string): void;
  callsOf(method: string): StandInCall[];
  stop(): Promise<void>;
}

const DEFAULT_MAX_FRAME = 1024 * 1024;
const TOPOLOGY_NAME = /^[^/.:\\]+$/;

export async function startStandInNimbus(options: StandInNimbusOptions = {}): Promise<StandInNimbus> {
  const topologies = new Map<string, StandInTopology>();
  const calls: StandInCall[] = [];
  const failures = new Map<string, Array<{ failure: StandInFailure; message?: string }>>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let latencyMs = 0;
  let peak = 0;
  let nextId = 1;
  let current: Socket | undefined; // the socket whose request is being dispatched
  const maxFrame = options.maxFrameBytes ?? DEFAULT_MAX_FRAME;

  const state = {
    supervisors: [
      { host: 'supervisor-0', uptimeSecs: 100, numWorkers: 4, numUsedWorkers: 0, supervisorId: 'sup-0' },
      { host: 'supervisor-1', uptimeSecs: 100, numWorkers: 4, numUsedWorkers: 0, supervisorId: 'sup-1' },
    ] as SupervisorSummary[],
    nimbuses: [] as NimbusSummary[],
  };

  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const exception = (failure: StandInFailure, message: string): Error => {
    const classes: Partial<Record<StandInFailure, string>> = {
      NotAlive: 'NotAliveException',
      AlreadyAlive: 'AlreadyAliveException',
      InvalidTopology: 'InvalidTopologyException',
      Authorization: 'AuthorizationException',
    };
    const name = classes[failure];
    if (!name) return new Error(message); // the processor answers a TApplicationException
    const err = new stormTypes[name]({ msg: message }) as Error;
    err.message = message; // a method that does not declare it answers a TApplicationException with this text
    return err;
  };

  const alive = (name: string): StandInTopology => {
    const topology = topologies.get(name);
    if (!topology || topology.summary.status === 'KILLED') throw new stormTypes.NotAliveException({ msg: `${name} is not alive` });
    return topology;
  };

  const byId = (id: string): StandInTopology => {
    for (const topology of topologies.values()) if (topology.summary.id === id) return topology;
    throw new stormTypes.NotAliveException({ msg: `${id} is not alive` });
  };

  /** Records the call, applies latency and scripted failures, then runs `body`. */
  const serve = (method: string, args: unknown[], body: () => unknown) => {
    const socket = current;
    calls.push({ method, args });
    return (async () => {
      if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
      const scripted = failures.get(method)?.shift();
      if (scripted?.failure === 'Drop') {
        socket?.destroy();
        return new Promise(() => {}); // never answered
      }
      if (scripted) throw exception(scripted.failure, scripted.message ?? `stand-in ${scripted.failure} for ${method}`);
      return body();
    })();
  };

  // Handler functions must declare exactly the IDL's parameters: the generated processor then
  // treats them as promise-returning.
  const handler = {
    getClusterInfo() {
      return serve('getClusterInfo', [], () =>
        new stormTypes.ClusterSummary({
          supervisors: state.supervisors.map(toSupervisorSummary),
          topologies: [...topologies.values()].map((t) => toTopologySummary(t.summary)),
          nimbuses: nimbuses().map(toNimbusSummary),
        }),
      );
    },
    getLeader() {
      return serve('getLeader', [], () => {
        const leader = nimbuses().find((n) => n.isLeader);
        if (!leader) throw new Error('no leader Nimbus');
        return toNimbusSummary(leader);
      });
    },
    getTopologySummaryByName(name: string) {
      return serve('getTopologySummaryByName', [name], () => toTopologySummary(alive(name).summary));
    },
    getTopologyPageInfo(id: string, window: string, includeSys: boolean) {
      return serve('getTopologyPageInfo', [id, window, includeSys], () => toTopologyPageInfo(byId(id), window));
    },
    getTopologyInfoByName(name: string) {
      return serve('getTopologyInfoByName', [name], () => toTopologyInfo(alive(name), 'ALL'));
    },
    getTopologyInfoByNameWithOpts(name: string, options: { num_err_choice?: number | null }) {
      return serve('getTopologyInfoByNameWithOpts', [name, options], () => {
        const choice = (['ALL', 'NONE', 'ONE'] as const)[options?.num_err_choice ?? 0] ?? 'ALL';
        return toTopologyInfo(alive(name), choice);
      });
    },
    killTopologyWithOpts(name: string, killOptions: { wait_secs?: number | null }) {
      return serve('killTopologyWithOpts', [name, killOptions], () => {
        const topology = alive(name);
        topology.summary.status = 'KILLED';
        const waitSecs = killOptions?.wait_secs ?? 30;
        later(options.killRemovalMs?.(waitSecs) ?? waitSecs * 1000, () => {
          if (topologies.get(name) === topology) topologies.delete(name);
        });
      });
    },
    activate(name: string) {
      return serve('activate', [name], () => {
        alive(name).summary.status = 'ACTIVE';
      });
    },
    deactivate(name: string) {
      return serve('deactivate', [name], () => {
        alive(name).summary.status = 'INACTIVE';
      });
    },
    rebalance(name: string, rebalanceOptions: { wait_secs?: number | null; num_workers?: number | null; num_executors?: Record<string, number> | null }) {
      return serve('rebalance', [name, rebalanceOptions], () => {
        const topology = alive(name);
        const previous = topology.summary.status === 'REBALANCING' ? 'ACTIVE' : topology.summary.status;
        topology.summary.status = 'REBALANCING';
        if (rebalanceOptions?.num_workers != null) topology.summary.numWorkers = rebalanceOptions.num_workers;
        if (rebalanceOptions?.num_executors) topology.numExecutorsOverride = { ...rebalanceOptions.num_executors };
        const waitSecs = rebalanceOptions?.wait_secs ?? 0;
        later(options.rebalanceMs?.(waitSecs) ?? waitSecs * 1000, () => {
          if (topology.summary.status === 'REBALANCING') topology.summary.status = previous;
        });
      });
    },
    isTopologyNameAllowed(name: string) {
      return serve('isTopologyNameAllowed', [name], () => TOPOLOGY_NAME.test(name) && !topologies.has(name));
    },
  };

  function nimbuses(): NimbusSummary[] {
    return state.nimbuses.length > 0 ? state.nimbuses : [{ host: 'nimbus-0', port: standIn.port, uptimeSecs: 100, isLeader: true, version: '2.6.0' }];
  }

  const processor = new nimbusService.Processor(handler);

  const onConnection = (socket: Socket) => {
    sockets.add(socket);
    peak = Math.max(peak, sockets.size);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4) {
        const size = buffered.readInt32BE(0);
        if (size < 0 || size > maxFrame) {
          socket.destroy(); // as Nimbus's THsHaServer does with an oversized frame
          return;
        }
        if (buffered.length < 4 + size) return;
        const frame = buffered.subarray(4, 4 + size);
        buffered = buffered.subarray(4 + size);
        const input = strictBinaryProtocol(new thriftRuntime.TFramedTransport(frame));
        const output = strictBinaryProtocol(
          new thriftRuntime.TFramedTransport(undefined, (reply: Buffer) => {
            if (!socket.destroyed) socket.write(reply);
          }),
        );
        current = socket;
        try {
          processor.process(input, output);
        } catch {
          socket.destroy(); // not strict binary, or garbage
          return;
        } finally {
          current = undefined;
        }
      }
    });
  };

  const tlsClients: string[] = [];
  const tlsFailures: string[] = [];
  const newServer = (): Server => {
    if (!options.tls) return createServer(onConnection);
    const { cert, key, clientCa } = options.tls;
    const tlsServer = createTlsServer({ cert, key, ...(clientCa ? { ca: clientCa, requestCert: true, rejectUnauthorized: true } : {}) }, (socket: TLSSocket) => {
      tlsClients.push(String(socket.getPeerCertificate()?.subject?.CN ?? ''));
      onConnection(socket);
    });
    tlsServer.on('tlsClientError', (err: Error & { code?: string }) => tlsFailures.push(err.code ?? err.message));
    return tlsServer;
  };
  let server: Server = newServer();
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as { port: number }).port;
  let down = false;

  const standIn: StandInNimbus = {
    host: '127.0.0.1',
    port,
    address: { host: '127.0.0.1', port },
    topologies,
    get supervisors() {
      return state.supervisors;
    },
    set supervisors(value: SupervisorSummary[]) {
      state.supervisors = value;
    },
    get nimbuses() {
      return state.nimbuses;
    },
    set nimbuses(value: NimbusSummary[]) {
      state.nimbuses = value;
    },
    calls,
    get openConnections() {
      return sockets.size;
    },
    get peakConnections() {
      return peak;
    },
    addTopology(init) {
      const { name, executors = [], errors = {}, windows = {}, ...summary } = init;
      const id = summary.id ?? `${name}-${nextId++}-${Math.floor(Date.now() / 1000)}`;
      const topology: StandInTopology = {
        summary: {
          numTasks: 0,
          numExecutors: executors.length,
          numWorkers: 1,
          uptimeSecs: 0,
          status: 'ACTIVE',
          ...summary,
          id,
          name,
        },
        executors,
        errors,
        windows,
      };
      topologies.set(name, topology);
      return topology;
    },
    setStats(name, window, stats) {
      const topology = topologies.get(name);
      if (!topology) throw new Error(`stand-in Nimbus: no topology ${name}`);
      topology.windows[window] = stats;
    },
    removeTopology(name) {
      topologies.delete(name);
    },
    async setDown(value) {
      if (value === down) return;
      down = value;
      if (value) {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          for (const socket of sockets) socket.destroy();
        });
      } else {
        server = newServer();
        await listen(port);
      }
    },
    tlsClients,
    tlsFailures,
    async restartEmpty() {
      await standIn.setDown(true);
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      topologies.clear();
      await standIn.setDown(false);
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    failNext(method, failure, message) {
      if (!(method in handler)) throw new Error(`stand-in Nimbus has no method ${method}`);
      failures.set(method, [...(failures.get(method) ?? []), { failure, message }]);
    },
    callsOf(method) {
      return calls.filter((c) => c.method === method);
    },
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const socket of sockets) socket.destroy();
      if (!down) await new Promise<void>((resolve) => server.close(() => resolve()));
      down = true;
    },
  };
  return standIn;
}

// --- upstream types → Thrift structs (snake_case) ---

function defined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

function toSupervisorSummary(s: SupervisorSummary) {
  return new stormTypes.SupervisorSummary(
    defined({
      host: s.host,
      uptime_secs: s.uptimeSecs,
      num_workers: s.numWorkers,
      num_used_workers: s.numUsedWorkers,
      supervisor_id: s.supervisorId,
      version: s.version,
      total_resources: s.totalResources,
      used_mem: s.usedMem,
      used_cpu: s.usedCpu,
      blacklisted: s.blacklisted,
    }),
  );
}

function toNimbusSummary(n: NimbusSummary) {
  return new stormTypes.NimbusSummary(
    defined({ host: n.host, port: n.port, uptime_secs: n.uptimeSecs, isLeader: n.isLeader, version: n.version, tlsPort: n.tlsPort }),
  );
}

function toTopologySummary(s: TopologySummary) {
  return new stormTypes.TopologySummary(
    defined({
      id: s.id,
      name: s.name,
      num_tasks: s.numTasks,
      num_executors: s.numExecutors,
      num_workers: s.numWorkers,
      uptime_secs: s.uptimeSecs,
      status: s.status,
      storm_version: s.stormVersion,
      topology_version: s.topologyVersion,
      sched_status: s.schedStatus,
      owner: s.owner,
    }),
  );
}

function toErrorInfo(e: ErrorInfo) {
  return new stormTypes.ErrorInfo(defined({ error: e.error, error_time_secs: e.errorTimeSecs, host: e.host, port: e.port }));
}

/** "component:stream"-keyed values → the entry lists of the BoltStats codec. */
function globalEntries(windows: Record<string, Record<string, number>> | undefined) {
  const out: Record<string, Array<{ componentId: string; streamId: string; value: number }>> = {};
  for (const [window, values] of Object.entries(windows ?? {})) {
    out[window] = Object.entries(values).map(([key, value]) => {
      const colon = key.indexOf(':');
      return { componentId: colon < 0 ? key : key.slice(0, colon), streamId: colon < 0 ? 'default' : key.slice(colon + 1), value };
    });
  }
  return out;
}

function toExecutorSummary(e: ExecutorSummary) {
  const stats = e.stats;
  return new stormTypes.ExecutorSummary(
    defined({
      executor_info: { task_start: e.taskStart, task_end: e.taskEnd },
      component_id: e.componentId,
      host: e.host,
      port: e.port,
      uptime_secs: e.uptimeSecs,
      stats: stats
        ? {
            emitted: stats.emitted,
            transferred: stats.transferred,
            rate: stats.rate,
            specific: stats.bolt
              ? {
                  bolt: {
                    acked: globalEntries(stats.bolt.acked),
                    failed: globalEntries(stats.bolt.failed),
                    process_ms_avg: globalEntries(stats.bolt.processMsAvg),
                    executed: globalEntries(stats.bolt.executed),
                    execute_ms_avg: globalEntries(stats.bolt.executeMsAvg),
                  },
                }
              : { spout: { acked: stats.spout?.acked ?? {}, failed: stats.spout?.failed ?? {}, complete_ms_avg: stats.spout?.completeMsAvg ?? {} } },
          }
        : undefined,
    }),
  );
}

function toTopologyInfo(t: StandInTopology, choice: 'ALL' | 'NONE' | 'ONE') {
  const errors: Record<string, unknown[]> = {};
  if (choice !== 'NONE') {
    for (const [component, list] of Object.entries(t.errors)) {
      const chosen = choice === 'ONE' ? list.slice(-1) : list;
      errors[component] = chosen.map(toErrorInfo);
    }
  }
  return new stormTypes.TopologyInfo(
    defined({
      id: t.summary.id,
      name: t.summary.name,
      uptime_secs: t.summary.uptimeSecs,
      executors: t.executors.map(toExecutorSummary),
      status: t.summary.status,
      errors,
      storm_version: t.summary.stormVersion,
      owner: t.summary.owner,
    }),
  );
}

function toComponentStats(c: ComponentAggregateStats, type: 'BOLT' | 'SPOUT') {
  return new stormTypes.ComponentAggregateStats(
    defined({
      type: stormTypes.ComponentType[type],
      common_stats: defined({
        num_executors: c.numExecutors,
        num_tasks: c.numTasks,
        emitted: c.emitted,
        transferred: c.transferred,
        acked: c.acked,
        failed: c.failed,
      }),
      specific_stats:
        type === 'BOLT'
          ? { bolt: defined({ execute_latency_ms: c.executeLatencyMs, process_latency_ms: c.processLatencyMs, executed: c.executed, capacity: c.capacity }) }
          : { spout: defined({ complete_latency_ms: c.completeLatencyMs }) },
      last_error: c.lastError ? toErrorInfo(c.lastError) : undefined,
    }),
  );
}

function toTopologyPageInfo(t: StandInTopology, window: string) {
  const stats = t.windows[window] ?? {};
  const one = (value: number | undefined) => (value === undefined ? {} : { [window]: value });
  const components = (map: Record<string, ComponentAggregateStats> | undefined, type: 'BOLT' | 'SPOUT') =>
    Object.fromEntries(Object.entries(map ?? {}).map(([id, c]) => [id, toComponentStats(c, type)]));
  return new stormTypes.TopologyPageInfo(
    defined({
      id: t.summary.id,
      name: t.summary.name,
      uptime_secs: t.summary.uptimeSecs,
      status: t.summary.status,
      num_tasks: t.summary.numTasks,
      num_workers: t.summary.numWorkers,
      num_executors: t.summary.numExecutors,
      id_to_spout_agg_stats: components(stats.spouts, 'SPOUT'),
      id_to_bolt_agg_stats: components(stats.bolts, 'BOLT'),
      topology_stats: {
        window_to_emitted: one(stats.emitted),
        window_to_transferred: one(stats.transferred),
        window_to_complete_latencies_ms: one(stats.completeLatencyMs),
        window_to_acked: one(stats.acked),
        window_to_failed: one(stats.failed),
      },
      storm_version: t.summary.stormVersion,
      topology_version: t.summary.topologyVersion,
      owner: t.summary.owner,
    }),
  );
}
