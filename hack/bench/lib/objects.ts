// The objects the benchmarks store: PVCPolicies (a namespaced kind that needs no controller and
// no defaults to be accepted), padded to about 1 KB of JSON as the figures ask.
export const GROUP_VERSION = 'pvc-chonker.io/v1alpha1';
export const POLICIES = (namespace: string) => `/apis/pvc-chonker.io/v1alpha1/namespaces/${namespace}/pvcpolicies`;

/** A valid PVCPolicy of about `bytes` bytes of JSON once stored (metadata added by the server included). */
export function benchObject(name: string, bytes = 1024): Record<string, unknown> {
  // ~760 bytes are metadata the server adds (uid, resourceVersion, creationTimestamp, managedFields).
  const padding = Math.max(0, bytes - 760 - name.length);
  return {
    apiVersion: GROUP_VERSION,
    kind: 'PVCPolicy',
    metadata: { name, labels: { app: 'db', bench: 'true' }, annotations: { 'bench.example.com/padding': 'x'.repeat(padding) } },
    spec: { selector: { matchLabels: { app: 'db' } }, template: { threshold: '80%' } },
  };
}
