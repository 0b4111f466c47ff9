// The RBAC policy the auth tests run with: the documented example (deploy/examples/rbac.yaml,
// loaded as it is, so the example is tested) plus fixture personas the example does not cover.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { UserInfo } from '../../apiserver/authn/user.js';
import type { AccessCase } from './fixtures.js';

export const EXAMPLE_POLICY_PATH = join(process.cwd(), 'deploy/examples/rbac.yaml');

/** A status-only user everywhere, and a user limited to one topology by resourceNames. */
export const FIXTURE_POLICY = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: status-only }
rules:
  - apiGroups: ["*"]
    resources: ["*/status"]
    verbs: ["get", "update", "patch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: sam-status-only }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: status-only }
subjects: [{ kind: User, name: sam }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: wordcount-only, namespace: storm-prod }
rules:
  - apiGroups: ["storm.apache.org"]
    resources: ["stormtopologies", "stormtopologies/promote"]
    resourceNames: ["wordcount"]
    verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: nina-wordcount, namespace: storm-prod }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: wordcount-only }
subjects: [{ kind: User, name: nina }]
`;

export function testPolicyText(): string {
  return `${readFileSync(EXAMPLE_POLICY_PATH, 'utf8')}\n---\n${FIXTURE_POLICY}`;
}

const authenticated = (username: string, ...groups: string[]): UserInfo => ({ username, groups: [...groups, 'system:authenticated'] });

export const USERS = {
  reader: authenticated('rita', 'storm-viewers'),
  editor: authenticated('bob'),
  operator: authenticated('alice'),
  pipeline: authenticated('system:serviceaccount:ci:release-pipeline', 'system:serviceaccounts', 'system:serviceaccounts:ci'),
  statusOnly: authenticated('sam'),
  namesLimited: authenticated('nina'),
  nobody: authenticated('mallory'),
} satisfies Record<string, UserInfo>;

/** A static token file (kube-apiserver CSV) with one token per persona: `token-<persona>`. */
export function tokenFileText(): string {
  return Object.entries(USERS)
    .map(([persona, u]) => {
      const groups = u.groups.filter((g) => g !== 'system:authenticated');
      return `token-${persona},${u.username},uid-${persona}${groups.length ? `,"${groups.join(',')}"` : ''}`;
    })
    .join('\n');
}

export interface Where {
  /** '' = across all namespaces (list and watch only). */
  namespace: string;
  name: string;
}

const READ_VERBS = ['get', 'list', 'watch'];
const READABLE_SUBRESOURCES = ['', 'status', 'scale', 'metrics', 'expansions', 'connection'];
const GET_ONLY_SUBRESOURCES = ['status', 'metrics', 'expansions', 'connection'];

/** What each persona may do, stated without RBAC. */
export const personas: Array<{ title: string; user: UserInfo; allowed: (c: AccessCase, w: Where) => boolean }> = [
  {
    title: 'reader (group storm-viewers → operators-viewer everywhere): get/list/watch only',
    user: USERS.reader,
    allowed: (c) => READ_VERBS.includes(c.verb) && READABLE_SUBRESOURCES.includes(c.subresource),
  },
  {
    title: 'editor (bob → operators-editor in storm-prod): objects and scale, no custom verbs, no status writes',
    user: USERS.editor,
    allowed: (c, w) =>
      w.namespace === 'storm-prod' &&
      (c.subresource === '' ||
        (c.subresource === 'scale' && ['get', 'update', 'patch'].includes(c.verb)) ||
        (GET_ONLY_SUBRESOURCES.includes(c.subresource) && c.verb === 'get')),
  },
  {
    title: 'operator (alice → topology-promoter in storm-prod): promote and rollback, not rebalance',
    user: USERS.operator,
    allowed: (c, w) =>
      w.namespace === 'storm-prod' &&
      c.resource === 'stormtopologies' &&
      ((c.subresource === '' && READ_VERBS.includes(c.verb)) || (['promote', 'rollback'].includes(c.subresource) && c.verb === 'create')),
  },
  {
    title: 'service account ci/release-pipeline (same binding as alice)',
    user: USERS.pipeline,
    allowed: (c, w) =>
      w.namespace === 'storm-prod' &&
      c.resource === 'stormtopologies' &&
      ((c.subresource === '' && READ_VERBS.includes(c.verb)) || (['promote', 'rollback'].includes(c.subresource) && c.verb === 'create')),
  },
  {
    title: 'status-only user (sam → */status in every group): status and nothing else',
    user: USERS.statusOnly,
    allowed: (c) => c.subresource === 'status',
  },
  {
    title: 'resourceNames user (nina → stormtopologies[/promote] named wordcount in storm-prod)',
    user: USERS.namesLimited,
    allowed: (c, w) =>
      w.namespace === 'storm-prod' &&
      c.resource === 'stormtopologies' &&
      ['', 'promote'].includes(c.subresource) &&
      c.item &&
      w.name === 'wordcount',
  },
  { title: 'user without bindings (mallory): nothing', user: USERS.nobody, allowed: () => false },
];


/** The static token of `user` in `tokenFileText()`. */
export function tokenOf(user: UserInfo): string {
  const persona = Object.entries(USERS).find(([, u]) => u === user)?.[0];
  if (!persona) throw new Error(`no token for ${user.username}`);
  return `token-${persona}`;
}
