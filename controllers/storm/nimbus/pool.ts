// The NimbusPool: per Nimbus address, a small pool of framed Thrift connections
// (spec.nimbus.thrift: maxConnections, minIdleConnections, maxIdleTime, connection/request
// timeouts, maxRetries, retryDelay), and the typed Nimbus calls on top of it.
//
// Pool rules: at most maxConnections open per address (callers beyond that wait, within the request
// timeout); a connection is reused while healthy, most recently used first; idle connections older
// than maxIdleTime are closed, except the minIdleConnections most recently used; no connection is
// opened before it is needed.
//
// Retries (maxRetries, delay retryDelay·2^attempt, at most 30 s) happen on transport failures only
// (Unavailable, Timeout): always when the connection could not be made (nothing was sent), and
// after the request went out only for reads — a kill, activate, deactivate or rebalance that may
// have reached Nimbus is not repeated. Thrift exceptions (NotAlive, …) and Protocol errors are
// never retried.
import type {
  ClusterSummary,
  Nimbus,
  NimbusAddress,
  NimbusClientSettings,
  NimbusPool,
  NimbusSummary,
  RebalanceOptions,
  TopologyInfo,
  TopologyPageInfo,
  TopologySummary,
} from '../../../registry/storm.apache.org/upstreams.js';
import { NimbusError } from '../../../registry/storm.apache.org/upstreams.js';
import { NimbusConnection } from './client.js';
import * as convert from './convert.js';
import { stormTypes } from './generated.js';

/** spec.nimbus.thrift defaults (the StormCluster schema's). */
export const DEFAULT_SETTINGS: Required<NimbusClientSettings> = {
  connectionTimeout: 30,
  requestTimeout: 60,
  maxConnections: 10,
  minIdleConnections: 2,
  maxIdleTime: 300,
  maxRetries: 3,
  retryDelay: 1,
};

const MAX_RETRY_DELAY_MS = 30_000;

/** Methods that change the topology: not repeated once the request may have reached Nimbus. */
const MUTATING = new Set(['killTopologyWithOpts', 'activate', 'deactivate', 'rebalance']);

export interface NimbusPoolOptions {
  /** Maps the address a cluster names to the one to dial (tests, port-forwards). Default: as is. */
  resolve?: (address: NimbusAddress) => { host: string; port: number };
  /** Frame limit both ways (default 1 MiB, Nimbus's nimbus.thrift.max_buffer_size). */
  maxFrameBytes?: number;
}

export interface AddressPoolStats {
  open: number;
  idle: number;
  busy: number;
  waiting: number;
}

export class ThriftNimbusPool implements NimbusPool {
  private readonly pools = new Map<string, AddressPool>();
  private closed = false;

  constructor(private readonly options: NimbusPoolOptions = {}) {}

  forCluster(address: NimbusAddress): Nimbus {
    const target = this.options.resolve?.(address) ?? { host: address.host, port: address.port };
    const key = `${target.host}:${target.port}`;
    const settings = { ...DEFAULT_SETTINGS, ...definedSettings(address.settings) };
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new AddressPool(target.host, target.port, settings, this.options.maxFrameBytes);
      if (this.closed) pool.close();
      this.pools.set(key, pool);
    } else {
      pool.settings = settings; // spec edits apply to the next calls
    }
    return new PooledNimbus(pool);
  }

  /** Connection counts of the pool for a (resolved) host:port; for tests and debugging. */
  stats(endpoint: string): AddressPoolStats | undefined {
    return this.pools.get(endpoint)?.stats();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pool of this.pools.values()) pool.close();
  }
}

function definedSettings(settings: NimbusClientSettings | undefined): NimbusClientSettings {
  return Object.fromEntries(Object.entries(settings ?? {}).filter(([, v]) => typeof v === 'number' && Number.isFinite(v)));
}

class AddressPool {
  private readonly idle: NimbusConnection[] = [];
  private busy = 0;
  private readonly waiters: Array<() => void> = [];
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;
  readonly endpoint: string;

  constructor(
    readonly host: string,
    readonly port: number,
    public settings: Required<NimbusClientSettings>,
    private readonly maxFrameBytes: number | undefined,
  ) {
    this.endpoint = `${host}:${port}`;
  }

  stats(): AddressPoolStats {
    return { open: this.busy + this.idle.length, idle: this.idle.length, busy: this.busy, waiting: this.waiters.length };
  }

