import { readFileSync } from 'node:fs';
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import { Cacher } from '../registry/cacher.js';
import type { KindDeclaration } from '../registry/kind.js';
import { allKinds } from '../registry/kinds.js';
import { startCompactor } from '../registry/storage/compactor.js';
import { openBackend, type Backend } from '../registry/storage/index.js';
import { decodeStored, resourcePrefix, Store } from '../registry/store.js';
import { installDiscovery } from './discovery.js';
import { badRequest, internalError, pathNotFound, requestEntityTooLarge, StatusError, toStatusError, unsupportedMediaType } from './errors.js';
import { createSecurity } from './filters/index.js';
import { installHealth } from './health.js';
import { installResource } from './install.js';
import { installStandaloneNamespaces } from './namespaces.js';
import { writeKubeconfig } from './kubeconfig.js';
import type { CompletedOptions } from './options.js';
import { sendStatus } from './response.js';
import { loadOrCreateLocalUser, loadOrCreateSelfSigned, type ServingCertificate } from './tls.js';
import { installOpenAPI } from '../openapi/index.js';
import type { ControllerDeclaration } from '../controllers/controller.js';
import { HostClient, loadHostKubeConfig } from '../controllers/host-client.js';
import { allControllers, allUpstreams } from '../controllers/index.js';
import { Upstreams } from '../controllers/upstreams.js';
import type { UpstreamKey } from '../registry/subresource.js';
import { ControllerManager } from '../controllers/manager.js';
import { installPVCWebhook } from '../controllers/pvcchonker/webhook.js';
import { installMetrics, metricsRegistry } from './metrics.js';
import { storageRequestObserver, storageTypeOf, groupResourceLabel, trackStorageObjects } from './filters/metrics.js';
import { loggerOptions, logsRequests } from './logging.js';
import { listenInsecure, type InsecureListener } from './insecure.js';
import { instrumentBackend } from '../registry/storage/instrumented.js';

const GO_DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$/;

/** kube-apiserver's MaxRequestBodyBytes. */
export const MAX_REQUEST_BODY_BYTES = 3 * 1024 * 1024;

/**
 * What a caller adds to the generic server without touching it: routes that are not a kind's REST
 * API (the test host cluster's TokenReview and node proxy), and background tasks that run while the
 * server runs (a simulated kubelet). Tasks start after the server listens and stop before it closes.
 */
export interface ServerExtensions {
  installRoutes?(app: FastifyInstance, stores: Map<string, Store>): void;
  background?: Array<(server: RunningServer) => Promise<() => Promise<void>>>;
  /**
   * `false` when the kinds include real `v1` namespaces (the test host cluster); by default every
   * valid namespace name answers as an Active Namespace (`namespaces.ts`).
   */
  standaloneNamespaces?: boolean;
  /** The controllers this server runs (subject to `--controllers`); default `allControllers`. */
  controllers?: ControllerDeclaration[];
  /** Upstream clients that replace the ones `allUpstreams` would create (tests: stand-in peers). */
  upstreams?: Array<[UpstreamKey<any>, unknown]>;
}

export interface RunningServer {
  app: FastifyInstance;
  backend: Backend;
  stores: Map<string, Store>;
  /** Resolves when every watch cache has synced with the store (what /readyz waits for). */
  ready: Promise<void>;
  /** `https://host:port` the server listens on. */
  url: string;
  /** `http://host:port` of the plaintext development listener, when `--insecure-port` is set. */
  insecureUrl?: string;
  /** PEM of the CA clients should trust for `url`. */
  caPem: string;
  /** The in-process controllers; they start once `ready` resolves (and this replica leads). */
  controllers: ControllerManager;
  close(): Promise<void>;
}

