// Server-side apply by kubectl on an object that client-side apply manages, as kube-apiserver's
// `lastAppliedManager` and `lastAppliedUpdater` handle it, so `kubectl apply --server-side` after
// `kubectl apply` takes the fields over without conflicts and the two keep working together:
//
// - conflicts of manager `kubectl` on fields the `kubectl.kubernetes.io/last-applied-configuration`
//   annotation sets are allowed (the apply is forced when they are the only ones);
// - after such an apply, the annotation is rewritten to the applied configuration.
import type { KubeObject } from '../meta.js';
import type { PatchMeta } from '../patch/meta.js';
import { FieldSet, pathString } from './fieldset.js';
import { appliedFieldSet } from './managed-fields.js';

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** The manager whose applies are reconciled with client-side apply (kube-apiserver's choice). */
export const KUBECTL_MANAGER = 'kubectl';

/** The annotation's own field, which the rewrite changes on nobody's behalf. */
export const LAST_APPLIED_FIELD = new FieldSet([['f:metadata', 'f:annotations', `f:${LAST_APPLIED_ANNOTATION}`]]);

/** Field paths (as conflict causes print them) the live object's last-applied configuration sets. */
export function lastAppliedFields(live: KubeObject | undefined, meta: PatchMeta): Set<string> | undefined {
  const text = live?.metadata.annotations?.[LAST_APPLIED_ANNOTATION];
  if (text === undefined) return undefined;
  try {
    return new Set(appliedFieldSet(JSON.parse(text), meta).list().map(pathString));
  } catch {
    return undefined;
  }
}

/** Sets the annotation of `merged` to `config` (minus the annotation), when `live` has one. */
export function syncLastApplied(live: KubeObject | undefined, merged: KubeObject, config: KubeObject): boolean {
  if (live?.metadata.annotations?.[LAST_APPLIED_ANNOTATION] === undefined) return false;
  const copy = structuredClone(config);
  if (copy.metadata?.annotations) {
    delete copy.metadata.annotations[LAST_APPLIED_ANNOTATION];
  }
  merged.metadata.annotations = { ...(merged.metadata.annotations ?? {}), [LAST_APPLIED_ANNOTATION]: JSON.stringify(copy) };
  return true;
}
