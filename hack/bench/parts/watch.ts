// Watch fan-out: W watchers (1,000) on one resource while a writer creates ~1 KB objects at a
// steady rate (200/s for 30 s). Measured: the delivery latency of every event at every watcher,
// from the moment its write was SENT to the moment the watcher's stream delivered it (so it
// includes the write's own latency, reported beside it), and that every watcher got exactly the
// writer's revisions, in order, once each. Same-run baseline: the same measurement with 1
// watcher. The watchers run in worker threads (hack/bench/lib/watch-clients.ts), the writer on
// the main thread, the server in its own process. Also reported: CPU used by the server, the bench
// process and the whole machine during the writes, and CPU µs per delivered event (the figure that
// survives a busy machine). Knobs: BENCH_WATCHERS, BENCH_WRITES_PER_SECOND, BENCH_WATCH_SECONDS
// (else BENCH_SECONDS), BENCH_WATCH_WORKERS; BENCH_SERVER_NODE_OPTIONS for the server's node
// (e.g. `--import=<repo>/dist/hack/bench/lib/cpu-profile-preload.js` with CPU_PROF_DIR to profile it).
import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { figure, round } from '../lib/figures.js';
import type { BenchPart } from '../lib/part.js';
import { startApiServer, type ApiServer } from '../lib/processes.js';
import { knob, percentile } from '../lib/stats.js';
import { mergeResults, monotonicMs, type Expected, type WatchClientsOptions, type WatchClientsPartial, type WatchClientsResult } from '../lib/watch-clients.js';
import { Client } from '../../lib/https-client.js';
import { benchObject, POLICIES } from '../lib/objects.js';

const TARGET_P99_MS = 50;
/** Writes allowed in flight before the writer counts itself behind schedule. */
const MAX_WRITES_IN_FLIGHT = 64;

interface WriterResult {
  expected: Expected;
  writes: number;
  seconds: number;
  /** Writes that started later than 5 ms after their slot (the writer was behind). */
  late: number;
  latencyP50: number;
  latencyP99: number;
}

interface PhaseResult {
  watchers: number;
  writer: WriterResult;
  clients: WatchClientsResult;
  allArrived: boolean;
  /** Cores the server used during the writes: user, system. */
  serverCpu: { user: number; system: number };
  benchCpu: number;
  /** Cores busy on the whole machine (server, bench and anything else running). */
  machineCpu: number;
}

/** Creates `rate` objects per second for `seconds` seconds in `namespace`, on a fixed schedule (not waiting for answers). */
async function runWriter(client: Client, namespace: string, rate: number, seconds: number): Promise<WriterResult> {
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const body = (i: number) => JSON.stringify(benchObject(`w-${String(i).padStart(6, '0')}`));
  const records: Array<{ revision: number; sentAt: number; ackedAt: number }> = [];
  const failures: string[] = [];
  let inFlight = 0;
  let late = 0;
  const started = monotonicMs();
  const pending: Array<Promise<void>> = [];
  for (let i = 0; i < total; i++) {
    const slot = started + i * interval;
    const wait = slot - monotonicMs();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    while (inFlight >= MAX_WRITES_IN_FLIGHT) await new Promise((resolve) => setTimeout(resolve, 1));
    if (monotonicMs() - slot > 5) late++;
    inFlight++;
    const payload = body(i);
    const sentAt = monotonicMs();
    pending.push(
      client
        .request('POST', POLICIES(namespace), { body: payload })
        .then((answer) => {
          const ackedAt = monotonicMs();
          const rv = Number((answer.json as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion);
          if (answer.status !== 201 || !Number.isFinite(rv)) failures.push(`create ${i} answered ${answer.status}: ${answer.body.slice(0, 200)}`);
          else records.push({ revision: rv, sentAt, ackedAt });
        })
        .catch((err: unknown) => void failures.push(`create ${i}: ${(err as Error).message}`))
        .finally(() => void inFlight--),
    );
  }
  await Promise.all(pending);
  const elapsed = (monotonicMs() - started) / 1000;
  if (failures.length > 0) throw new Error(`${failures.length} writes failed, first: ${failures[0]}`);
  records.sort((a, b) => a.revision - b.revision);
  const latencies = records.map((r) => r.ackedAt - r.sentAt);
  return {
    expected: {
      revisions: Float64Array.from(records, (r) => r.revision),
      sentAt: Float64Array.from(records, (r) => r.sentAt),
      ackedAt: Float64Array.from(records, (r) => r.ackedAt),
    },
    writes: records.length,
    seconds: elapsed,
    late,
    latencyP50: percentile(latencies, 50),
    latencyP99: percentile(latencies, 99),
  };
}

/** CPU seconds (user, system) a process has used, from /proc (Linux). */
async function cpuSeconds(pid: number): Promise<{ user: number; system: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 }; // utime, stime in clock ticks (USER_HZ = 100)
}

