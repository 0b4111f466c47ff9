// The pooled performer gRPC client against real @grpc/grpc-js servers (stand-in performer).
import { createServer } from 'node:net';
import test from 'ava';
import { parseEndpoint, PerformerClientPool } from '../../controllers/hourglass/grpc-pool.js';
import { startStandInPerformer, type StandInPerformer } from '../stand-ins/performer/index.js';
import { eventually } from './helpers.js';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

const FAST_RETRY = { initialBackoffMs: 20, maxBackoffMs: 100 };

const cases: Array<{ title: string; standIn?: { status?: 'SERVING' | 'NOT_SERVING'; delayMs?: number }; service?: string; deadlineMs: number; want: Record<string, unknown> }> = [
  { title: 'SERVING', standIn: { status: 'SERVING' }, deadlineMs: 2_000, want: { status: 'SERVING', attempts: 1 } },
  { title: 'NOT_SERVING', standIn: { status: 'NOT_SERVING' }, deadlineMs: 2_000, want: { status: 'NOT_SERVING', attempts: 1 } },
  { title: 'an unknown service name: SERVICE_UNKNOWN with NOT_FOUND', standIn: {}, service: 'nope', deadlineMs: 2_000, want: { status: 'SERVICE_UNKNOWN', grpcCode: 'NOT_FOUND' } },
  { title: 'slow beyond the deadline: UNREACHABLE with DEADLINE_EXCEEDED, not retried', standIn: { delayMs: 3_000 }, deadlineMs: 500, want: { status: 'UNREACHABLE', grpcCode: 'DEADLINE_EXCEEDED', attempts: 1 } },
  { title: 'nothing listening: UNREACHABLE with UNAVAILABLE after retries', deadlineMs: 3_000, want: { status: 'UNREACHABLE', grpcCode: 'UNAVAILABLE', attempts: 4 } },
];

for (const c of cases) {
  test(`Health/Check: ${c.title}${c.standIn ? " (stand-in performer)" : ""}`, async (t) => {
    const standIn: StandInPerformer | undefined = c.standIn ? await startStandInPerformer(c.standIn) : undefined;
    const pool = new PerformerClientPool(FAST_RETRY);
    t.teardown(async () => {
      await pool.close();
      await standIn?.stop();
    });
    const address = standIn?.address ?? `127.0.0.1:${await closedPort()}`;
    if (c.standIn?.delayMs) {
      // Connect first (answering at once), so the short deadline is spent waiting for the answer.
      standIn!.setDelay(0);
      t.is((await pool.check(address, { deadlineMs: 10_000 })).status, 'SERVING');
      standIn!.setDelay(c.standIn.delayMs);
      standIn!.calls.length = 0;
    }
    const result = await pool.check(address, { deadlineMs: c.deadlineMs, service: c.service });
    t.like(result, c.want);
    t.true(result.latencyMs >= 0);
    t.false(Number.isNaN(Date.parse(result.checkedAt)));
    if (standIn && !c.standIn?.delayMs) t.is(standIn.calls.filter((x) => x.method === 'Check').length, result.attempts);
  });
}

test('a performer that comes back after UNAVAILABLE is reached by a retry (stand-in performer)', async (t) => {
  const port = await closedPort();
  const pool = new PerformerClientPool({ ...FAST_RETRY, maxAttempts: 50 });
  t.teardown(() => pool.close());
  const pending = pool.check(`127.0.0.1:${port}`, { deadlineMs: 20_000 });
  await new Promise((r) => setTimeout(r, 150));
  // The stand-in binds to port 0; a second server on the same fixed port shows the retry path.
  const { Server, ServerCredentials } = await import('@grpc/grpc-js');
  const { performerProtos } = await import('../../controllers/hourglass/protos.js');
  const server = new Server();
  server.addService(performerProtos().Health.service, { Check: (_call: unknown, cb: (e: null, r: object) => void) => cb(null, { status: 'SERVING' }), Watch: () => {} });
  await new Promise<void>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  t.teardown(() => server.forceShutdown());
  const result = await pending;
  t.is(result.status, 'SERVING');
  t.true(result.attempts > 1);
});

test('one channel per address, shared by both services, closed when idle (stand-in performer)', async (t) => {
  const a = await startStandInPerformer();
  const b = await startStandInPerformer();
  const pool = new PerformerClientPool({ idleMs: 200 });
  t.teardown(async () => {
    await pool.close();
    await a.stop();
    await b.stop();
  });
  await pool.check(a.address, { deadlineMs: 2_000 });
  await pool.check(a.address, { deadlineMs: 2_000 });
  const task = await pool.executeTask(a.address, { taskId: Buffer.from('t-1'), payload: Buffer.from('ping') }, { deadlineMs: 2_000 });
  t.is(pool.size, 1);
  t.is(task.taskId.toString(), 't-1');
  t.is(task.result.toString(), 'ping');
  await pool.startSync(a.address, Buffer.from('sync'), { deadlineMs: 2_000 });
  t.deepEqual(
    a.calls.map((c) => c.method),
    ['Check', 'Check', 'ExecuteTask', 'StartSync'],
  );
  await pool.check(b.address, { deadlineMs: 2_000 });
  t.is(pool.size, 2);
  await eventually(() => pool.size === 0, 'idle channels closed');
  t.is((await pool.check(a.address, { deadlineMs: 2_000 })).status, 'SERVING', 'a closed channel is reopened on use');
});

test('the resolver maps an in-cluster name to the dialled address; a closed pool refuses (stand-in performer)', async (t) => {
  const standIn = await startStandInPerformer({ status: 'NOT_SERVING' });
  const seen: string[] = [];
  const pool = new PerformerClientPool({
    resolve: (endpoint) => {
      seen.push(endpoint);
      return standIn.address;
    },
  });
  t.teardown(() => standIn.stop());
  const result = await pool.check('performer-x.ns1.svc.cluster.local:9090', { deadlineMs: 2_000 });
  t.is(result.status, 'NOT_SERVING');
  t.deepEqual(seen, ['performer-x.ns1.svc.cluster.local:9090']);
  standIn.setStatus('SERVING');
  t.is((await pool.check('performer-x.ns1.svc.cluster.local:9090', { deadlineMs: 2_000 })).status, 'SERVING');
  await pool.close();
  await t.throwsAsync(pool.check('performer-x.ns1.svc.cluster.local:9090', { deadlineMs: 2_000 }), { message: /closed/ });
});

test('endpoints must be host:port', (t) => {
  for (const bad of ['performer', 'performer:', ':9090', 'host:0', 'host:70000', 'http://host:9090']) {
    t.throws(() => parseEndpoint(bad), { message: /invalid gRPC endpoint/ }, bad);
  }
  t.deepEqual(parseEndpoint('[::1]:9090'), { host: '[::1]', port: 9090 });
  t.deepEqual(parseEndpoint('performer-a.ns.svc.cluster.local:9090'), { host: 'performer-a.ns.svc.cluster.local', port: 9090 });
});
