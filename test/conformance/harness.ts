// The conformance harness: the same API-semantics cases for every kind on every storage backend.
//
//   registerConformance({ backend: 'memory', start: () => startTestServer({ storage: 'memory' }) })
//
// registers, for one backend (one server per test file), every case of cases/*.ts once per kind
// (`<backend> <Kind>: <case>`) or once per server (`<backend>: <case>`). Every test works in its
// own namespace and labels its objects with its own id, so tests run concurrently; cases that
// change server-wide state (compaction) are `exclusive` and run serially, before the others.
//
// Kind metadata comes from `allKinds` (registry/kinds.ts); sample objects from
// deploy/examples/<singular>.yaml; the few kind-specific values from fixtures.ts.
import * as k8s from '@kubernetes/client-node';
import test, { type ExecutionContext } from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { KindDeclaration, ScaleMapping } from '../../registry/kind.js';
import { allKinds } from '../../registry/kinds.js';
import type { TestServer } from '../helpers/server.js';
import { cases as crudCases } from './cases/crud.js';
import { cases as deleteCases } from './cases/delete.js';
import { cases as discoveryCases } from './cases/discovery.js';
import { cases as informerCases } from './cases/informer.js';
import { cases as listCases } from './cases/list.js';
import { cases as negotiationCases } from './cases/negotiation.js';
import { cases as patchApplyCases } from './cases/patch-apply.js';
import { cases as scaleCases } from './cases/scale.js';
import { cases as selectorCases } from './cases/selectors.js';
import { cases as updateCases } from './cases/update.js';
import { cases as validationCases } from './cases/validation.js';
import { cases as watchCases } from './cases/watch.js';
import { expectOk, openWatch, rawRequest, type Query, type RawResponse, type RawWatch, type RequestOptions } from './client.js';
import { KIND_FIXTURES, type KindFixture } from './fixtures.js';
import { applyPaths, setPath, TEST_LABEL } from './objects.js';

// ---------------------------------------------------------------------------------------------
// Kinds

export interface KindInfo {
  decl: KindDeclaration;
  kind: string;
  listKind: string;
  group: string;
  /** The preferred (first) served version. */
  version: string;
  apiVersion: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Field selector labels beyond metadata.name / metadata.namespace. */
  selectableFields: string[];
  scale?: ScaleMapping;
  /** deploy/examples/<singular>.yaml, parsed. */
  example: Record<string, any>;
  fixture: KindFixture;
}

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above the conformance harness');
    dir = up;
  }
  return dir;
}

