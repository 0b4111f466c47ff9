// Finalizers of our objects. A controller that creates something outside (host objects, Nimbus
// topologies) adds its finalizer BEFORE creating it, so a delete cannot slip through unnoticed;
// on delete (deletionTimestamp set) it cleans up and removes the finalizer LAST; the Store
// deletes the object when its last finalizer goes.
import type { KubeObject } from '../registry/meta.js';
import type { Store } from '../registry/store.js';
import { writeWithRetry, type RetryOptions } from './write.js';

export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return (obj.metadata.finalizers ?? []).includes(finalizer);
}

export function isBeingDeleted(obj: KubeObject): boolean {
  return obj.metadata.deletionTimestamp !== undefined;
}

/** Adds `finalizer` (retrying on conflict); resolves with the object as stored. */
export function addFinalizer(store: Store, obj: KubeObject, finalizer: string, options?: RetryOptions): Promise<KubeObject> {
  return writeWithRetry(
    store,
    obj,
    (copy) => {
      if (hasFinalizer(copy, finalizer)) return false;
      copy.metadata.finalizers = [...(copy.metadata.finalizers ?? []), finalizer];
      return true;
    },
    options,
  );
}

/**
 * Removes `finalizer` (retrying on conflict). When it was the last one of an object being deleted,
 * the object is gone afterwards.
 */
export function removeFinalizer(store: Store, obj: KubeObject, finalizer: string, options?: RetryOptions): Promise<KubeObject> {
  return writeWithRetry(
    store,
    obj,
    (copy) => {
      if (!hasFinalizer(copy, finalizer)) return false;
      copy.metadata.finalizers = copy.metadata.finalizers!.filter((f) => f !== finalizer);
      return true;
    },
    options,
  );
}
