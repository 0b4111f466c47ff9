// RBAC semantics in isolation (kube's rbac.RuleAllows and the binding rules) and the policy file
// checks, table-driven.
import test from 'ava';
import type { UserInfo } from '../../apiserver/authn/user.js';
import type { AuthorizationAttributes } from '../../apiserver/authz/authorizer.js';
import { forbiddenMessage } from '../../apiserver/authz/authorizer.js';
import { RbacAuthorizer } from '../../apiserver/authz/rbac.js';
import { parseRbacPolicy } from '../../apiserver/authz/rbac-policy-file.js';
import { auditLevel, parseAuditPolicy } from '../../apiserver/filters/audit-policy.js';
import { resolveRequestInfo } from '../../apiserver/request-info.js';

const user = (username: string, ...groups: string[]): UserInfo => ({ username, groups: [...groups, 'system:authenticated'] });

const POLICY = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: scalers }
rules: [{ apiGroups: ["*"], resources: ["*/scale"], verbs: ["*"] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: scalers }
roleRef: { kind: ClusterRole, name: scalers }
subjects: [{ kind: Group, name: autoscalers }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: metrics-reader }
rules: [{ nonResourceURLs: ["/metrics", "/debug/*"], verbs: ["get"] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: metrics-reader }
roleRef: { kind: ClusterRole, name: metrics-reader }
subjects: [{ kind: ServiceAccount, name: prometheus, namespace: monitoring }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: everything, namespace: team-a }
rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: team-a-admins, namespace: team-a }
roleRef: { kind: Role, name: everything }
subjects: [{ kind: Group, name: team-a }, { kind: ServiceAccount, name: deployer }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: dangling, namespace: team-b }
roleRef: { kind: Role, name: everything }
subjects: [{ kind: Group, name: team-a }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: metrics-in-namespace }
rules:
  - { nonResourceURLs: ["/metrics"], verbs: ["get"] }
  - { apiGroups: [""], resources: ["configmaps"], verbs: ["get"] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: metrics-in-namespace, namespace: team-c }
roleRef: { kind: ClusterRole, name: metrics-in-namespace }
subjects: [{ kind: User, name: carl }]
`;

const rbac = new RbacAuthorizer(() => parseRbacPolicy(POLICY));
const P = '/apis/storm.apache.org/v1beta1/namespaces';

const cases: Array<[string, UserInfo, string, string, boolean]> = [
  ['"*/scale" matches scale of any resource', user('hpa', 'autoscalers'), 'PUT', `${P}/x/stormworkerpools/p/scale`, true],
  ['"*/scale" matches scale in another group', user('hpa', 'autoscalers'), 'GET', '/apis/hourglass.eigenlayer.io/v1alpha1/namespaces/x/hourglassexecutors/e/scale', true],
  ['"*/scale" does not match the resource itself', user('hpa', 'autoscalers'), 'GET', `${P}/x/stormworkerpools/p`, false],
  ['"*/scale" does not match status', user('hpa', 'autoscalers'), 'GET', `${P}/x/stormworkerpools/p/status`, false],
  ['non-resource URL, exact', user('system:serviceaccount:monitoring:prometheus'), 'GET', '/metrics', true],
  ['non-resource URL, prefix', user('system:serviceaccount:monitoring:prometheus'), 'GET', '/debug/pprof/heap', true],
  ['non-resource URL, other verb', user('system:serviceaccount:monitoring:prometheus'), 'POST', '/metrics', false],
  ['non-resource URL, other path', user('system:serviceaccount:monitoring:prometheus'), 'GET', '/metricsx', false],
  ['ServiceAccount subject needs its namespace', user('system:serviceaccount:other:prometheus'), 'GET', '/metrics', false],
  ['"*" resources include subresources (Role in its namespace)', user('ann', 'team-a'), 'POST', `${P}/team-a/stormtopologies/t/promote`, true],
  ['"*" verbs and apiGroups', user('ann', 'team-a'), 'DELETE', '/apis/pvc-chonker.io/v1alpha1/namespaces/team-a/pvcgroups', true],
  ['a RoleBinding grants only in its namespace', user('ann', 'team-a'), 'GET', `${P}/team-c/stormtopologies/t`, false],
  ['a RoleBinding to a Role of another namespace grants nothing', user('ann', 'team-a'), 'GET', `${P}/team-b/stormtopologies/t`, false],
  ['a RoleBinding does not grant cluster-wide lists', user('ann', 'team-a'), 'GET', '/apis/storm.apache.org/v1beta1/stormtopologies', false],
  ['ServiceAccount subject of a RoleBinding defaults to its namespace', user('system:serviceaccount:team-a:deployer'), 'PATCH', `${P}/team-a/stormtopologies/t`, true],
  ['a RoleBinding never grants non-resource URLs', user('carl'), 'GET', '/metrics', false],
  ['a RoleBinding to a ClusterRole grants its resource rules in the namespace', user('carl'), 'GET', '/api/v1/namespaces/team-c/configmaps/c', true],
  ['nobody else', user('zed'), 'GET', `${P}/team-a/stormtopologies/t`, false],
];

for (const [title, u, method, url, allowed] of cases) {
  test(`RBAC: ${title}`, (t) => {
    const info = resolveRequestInfo(method, url);
    const attrs: AuthorizationAttributes = { user: u, ...info };
    t.is(rbac.authorize(attrs).decision, allowed ? 'allow' : 'no-opinion');
  });
}

const invalidPolicies: Array<[string, string, RegExp]> = [
  ['wrong apiVersion', 'apiVersion: rbac.authorization.k8s.io/v1beta1\nkind: Role\nmetadata: {name: r, namespace: n}', /apiVersion must be/],
  ['Role without namespace', 'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}', /namespace is required/],
  ['rule without verbs', 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules: [{apiGroups: [""], resources: [pods]}]', /verbs is required/],
  ['rule with resources and no apiGroups', 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules: [{resources: [pods], verbs: [get]}]', /apiGroups is required/],
  ['nonResourceURLs in a Role', 'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: n}\nrules: [{nonResourceURLs: [/x], verbs: [get]}]', /only valid in a ClusterRole/],
  ['ClusterRoleBinding to a Role', 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {kind: Role, name: r}', /only refer to a ClusterRole/],
  ['unknown subject kind', 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {kind: ClusterRole, name: r}\nsubjects: [{kind: Robot, name: x}]', /subjects\[0\]/],
  ['unsupported kind', 'apiVersion: rbac.authorization.k8s.io/v1\nkind: Pod\nmetadata: {name: p}', /unsupported kind/],
];
for (const [title, text, message] of invalidPolicies) {
  test(`RBAC policy file rejects: ${title}`, (t) => {
    t.throws(() => parseRbacPolicy(text), { message });
  });
}

test('a List of RBAC objects is accepted', (t) => {
  const policy = parseRbacPolicy(`apiVersion: v1
kind: List
items:
  - { apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: { name: r }, rules: [{ apiGroups: ["*"], resources: ["*"], verbs: [get] }] }
  - { apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding, metadata: { name: b }, roleRef: { kind: ClusterRole, name: r }, subjects: [{ kind: User, name: u }] }
`);
  const attrs: AuthorizationAttributes = { user: user('u'), ...resolveRequestInfo('GET', `${P}/n/stormtopologies/t`) };
  t.is(new RbacAuthorizer(() => policy).authorize(attrs).decision, 'allow');
});

test('forbidden messages: namespaced, cluster scope, subresource, non-resource path', (t) => {
  const msg = (method: string, url: string) => forbiddenMessage({ user: user('alice'), ...resolveRequestInfo(method, url) });
  t.is(msg('POST', `${P}/ns/stormtopologies/x/promote`), 'User "alice" cannot create resource "stormtopologies/promote" in API group "storm.apache.org" in the namespace "ns"');
  t.is(msg('GET', '/apis/storm.apache.org/v1beta1/stormtopologies?watch=1'), 'User "alice" cannot watch resource "stormtopologies" in API group "storm.apache.org" at the cluster scope');
  t.is(msg('GET', '/foo'), 'User "alice" cannot get path "/foo"');
});

test('audit policy: the first matching rule gives the level; no match is None', (t) => {
  const policy = parseAuditPolicy(`
apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: None
    users: ["system:kube-proxy"]
  - level: None
    nonResourceURLs: ["/healthz*"]
  - level: RequestResponse
    resources: [{ group: storm.apache.org, resources: ["*/promote"] }]
  - level: Request
    userGroups: ["editors"]
    verbs: ["create", "update"]
  - level: Metadata
    namespaces: ["prod"]
`);
  const level = (u: UserInfo, method: string, url: string) => auditLevel(policy, u, resolveRequestInfo(method, url));
  t.is(level(user('system:kube-proxy'), 'GET', `${P}/prod/stormtopologies`), 'None');
  t.is(level(user('a'), 'GET', '/healthz/ping'), 'None');
  t.is(level(user('a'), 'POST', `${P}/dev/stormtopologies/t/promote`), 'RequestResponse');
  t.is(level(user('a', 'editors'), 'POST', `${P}/dev/stormtopologies`), 'Request');
  t.is(level(user('a', 'editors'), 'GET', `${P}/prod/stormtopologies`), 'Metadata');
  t.is(level(user('a'), 'GET', `${P}/dev/stormtopologies`), 'None');
  t.throws(() => parseAuditPolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Loud}]'), { message: /level must be/ });
});
