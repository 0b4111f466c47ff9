// audit.k8s.io/v1 Policy (a subset): the first rule matching the request gives its level; no match
// is None. Rules match on users, userGroups, verbs, resources (group + resources, `pods/log`
// style, `*` and `*/sub`), namespaces and nonResourceURLs (`/healthz*` prefixes).
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { UserInfo } from '../authn/user.js';
import type { RequestInfo } from '../request-info.js';

export type AuditLevel = 'None' | 'Metadata' | 'Request' | 'RequestResponse';
const LEVELS: AuditLevel[] = ['None', 'Metadata', 'Request', 'RequestResponse'];

export interface AuditPolicyRule {
  level: AuditLevel;
  users?: string[];
  userGroups?: string[];
  verbs?: string[];
  resources?: Array<{ group?: string; resources?: string[]; resourceNames?: string[] }>;
  namespaces?: string[];
  nonResourceURLs?: string[];
}

export interface AuditPolicy {
  rules: AuditPolicyRule[];
}

/** The policy that audits every request at `level`. */
export function uniformPolicy(level: AuditLevel): AuditPolicy {
  return { rules: [{ level }] };
}

export function parseAuditPolicy(text: string, source = 'audit policy'): AuditPolicy {
  const doc = parse(text) as Record<string, unknown> | null;
  if (!doc || doc.kind !== 'Policy' || doc.apiVersion !== 'audit.k8s.io/v1') {
    throw new Error(`${source}: expected apiVersion audit.k8s.io/v1, kind Policy`);
  }
  const rules = (doc.rules ?? []) as AuditPolicyRule[];
  if (!Array.isArray(rules)) throw new Error(`${source}: rules must be a list`);
  rules.forEach((r, i) => {
    if (!LEVELS.includes(r?.level)) throw new Error(`${source}: rules[${i}].level must be one of ${LEVELS.join(', ')}`);
  });
  return { rules };
}

export function loadAuditPolicy(path: string): AuditPolicy {
  return parseAuditPolicy(readFileSync(path, 'utf8'), path);
}

function listMatches(list: string[] | undefined, value: string): boolean {
  return list === undefined || list.length === 0 || list.includes(value);
}

function ruleMatches(rule: AuditPolicyRule, user: UserInfo | undefined, info: RequestInfo): boolean {
  if (rule.users?.length && !(user && rule.users.includes(user.username))) return false;
  if (rule.userGroups?.length && !(user && user.groups.some((g) => rule.userGroups!.includes(g)))) return false;
  if (!listMatches(rule.verbs, info.verb)) return false;
  if (!info.isResourceRequest) {
    if (rule.resources?.length || rule.namespaces?.length) return false;
    if (!rule.nonResourceURLs?.length) return true;
    return rule.nonResourceURLs.some((u) => (u.endsWith('*') ? info.path.startsWith(u.slice(0, -1)) : u === info.path));
  }
  if (rule.nonResourceURLs?.length) return false;
  if (!listMatches(rule.namespaces, info.namespace)) return false;
  if (!rule.resources?.length) return true;
  const combined = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
  return rule.resources.some(
    (r) =>
      (r.group ?? '') === info.apiGroup &&
      (!r.resources?.length ||
        r.resources.some((name) => name === '*' || name === combined || (info.subresource !== '' && name === `*/${info.subresource}`))) &&
      (!r.resourceNames?.length || r.resourceNames.includes(info.name)),
  );
}

export function auditLevel(policy: AuditPolicy, user: UserInfo | undefined, info: RequestInfo): AuditLevel {
  return policy.rules.find((r) => ruleMatches(r, user, info))?.level ?? 'None';
}