/** Busy CPU seconds of the whole machine (all cores), from /proc/stat. */
async function machineBusySeconds(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0];
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) / 100;
}

function call<T>(worker: Worker, message: Record<string, unknown>, answer: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type: string; error?: string }) => {
      if (m.type === answer) {
        cleanup();
        resolve(m as T);
      } else if (m.type === 'failed') {
        cleanup();
        reject(new Error(m.error));
      }
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.postMessage(message);
  });
}

async function phase(server: ApiServer, client: Client, watchers: number, rate: number, seconds: number, log: (m: string) => void): Promise<PhaseResult> {
  const namespace = `bench-watch-${watchers}`;
  // The watchers are spread over worker threads, so that no single client thread saturates.
  const workerCount = Math.min(watchers, knob('WATCH_WORKERS', 2));
  const workers = Array.from({ length: workerCount }, () => new Worker(new URL('../lib/watch-clients.js', import.meta.url)));
  const all = <T>(message: (i: number) => Record<string, unknown>, answer: string) => Promise.all(workers.map((w, i) => call<T>(w, message(i), answer)));
  try {
    // Start every watch at the current revision, as a client does after its LIST.
    const listed = await client.request('GET', `${POLICIES(namespace)}?limit=1`);
    if (listed.status !== 200) throw new Error(`list answered ${listed.status}: ${listed.body}`);
    const startRevision = (listed.json as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const options: WatchClientsOptions = {
      url: server.url,
      path: `${POLICIES(namespace)}?watch=1&allowWatchBookmarks=true&resourceVersion=${startRevision}`,
      ca: server.tls.ca,
      cert: server.tls.cert,
      key: server.tls.key,
      watchers: 0,
      connectConcurrency: 25,
      verifyEvery: watchers === 1 ? 1 : 97,
      expectedEvents: Math.round(rate * seconds),
    };
    const share = (i: number) => Math.floor((watchers * (i + 1)) / workerCount) - Math.floor((watchers * i) / workerCount);
    await all((i) => ({ type: 'start', options: { ...options, watchers: share(i) } }), 'ready');
    log(`${watchers} watchers open from revision ${startRevision}; writing ${rate}/s for ${seconds} s`);
    const serverCpuBefore = await cpuSeconds(server.pid);
    const machineBefore = await machineBusySeconds();
    const benchCpuBefore = process.cpuUsage();
    const writer = await runWriter(client, namespace, rate, seconds);
    const lastRevision = writer.expected.revisions[writer.expected.revisions.length - 1];
    const complete = (await all<{ complete: boolean }>(() => ({ type: 'await', lastRevision, timeoutMs: 30_000 }), 'arrived')).every((a) => a.complete);
    const serverCpuAfter = await cpuSeconds(server.pid);
    const serverCpu = {
      user: (serverCpuAfter.user - serverCpuBefore.user) / writer.seconds,
      system: (serverCpuAfter.system - serverCpuBefore.system) / writer.seconds,
    };
    const benchUsage = process.cpuUsage(benchCpuBefore);
    const benchCpu = (benchUsage.user + benchUsage.system) / 1e6 / writer.seconds;
    const machineCpu = ((await machineBusySeconds()) - machineBefore) / writer.seconds;
    const result = mergeResults((await all<{ partial: WatchClientsPartial }>(() => ({ type: 'finish', expected: writer.expected }), 'result')).map((r) => r.partial));
    log(
      `${watchers} watchers: ${result.events} events, p50 ${round(result.sinceSent.p50)} ms, p99 ${round(result.sinceSent.p99)} ms ` +
        `(write p99 ${round(writer.latencyP99)} ms); lost ${result.lost}, duplicated ${result.duplicated}, out of order ${result.outOfOrder}; ` +
        `writes took ${round(writer.seconds, 1)} s; server CPU ${round(serverCpu.user)} user + ${round(serverCpu.system)} sys cores, bench ${round(benchCpu)} cores, whole machine ${round(machineCpu)} cores; watcher loop ${round(result.eventLoopUtilization)}; ` +
        `p99 by second: ${result.p99BySecond.join(' ')}; CPU per delivered event: server ${round(cpuMicros(serverCpu.user + serverCpu.system, writer.seconds, result.events))} µs, bench ${round(cpuMicros(benchCpu, writer.seconds, result.events))} µs`,
    );
    return { watchers, writer, clients: result, allArrived: complete, serverCpu, benchCpu, machineCpu };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** CPU µs per delivered event, from cores used over `seconds`. */
function cpuMicros(cores: number, seconds: number, events: number): number {
  return (cores * seconds * 1e6) / Math.max(1, events);
}

function clean(p: PhaseResult): boolean {
  const c = p.clients;
  return p.allArrived && c.lost === 0 && c.duplicated === 0 && c.outOfOrder === 0 && c.unexpected === 0 && c.errors.length === 0 && c.parseMismatches === 0;
}

function phaseDetails(p: PhaseResult): Record<string, unknown> {
  const c = p.clients;
  const ms = (s: WatchClientsResult['sinceSent']) => ({ p50: round(s.p50), p90: round(s.p90), p99: round(s.p99), max: round(s.max) });
  return {
    watchers: p.watchers,
    writes: p.writer.writes,
    writeRate: round(p.writer.writes / p.writer.seconds, 1),
    writesLate: p.writer.late,
    writeLatencyMs: { p50: round(p.writer.latencyP50), p99: round(p.writer.latencyP99) },
    eventsDelivered: c.events,
    latencySinceSentMs: ms(c.sinceSent),
    latencySinceAckedMs: ms(c.sinceAcked),
    p99BySecondMs: c.p99BySecond,
    lost: c.lost,
    duplicated: c.duplicated,
    outOfOrder: c.outOfOrder,
    unexpected: c.unexpected,
    watchersWithProblems: c.watchersWithProblems,
    allArrived: p.allArrived,
    errors: c.errors.slice(0, 5),
    cheapParseVerified: c.verified,
    cheapParseMismatches: c.parseMismatches,
    serverCpuCores: { user: round(p.serverCpu.user), system: round(p.serverCpu.system) },
    benchProcessCpuCores: round(p.benchCpu),
    machineCpuCores: round(p.machineCpu),
    // Contention-proof cost figures: CPU time per event delivered to one watcher (writes included).
    serverCpuMicrosPerDelivery: round(cpuMicros(p.serverCpu.user + p.serverCpu.system, p.writer.seconds, c.events)),
    benchCpuMicrosPerDelivery: round(cpuMicros(p.benchCpu, p.writer.seconds, c.events)),
    watcherEventLoopUtilization: round(c.eventLoopUtilization),
  };
}

export const watchPart: BenchPart = {
  name: 'watch',
  description: 'watch fan-out: 1,000 watchers, 200 creates/s of ~1 KB objects for 30 s; delivery latency p99 and no loss/dup, vs 1 watcher',
  async run({ log }) {
    const watchers = knob('WATCHERS', 1000);
    const rate = knob('WRITES_PER_SECOND', 200);
    const seconds = knob('WATCH_SECONDS', knob('SECONDS', 30));
    // BENCH_SERVER_NODE_OPTIONS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) profiles the server.
    const nodeOptions = process.env.BENCH_SERVER_NODE_OPTIONS;
    const server = await startApiServer([], nodeOptions ? { env: { NODE_OPTIONS: nodeOptions } } : {});
    const writer = new Client(server.endpoint, { maxSockets: MAX_WRITES_IN_FLIGHT });
    try {
      // Warm-up (JIT, storage): the first seconds of writes are slower than the rest.
      // The writer keeps its connections from the warm-up through both phases.
      await runWriter(writer, 'bench-watch-warmup', rate, Math.min(3, seconds));
      const baseline = await phase(server, writer, 1, rate, seconds, log);
      const subject = await phase(server, writer, watchers, rate, seconds, log);
      const p99 = subject.clients.sinceSent.p99;
      const ok = clean(subject) && clean(baseline);
      return [
        figure({
          part: 'watch',
          figure: `watch fan-out: ${watchers} watchers, ${rate} writes/s for ${seconds} s, delivery latency p99 (from write sent)`,
          measured: { value: p99, unit: 'ms' },
          baseline: { name: '1 watcher, same writes', value: baseline.clients.sinceSent.p99, unit: 'ms' },
          target: `p99 ≤ ${TARGET_P99_MS} ms, no event lost, duplicated or out of order`,
          pass: p99 <= TARGET_P99_MS && ok,
          details: { subject: phaseDetails(subject), baseline: phaseDetails(baseline) },
        }),
      ];
    } finally {
      writer.close();
      await server.stop();
    }
  },
};