  /** Runs one call with retries on transport failures (see the header). */
  async call(method: string, args: unknown[]): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      let sent = false;
      try {
        const connection = await this.acquire();
        sent = true;
        try {
          return await connection.call(method, args, this.settings.requestTimeout * 1000);
        } finally {
          this.release(connection);
        }
      } catch (err) {
        const retryable = err instanceof NimbusError && err.transient && (!sent || !MUTATING.has(method)) && !this.closed;
        if (!retryable || attempt >= this.settings.maxRetries) throw err;
        await sleep(Math.min(this.settings.retryDelay * 1000 * 2 ** attempt, MAX_RETRY_DELAY_MS));
      }
    }
  }

  private async acquire(): Promise<NimbusConnection> {
    const deadline = Date.now() + this.settings.requestTimeout * 1000;
    for (;;) {
      if (this.closed) throw new NimbusError('Unavailable', 'the Nimbus client is closed', { endpoint: this.endpoint });
      while (this.idle.length > 0) {
        const connection = this.idle.pop()!;
        if (connection.usable) {
          this.busy++;
          return connection;
        }
        connection.close();
      }
      if (this.busy < this.settings.maxConnections) {
        this.busy++;
        try {
          return await NimbusConnection.open({
            host: this.host,
            port: this.port,
            connectTimeoutMs: this.settings.connectionTimeout * 1000,
            maxFrameBytes: this.maxFrameBytes,
          });
        } catch (err) {
          this.busy--;
          this.wakeOne();
          throw err;
        }
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new NimbusError('Timeout', `all ${this.settings.maxConnections} connections to Nimbus stayed busy for ${this.settings.requestTimeout} s`, {
          endpoint: this.endpoint,
        });
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          const i = this.waiters.indexOf(wake);
          if (i >= 0) this.waiters.splice(i, 1);
          resolve();
        }, remaining);
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        this.waiters.push(wake);
      });
    }
  }

  private release(connection: NimbusConnection): void {
    this.busy--;
    if (connection.usable && !this.closed) {
      this.idle.push(connection);
      this.scheduleSweep();
    } else {
      connection.close();
    }
    this.wakeOne();
  }

  private wakeOne(): void {
    this.waiters.shift()?.();
  }

  /** Closes idle connections past maxIdleTime, keeping the minIdleConnections most recently used. */
  private sweep(): void {
    this.sweeper = undefined;
    const maxIdleMs = this.settings.maxIdleTime * 1000;
    const now = Date.now();
    // idle is ordered oldest → newest use; keep the newest minIdleConnections.
    const candidates = this.idle.length - this.settings.minIdleConnections;
    for (let i = 0, closed = 0; i < this.idle.length && closed < candidates; ) {
      const connection = this.idle[i]!;
      if (!connection.usable || now - connection.lastUsed >= maxIdleMs) {
        this.idle.splice(i, 1);
        connection.close();
        closed++;
      } else {
        i++;
      }
    }
    for (let i = this.idle.length - 1; i >= 0; i--) {
      if (!this.idle[i]!.usable) this.idle.splice(i, 1)[0]!.close();
    }
    if (this.idle.length > this.settings.minIdleConnections) this.scheduleSweep();
  }

  private scheduleSweep(): void {
    if (this.sweeper || this.closed) return;
    const interval = Math.max(50, Math.min((this.settings.maxIdleTime * 1000) / 2, 30_000));
    this.sweeper = setTimeout(() => this.sweep(), interval);
    this.sweeper.unref();
  }

  close(): void {
    this.closed = true;
    if (this.sweeper) clearTimeout(this.sweeper);
    this.sweeper = undefined;
    for (const connection of this.idle.splice(0)) connection.close();
    for (const wake of this.waiters.splice(0)) wake();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The typed Nimbus of one address. */
class PooledNimbus implements Nimbus {
  constructor(private readonly pool: AddressPool) {}

  async getClusterInfo(): Promise<ClusterSummary> {
    return convert.clusterSummary((await this.pool.call('getClusterInfo', [])) as Record<string, unknown>);
  }

  async getLeader(): Promise<NimbusSummary> {
    return convert.nimbusSummary((await this.pool.call('getLeader', [])) as Record<string, unknown>);
  }

  async getTopologySummaryByName(name: string): Promise<TopologySummary> {
    return convert.topologySummary((await this.pool.call('getTopologySummaryByName', [name])) as Record<string, unknown>);
  }

  async getTopologyPageInfo(id: string, window: string, includeSys: boolean): Promise<TopologyPageInfo> {
    return convert.topologyPageInfo((await this.pool.call('getTopologyPageInfo', [id, window, includeSys])) as Record<string, unknown>);
  }

  async getTopologyInfoByName(name: string, options?: { numErrChoice?: 'ALL' | 'NONE' | 'ONE' }): Promise<TopologyInfo> {
    const raw = options?.numErrChoice
      ? await this.pool.call('getTopologyInfoByNameWithOpts', [name, { num_err_choice: stormTypes.NumErrorsChoice[options.numErrChoice] }])
      : await this.pool.call('getTopologyInfoByName', [name]);
    return convert.topologyInfo(raw as Record<string, unknown>);
  }

  async killTopologyWithOpts(name: string, options: { waitSecs?: number }): Promise<void> {
    await this.pool.call('killTopologyWithOpts', [name, withoutUndefined({ wait_secs: options.waitSecs })]);
  }

  async activate(name: string): Promise<void> {
    await this.pool.call('activate', [name]);
  }

  async deactivate(name: string): Promise<void> {
    await this.pool.call('deactivate', [name]);
  }

  async rebalance(name: string, options: RebalanceOptions): Promise<void> {
    await this.pool.call('rebalance', [
      name,
      withoutUndefined({ wait_secs: options.waitSecs, num_workers: options.numWorkers, num_executors: options.numExecutors }),
    ]);
  }

  async isTopologyNameAllowed(name: string): Promise<boolean> {
    return Boolean(await this.pool.call('isTopologyNameAllowed', [name]));
  }
}

function withoutUndefined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}
