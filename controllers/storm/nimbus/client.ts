// One connection to Nimbus: a TCP socket speaking Thrift's framed transport (4-byte big-endian
// length, then the message) with the strict binary protocol, as Storm's SimpleTransportPlugin.
// Frames are capped at `maxFrameBytes` both ways (Nimbus's nimbus.thrift.max_buffer_size, 1 MiB):
// a bigger request is refused before it is sent, a bigger reply fails the call and the connection.
//
// One call at a time per connection (the pool hands a connection to one caller). A call that times
// out or fails at the transport leaves the connection unusable: a late reply could otherwise be
// read as the answer to the next call.
//
// With `tls` the same frames go over a TLS socket (Nimbus's `nimbus.thrift.tls.port`); the
// connection counts as open once the handshake is done, and TLS failures are NimbusError code TLS.
import { connect, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { NimbusError } from '../../../registry/storm.apache.org/upstreams.js';
import { fromThriftFailure, tlsConnectionError, transportError } from './errors.js';
import { nimbusService, StrictBinaryProtocol, strictBinaryProtocol, thriftRuntime, type NimbusGeneratedClient } from './generated.js';

export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;

export interface ConnectionOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  maxFrameBytes?: number;
  /** TLS options (CA, client certificate, verification); plaintext when absent. */
  tls?: TlsConnectionOptions;
}

export class NimbusConnection {
  readonly endpoint: string;
  /** When the connection last finished a call (or opened), for the pool's idle timeout. */
  lastUsed = Date.now();
  /** The pool's fingerprint of the TLS material the connection was opened with (undefined: plaintext). */
  tlsFingerprint: string | undefined;
  private readonly client: NimbusGeneratedClient;
  private readonly maxFrameBytes: number;
  private buffered: Buffer = Buffer.alloc(0);
  private broken: NimbusError | undefined;
  private inFlight: ((err: NimbusError) => void) | undefined;

  private constructor(
    private readonly socket: Socket,
    endpoint: string,
    maxFrameBytes: number,
    tls: boolean,
  ) {
    this.endpoint = endpoint;
    this.maxFrameBytes = maxFrameBytes;
    const output = new thriftRuntime.TFramedTransport(undefined, (frame: Buffer) => this.send(frame));
    this.client = new nimbusService.Client(output, StrictBinaryProtocol);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    // TLS 1.3: a refused client certificate arrives as an alert after the client's handshake is done.
    socket.on('error', (err) => this.fail(tls ? tlsConnectionError(err, this.endpoint, false) : transportError(err, this.endpoint, 'connection to Nimbus failed')));
    socket.on('close', () => this.fail(new NimbusError('Unavailable', 'Nimbus closed the connection', { endpoint: this.endpoint })));
  }

  /** Opens a connection (TLS: through the handshake); rejects with Unavailable (refused, unreachable), Timeout, or TLS. */
  static open(options: ConnectionOptions): Promise<NimbusConnection> {
    const endpoint = `${options.host}:${options.port}`;
    const tls = options.tls !== undefined;
    return new Promise((resolve, reject) => {
      const socket = tls ? connectTls({ ...options.tls, host: options.host, port: options.port }) : connect({ host: options.host, port: options.port });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new NimbusError('Timeout', `connecting to Nimbus${tls ? ' over TLS' : ''} took longer than ${options.connectTimeoutMs} ms`, { endpoint }));
      }, options.connectTimeoutMs);
      const onError = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(tls ? tlsConnectionError(err, endpoint, true) : transportError(err, endpoint, 'cannot connect to Nimbus'));
      };
      socket.once('error', onError);
      socket.once(tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve(new NimbusConnection(socket, endpoint, options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, tls));
      });
    });
  }

  /** Whether the connection can take another call. */
  get usable(): boolean {
    return !this.broken && !this.socket.destroyed;
  }

  /**
   * Calls `method` of the generated client with `args`; resolves with the raw (generated) result.
   * Rejects with a NimbusError: the Thrift exception's code, Unavailable/Timeout for the transport,
   * Protocol for a bad or oversized frame or an application exception.
   */
  call(method: string, args: unknown[], timeoutMs: number): Promise<unknown> {
    if (this.broken) return Promise.reject(this.broken);
    if (this.inFlight) return Promise.reject(new Error('NimbusConnection: one call at a time'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new NimbusError('Timeout', `${method}: no answer from Nimbus within ${timeoutMs} ms`, { endpoint: this.endpoint }));
      }, timeoutMs);
      const settle = () => {
        clearTimeout(timer);
        this.inFlight = undefined;
        this.lastUsed = Date.now();
      };
      this.inFlight = (err) => {
        settle();
        reject(err);
      };
      let pending: Promise<unknown>;
      try {
        pending = this.client[method](...args) as Promise<unknown>;
      } catch (err) {
        settle();
        reject(err instanceof NimbusError ? err : fromThriftFailure(err, method, this.endpoint));
        return;
      }
      pending.then(
        (result) => {
          if (!this.inFlight) return; // already failed (timeout, transport)
          settle();
          resolve(result);
        },
        (err: unknown) => {
          if (!this.inFlight) return;
          settle();
          reject(err instanceof NimbusError ? err : fromThriftFailure(err, method, this.endpoint));
        },
      );
    });
  }

  close(): void {
    this.broken ??= new NimbusError('Unavailable', 'connection closed', { endpoint: this.endpoint });
    this.socket.destroy();
  }

  /** The generated client's framed output: one frame per message. Throws (failing the call before anything is sent) when too big. */
  private send(frame: Buffer): void {
    const size = frame.length - 4;
    if (size > this.maxFrameBytes) {
      // The generated transport keeps a failed message buffered: this connection is done.
      const err = new NimbusError('Protocol', `request of ${size} bytes exceeds the ${this.maxFrameBytes}-byte Thrift frame limit`, { endpoint: this.endpoint });
      this.fail(err);
      throw err;
    }
    this.socket.write(frame);
  }

  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 4) {
      const size = this.buffered.readInt32BE(0);
      if (size < 0 || size > this.maxFrameBytes) {
        this.fail(new NimbusError('Protocol', `Nimbus sent a frame of ${size} bytes; the limit is ${this.maxFrameBytes}`, { endpoint: this.endpoint }));
        return;
      }
      if (this.buffered.length < 4 + size) return;
      const frame = this.buffered.subarray(4, 4 + size);
      this.buffered = this.buffered.subarray(4 + size);
      this.dispatch(frame);
    }
  }

  /** Decodes one reply and hands it to the generated `recv_<method>`, which settles the call. */
  private dispatch(frame: Buffer): void {
    try {
      const input = strictBinaryProtocol(new thriftRuntime.TFramedTransport(frame));
      const { fname, mtype, rseqid } = input.readMessageBegin();
      const recv = this.client[`recv_${fname}`];
      if (typeof recv !== 'function' || !this.client._reqs[rseqid]) {
        throw new Error(`unexpected reply ${JSON.stringify(fname)} (sequence ${rseqid})`);
      }
      recv.call(this.client, input, mtype, rseqid);
    } catch (err) {
      this.fail(new NimbusError('Protocol', `cannot decode the reply of Nimbus: ${err instanceof Error ? err.message : String(err)}`, { endpoint: this.endpoint, cause: err }));
    }
  }

  /** Marks the connection broken, closes it, and fails the call in flight. */
  private fail(err: NimbusError): void {
    this.broken ??= err;
    if (!this.socket.destroyed) this.socket.destroy();
    const inFlight = this.inFlight;
    this.inFlight = undefined;
    inFlight?.(err);
  }
}