/** Opens the store, builds the HTTPS server with every kind's API, and starts listening. */
export async function startServer(
  options: CompletedOptions,
  kinds: KindDeclaration[] = allKinds,
  extensions: ServerExtensions = {},
): Promise<RunningServer> {
  const serving = servingCertificate(options);
  // Authentication, authorization, audit and limits (apiserver/filters); read before the store
  // opens, so a missing CA or policy file fails start-up without leaving anything open.
  let app: FastifyInstance | undefined;
  const security = await createSecurity(options, serving, () => app?.log);
  // Every storage call is timed for etcd_request_duration_seconds (apiserver/filters/metrics.ts).
  const backend = await openBackend(options.storage)
    .then((inner) => instrumentBackend(inner, { observe: storageRequestObserver(), typeOf: storageTypeOf(kinds) }))
    .catch(async (err: unknown) => {
      await security.close();
      throw err;
    });
  app = Fastify({
    https: security.tls.serverOptions(),
    logger: loggerOptions(options.logVerbosity),
    // fastify's per-request lines only from --v=3 (apiserver/logging.ts).
    logController: new LogController({ disableRequestLogging: !logsRequests(options.logVerbosity) }),
    bodyLimit: MAX_REQUEST_BODY_BYTES,
    routerOptions: { maxParamLength: 1024 },
  });
  security.install(app);
  installProtocol(app);

  // The host cluster and the upstream clients (Nimbus, kubelet metrics, performer gRPC) that the
  // computed subresources and the controllers share.
  let host: HostClient | undefined;
  let upstreams: Upstreams;
  try {
    const hostKubeConfig = loadHostKubeConfig(options.controllers.kubeconfig, options.controllers.hostRequestTimeoutMs);
    host = hostKubeConfig && new HostClient(hostKubeConfig);
    upstreams = Upstreams.create(allUpstreams, { host, options, log: app.log }, extensions.upstreams);
  } catch (err) {
    await backend.close();
    await security.close();
    throw err;
  }

  const stores = new Map<string, Store>();
  const cachers: Cacher[] = [];
  for (const decl of kinds) {
    const cacher = new Cacher({ backend, prefix: resourcePrefix(decl), decode: decodeStored, log: app.log });
    cachers.push(cacher);
    const store = new Store({ decl, backend, cacher });
    stores.set(`${decl.plural}.${decl.group || 'core'}`, store);
    installResource(app, { decl, store, services: { store, stores, upstream: (key) => upstreams.get(key), now: () => new Date() } });
  }
  const untrackStorageObjects = trackStorageObjects(() =>
    kinds.map((decl, i) => ({ group: decl.group, resource: groupResourceLabel(decl), count: () => cachers[i].stats().objects, objects: () => cachers[i].list().items })),
  );
  extensions.installRoutes?.(app, stores);
  if (options.pvcChonker.webhook) installPVCWebhook(app, stores);
  installDiscovery(app, kinds);
  if (extensions.standaloneNamespaces !== false) installStandaloneNamespaces(app);
  installOpenAPI(app, kinds);
  installHealth(app, {
    live: [{ name: 'ping', check: async () => {} }],
    ready: [
      { name: 'storage', check: () => backend.ping() },
      {
        name: 'watch-cache-sync',
        check: async () => {
          const notReady = cachers.filter((c) => !c.ready);
          if (notReady.length > 0) throw new Error(`${notReady.length} watch caches not synced`);
        },
      },
    ],
  });
  installMetrics(app, metricsRegistry);
  let controllers: ControllerManager;
  try {
    controllers = new ControllerManager({
      stores,
      backend,
      controllers: extensions.controllers ?? allControllers,
      enabled: options.controllers.enabled,
      host,
      upstreams,
      leaderElection: options.controllers.leaderElection,
      metrics: metricsRegistry,
      log: app.log,
    });
  } catch (err) {
    await backend.close();
    await security.close();
    throw err;
  }

  // The server listens before the watch caches have synced (a store that is down at start-up
  // must not keep /readyz and /livez from answering); `ready` resolves once they have.
  const ready = Promise.all(cachers.map((c) => c.start())).then(() => undefined);
  ready.catch(() => {}); // a stop before the first sync rejects it; nobody has to wait for it
  let insecure: InsecureListener | undefined;
  try {
    await app.listen({ host: options.bindAddress, port: options.securePort });
    if (options.insecurePort !== undefined) insecure = await listenInsecure(app, options.insecureBindAddress, options.insecurePort);
  } catch (err) {
    await app.close().catch(() => {});
    await Promise.all(cachers.map((c) => c.stop()));
    await backend.close();
    await security.close();
    throw err;
  }
  security.start(app);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.securePort;
  const bindHost = options.bindAddress.includes(':') ? `[${options.bindAddress}]` : options.bindAddress;
  const url = `https://${bindHost === '0.0.0.0' ? '127.0.0.1' : bindHost}:${port}`;
  if (options.writeKubeconfig) {
    // A local user certificate exists only where this server made its own CA.
    const localUser = options.tlsCertFile ? undefined : loadOrCreateLocalUser(options.certDir);
    writeKubeconfig(options.writeKubeconfig, url, serving.ca, localUser);
  }
  const stopCompactor = options.compactionIntervalMs > 0 ? startCompactor(backend, { intervalMs: options.compactionIntervalMs, log: app.log }) : () => {};
  let closing: Promise<void> | undefined;
  const stopBackground: Array<() => Promise<void>> = [];
  const running: RunningServer = {
    app,
    backend,
    stores,
    ready,
    url,
    insecureUrl: insecure?.url,
    caPem: serving.ca,
    controllers,
    close() {
      closing ??= (async () => {
        await controllers.stop();
        await upstreams.close();
        for (const stop of stopBackground.reverse()) await stop();
        stopCompactor();
        await Promise.all(cachers.map((c) => c.stop()));
        untrackStorageObjects();
        await insecure?.close();
        await app.close();
        await backend.close();
        await security.close();
      })();
      return closing;
    },
  };
  for (const start of extensions.background ?? []) stopBackground.push(await start(running));
  // Controllers read through the watch caches, so they start once those have synced.
  ready.then(
    () => closing === undefined && controllers.start(),
    () => {},
  );
  return running;
}

