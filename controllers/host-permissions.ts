// Every call the server makes to the HOST cluster, as RBAC sees it: (API group, resource, verbs),
// who makes it and why. This table is what `deploy/base/rbac-host.yaml` must grant the server's
// ServiceAccount, no more and no less; `test/deploy/deploy.test.ts` checks both directions, and
// checks that every typed client-node call in `controllers/` (and the managed types handed to
// `deleteManaged`/`sweepOrphans`) maps to a row here. A controller that starts calling something
// new adds its row here and its rule to the ClusterRole.
//
// `scope`: `cluster` = objects in any namespace (a ClusterRole bound cluster-wide); `own-namespace`
// = only in the server's namespace (a Role there); `delegation` = granted by the built-in
// `system:auth-delegator` / `extension-apiserver-authentication-reader` roles that every
// aggregated API server is bound to (not by our ClusterRole).

export interface HostPermission {
  /** Who calls: a controller name, `runtime` (events, leader election, GC), or `apiserver`. */
  caller: 'storm' | 'pvcchonker' | 'hourglass' | 'runtime' | 'apiserver';
  /** API group ('' = core). */
  group: string;
  /** Resource, with `/subresource` where it is one (`nodes/proxy`). */
  resource: string;
  verbs: string[];
  scope: 'cluster' | 'own-namespace' | 'delegation';
  why: string;
}

const CRUD = ['get', 'list', 'create', 'update', 'delete'];

export const HOST_PERMISSIONS: HostPermission[] = [
  // The API server itself (delegated authentication and authorization).
  { caller: 'apiserver', group: 'authentication.k8s.io', resource: 'tokenreviews', verbs: ['create'], scope: 'delegation', why: 'bearer tokens (TokenReview)' },
  { caller: 'apiserver', group: 'authorization.k8s.io', resource: 'subjectaccessreviews', verbs: ['create'], scope: 'delegation', why: 'authorization (SubjectAccessReview)' },
  { caller: 'apiserver', group: '', resource: 'configmaps', verbs: ['get'], scope: 'delegation', why: 'kube-system/extension-apiserver-authentication (client and front-proxy CAs)' },

  // The controller runtime.
  { caller: 'runtime', group: 'coordination.k8s.io', resource: 'leases', verbs: ['get', 'create', 'update'], scope: 'own-namespace', why: 'leader election of the controllers' },
  { caller: 'runtime', group: '', resource: 'events', verbs: ['create', 'update'], scope: 'cluster', why: 'events about our objects, in their namespaces (identical events bump count)' },

  // Storm: Nimbus/UI/Zookeeper (StormCluster), supervisors (StormWorkerPool), submit/kill Jobs (StormTopology).
  { caller: 'storm', group: '', resource: 'configmaps', verbs: CRUD, scope: 'cluster', why: 'storm.yaml of a StormCluster' },
  { caller: 'storm', group: '', resource: 'services', verbs: CRUD, scope: 'cluster', why: 'Nimbus, UI, Zookeeper and supervisor Services' },
  { caller: 'storm', group: '', resource: 'pods', verbs: ['list'], scope: 'cluster', why: "the submit Job's pods (failure reasons)" },
  { caller: 'storm', group: 'apps', resource: 'deployments', verbs: CRUD, scope: 'cluster', why: 'UI and supervisor Deployments' },
  { caller: 'storm', group: 'apps', resource: 'statefulsets', verbs: CRUD, scope: 'cluster', why: 'Nimbus and Zookeeper StatefulSets' },
  { caller: 'storm', group: 'apps', resource: 'daemonsets', verbs: CRUD, scope: 'cluster', why: 'supervisors on every node (StormCluster daemon mode)' },
  { caller: 'storm', group: '', resource: 'secrets', verbs: ['get'], scope: 'cluster', why: 'TLS client material of a Nimbus (spec.nimbus.thrift.tls.certSecret: ca.crt, tls.crt, tls.key); read by name, never listed' },
  { caller: 'storm', group: 'batch', resource: 'jobs', verbs: ['get', 'list', 'create', 'delete'], scope: 'cluster', why: 'topology submit and kill Jobs' },
  { caller: 'storm', group: 'autoscaling', resource: 'horizontalpodautoscalers', verbs: CRUD, scope: 'cluster', why: 'worker pool autoscaling' },

  // pvc-chonker: grows PVCs from kubelet volume stats.
  { caller: 'pvcchonker', group: '', resource: 'persistentvolumeclaims', verbs: ['list', 'watch', 'patch'], scope: 'cluster', why: 'find the PVCs of policies and groups (a watch starts a cycle on changes), patch their requests and annotations' },
  { caller: 'pvcchonker', group: 'storage.k8s.io', resource: 'storageclasses', verbs: ['list'], scope: 'cluster', why: 'allowVolumeExpansion of the claims’ classes' },
  { caller: 'pvcchonker', group: '', resource: 'nodes', verbs: ['list'], scope: 'cluster', why: 'the kubelets to ask for volume stats' },
  { caller: 'pvcchonker', group: '', resource: 'nodes/proxy', verbs: ['get'], scope: 'cluster', why: 'GET /api/v1/nodes/{node}/proxy/metrics (kubelet_volume_stats_*)' },

  // Hourglass: executors (StatefulSet + ConfigMap) and performers (Pod + Service).
  { caller: 'hourglass', group: '', resource: 'configmaps', verbs: CRUD, scope: 'cluster', why: 'executor configuration' },
  { caller: 'hourglass', group: 'apps', resource: 'statefulsets', verbs: CRUD, scope: 'cluster', why: 'executor StatefulSets' },
  { caller: 'hourglass', group: '', resource: 'pods', verbs: ['get', 'list', 'create', 'delete'], scope: 'cluster', why: 'performer Pods (one per version during an upgrade)' },
  { caller: 'hourglass', group: '', resource: 'services', verbs: CRUD, scope: 'cluster', why: 'performer Services (switched on promotion)' },
];

/** `group/resource` → verbs, merged over callers, for one scope. */
export function permissionsByResource(scope: HostPermission['scope']): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const p of HOST_PERMISSIONS.filter((row) => row.scope === scope)) {
    const key = `${p.group}/${p.resource}`;
    const verbs = out.get(key) ?? new Set<string>();
    for (const v of p.verbs) verbs.add(v);
    out.set(key, verbs);
  }
  return out;
}
