// Every host-cluster API call has a deadline (`--host-request-timeout`, controllers/host-client.ts):
// a host that accepts connections and never answers must not hold a reconcile, a lease call or an
// authenticated request forever. A call past its deadline fails with HostRequestTimeoutError,
// which controllers treat as "host unavailable", and the next call after the host is back works.
// The host is the stand-in host cluster (test/hostcluster, its `hung` outage), or for answers it
// cannot give (no TLS handshake, a body that never ends) a raw loopback socket.
import { CoreV1Api, KubeConfig, Observable, type RequestContext, type ResponseContext } from '@kubernetes/client-node';
import test from 'ava';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { completeOptions } from '../../apiserver/options.js';
import { DEFAULT_HOST_REQUEST_TIMEOUT_MS, HostClient, HostKubeConfig, loadHostKubeConfig } from '../../controllers/host-client.js';
import { describeHostError, HostRequestTimeoutError, isHostUnavailable } from '../../controllers/http-errors.js';
import { HostLeaseLock } from '../../controllers/leader-election.js';
import { findCondition, type Condition } from '../../controllers/status.js';
import type { KubeObject } from '../../registry/meta.js';
import { call } from '../auth/helpers.js';
import { startTestServer } from '../helpers/server.js';
import { startHostCluster, type HostCluster } from '../hostcluster/index.js';
import { PERFORMERS, StandInNetwork, startHourglassServer } from '../hourglass/helpers.js';
import { startStandInPerformer, type StandInPerformer } from '../stand-ins/performer/index.js';
import { create, eventually, sample } from './helpers.js';

/** Short, so the tests do not wait long; the guard below is far longer. */
const TIMEOUT_MS = 400;
/** A call still pending after this long is taken as hanging (a generous bound, not a timing assertion). */
const HANG_GUARD_MS = 20_000;

let host: HostCluster;

test.before(async () => {
  host = await startHostCluster();
  const core = host.kubeConfig().makeApiClient(CoreV1Api);
  for (const name of ['deadline-calls', 'deadline-performer']) await core.createNamespace({ body: { metadata: { name } } });
});
test.after.always(async () => {
  await host?.setOutage(undefined);
  await host?.stop();
});

const TIMEOUT_FLAGS: Array<{ flag?: string; ms?: number; error?: RegExp }> = [
  { flag: undefined, ms: DEFAULT_HOST_REQUEST_TIMEOUT_MS },
  { flag: '5s', ms: 5_000 },
  { flag: '1m30s', ms: 90_000 },
  { flag: '0', error: /--host-request-timeout=0: expected a positive duration/ },
  { flag: 'soon', error: /--host-request-timeout=soon: expected a positive duration/ },
];

for (const { flag, ms, error } of TIMEOUT_FLAGS) {
  test(`--host-request-timeout=${flag ?? '(unset)'} ${error ? 'is refused' : `is ${ms} ms`}`, (t) => {
    const complete = () => completeOptions(flag === undefined ? {} : { 'host-request-timeout': flag });
    if (error) t.throws(complete, { message: error });
    else t.is(complete().controllers.hostRequestTimeoutMs, ms!);
  });
}

/** The rejection of `call`, failing the test if it resolves or is still pending after HANG_GUARD_MS. */
async function rejectionOf(call: Promise<unknown>, what: string): Promise<unknown> {
  let guard: NodeJS.Timeout | undefined;
  const hanging = new Promise<never>((_, reject) => {
    guard = setTimeout(() => reject(new Error(`${what}: still waiting after ${HANG_GUARD_MS} ms (the deadline did not end it)`)), HANG_GUARD_MS);
  });
  try {
    await Promise.race([call.then(() => Promise.reject(new Error(`${what}: answered, expected a timeout`))), hanging]);
    throw new Error('unreachable');
  } catch (err) {
    if (err instanceof Error && err.message.startsWith(`${what}: `)) throw err;
    return err;
  } finally {
    clearTimeout(guard);
  }
}