/**
 * What every route shares: bodies kept as raw Buffers (handlers decode them by Content-Type,
 * and a request without one is JSON), every error and every unknown path as a metav1.Status.
 */
function installProtocol(app: FastifyInstance): void {
  // `timeout` must be a Go duration; kube-apiserver rejects anything else before routing.
  // (Callback-style hooks, here and in the filters: no promise and no microtask per request.)
  app.addHook('onRequest', (req, _reply, done) => {
    const timeout = (req.query as Record<string, unknown>).timeout;
    if (timeout === undefined) return done();
    const value = Array.isArray(timeout) ? timeout[0] : timeout;
    if (typeof value !== 'string' || !GO_DURATION.test(value)) {
      throw badRequest(`invalid timeout specified in the request URL: ${String(value)}`);
    }
    done();
  });
  // A name or namespace taken from the URL must be a usable path segment (kube-apiserver's
  // IsValidPathSegmentName): not `.` or `..`, and no `/` or `%` once decoded. Anything else
  // would address a key the object could never have been stored under.
  app.addHook('preHandler', (req, _reply, done) => {
    const params = req.params as Record<string, unknown> | undefined;
    for (const key of ['namespace', 'name']) {
      const value = params?.[key];
      if (typeof value !== 'string') continue;
      const problem = value === '.' || value === '..' ? `may not be '${value}'` : value.includes('/') ? "may not contain '/'" : value.includes('%') ? "may not contain '%'" : undefined;
      if (problem) throw badRequest(`${key} ${JSON.stringify(value)} is invalid: ${problem}`);
    }
    done();
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: FastifyError | StatusError, req, reply) => {
    let status;
    if (err instanceof StatusError) status = err.status;
    else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') status = requestEntityTooLarge(MAX_REQUEST_BODY_BYTES).status;
    else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') status = unsupportedMediaType(String(req.headers['content-type'] ?? ''), ['application/json']).status;
    else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) status = badRequest(err.message).status;
    else {
      req.log.error({ err }, 'internal error');
      status = (err instanceof Error ? internalError(err.message) : toStatusError(err)).status;
    }
    return sendStatus(reply, status);
  });
  app.setNotFoundHandler((_req, reply) => sendStatus(reply, pathNotFound().status));
}

function servingCertificate(options: CompletedOptions): ServingCertificate {
  if (options.tlsCertFile && options.tlsPrivateKeyFile) {
    const cert = readFileSync(options.tlsCertFile, 'utf8');
    return { cert, key: readFileSync(options.tlsPrivateKeyFile, 'utf8'), ca: cert };
  }
  return loadOrCreateSelfSigned(options.certDir);
}
