// The NimbusPool: per Nimbus address, a small pool of framed Thrift connections
// (spec.nimbus.thrift: maxConnections, minIdleConnections, maxIdleTime, connection/request
// timeouts, maxRetries, retryDelay), and the typed Nimbus calls on top of it.
//
// Pool rules: at most maxConnections open per address (callers beyond that wait, within the request
// timeout); a connection is reused while healthy, most recently used first; idle connections older
// than maxIdleTime are closed, except the minIdleConnections most recently used; no connection is
// opened before it is needed.
//
// TLS (address.tls): the pool of an address is keyed by its TLS settings too, so turning TLS on or
// off, or naming another Secret, gets new connections (the previous pool's idle ones are closed).
// The Secret's material is read when a connection is opened, at most every `tlsRefreshMs`
// (default 30 s); when it changed (a rotated Secret), the idle connections are closed. TLS
// failures (code TLS) are not retried.
//
// Retries (maxRetries, delay retryDelay·2^attempt, at most 30 s) happen on transport failures only
// (Unavailable, Timeout): always when the connection could not be made (nothing was sent), and
// after the request went out only for reads — a kill, activate, deactivate or rebalance that may
// have reached Nimbus is not repeated. Thrift exceptions (NotAlive, …) and Protocol errors are
// never retried.
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type {
  ClusterSummary,
  Nimbus,
  NimbusAddress,
  NimbusClientSettings,
  NimbusPool,
  NimbusSummary,
  NimbusTlsSettings,
  RebalanceOptions,
  TopologyInfo,
  TopologyPageInfo,
  TopologySummary,
} from '../../../registry/storm.apache.org/upstreams.js';
import { NimbusError } from '../../../registry/storm.apache.org/upstreams.js';
import { NimbusConnection } from './client.js';
import { materialFingerprint, tlsConnectionOptions, type TlsMaterial, type TlsMaterialSource } from './tls.js';
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
  /**
   * Where the TLS material of an address with `tls.certSecret` comes from (the server passes the
   * host cluster's Secrets). Without it such an address fails with code TLS.
   */
  tlsMaterial?: TlsMaterialSource;
  /** How often the material of a TLS address is read again, in ms (default 30 000). */
  tlsRefreshMs?: number;
}

const DEFAULT_TLS_REFRESH_MS = 30_000;

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
    const endpoint = `${target.host}:${target.port}`;
    const key = `${endpoint}${tlsKey(address.tls)}`;
    const settings = { ...DEFAULT_SETTINGS, ...definedSettings(address.settings) };
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new AddressPool(target.host, target.port, settings, this.options.maxFrameBytes, address.tls && { settings: address.tls, source: this.options.tlsMaterial, refreshMs: this.options.tlsRefreshMs ?? DEFAULT_TLS_REFRESH_MS });
      if (this.closed) pool.close();
      this.pools.set(key, pool);
    } else {
      pool.settings = settings; // spec edits apply to the next calls
    }
    // The same endpoint under other TLS settings (the spec changed): its idle connections go.
    for (const [other, otherPool] of this.pools) if (other !== key && otherPool.endpoint === endpoint) otherPool.retire();
    pool.reinstate();
    return new PooledNimbus(pool);
  }

  /** Connection counts of the pool for a (resolved) host:port (its plaintext pool, else the first); for tests and debugging. */
  stats(endpoint: string): AddressPoolStats | undefined {
    const pool = this.pools.get(endpoint) ?? [...this.pools.values()].find((p) => p.endpoint === endpoint && !p.retired);
    return pool?.stats();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pool of this.pools.values()) pool.close();
  }
}

/** The part of a pool key that separates TLS settings ('' for plaintext). */
function tlsKey(tls: NimbusTlsSettings | undefined): string {
  if (!tls) return '';
  return `|tls|${tls.secretNamespace}/${tls.certSecret ?? ''}|${tls.insecureSkipVerify ? 'insecure' : 'verify'}|${tls.serverName}`;
}

interface AddressTls {
  settings: NimbusTlsSettings;
  source: TlsMaterialSource | undefined;
  refreshMs: number;
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
  /** Not the current pool of its endpoint (the spec's TLS settings changed): connections are not kept. */
  retired = false;
  private material: { fingerprint: string; options: TlsConnectionOptions; readAt: number } | undefined;
  readonly endpoint: string;

  constructor(
    readonly host: string,
    readonly port: number,
    public settings: Required<NimbusClientSettings>,
    private readonly maxFrameBytes: number | undefined,
    private readonly tls: AddressTls | undefined,
  ) {
    this.endpoint = `${host}:${port}`;
  }

  retire(): void {
    if (this.retired) return;
    this.retired = true;
    for (const connection of this.idle.splice(0)) connection.close();
  }

  reinstate(): void {
    this.retired = false;
  }

  /**
   * The node:tls options of a new connection (undefined: plaintext). The material is read again
   * once `refreshMs` passed; a change closes the idle connections made with the old one.
   */
  private async tlsOptions(): Promise<TlsConnectionOptions | undefined> {
    if (!this.tls) return undefined;
    const { settings, source, refreshMs } = this.tls;
    if (this.material && Date.now() - this.material.readAt < refreshMs) return this.material.options;
    let material: TlsMaterial = {};
    if (settings.certSecret) {
      if (!source) throw new NimbusError('TLS', `spec.nimbus.thrift.tls.certSecret names Secret ${settings.secretNamespace}/${settings.certSecret}, but this server cannot read Secrets`, { endpoint: this.endpoint });
      try {
        material = await source(settings);
      } catch (err) {
        if (err instanceof NimbusError && !err.endpoint) throw new NimbusError(err.code, err.message, { endpoint: this.endpoint, cause: err.cause });
        throw err;
      }
    }
    const fingerprint = materialFingerprint(material);
    if (this.material && this.material.fingerprint !== fingerprint) {
      for (const connection of this.idle.splice(0)) connection.close();
    }
    this.material = { fingerprint, options: tlsConnectionOptions(settings, material), readAt: Date.now() };
    return this.material.options;
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
          const connection = await NimbusConnection.open({
            host: this.host,
            port: this.port,
            connectTimeoutMs: this.settings.connectionTimeout * 1000,
            maxFrameBytes: this.maxFrameBytes,
            tls: await this.tlsOptions(),
          });
          connection.tlsFingerprint = this.material?.fingerprint;
          return connection;
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
    const current = connection.tlsFingerprint === this.material?.fingerprint;
    if (connection.usable && !this.closed && !this.retired && current) {
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