/** Host calls of every shape the controllers make, on a client whose deadline is TIMEOUT_MS. */
const HOST_CALLS: Array<{ name: string; run: (kc: HostKubeConfig) => Promise<unknown>; path: RegExp }> = [
  { name: 'a typed read (CoreV1Api)', run: (kc) => kc.makeApiClient(CoreV1Api).readNamespace({ name: 'default' }), path: /GET \/api\/v1\/namespaces\/default\b/ },
  {
    name: 'a write (create ConfigMap)',
    // generateName: the timed-out create may still be carried out once the host answers (as on a real host).
    run: (kc) => kc.makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace: 'deadline-calls', body: { metadata: { generateName: 'written-' } } }),
    path: /POST \/api\/v1\/namespaces\/deadline-calls\/configmaps\b/,
  },
  {
    name: 'HostClient.deleteManaged (list by label)',
    run: (kc) => {
      const client = new HostClient(kc);
      return client.deleteManaged({ group: 'g', kind: 'K', namespace: 'deadline-calls', name: 'x' }, [client.types.configMaps]);
    },
    path: /GET \/api\/v1\/configmaps\b/,
  },
  { name: 'a leader-election Lease read', run: (kc) => new HostLeaseLock(kc, 'deadline-calls', 'lease').get(), path: /GET \/apis\/coordination\.k8s\.io\/v1\/namespaces\/deadline-calls\/leases\/lease\b/ },
];

for (const hostCall of HOST_CALLS) {
  test.serial(`${hostCall.name} on a hung host API fails as host-unavailable at the deadline, and works once the host answers (stand-in host cluster)`, async (t) => {
    const kc = loadHostKubeConfig(host.kubeconfigPath, TIMEOUT_MS)!;
    await host.setOutage('hung');
    t.teardown(() => host.setOutage(undefined));
    const err = await rejectionOf(hostCall.run(kc), hostCall.name);
    t.true(err instanceof HostRequestTimeoutError, String(err));
    t.true(isHostUnavailable(err), 'controllers report it and poll again');
    t.regex(describeHostError(err), /^the host cluster did not answer /);
    t.regex(describeHostError(err), hostCall.path);
    t.regex(describeHostError(err), /within 0\.4s$/);

    await host.setOutage(undefined);
    await t.notThrowsAsync(hostCall.run(kc), 'the same client works once the host answers');
  });
}

test.serial('HostClient bounds a plain KubeConfig too, and every API client made from its kubeConfig (stand-in host cluster)', async (t) => {
  const client = new HostClient(host.kubeConfig());
  t.true(client.kubeConfig instanceof HostKubeConfig);
  const bounded = new HostClient(HostKubeConfig.from(host.kubeConfig(), TIMEOUT_MS));
  await host.setOutage('hung');
  t.teardown(() => host.setOutage(undefined));
  const err = await rejectionOf(bounded.kubeConfig.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'deadline-calls' }), 'list pods');
  t.true(isHostUnavailable(err), String(err));
  await host.setOutage(undefined);
  t.deepEqual((await bounded.core.listNamespacedPod({ namespace: 'deadline-calls' })).items, []);
});

test.serial('an abort by the caller’s own signal stays the caller’s abort, not a host timeout (stand-in host cluster)', async (t) => {
  const kc = loadHostKubeConfig(host.kubeconfigPath, HANG_GUARD_MS)!;
  await host.setOutage('hung');
  t.teardown(() => host.setOutage(undefined));
  const caller = new AbortController();
  const withCallerSignal = {
    pre: (ctx: RequestContext) => {
      ctx.setSignal(caller.signal);
      return new Observable(Promise.resolve(ctx));
    },
    post: (res: ResponseContext) => new Observable(Promise.resolve(res)),
  };
  const pending = kc.makeApiClient(CoreV1Api).readNamespace({ name: 'default' }, { middleware: [withCallerSignal] });
  setTimeout(() => caller.abort(), 100);
  const err = await rejectionOf(pending, 'aborted read');
  t.false(err instanceof HostRequestTimeoutError, String(err));
  t.is((err as Error).name, 'AbortError');
});

/** A kubeconfig for `server` with no credentials (the raw stand-ins ask for none). */
function rawKubeConfig(server: string): HostKubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'raw', server, skipTLSVerify: true }],
    users: [{ name: 'nobody' }],
    contexts: [{ name: 'raw', cluster: 'raw', user: 'nobody' }],
    currentContext: 'raw',
  });
  return HostKubeConfig.from(kc, TIMEOUT_MS);
}

interface RawHost {
  url: string;
  close(): Promise<void>;
}

