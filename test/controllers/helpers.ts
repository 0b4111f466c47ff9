// Shared by the controller tests: the registry (Stores over a Backend with their watch caches)
// without the HTTP server, sample objects from deploy/examples, and waiting for a condition.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { completeOptions } from '../../apiserver/options.js';
import { startServer, type RunningServer } from '../../apiserver/server.js';
import type { ControllerDeclaration } from '../../controllers/controller.js';
import { Cacher } from '../../registry/cacher.js';
import { decodeObject } from '../../registry/codec.js';
import { allKinds } from '../../registry/kinds.js';
import type { KubeObject } from '../../registry/meta.js';
import { openBackend, type Backend } from '../../registry/storage/index.js';
import { decodeStored, resourcePrefix, Store } from '../../registry/store.js';

export interface TestRegistry {
  backend: Backend;
  stores: Map<string, Store>;
  store(resource: string): Store;
  stop(): Promise<void>;
}

/** Every kind's Store over `storageUrl` (a temporary SQLite file for `sqlite`), caches synced. */
export async function openRegistry(storageUrl: string): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'controllers-test-'));
  const url = storageUrl === 'sqlite' ? `sqlite://${join(dir, 'state.db')}` : storageUrl;
  const backend = await openBackend({ url, etcdPrefix: storageUrl.startsWith('etcd3') ? `/t-${process.pid}-${Date.now()}/` : undefined });
  const stores = new Map<string, Store>();
  const cachers: Cacher[] = [];
  for (const decl of allKinds) {
    const cacher = new Cacher({ backend, prefix: resourcePrefix(decl), decode: decodeStored, freezeObjects: true });
    cachers.push(cacher);
    stores.set(`${decl.plural}.${decl.group}`, new Store({ decl, backend, cacher }));
  }
  await Promise.all(cachers.map((c) => c.start()));
  return {
    backend,
    stores,
    store(resource) {
      const store = stores.get(resource);
      if (!store) throw new Error(`no store ${resource}`);
      return store;
    },
    async stop() {
      await Promise.all(cachers.map((c) => c.stop()));
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The example object of a kind (deploy/examples/<kind>.yaml) with another name and namespace. */
export function sample(kind: string, name: string, namespace: string, edit: (obj: any) => void = () => {}): KubeObject {
  const obj = parse(readFileSync(join('deploy', 'examples', `${kind.toLowerCase()}.yaml`), 'utf8')) as any;
  obj.metadata = { name, namespace };
  edit(obj);
  return obj as KubeObject;
}

/** Creates `obj` through `store` as the API's POST would. */
export async function create(store: Store, obj: KubeObject): Promise<KubeObject> {
  const decoded = decodeObject(store.decl, store.decl.versions[0], structuredClone(obj), 'Strict');
  return (await store.create(obj.metadata.namespace, decoded, { dryRun: false })).object;
}

/** Replaces `obj` (with its resourceVersion) after `edit` on a copy. */
export async function update(store: Store, obj: KubeObject, edit: (copy: any) => void): Promise<KubeObject> {
  const copy = structuredClone(obj) as any;
  edit(copy);
  const decoded = decodeObject(store.decl, store.decl.versions[0], copy, 'Strict');
  return (await store.update({ namespace: obj.metadata.namespace, name: obj.metadata.name! }, () => decoded, { dryRun: false })).object;
}

/** Polls `probe` until it returns something other than undefined/false; generous deadline, no timing assertion. */
export async function eventually<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The real server (memory storage unless `flags.storage`) running `controllers`, in this process. */
export async function startServerWith(
  flags: Record<string, string>,
  controllers: ControllerDeclaration[],
): Promise<RunningServer & { dir: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'controllers-server-'));
  process.env.LOG_LEVEL ??= 'silent';
  const options = completeOptions({
    storage: 'memory',
    'secure-port': '0',
    'cert-dir': join(dir, 'certs'),
    'write-kubeconfig': join(dir, 'kubeconfig'),
    ...flags,
  });
  let server: RunningServer;
  try {
    server = await startServer(options, allKinds, { controllers });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  await server.ready;
  return {
    ...server,
    dir,
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
