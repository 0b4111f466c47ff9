// The host-cluster calls the server's code makes, read from its sources: typed client-node calls
// (`core.createNamespacedService(…)`, a method of one of client-node's API classes), the managed
// types handed to the GC helpers (`host.types.pods` → list + delete), and raw node-proxy paths.
// Each becomes (API group, resource, verb) as RBAC sees it. A check, not the source of truth:
// controllers/host-permissions.ts is the declared table.
import * as k8s from '@kubernetes/client-node';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface HostCall {
  group: string;
  resource: string;
  verb: string;
  /** Where it was seen: `controllers/storm/cluster.ts: createNamespacedService`. */
  site: string;
}

const GROUP_OF_API_PREFIX: Record<string, string> = {
  Core: '',
  Apps: 'apps',
  Batch: 'batch',
  Autoscaling: 'autoscaling',
  Coordination: 'coordination.k8s.io',
  Storage: 'storage.k8s.io',
  Events: 'events.k8s.io',
  Policy: 'policy',
  Networking: 'networking.k8s.io',
  RbacAuthorization: 'rbac.authorization.k8s.io',
  Authentication: 'authentication.k8s.io',
  Authorization: 'authorization.k8s.io',
  Discovery: 'discovery.k8s.io',
  Scheduling: 'scheduling.k8s.io',
  Node: 'node.k8s.io',
  Certificates: 'certificates.k8s.io',
  Admissionregistration: 'admissionregistration.k8s.io',
  Apiextensions: 'apiextensions.k8s.io',
  Apiregistration: 'apiregistration.k8s.io',
};

const VERB_OF_PREFIX: Array<[string, string]> = [
  ['deleteCollection', 'deletecollection'],
  ['connectGet', 'get'],
  ['connectHead', 'get'],
  ['connectPost', 'create'],
  ['connectPut', 'update'],
  ['connectPatch', 'patch'],
  ['connectDelete', 'delete'],
  ['connectOptions', 'get'],
  ['create', 'create'],
  ['read', 'get'],
  ['replace', 'update'],
  ['patch', 'patch'],
  ['delete', 'delete'],
  ['list', 'list'],
];

/** Subresources as they end a method's kind part (`PodLog`, `NodeProxyWithPath`, `DeploymentScale`). */
const SUBRESOURCE_SUFFIXES: Array<[string, string]> = [
  ['ProxyWithPath', 'proxy'],
  ['Proxy', 'proxy'],
  ['Status', 'status'],
  ['Scale', 'scale'],
  ['Log', 'log'],
  ['Eviction', 'eviction'],
  ['Binding', 'binding'],
  ['Ephemeralcontainers', 'ephemeralcontainers'],
  ['Resize', 'resize'],
  ['Attach', 'attach'],
  ['Exec', 'exec'],
  ['Portforward', 'portforward'],
  ['Token', 'token'],
  ['Approval', 'approval'],
];

export function pluralOf(kind: string): string {
  const lower = kind.toLowerCase();
  if (lower === 'endpoints') return lower;
  if (lower.endsWith('y')) return `${lower.slice(0, -1)}ies`;
  if (lower.endsWith('s')) return `${lower}es`;
  return `${lower}s`;
}

/** (verb, resource) of a client-node method name; undefined when it is not a resource call. */
export function parseApiMethod(method: string): { verb: string; resource: string } | undefined {
  const prefix = VERB_OF_PREFIX.find(([p]) => method.startsWith(p) && /^[A-Z]/.test(method.slice(p.length)));
  if (!prefix) return undefined;
  let rest = method.slice(prefix[0].length).replace(/^Namespaced/, '').replace(/ForAllNamespaces$/, '');
  let subresource = '';
  for (const [suffix, name] of SUBRESOURCE_SUFFIXES) {
    if (rest.endsWith(suffix) && rest.length > suffix.length) {
      rest = rest.slice(0, -suffix.length);
      subresource = name;
      break;
    }
  }
  if (rest === '') return undefined;
  const resource = pluralOf(rest) + (subresource ? `/${subresource}` : '');
  return { verb: prefix[1], resource };
}