/** Accepts TCP connections and never says a word: the TLS handshake never completes. */
async function silentTcp(): Promise<RawHost> {
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** Answers 200 with the headers and the start of a body, then nothing more. */
async function endlessBody(): Promise<RawHost> {
  const server: HttpServer = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"kind":"Namespace","apiVersion":"v1","metadata":{');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

const RAW_HOSTS: Array<{ name: string; start: () => Promise<RawHost> }> = [
  { name: 'accepts the connection and never completes the TLS handshake', start: silentTcp },
  { name: 'sends the headers and never finishes the body', start: endlessBody },
];

for (const raw of RAW_HOSTS) {
  test(`a host that ${raw.name}: the call fails as host-unavailable at the deadline (raw loopback stand-in host)`, async (t) => {
    const stand = await raw.start();
    t.teardown(() => stand.close());
    const err = await rejectionOf(rawKubeConfig(stand.url).makeApiClient(CoreV1Api).readNamespace({ name: 'default' }), raw.name);
    t.true(err instanceof HostRequestTimeoutError, String(err));
    t.true(isHostUnavailable(err));
    t.regex(describeHostError(err), /did not answer GET \/api\/v1\/namespaces\/default within 0\.4s/);
  });
}

test.serial('a Performer reconciled while the host API hangs: Ready=Unknown HostClusterUnavailable at --host-request-timeout, then runs once the host answers (stand-in host cluster, stand-in performer)', async (t) => {
  const ns = 'deadline-performer';
  const performer: StandInPerformer = await startStandInPerformer({ status: 'SERVING' });
  t.teardown(() => performer.stop());
  const network = new StandInNetwork(host);
  network.route = () => performer;
  const server = await startHourglassServer(host, network, { flags: { 'leader-elect': 'false', 'host-request-timeout': '1s' } });
  t.teardown(() => server.stop());
  const store = server.stores.get(PERFORMERS)!;

  await host.setOutage('hung');
  let ended = false;
  t.teardown(async () => {
    if (!ended) await host.setOutage(undefined);
  });
  await create(store, sample('Performer', 'late', ns, (o) => {
    o.spec.version = 'v1';
    o.spec.image = 'ghcr.io/example/hello-avs-performer:v1';
  }));
  const ready = (o: KubeObject) => findCondition(o.status?.conditions as Condition[] | undefined, 'Ready');
  const waiting = await eventually(async () => {
    const o = await store.get({ namespace: ns, name: 'late' });
    return ready(o)?.reason === 'HostClusterUnavailable' ? o : undefined;
  }, 'the Performer reporting the hung host');
  t.is(ready(waiting)!.status, 'Unknown');
  t.regex(ready(waiting)!.message!, /cannot be reached while reconciling its Pods and Service: the host cluster did not answer \w+ \/api\/v1\/\S+ within 1s$/);

  await host.setOutage(undefined);
  ended = true;
  await eventually(async () => (await store.get({ namespace: ns, name: 'late' })).status?.ready === true, 'the Performer running once the host answers');
  t.pass();
});

test.serial('delegated TokenReview and SubjectAccessReview on a hung host end at --host-request-timeout as 401 and 403, and succeed once it answers (stand-in host cluster)', async (t) => {
  host.tokens.set('deadline-early', { username: 'early', groups: ['deadline'] });
  host.tokens.set('deadline-late', { username: 'late', groups: ['deadline'] });
  const previous = host.authorize;
  host.authorize = (spec) => ({ allowed: Array.isArray(spec.groups) && spec.groups.includes('deadline') });
  t.teardown(() => {
    host.authorize = previous;
  });
  const server = await startTestServer({
    storage: 'memory',
    'authentication-kubeconfig': host.kubeconfigPath,
    'authorization-kubeconfig': host.kubeconfigPath,
    'host-request-timeout': '1s',
  });
  t.teardown(() => server.stop());
  const list = (ns: string) => `/apis/storm.apache.org/v1beta1/namespaces/${ns}/stormtopologies`;
  t.is((await call(server, 'GET', list('a'), { token: 'deadline-early' })).status, 200, 'the token and the decision are cached now');

  await host.setOutage('hung');
  let ended = false;
  t.teardown(async () => {
    if (!ended) await host.setOutage(undefined);
  });
  const unauthenticated = await call(server, 'GET', list('a'), { token: 'deadline-late' });
  t.is(unauthenticated.status, 401, 'a TokenReview that gets no answer authenticates nobody');
  t.like(unauthenticated.json, { kind: 'Status', reason: 'Unauthorized', code: 401 });
  const forbidden = await call(server, 'GET', list('b'), { token: 'deadline-early' });
  t.is(forbidden.status, 403, 'a SubjectAccessReview that gets no answer allows nothing');
  t.like(forbidden.json, { kind: 'Status', reason: 'Forbidden', code: 403 });

  await host.setOutage(undefined);
  ended = true;
  t.is((await call(server, 'GET', list('b'), { token: 'deadline-late' })).status, 200);
});
