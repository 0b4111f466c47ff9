// Loads RBAC objects from a YAML file (`--rbac-policy-file`: one or more documents, each an
// rbac.authorization.k8s.io/v1 object or a `List` of them) and reloads it when it changes.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { watchFiles, type FileWatch } from '../certificates.js';
import { RbacPolicy, type Binding, type Role } from './rbac.js';

const RBAC_API_VERSION = 'rbac.authorization.k8s.io/v1';
const KINDS = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

/** Parses and checks the policy; throws with the document and field that is wrong. */
export function parseRbacPolicy(text: string, source = 'policy'): RbacPolicy {
  const objects: Array<Role | Binding> = [];
  const docs = parseAllDocuments(text);
  docs.forEach((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`${source} document ${i + 1}: ${doc.errors[0].message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return;
    const items = isObject(value) && value.kind === 'List' && Array.isArray(value.items) ? value.items : [value];
    for (const item of items) objects.push(checkObject(item, `${source} document ${i + 1}`));
  });
  return new RbacPolicy(objects);
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkObject(o: unknown, where: string): Role | Binding {
  if (!isObject(o)) throw new Error(`${where}: not an object`);
  if (o.apiVersion !== RBAC_API_VERSION) throw new Error(`${where}: apiVersion must be ${RBAC_API_VERSION}, got ${String(o.apiVersion)}`);
  if (!KINDS.has(o.kind)) throw new Error(`${where}: unsupported kind ${String(o.kind)}`);
  if (!isObject(o.metadata) || typeof o.metadata.name !== 'string') throw new Error(`${where}: metadata.name is required`);
  const namespaced = o.kind === 'Role' || o.kind === 'RoleBinding';
  if (namespaced && typeof o.metadata.namespace !== 'string') throw new Error(`${where}: ${o.kind} ${o.metadata.name}: metadata.namespace is required`);
  const name = `${o.kind} ${o.metadata.name}`;
  if (o.kind === 'Role' || o.kind === 'ClusterRole') {
    for (const [i, rule] of ((o.rules ?? []) as unknown[]).entries()) {
      if (!isObject(rule) || !Array.isArray(rule.verbs) || rule.verbs.length === 0) throw new Error(`${where}: ${name}: rules[${i}].verbs is required`);
      const hasResources = Array.isArray(rule.resources) && rule.resources.length > 0;
      const hasUrls = Array.isArray(rule.nonResourceURLs) && rule.nonResourceURLs.length > 0;
      if (hasResources === hasUrls) throw new Error(`${where}: ${name}: rules[${i}] needs either resources (with apiGroups) or nonResourceURLs`);
      if (hasResources && !Array.isArray(rule.apiGroups)) throw new Error(`${where}: ${name}: rules[${i}].apiGroups is required with resources`);
      if (hasUrls && o.kind === 'Role') throw new Error(`${where}: ${name}: rules[${i}]: nonResourceURLs are only valid in a ClusterRole`);
    }
    return o as Role;
  }
  if (!isObject(o.roleRef) || (o.roleRef.kind !== 'Role' && o.roleRef.kind !== 'ClusterRole') || typeof o.roleRef.name !== 'string') {
    throw new Error(`${where}: ${name}: roleRef must name a Role or ClusterRole`);
  }
  if (o.kind === 'ClusterRoleBinding' && o.roleRef.kind !== 'ClusterRole') throw new Error(`${where}: ${name}: a ClusterRoleBinding can only refer to a ClusterRole`);
  for (const [i, s] of ((o.subjects ?? []) as unknown[]).entries()) {
    if (!isObject(s) || !['User', 'Group', 'ServiceAccount'].includes(s.kind) || typeof s.name !== 'string') {
      throw new Error(`${where}: ${name}: subjects[${i}] must be a User, Group or ServiceAccount with a name`);
    }
    if (s.kind === 'ServiceAccount' && o.kind === 'ClusterRoleBinding' && typeof s.namespace !== 'string') {
      throw new Error(`${where}: ${name}: subjects[${i}]: a ServiceAccount needs a namespace`);
    }
  }
  return o as Binding;
}

/** The policy in `path`, kept current; a malformed rewrite keeps the previous policy (and logs). */
export class RbacPolicyFile {
  private current: RbacPolicy;
  private watch?: FileWatch;
  constructor(private readonly path: string) {
    this.current = parseRbacPolicy(readFileSync(path, 'utf8'), path);
  }
  policy(): RbacPolicy {
    return this.current;
  }
  watchForChanges(intervalMs: number, onError: (err: unknown) => void, onReload: () => void = () => {}): void {
    this.watch = watchFiles([this.path], intervalMs, ([text]) => {
      this.current = parseRbacPolicy(text, this.path);
      onReload();
    }, onError);
  }
  stop(): void {
    this.watch?.stop();
  }
}
