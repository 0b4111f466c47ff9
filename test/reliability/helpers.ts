// Shared pieces of the reliability suite: a keep-alive HTTPS client that never throws on an HTTP
// status (only on a transport failure), the server run as a child process (for SIGKILL) — both in
// hack/lib, which the benchmarks share — the test object, scale parameters (CI runs the issue's
// figures, local runs smaller ones) and latency percentiles.
export { Client, type Answer, type Endpoint } from '../../hack/lib/https-client.js';
export { startServerProcess, type ServerProcess } from '../../hack/lib/server-process.js';

/** Scale of the heavy scenarios: the issue's figures on CI, smaller ones on a shared dev machine. */
export function scale(name: string, ci: number, local: number): number {
  const fromEnv = process.env[name];
  if (fromEnv !== undefined && fromEnv !== '') {
    const n = Number(fromEnv);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${fromEnv}: expected a positive number`);
    return n;
  }
  return process.env.CI ? ci : local;
}

/** The p-th percentile (0 < p ≤ 100) of `samples`, nearest rank. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export const GROUP_VERSION = 'pvc-chonker.io/v1alpha1';
export const POLICIES = (namespace: string) => `/apis/pvc-chonker.io/v1alpha1/namespaces/${namespace}/pvcpolicies`;
export const POLICY_SPEC = { selector: { matchLabels: { app: 'db' } }, template: { threshold: '80%' } };

/** A valid PVCPolicy (namespaced, no defaults, no controller needed to accept it). */
export function policy(name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): Record<string, unknown> {
  return { apiVersion: GROUP_VERSION, kind: 'PVCPolicy', metadata: { name, labels, annotations }, spec: POLICY_SPEC };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a truthy value; throws with `what` after `timeoutMs`. */
export async function until<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(100);
  }
}
