// Create-or-replace of the host objects the Hourglass controllers own. The desired object is
// hashed (`hourglass.eigenlayer.io/applied-hash`); an object already carrying the same hash is
// left alone (the host's defaults never cause a write), one with another hash is replaced with its
// resourceVersion as precondition (a 409 is retried by the reconcile's backoff). An object of the
// same name that is not ours (no managed-by labels naming the owner) is never touched.
import { createHash } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, OWNER_NAME_ANNOTATION } from '../host-client.js';
import { readOrUndefined } from '../http-errors.js';

export const APPLIED_HASH_ANNOTATION = 'hourglass.eigenlayer.io/applied-hash';

export interface HostApi<T extends KubernetesObject> {
  read(namespace: string, name: string): Promise<T>;
  create(namespace: string, body: T): Promise<T>;
  replace(namespace: string, name: string, body: T): Promise<T>;
}

export class NotOurs extends Error {
  constructor(
    readonly kind: string,
    readonly key: string,
  ) {
    super(`${kind} ${key} exists and is not managed by this server; rename it or delete it`);
  }
}


/** A stable digest of a JSON value (object keys sorted). */
export function digest(value: unknown, length = 16): string {
  return createHash('sha256').update(stableJson(value)).digest('hex').slice(0, length);
}

export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

export interface ApplyResult<T> {
  object: T;
  action: 'created' | 'replaced' | 'unchanged';
}

/**
 * Makes the host object `desired` exist as given. `merge` (optional) carries fields the host
 * owns from the current object into the replacement (a Service's clusterIP).
 */
export async function applyOwned<T extends KubernetesObject>(
  kind: string,
  api: HostApi<T>,
  desired: T,
  ownerName: string,
  merge?: (desired: T, current: T) => T,
): Promise<ApplyResult<T>> {
  const namespace = desired.metadata!.namespace!;
  const name = desired.metadata!.name!;
  const hash = digest(desired);
  const body = structuredClone(desired);
  body.metadata!.annotations = { ...(body.metadata!.annotations ?? {}), [APPLIED_HASH_ANNOTATION]: hash };
  const current = await readOrUndefined(() => api.read(namespace, name));
  if (!current) return { object: await api.create(namespace, body), action: 'created' };
  const labels = current.metadata?.labels ?? {};
  const owner = current.metadata?.annotations?.[OWNER_NAME_ANNOTATION];
  if (labels[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE || (owner !== undefined && owner !== ownerName)) throw new NotOurs(kind, `${namespace}/${name}`);
  if (current.metadata?.annotations?.[APPLIED_HASH_ANNOTATION] === hash) return { object: current, action: 'unchanged' };
  const replacement = merge ? merge(body, current) : body;
  replacement.metadata!.resourceVersion = current.metadata?.resourceVersion;
  return { object: await api.replace(namespace, name, replacement), action: 'replaced' };
}
