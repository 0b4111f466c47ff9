// Stand-in performer (tests only): a real @grpc/grpc-js server on a loopback port serving
// `grpc.health.v1.Health` (Check, Watch) and `eigenlayer.hourglass.v1.performer.PerformerService`
// (StartSync, ExecuteTask: echoes the payload as the result) from the project's own .proto files.
// Its health can be switched (SERVING, NOT_SERVING, …) and it can be made slow (every call waits
// `delayMs` before answering). Tests that use it say `(stand-in performer)` in their title.
import * as grpc from '@grpc/grpc-js';
import { performerProtos, type ServingStatus } from '../../../controllers/hourglass/protos.js';

export interface StandInPerformerOptions {
  status?: ServingStatus;
  delayMs?: number;
  /** Service names known to Health/Check besides '' (others answer NOT_FOUND). */
  services?: string[];
  /** Port to listen on (default: a free one); a stopped stand-in's port brings "it" back at the same address. */
  port?: number;
}

export interface StandInCall {
  method: 'Check' | 'Watch' | 'StartSync' | 'ExecuteTask';
  request: Record<string, unknown>;
  at: number;
}

export interface StandInPerformer {
  /** `127.0.0.1:<port>`. */
  address: string;
  port: number;
  setStatus(status: ServingStatus): void;
  setDelay(ms: number): void;
  /** Every call received, in order. */
  calls: StandInCall[];
  stop(): Promise<void>;
}

export async function startStandInPerformer(options: StandInPerformerOptions = {}): Promise<StandInPerformer> {
  const protos = performerProtos();
  let status: ServingStatus = options.status ?? 'SERVING';
  let delayMs = options.delayMs ?? 0;
  const known = new Set(['', ...(options.services ?? [])]);
  const calls: StandInCall[] = [];
  const watchers = new Set<grpc.ServerWritableStream<{ service: string }, { status: ServingStatus }>>();
  const timers = new Set<NodeJS.Timeout>();

  const later = (fn: () => void) => {
    if (delayMs <= 0) return fn();
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, delayMs);
    timers.add(timer);
  };
  const record = (method: StandInCall['method'], request: Record<string, unknown>) => calls.push({ method, request, at: Date.now() });

  const server = new grpc.Server();
  server.addService(protos.Health.service, {
    Check(call: grpc.ServerUnaryCall<{ service: string }, unknown>, callback: grpc.sendUnaryData<{ status: ServingStatus }>) {
      record('Check', { ...call.request });
      later(() => {
        if (!known.has(call.request.service)) callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${call.request.service}` });
        else callback(null, { status });
      });
    },
    Watch(call: grpc.ServerWritableStream<{ service: string }, { status: ServingStatus }>) {
      record('Watch', { ...call.request });
      watchers.add(call);
      call.on('cancelled', () => watchers.delete(call));
      call.write({ status: known.has(call.request.service) ? status : 'SERVICE_UNKNOWN' });
    },
  });
  server.addService(protos.PerformerService.service, {
    StartSync(call: grpc.ServerUnaryCall<{ payload: Buffer }, unknown>, callback: grpc.sendUnaryData<object>) {
      record('StartSync', { payload: call.request.payload });
      later(() => callback(null, {}));
    },
    ExecuteTask(call: grpc.ServerUnaryCall<{ task_id: Buffer; payload: Buffer }, unknown>, callback: grpc.sendUnaryData<{ task_id: Buffer; result: Buffer }>) {
      record('ExecuteTask', { task_id: call.request.task_id, payload: call.request.payload });
      later(() => callback(null, { task_id: call.request.task_id, result: call.request.payload }));
    },
  });

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );

  return {
    address: `127.0.0.1:${port}`,
    port,
    calls,
    setStatus(next) {
      status = next;
      for (const w of watchers) if (known.has(w.request.service)) w.write({ status });
    },
    setDelay(ms) {
      delayMs = ms;
    },
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      for (const w of watchers) w.end();
      server.forceShutdown();
    },
  };
}
