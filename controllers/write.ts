// Writing one of our objects back from a controller: decode the edited copy as the API would
// (schema, unknown fields), update it with its resourceVersion as precondition, and on a 409
// Conflict read the current object and apply the same edit again, like client-go's
// retry.RetryOnConflict with DefaultRetry (5 attempts, 10 ms backoff doubling).
import { isStatusError } from '../apiserver/errors.js';
import { decodeObject } from '../registry/codec.js';
import type { KubeObject } from '../registry/meta.js';
import type { Store } from '../registry/store.js';
import { realClock, type Clock } from './clock.js';

export const CONFLICT_RETRY_ATTEMPTS = 5;
const CONFLICT_RETRY_INITIAL_MS = 10;

export interface RetryOptions {
  clock?: Clock;
  attempts?: number;
}

/**
 * Applies `edit` to a copy of `obj` (and, after each conflict, to a copy of the current object)
 * and writes it through `target` (the resource's Store or its statusStore()). `edit` returns false
 * when there is nothing to change; then nothing is written and the base object is returned.
 * Resolves with the object as written; rejects with the last error when the retries run out
 * (404 NotFound when the object is gone).
 */
export async function writeWithRetry(
  target: Store,
  obj: KubeObject,
  edit: (copy: KubeObject) => boolean,
  options: RetryOptions = {},
): Promise<KubeObject> {
  const clock = options.clock ?? realClock;
  const attempts = options.attempts ?? CONFLICT_RETRY_ATTEMPTS;
  const scope = { namespace: obj.metadata.namespace, name: obj.metadata.name! };
  let base = obj;
  let delay = CONFLICT_RETRY_INITIAL_MS;
  for (let attempt = 1; ; attempt++) {
    const copy = structuredClone(base);
    if (!edit(copy)) return base;
    const decoded = decodeObject(target.decl, target.decl.versions[0], copy, 'Strict');
    try {
      const { object } = await target.update(scope, () => decoded, { dryRun: false });
      return object;
    } catch (err) {
      if (!isStatusError(err, 'Conflict') || attempt >= attempts) throw err;
    }
    await clock.sleep(delay);
    delay *= 2;
    base = await target.get(scope);
  }
}