/** Method name → the API groups whose client class has it. */
function apiMethods(): Map<string, string[]> {
  const methods = new Map<string, string[]>();
  for (const [name, value] of Object.entries(k8s)) {
    const m = /^([A-Z][A-Za-z]*?)V\d+(?:(?:alpha|beta)\d+)?Api$/.exec(name);
    if (!m || typeof value !== 'function') continue;
    const group = GROUP_OF_API_PREFIX[m[1]];
    if (group === undefined) continue;
    for (const method of Object.getOwnPropertyNames((value as { prototype: object }).prototype)) {
      if (method === 'constructor') continue;
      methods.set(method, [...(methods.get(method) ?? []), group]);
    }
  }
  return methods;
}

/** The GC helpers' managed types (controllers/host-client.ts `HostClient.types`). */
const MANAGED_TYPES: Record<string, { group: string; resource: string }> = {
  configMaps: { group: '', resource: 'configmaps' },
  secrets: { group: '', resource: 'secrets' },
  services: { group: '', resource: 'services' },
  pods: { group: '', resource: 'pods' },
  deployments: { group: 'apps', resource: 'deployments' },
};

/** Group and resource of a collection path (`/api/v1/pods`, `/apis/apps/v1/namespaces/x/deployments`). */
export function collectionOf(path: string): { group: string; resource: string } | undefined {
  const parts = path.split('/').filter(Boolean);
  const [prefix, ...rest] = parts;
  const group = prefix === 'apis' ? rest.shift() : prefix === 'api' ? '' : undefined;
  if (group === undefined) return undefined;
  rest.shift(); // version
  if (rest[0] === 'namespaces' && rest.length > 2) rest.splice(0, 2);
  return rest.length === 1 ? { group, resource: rest[0] } : undefined;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (entry.endsWith('.ts') && !entry.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/**
 * Every host call found under `dirs` (relative to `root`), except in `excluded` files.
 * Each call is a list of alternatives (a method several API classes have), any of which may be the one.
 */
export function hostCallsIn(root: string, dirs: string[], excluded: string[]): HostCall[][] {
  const methods = apiMethods();
  const calls: HostCall[][] = [];
  for (const file of dirs.flatMap((d) => sourceFiles(join(root, d)))) {
    const rel = relative(root, file);
    if (excluded.includes(rel)) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\.([a-z][A-Za-z]*)\(/g)) {
      const groups = methods.get(m[1]);
      const parsed = groups && parseApiMethod(m[1]);
      if (!groups || !parsed) continue;
      calls.push(groups.map((group) => ({ group, ...parsed, site: `${rel}: ${m[1]}` })));
    }
    for (const m of text.matchAll(/\.types\.(configMaps|secrets|services|pods|deployments)\b/g)) {
      const type = MANAGED_TYPES[m[1]];
      for (const verb of ['list', 'delete']) calls.push([{ ...type, verb, site: `${rel}: types.${m[1]} (deleteManaged/sweepOrphans)` }]);
    }
    // client-node's Watch on a collection path: `watch.watch('/api/v1/persistentvolumeclaims', …)`.
    for (const m of text.matchAll(/\.watch\(\s*['"`](\/apis?\/[^'"`]+)['"`]/g)) {
      const collection = collectionOf(m[1]);
      if (collection) calls.push([{ ...collection, verb: 'watch', site: `${rel}: watch ${m[1]}` }]);
    }
    for (const m of text.matchAll(/\/api\/v1\/nodes\/[^'"`\s]*\/proxy/g)) {
      calls.push([{ group: '', resource: 'nodes/proxy', verb: 'get', site: `${rel}: ${m[0]}` }]);
    }
  }
  return calls;
}
