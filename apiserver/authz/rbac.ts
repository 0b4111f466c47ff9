// Built-in RBAC for standalone mode: evaluates rbac.authorization.k8s.io/v1 Role, ClusterRole,
// RoleBinding and ClusterRoleBinding objects with kube-apiserver's semantics
// (plugin/pkg/auth/authorizer/rbac): `resource/subresource` names, `*` and `*/sub` wildcards,
// resourceNames, non-resource URLs (ClusterRoles bound cluster-wide only), and User, Group and
// ServiceAccount subjects. RBAC only allows; anything not allowed is NoOpinion (then 403).
import type { UserInfo } from '../authn/user.js';
import { pathMatches } from './always-allow.js';
import type { AuthorizationAttributes, AuthorizationResult, Authorizer } from './authorizer.js';

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: 'User' | 'Group' | 'ServiceAccount';
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export interface RoleRef {
  apiGroup?: string;
  kind: 'Role' | 'ClusterRole';
  name: string;
}

interface Meta {
  name: string;
  namespace?: string;
}

export interface Role {
  kind: 'Role' | 'ClusterRole';
  metadata: Meta;
  rules?: PolicyRule[];
}

export interface Binding {
  kind: 'RoleBinding' | 'ClusterRoleBinding';
  metadata: Meta;
  subjects?: Subject[];
  roleRef: RoleRef;
}

/** The objects of a policy, indexed for evaluation. */
export class RbacPolicy {
  private readonly roles = new Map<string, Role>();
  private readonly clusterRoles = new Map<string, Role>();
  readonly roleBindings: Binding[] = [];
  readonly clusterRoleBindings: Binding[] = [];

  constructor(objects: Array<Role | Binding>) {
    for (const o of objects) {
      switch (o.kind) {
        case 'Role':
          this.roles.set(`${o.metadata.namespace}/${o.metadata.name}`, o);
          break;
        case 'ClusterRole':
          this.clusterRoles.set(o.metadata.name, o);
          break;
        case 'RoleBinding':
          this.roleBindings.push(o);
          break;
        case 'ClusterRoleBinding':
          this.clusterRoleBindings.push(o);
          break;
      }
    }
  }

  /** The rules of `ref` as seen from `namespace` (a Role is looked up in the binding's namespace). */
  rulesOf(ref: RoleRef, namespace: string | undefined): PolicyRule[] {
    if (ref.kind === 'ClusterRole') return this.clusterRoles.get(ref.name)?.rules ?? [];
    if (namespace === undefined) return [];
    return this.roles.get(`${namespace}/${ref.name}`)?.rules ?? [];
  }

  static empty(): RbacPolicy {
    return new RbacPolicy([]);
  }
}

export function subjectMatches(subject: Subject, user: UserInfo, bindingNamespace: string | undefined): boolean {
  switch (subject.kind) {
    case 'User':
      return subject.name === user.username;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const namespace = subject.namespace ?? bindingNamespace;
      return namespace !== undefined && user.username === `system:serviceaccount:${namespace}:${subject.name}`;
    }
    default:
      return false;
  }
}

function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === '*' || v === verb);
}

function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === '*' || g === group);
}

function resourceMatches(rule: PolicyRule, resource: string, subresource: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  return (rule.resources ?? []).some(
    (r) => r === '*' || r === combined || (subresource !== '' && r === `*/${subresource}`),
  );
}

function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (name !== '' && names.includes(name));
}

/** One rule against the request, as rbac.RuleAllows. */
export function ruleAllows(rule: PolicyRule, attrs: AuthorizationAttributes): boolean {
  if (attrs.isResourceRequest) {
    return (
      verbMatches(rule, attrs.verb) &&
      apiGroupMatches(rule, attrs.apiGroup) &&
      resourceMatches(rule, attrs.resource, attrs.subresource) &&
      resourceNameMatches(rule, attrs.name)
    );
  }
  return verbMatches(rule, attrs.verb) && (rule.nonResourceURLs ?? []).some((u) => pathMatches(u, attrs.path));
}

export class RbacAuthorizer implements Authorizer {
  readonly name = 'rbac';
  /** `policy` is read per request, so a reloaded policy file applies at once. */
  constructor(private readonly policy: () => RbacPolicy) {}

  authorize(attrs: AuthorizationAttributes): AuthorizationResult {
    const policy = this.policy();
    for (const binding of policy.clusterRoleBindings) {
      if (!(binding.subjects ?? []).some((s) => subjectMatches(s, attrs.user, undefined))) continue;
      if (policy.rulesOf(binding.roleRef, undefined).some((rule) => ruleAllows(rule, attrs))) return { decision: 'allow' };
    }
    // RoleBindings grant resource access in their own namespace only (never non-resource URLs).
    if (attrs.isResourceRequest && attrs.namespace !== '') {
      for (const binding of policy.roleBindings) {
        const namespace = binding.metadata.namespace;
        if (namespace !== attrs.namespace) continue;
        if (!(binding.subjects ?? []).some((s) => subjectMatches(s, attrs.user, namespace))) continue;
        const rules = policy.rulesOf(binding.roleRef, namespace).filter((r) => (r.resources ?? []).length > 0);
        if (rules.some((rule) => ruleAllows(rule, attrs))) return { decision: 'allow' };
      }
    }
    return { decision: 'no-opinion' };
  }
}