export function kindInfos(): KindInfo[] {
  const root = repoRoot();
  return allKinds.map((decl) => {
    const file = join(root, 'deploy', 'examples', `${decl.singular}.yaml`);
    const example = parseYaml(readFileSync(file, 'utf8')) as Record<string, any>;
    const fixture = KIND_FIXTURES[decl.kind];
    if (!fixture) throw new Error(`test/conformance/fixtures.ts has no entry for ${decl.kind}`);
    return {
      decl,
      kind: decl.kind,
      listKind: decl.listKind,
      group: decl.group,
      version: decl.versions[0],
      apiVersion: `${decl.group}/${decl.versions[0]}`,
      plural: decl.plural,
      singular: decl.singular,
      namespaced: decl.namespaced,
      shortNames: decl.shortNames,
      categories: decl.categories,
      selectableFields: Object.keys(decl.selectableFields),
      scale: decl.scale,
      example,
      fixture,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Context

export interface Env {
  backend: string;
  server: TestServer;
  kc: k8s.KubeConfig;
  api: k8s.CustomObjectsApi;
  kinds: KindInfo[];
}

/** What every case gets: the server, clients, and a namespace and label of its own. */
export class ServerCtx {
  readonly backend: string;
  readonly server: TestServer;
  readonly kc: k8s.KubeConfig;
  readonly api: k8s.CustomObjectsApi;
  readonly kinds: KindInfo[];
  /** A namespace no other test uses. */
  readonly ns: string;
  /** A label value no other test uses; `sample()` objects carry `TEST_LABEL=<id>`. */
  readonly id: string;
  protected readonly cleanups: Array<() => unknown> = [];

  constructor(env: Env, id: string) {
    this.backend = env.backend;
    this.server = env.server;
    this.kc = env.kc;
    this.api = env.api;
    this.kinds = env.kinds;
    this.id = id;
    this.ns = `ct-${id}`;
  }

  raw(method: string, path: string, options?: RequestOptions): Promise<RawResponse> {
    return rawRequest(this.server, method, path, options);
  }

  /** Opens a raw watch; it is closed when the test ends. */
  async watch(path: string, query: Query = {}, headers: Record<string, string> = {}): Promise<RawWatch> {
    const w = await openWatch(this.server, path, query, headers);
    this.cleanups.push(() => w.close());
    return w;
  }

  /** Runs `fn` when the test ends (pass or fail). */
  defer(fn: () => unknown): void {
    this.cleanups.push(fn);
  }

  async cleanup(): Promise<void> {
    for (const fn of this.cleanups.reverse()) {
      try {
        await fn();
      } catch {
        // best effort
      }
    }
  }
}

/** A case's view of one kind: paths, sample objects and request shortcuts. */
export class Ctx extends ServerCtx {
  readonly kind: KindInfo;
  readonly fixture: KindFixture;

  constructor(env: Env, id: string, kind: KindInfo) {
    super(env, id);
    this.kind = kind;
    this.fixture = kind.fixture;
  }

  /** `/apis/<g>/<v>` */
  get groupVersionPath(): string {
    return `/apis/${this.kind.group}/${this.kind.version}`;
  }
  /** The collection in `ns` (default: the test's namespace). */
  collection(ns: string = this.ns): string {
    return this.kind.namespaced ? `${this.groupVersionPath}/namespaces/${ns}/${this.kind.plural}` : `${this.groupVersionPath}/${this.kind.plural}`;
  }
  /** The collection across all namespaces. */
  get allNamespaces(): string {
    return `${this.groupVersionPath}/${this.kind.plural}`;
  }
  item(name: string, ns: string = this.ns): string {
    return `${this.collection(ns)}/${name}`;
  }

  /** Parameters of client-node's CustomObjectsApi for this kind (and namespace). */
  gvr(ns: string = this.ns): { group: string; version: string; plural: string; namespace: string } {
    return { group: this.kind.group, version: this.kind.version, plural: this.kind.plural, namespace: ns };
  }

  /**
   * The kind's example object named `name` in `ns`, labelled with the test id (plus `labels`),
   * without the fixture's default paths unless `keepDefaults`.
   */
  sample(name: string, options: { labels?: Record<string, string>; ns?: string; keepDefaults?: boolean; set?: Record<string, unknown> } = {}): any {
    const obj = structuredClone(this.kind.example);
    obj.metadata = {
      name,
      ...(this.kind.namespaced ? { namespace: options.ns ?? this.ns } : {}),
      labels: { [TEST_LABEL]: this.id, ...(options.labels ?? {}) },
    };
    if (!options.keepDefaults) for (const path of Object.keys(this.fixture.defaults)) setPath(obj, path, undefined);
    if (options.set) applyPaths(obj, options.set);
    return obj;
  }

  /** `labelSelector` matching only this test's objects (plus `extra`). */
  selector(extra = ''): string {
    return extra ? `${TEST_LABEL}=${this.id},${extra}` : `${TEST_LABEL}=${this.id}`;
  }

  /** POST of `obj` (raw), asserting 201; returns the created object. */
  async create(t: ExecutionContext, obj: any, query?: Query): Promise<any> {
    const ns = obj.metadata?.namespace ?? this.ns;
    const res = await this.raw('POST', this.collection(ns), { body: obj, query });
    return expectOk(t, res, 201, `create ${obj.metadata?.name ?? obj.metadata?.generateName}`);
  }

  /** Creates `sample(name, options)`. */
  createSample(t: ExecutionContext, name: string, options?: Parameters<Ctx['sample']>[1]): Promise<any> {
    return this.create(t, this.sample(name, options));
  }

  async get(t: ExecutionContext, name: string, ns?: string): Promise<any> {
    return expectOk(t, await this.raw('GET', this.item(name, ns)), 200, `get ${name}`);
  }

  /** Merge patch of the main resource (or a subresource), asserting 200. */
  async mergePatch(t: ExecutionContext, name: string, patch: unknown, subresource = '', query?: Query): Promise<any> {
    const res = await this.raw('PATCH', this.item(name) + subresource, {
      body: JSON.stringify(patch),
      headers: { 'Content-Type': 'application/merge-patch+json' },
      query,
    });
    return expectOk(t, res, 200, `merge patch ${name}${subresource}`);
  }

  /** Writes `status` through `/status` (merge patch). */
  setStatus(t: ExecutionContext, name: string, status: unknown): Promise<any> {
    return this.mergePatch(t, name, { status }, '/status');
  }

  async list(t: ExecutionContext, query: Query = {}, path = this.collection()): Promise<any> {
    return expectOk(t, await this.raw('GET', path, { query }), 200, `list ${path}?${JSON.stringify(query)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Cases

export interface KindCase {
  name: string;
  scope?: 'kind';
  /** Registered only for kinds where this holds (e.g. kinds with a scale subresource). */
  when?: (kind: KindInfo) => boolean;
  /** Changes server-wide state (compaction): runs serially, before every concurrent case. */
  exclusive?: boolean;
  run(t: ExecutionContext, ctx: Ctx): Promise<void>;
}

export interface ServerCase {
  name: string;
  scope: 'server';
  exclusive?: boolean;
  run(t: ExecutionContext, ctx: ServerCtx): Promise<void>;
}

export type Case = KindCase | ServerCase;

export const allCases: Case[] = [
  ...crudCases,
  ...updateCases,
  ...validationCases,
  ...deleteCases,
  ...selectorCases,
  ...listCases,
  ...watchCases,
  ...negotiationCases,
  ...patchApplyCases,
  ...scaleCases,
  ...informerCases,
  ...discoveryCases,
];

// ---------------------------------------------------------------------------------------------
// Registration

export interface StartedBackend {
  server: TestServer;
  /** Stops the server and whatever the backend needed (e.g. etcd). */
  stop(): Promise<void>;
}

export interface ConformanceOptions {
  /** Name in test titles: memory, sqlite, etcd3. */
  backend: string;
  start(): Promise<StartedBackend>;
  /** Tests running at once in this file (default 6). */
  concurrency?: number;
}

class Semaphore {
  private waiting: Array<() => void> = [];
  constructor(private free: number) {}
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

let counter = 0;
function uniqueId(kind: KindInfo | undefined): string {
  counter++;
  const prefix = kind ? (kind.shortNames[0] ?? kind.plural.slice(0, 4)) : 'srv';
  return `${prefix}-${counter}-${Math.random().toString(36).slice(2, 7)}`.toLowerCase();
}

export function registerConformance(options: ConformanceOptions): void {
  const kinds = kindInfos();
  const semaphore = new Semaphore(options.concurrency ?? Number(process.env.CONFORMANCE_CONCURRENCY ?? 6));
  let env: Env | undefined;
  let started: StartedBackend | undefined;
  let startError: unknown;

  test.before(async () => {
    try {
      started = await options.start();
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(started.server.kubeconfigPath);
      env = { backend: options.backend, server: started.server, kc, api: kc.makeApiClient(k8s.CustomObjectsApi), kinds };
    } catch (err) {
      startError = err;
      throw err;
    }
  });
  test.after.always(async () => {
    await started?.stop();
  });

  const register = (title: string, c: Case, kind: KindInfo | undefined) => {
    const body = async (t: ExecutionContext) => {
      if (!env) throw new Error(`the ${options.backend} server did not start: ${String(startError)}`);
      const release = c.exclusive ? () => {} : await semaphore.acquire();
      const id = uniqueId(kind);
      const ctx = kind ? new Ctx(env, id, kind) : new ServerCtx(env, id);
      t.timeout(60_000, 'one conformance case');
      try {
        await (c as { run(t: ExecutionContext, ctx: ServerCtx | Ctx): Promise<void> }).run(t, ctx);
      } finally {
        await ctx.cleanup();
        release();
      }
    };
    if (c.exclusive) test.serial(title, body);
    else test(title, body);
  };

  for (const c of allCases) {
    if (c.scope === 'server') {
      register(`${options.backend}: ${c.name}`, c, undefined);
      continue;
    }
    for (const kind of kinds) {
      if (c.when && !c.when(kind)) continue;
      register(`${options.backend} ${kind.kind}: ${c.name}`, c, kind);
    }
  }
}
