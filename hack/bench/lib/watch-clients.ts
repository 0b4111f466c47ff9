// The watchers of the watch fan-out figure, run in worker threads (BENCH_WATCH_WORKERS, default 2)
// so that reading 1,000 streams never stalls the writer on the main thread and no single client
// thread saturates (each worker's event-loop utilisation is measured and reported).
//
// Each watcher is its own TLS connection and its own HTTP/1.1 `GET …?watch=1&resourceVersion=R`
// request, as client-go and kubectl watch (client certificate of the local user, CA-checked).
// The response is read with a small chunked-encoding decoder, and events are read cheaply: lines
// are cut from the raw buffers and only `type` (the bytes after `{"type":"`) and the first
// `"resourceVersion":"…"` of the line (the object's metadata.resourceVersion: the server writes
// `{"type":…,"object":{…,"metadata":{…}}}` and the bench objects carry no other resourceVersion)
// are extracted. Every `verifyEvery`-th line is also JSON.parse'd and compared, so a wrong cheap
// parse is counted (and fails the figure), not silently believed.
//
// Protocol (parentPort messages):
//   in  {type:'start', options: WatchClientsOptions}  → out {type:'ready'} once every watch answered 200
//   in  {type:'await', lastRevision, timeoutMs}         → out {type:'arrived', complete} once every
//                                                          watcher has seen lastRevision (or the timeout)
//   in  {type:'finish', expected: {revisions, sentAt, ackedAt}} → out {type:'result', partial: WatchClientsPartial}
//                                                          (merged over the workers by `mergeResults`)
import { connect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';

export interface WatchClientsOptions {
  url: string;
  path: string;
  ca: string;
  cert?: string;
  key?: string;
  watchers: number;
  /** Watches opened at once (TLS handshakes are the cost). */
  connectConcurrency: number;
  /** Full JSON.parse check of every n-th line (1 = every line). */
  verifyEvery: number;
  /** Expected events per watcher (pre-sizes the arrays; they grow if needed). */
  expectedEvents: number;
}

export interface Expected {
  /** The revisions the writer got back, ascending. */
  revisions: Float64Array;
  /** When each write was sent / acknowledged (monotonic ms, see `monotonicMs`), index-aligned with revisions. */
  sentAt: Float64Array;
  ackedAt: Float64Array;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface WatchClientsResult {
  watchers: number;
  events: number;
  /** Expected events a watcher never received, summed over watchers. */
  lost: number;
  /** Revisions a watcher received more than once. */
  duplicated: number;
  /** Events received after an event with a higher revision. */
  outOfOrder: number;
  /** Revisions received that the writer never got back (another writer, a failed write). */
  unexpected: number;
  /** ERROR events, non-200 answers, stream errors, early ends. */
  errors: string[];
  watchersWithProblems: number;
  /** Receive time minus the time the write was sent, per watcher per event. */
  sinceSent: LatencySummary;
  /** Receive time minus the time the write's answer arrived (negative when the event came first). */
  sinceAcked: LatencySummary;
  /** p99 of sinceSent per second of the run (by the write's send time): where the tail comes from. */
  p99BySecond: number[];
  /** Lines checked with JSON.parse, and how many the cheap parse got wrong. */
  verified: number;
  parseMismatches: number;
  /** Event-loop utilisation of the busiest watcher worker between 'ready' and 'arrived' (1 = saturated). */
  eventLoopUtilization: number;
}

/** Monotonic ms shared by every thread of the process (process.hrtime is CLOCK_MONOTONIC). */
const hrOffset = Number(process.hrtime.bigint()) / 1e6 - performance.now();
export function monotonicMs(): number {
  return performance.now() + hrOffset;
}

const NEWLINE = 0x0a;
const RV_NEEDLE = Buffer.from('"resourceVersion":"');
const TYPE_PREFIX = Buffer.from('{"type":"');
const TYPE_BY_FIRST_BYTE: Record<number, string> = { 0x41: 'ADDED', 0x4d: 'MODIFIED', 0x44: 'DELETED', 0x42: 'BOOKMARK', 0x45: 'ERROR' };

class WatchClient {
  revisions: Float64Array;
  receivedAt: Float64Array;
  count = 0;
  lastRevision = 0;
  errors: string[] = [];
  private pending: Buffer | undefined;
  private lines = 0;
  private socket: TLSSocket | undefined;
  private state: 'size' | 'data' | 'crlf' | 'done' = 'size';
  private sizeLine = '';
  private remaining = 0;
  ended = false;

  constructor(
    private readonly shared: { verifyEvery: number; verified: number; mismatches: number },
    capacity: number,
  ) {
    this.revisions = new Float64Array(capacity);
    this.receivedAt = new Float64Array(capacity);
  }

  /**
   * Opens the watch: its own TLS connection, one HTTP/1.1 GET, the chunked response decoded here
   * (a few lines of state machine instead of http.ClientRequest's parser and streams, so that the
   * client's cost per event stays small next to the server's).
   */
  open(options: WatchClientsOptions, secureContext: SecureContext): Promise<void> {
    const url = new URL(options.path, options.url);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: url.hostname, port: Number(url.port), secureContext, servername: undefined });
      this.socket = socket;
      let head = '';
      let opened = false;
      socket.on('secureConnect', () => {
        socket.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nAccept: application/json\r\nUser-Agent: bench-watch\r\n\r\n`);
      });
      socket.on('data', (chunk: Buffer) => {
        const now = monotonicMs();
        if (opened) return this.onChunked(chunk, now);
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
        if (status !== 200 || !/\r\ntransfer-encoding: *chunked\r\n/i.test(head.slice(0, end + 2))) {
          socket.destroy();
          reject(new Error(`watch answered ${status}: ${head.slice(0, 600)}`));
          return;
        }
        opened = true;
        resolve();
        const rest = Buffer.from(head.slice(end + 4), 'latin1');
        head = '';
        if (rest.length > 0) this.onChunked(rest, now);
      });
      socket.on('end', () => {
        this.ended = true;
        if (!closing && this.state !== 'done') this.errors.push('stream ended early');
      });
      socket.on('error', (err) => {
        if (!closing) this.errors.push(`stream error: ${err.message}`);
        if (!opened) reject(err);
      });
    });
  }

  close(): void {
    this.socket?.destroy();
  }

  /** Decodes `Transfer-Encoding: chunked`; chunk data goes to the line splitter. */
  private onChunked(buf: Buffer, now: number): void {
    let at = 0;
    while (at < buf.length) {
      switch (this.state) {
        case 'size': {
          const end = buf.indexOf(NEWLINE, at);
          if (end < 0) {
            this.sizeLine += buf.toString('latin1', at);
            return;
          }
          this.sizeLine += buf.toString('latin1', at, end);
          at = end + 1;
          this.remaining = parseInt(this.sizeLine, 16); // stops at '\r' or a ';' extension
          this.sizeLine = '';
          if (!(this.remaining >= 0)) {
            this.errors.push('bad chunk size');
            this.state = 'done';
            return;
          }
          this.state = this.remaining === 0 ? 'done' : 'data';
          break;
        }
        case 'data': {
          const take = Math.min(this.remaining, buf.length - at);
          this.onData(buf.subarray(at, at + take), now);
          at += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            this.state = 'crlf';
            this.remaining = 2;
          }
          break;
        }
        case 'crlf': {
          const take = Math.min(this.remaining, buf.length - at);
          at += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = 'size';
          break;
        }
        case 'done':
          return;
      }
    }
  }

  private onData(chunk: Buffer, now: number): void {
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let start = 0;
    for (;;) {
      const end = buf.indexOf(NEWLINE, start);
      if (end < 0) break;
      if (end > start) this.onLine(buf, start, end, now);
      start = end + 1;
    }
    if (start < buf.length) this.pending = buf.subarray(start);
  }

  private onLine(buf: Buffer, start: number, end: number, now: number): void {
    let type: string | undefined;
    if (buf.compare(TYPE_PREFIX, 0, TYPE_PREFIX.length, start, start + TYPE_PREFIX.length) === 0) {
      type = TYPE_BY_FIRST_BYTE[buf[start + TYPE_PREFIX.length]];
    }
    let revision = NaN;
    const at = buf.indexOf(RV_NEEDLE, start);
    if (at >= 0 && at < end) {
      revision = 0;
      for (let i = at + RV_NEEDLE.length; i < end; i++) {
        const digit = buf[i] - 0x30;
        if (digit < 0 || digit > 9) break;
        revision = revision * 10 + digit;
      }
    }
    if (++this.lines % this.shared.verifyEvery === 0) this.verify(buf.toString('utf8', start, end), type, revision);
    if (type === 'BOOKMARK') return;
    if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') {
      this.errors.push(`unexpected line: ${buf.toString('utf8', start, Math.min(end, start + 300))}`);
      return;
    }
    if (this.count === this.revisions.length) this.grow();
    this.revisions[this.count] = revision;
    this.receivedAt[this.count] = now;
    this.count++;
    if (revision > this.lastRevision) this.lastRevision = revision;
  }

  private verify(line: string, type: string | undefined, revision: number): void {
    this.shared.verified++;
    try {
      const event = JSON.parse(line) as { type?: string; object?: { metadata?: { resourceVersion?: string } } };
      const expectedRevision = event.type === 'ERROR' ? NaN : Number(event.object?.metadata?.resourceVersion);
      const sameRevision = Number.isNaN(expectedRevision) ? Number.isNaN(revision) || event.type === 'ERROR' : expectedRevision === revision;
      if (event.type !== type || !sameRevision) this.shared.mismatches++;
    } catch {
      this.shared.mismatches++;
    }
  }

  private grow(): void {
    const size = this.revisions.length * 2 || 1024;
    const revisions = new Float64Array(size);
    revisions.set(this.revisions);
    const receivedAt = new Float64Array(size);
    receivedAt.set(this.receivedAt);
    this.revisions = revisions;
    this.receivedAt = receivedAt;
  }
}

let closing = false;
let clients: WatchClient[] = [];
const shared = { verifyEvery: 1, verified: 0, mismatches: 0 };
let eluStart: ReturnType<typeof performance.eventLoopUtilization> | undefined;
let elu = NaN;

async function start(options: WatchClientsOptions): Promise<void> {
  shared.verifyEvery = Math.max(1, options.verifyEvery);
  clients = Array.from({ length: options.watchers }, () => new WatchClient(shared, Math.ceil(options.expectedEvents * 1.1) + 16));
  const secureContext = createSecureContext({ ca: options.ca, cert: options.cert, key: options.key });
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(options.connectConcurrency, clients.length) }, async () => {
      while (next < clients.length) await clients[next++].open(options, secureContext);
    }),
  );
  eluStart = performance.eventLoopUtilization();
}

async function awaitArrival(lastRevision: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const complete = clients.every((c) => c.lastRevision >= lastRevision || c.ended);
    if (complete || Date.now() > deadline) {
      if (eluStart) elu = performance.eventLoopUtilization(eluStart).utilization;
      return complete;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function summary(samples: Float64Array): LatencySummary {
  if (samples.length === 0) return { count: 0, p50: NaN, p90: NaN, p99: NaN, max: NaN };
  const sorted = samples.slice().sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  return { count: sorted.length, p50: at(50), p90: at(90), p99: at(99), max: sorted[sorted.length - 1] };
}

function p99BySecond(latencies: Float64Array, seconds: Uint16Array): number[] {
  const buckets: number[][] = [];
  latencies.forEach((latency, i) => (buckets[seconds[i]] ??= []).push(latency));
  return Array.from(buckets, (bucket) => (bucket ? Math.round(summary(Float64Array.from(bucket)).p99 * 10) / 10 : NaN));
}

function finish(expected: Expected): WatchClientsPartial {
  closing = true;
  for (const c of clients) c.close();
  const indexOf = new Map<number, number>();
  expected.revisions.forEach((rv, i) => indexOf.set(rv, i));
  const total = clients.reduce((n, c) => n + c.count, 0);
  const sinceSent = new Float64Array(total);
  const sinceAcked = new Float64Array(total);
  const secondOf = new Uint16Array(total);
  const firstSent = expected.sentAt.reduce((a, b) => Math.min(a, b), Infinity);
  let samples = 0;
  let lost = 0;
  let duplicated = 0;
  let outOfOrder = 0;
  let unexpected = 0;
  let watchersWithProblems = 0;
  const errors: string[] = [];
  const seen = new Uint8Array(expected.revisions.length);
  for (const c of clients) {
    seen.fill(0);
    let problems = c.errors.length;
    for (const e of c.errors) if (errors.length < 20) errors.push(e);
    let previous = -Infinity;
    for (let i = 0; i < c.count; i++) {
      const rv = c.revisions[i];
      if (rv < previous) {
        outOfOrder++;
        problems++;
      }
      previous = Math.max(previous, rv);
      const index = indexOf.get(rv);
      if (index === undefined) {
        unexpected++;
        problems++;
        continue;
      }
      if (seen[index]) {
        duplicated++;
        problems++;
        continue;
      }
      seen[index] = 1;
      sinceSent[samples] = c.receivedAt[i] - expected.sentAt[index];
      secondOf[samples] = Math.floor((expected.sentAt[index] - firstSent) / 1000);
      sinceAcked[samples] = c.receivedAt[i] - expected.ackedAt[index];
      samples++;
    }
    for (let i = 0; i < seen.length; i++) {
      if (!seen[i]) {
        lost++;
        problems++;
      }
    }
    if (problems > 0) watchersWithProblems++;
  }
  return {
    watchers: clients.length,
    events: total,
    lost,
    duplicated,
    outOfOrder,
    unexpected,
    errors,
    watchersWithProblems,
    sinceSent: sinceSent.slice(0, samples),
    sinceAcked: sinceAcked.slice(0, samples),
    secondOf: secondOf.slice(0, samples),
    verified: shared.verified,
    parseMismatches: shared.mismatches,
    eventLoopUtilization: elu,
  };
}

/** One worker's share: counts, and the raw latency samples (merged by `mergeResults`). */
export interface WatchClientsPartial
  extends Omit<WatchClientsResult, 'sinceSent' | 'sinceAcked' | 'p99BySecond'> {
  sinceSent: Float64Array;
  sinceAcked: Float64Array;
  secondOf: Uint16Array;
}

/** The result of all workers: sums, and percentiles over every sample (ELU: the busiest worker's). */
export function mergeResults(partials: WatchClientsPartial[]): WatchClientsResult {
  const concat = <T extends Float64Array | Uint16Array>(arrays: T[], make: (n: number) => T): T => {
    const out = make(arrays.reduce((n, a) => n + a.length, 0));
    let at = 0;
    for (const a of arrays) {
      out.set(a, at);
      at += a.length;
    }
    return out;
  };
  const sum = (pick: (p: WatchClientsPartial) => number) => partials.reduce((n, p) => n + pick(p), 0);
  const sinceSent = concat(partials.map((p) => p.sinceSent), (n) => new Float64Array(n));
  const secondOf = concat(partials.map((p) => p.secondOf), (n) => new Uint16Array(n));
  return {
    watchers: sum((p) => p.watchers),
    events: sum((p) => p.events),
    lost: sum((p) => p.lost),
    duplicated: sum((p) => p.duplicated),
    outOfOrder: sum((p) => p.outOfOrder),
    unexpected: sum((p) => p.unexpected),
    errors: partials.flatMap((p) => p.errors).slice(0, 20),
    watchersWithProblems: sum((p) => p.watchersWithProblems),
    sinceSent: summary(sinceSent),
    sinceAcked: summary(concat(partials.map((p) => p.sinceAcked), (n) => new Float64Array(n))),
    p99BySecond: p99BySecond(sinceSent, secondOf),
    verified: sum((p) => p.verified),
    parseMismatches: sum((p) => p.parseMismatches),
    eventLoopUtilization: Math.max(...partials.map((p) => p.eventLoopUtilization)),
  };
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (message: { type: string; [key: string]: any }) => {
    const reply = (run: () => Promise<Record<string, unknown>> | Record<string, unknown>) =>
      Promise.resolve()
        .then(run)
        .then(
          (out) => port.postMessage(out),
          (err: unknown) => port.postMessage({ type: 'failed', error: err instanceof Error ? err.message : String(err) }),
        );
    switch (message.type) {
      case 'start':
        void reply(async () => (await start(message.options as WatchClientsOptions), { type: 'ready' }));
        break;
      case 'await':
        void reply(async () => ({ type: 'arrived', complete: await awaitArrival(message.lastRevision as number, message.timeoutMs as number) }));
        break;
      case 'finish':
        void reply(() => ({ type: 'result', partial: finish(message.expected as Expected) }));
        break;
    }
  });
}
