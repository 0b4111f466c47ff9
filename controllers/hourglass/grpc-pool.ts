// The gRPC client side of performers: one channel per dialled address, shared by the health and
// performer services, closed after it has been idle a while; calls carry deadlines; a call that
// fails with UNAVAILABLE (connection refused, name not resolved, connection dropped) is retried
// with exponential backoff and jitter within the caller's deadline. No other code is retried:
// a DEADLINE_EXCEEDED means the performer is too slow, and waiting longer is the caller's call.
//
// Endpoints are `host:port` as the performer's status names them
// (`performer-x.ns.svc.cluster.local:9090`); `resolve` maps an endpoint to the address dialled
// (identity by default: DNS does it in the cluster; tests map names to loopback stand-ins).
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import type { PerformerHealth, PerformerHealthOptions, PerformerHealthResult } from '../../registry/hourglass.eigenlayer.io/upstreams.js';
import { grpcCodeName, performerProtos, type ServingStatus } from './protos.js';

export interface PerformerClientPoolOptions {
  /** Maps an endpoint to the `host:port` dialled. Default: the endpoint itself. */
  resolve?(endpoint: string): string | Promise<string>;
  /** A channel unused this long is closed (default 5 minutes). */
  idleMs?: number;
  /** Calls per request at most, the first included (default 4). */
  maxAttempts?: number;
  /** Backoff before the first retry (default 100 ms), doubled per retry up to `maxBackoffMs` (default 1 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface CallOptions {
  deadlineMs: number;
  signal?: AbortSignal;
}

export interface TaskResult {
  taskId: Buffer;
  result: Buffer;
}

interface PooledChannel {
  address: string;
  health: grpc.Client;
  performer: grpc.Client;
  inFlight: number;
  idleTimer?: NodeJS.Timeout;
}

/** Our `host:port` check: a non-empty host (name, IPv4 or [IPv6]) and a port 1..65535. */
const ENDPOINT = /^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):(\d{1,5})$/;

export function parseEndpoint(endpoint: string): { host: string; port: number } {
  const m = ENDPOINT.exec(endpoint);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) throw new Error(`invalid gRPC endpoint ${JSON.stringify(endpoint)}: want host:port`);
  return { host: m[1], port };
}

class CallFailed extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`${grpcCodeName(code)}: ${details}`);
  }
}

/** Where a grpc-js call error is a ServiceError, its code; otherwise UNKNOWN. */
function serviceError(err: unknown): CallFailed {
  const e = err as Partial<grpc.ServiceError> | null;
  if (e && typeof e.code === 'number') return new CallFailed(e.code, e.details ?? e.message ?? '');
  return new CallFailed(grpc.status.UNKNOWN, String(err));
}

export class PerformerClientPool implements PerformerHealth {
  private readonly channels = new Map<string, PooledChannel>();
  private readonly idleMs: number;
  private readonly maxAttempts: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private closed = false;

  constructor(private readonly options: PerformerClientPoolOptions = {}) {
    this.idleMs = options.idleMs ?? 5 * 60_000;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.initialBackoffMs = options.initialBackoffMs ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 1_000;
  }

  /** Channels open now (for tests and metrics). */
  get size(): number {
    return this.channels.size;
  }

  async check(endpoint: string, options: PerformerHealthOptions): Promise<PerformerHealthResult> {
    let attempts = 0;
    let started = performance.now();
    const done = (r: Omit<PerformerHealthResult, 'latencyMs' | 'attempts' | 'checkedAt'>): PerformerHealthResult => ({
      ...r,
      latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
      attempts,
      checkedAt: new Date().toISOString(),
    });
    try {
      const response = await this.call<{ status: ServingStatus }>(endpoint, 'health', 'Check', { service: options.service ?? '' }, options, () => {
        attempts++;
        started = performance.now();
      });
      return done({ status: response.status ?? 'UNKNOWN' });
    } catch (err) {
      if (!(err instanceof CallFailed)) throw err;
      const failure = { grpcCode: grpcCodeName(err.code), message: err.details };
      if (err.code === grpc.status.NOT_FOUND) return done({ status: 'SERVICE_UNKNOWN', ...failure });
      if (err.code === grpc.status.UNIMPLEMENTED) return done({ status: 'UNKNOWN', ...failure });
      return done({ status: 'UNREACHABLE', ...failure });
    }
  }

  /** `PerformerService/ExecuteTask`. Rejects with an Error naming the gRPC code on failure. */
  async executeTask(endpoint: string, task: { taskId: Uint8Array; payload: Uint8Array }, options: CallOptions): Promise<TaskResult> {
    const r = await this.call<{ task_id: Buffer; result: Buffer }>(endpoint, 'performer', 'ExecuteTask', { task_id: Buffer.from(task.taskId), payload: Buffer.from(task.payload) }, options);
    return { taskId: r.task_id, result: r.result };
  }

  /** `PerformerService/StartSync`. */
  async startSync(endpoint: string, payload: Uint8Array, options: CallOptions): Promise<void> {
    await this.call(endpoint, 'performer', 'StartSync', { payload: Buffer.from(payload) }, options);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const channel of this.channels.values()) this.closeChannel(channel);
  }

  private async channel(endpoint: string): Promise<PooledChannel> {
    if (this.closed) throw new Error('performer client pool is closed');
    parseEndpoint(endpoint);
    const address = await (this.options.resolve?.(endpoint) ?? endpoint);
    parseEndpoint(address);
    let channel = this.channels.get(address);
    if (!channel) {
      const protos = performerProtos();
      const health = new protos.Health(address, grpc.credentials.createInsecure(), {
        // Reconnect soon enough for our retries to see a performer that has come back.
        'grpc.initial_reconnect_backoff_ms': this.initialBackoffMs,
        'grpc.max_reconnect_backoff_ms': Math.max(this.maxBackoffMs, this.initialBackoffMs),
      });
      const performer = new protos.PerformerService(address, grpc.credentials.createInsecure(), { channelOverride: health.getChannel() });
      channel = { address, health, performer, inFlight: 0 };
      this.channels.set(address, channel);
    }
    return channel;
  }

  private closeChannel(channel: PooledChannel): void {
    clearTimeout(channel.idleTimer);
    if (this.channels.get(channel.address) === channel) this.channels.delete(channel.address);
    channel.health.close();
  }

  /** One unary call with the retry policy; rejects with CallFailed (gRPC failure) or Error (cannot call). */
  private async call<T>(
    endpoint: string,
    service: 'health' | 'performer',
    method: string,
    request: object,
    options: CallOptions,
    onAttempt?: () => void,
  ): Promise<T> {
    const deadlineAt = Date.now() + options.deadlineMs;
    let backoff = this.initialBackoffMs;
    for (let attempt = 1; ; attempt++) {
      const channel = await this.channel(endpoint);
      clearTimeout(channel.idleTimer);
      channel.inFlight++;
      onAttempt?.();
      try {
        return await this.unary<T>(channel[service], method, request, deadlineAt, options.signal);
      } catch (err) {
        const failure = err instanceof CallFailed ? err : serviceError(err);
        const wait = backoff * (0.8 + Math.random() * 0.4);
        const retry =
          failure.code === grpc.status.UNAVAILABLE && attempt < this.maxAttempts && Date.now() + wait < deadlineAt && !options.signal?.aborted && !this.closed;
        if (!retry) throw failure;
        await sleep(wait, options.signal);
        backoff = Math.min(backoff * 2, this.maxBackoffMs);
      } finally {
        channel.inFlight--;
        this.scheduleIdleClose(channel);
      }
    }
  }

  private unary<T>(client: grpc.Client, method: string, request: object, deadlineAt: number, signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fn = (client as unknown as Record<string, Function>)[method];
      const call: grpc.ClientUnaryCall = fn.call(client, request, { deadline: new Date(deadlineAt) }, (err: grpc.ServiceError | null, response: T) => {
        signal?.removeEventListener('abort', cancel);
        if (err) reject(serviceError(err));
        else resolve(response);
      });
      const cancel = () => call.cancel();
      if (signal?.aborted) call.cancel();
      else signal?.addEventListener('abort', cancel, { once: true });
    });
  }

  private scheduleIdleClose(channel: PooledChannel): void {
    if (channel.inFlight > 0 || this.closed) return;
    clearTimeout(channel.idleTimer);
    channel.idleTimer = setTimeout(() => {
      if (channel.inFlight === 0) this.closeChannel(channel);
    }, this.idleMs);
    channel.idleTimer.unref();
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
