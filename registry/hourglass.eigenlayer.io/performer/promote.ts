// POST …/performers/{name}/promote (PerformerPromotion): the new version started beside the
// serving one is to serve now, without waiting for it to report SERVING. The verb records the
// request in status (`pendingVersion.promoteRequested`); the controller switches the Service and
// removes the old Pod. 409 Conflict when no new version is waiting (or `spec.version` names
// another one).
import { z } from 'zod';
import { conflict, isStatusError } from '../../../apiserver/errors.js';
import { decodeObject } from '../../codec.js';
import type { KubeObject } from '../../meta.js';
import type { Store } from '../../store.js';
import type { SubresourceDeclaration } from '../../subresource.js';
import type { PerformerStatus } from './types.js';
import { NoVersionToSwitch, requestPromotion, type VersionRef } from './versions.js';

const VERSION_REF = z.strictObject({ version: z.string().optional(), image: z.string(), revision: z.string().optional() });

const requestSpec = z
  .strictObject({
    version: z.string().optional().meta({ description: 'Promote only if the waiting version is this spec.version (a guard against promoting something else).' }),
  })
  .prefault({});

const response = z.strictObject({
  metadata: z.strictObject({ name: z.string(), namespace: z.string().optional() }),
  spec: requestSpec,
  status: z.strictObject({
    promoted: VERSION_REF.meta({ description: 'The version that is to serve.' }),
    replaces: VERSION_REF.optional().meta({ description: 'The version serving until the switch.' }),
  }),
});

const ATTEMPTS = 3;

/**
 * Reads the object, applies `edit` to a copy and writes it with the read resourceVersion as
 * precondition; on a 409 Conflict (someone wrote in between) reads again, up to 3 times.
 * `edit` throws to refuse. Resolves with the edited object (not written when `dryRun`).
 */
export async function editWithPrecondition(
  target: Store,
  scope: { namespace?: string; name: string },
  dryRun: boolean,
  edit: (copy: KubeObject) => void,
): Promise<KubeObject> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { object } = await target.update(
        scope,
        (current) => {
          if (!current) throw new Error('unreachable: update without an object');
          const copy = structuredClone(current);
          edit(copy);
          return decodeObject(target.decl, target.decl.versions[0], copy, 'Strict');
        },
        { dryRun },
      );
      return object;
    } catch (err) {
      if (!isStatusError(err, 'Conflict') || attempt >= ATTEMPTS) throw err;
    }
  }
}

export function refused(store: Store, name: string, err: unknown): unknown {
  if (err instanceof NoVersionToSwitch) return conflict({ group: store.decl.group, resource: store.decl.plural, name }, err.message);
  return err;
}

export const promote: SubresourceDeclaration = {
  name: 'promote',
  verb: 'create',
  kind: 'PerformerPromotion',
  description:
    'Makes the new version that was started beside the serving one (blue-green) serve now, without waiting for it to report SERVING. 409 Conflict when no new version is waiting.',
  requestSpec,
  response,
  connect(services) {
    return async (request) => {
      const scope = { namespace: request.namespace, name: request.name };
      const wanted = (request.body?.spec as { version?: string } | undefined)?.version;
      // Only the status subresource's store is written: the verb asks, the controller switches.
      await services.store.get(scope); // 404 for a missing performer before anything else
      let promoted: VersionRef | undefined;
      let replaces: VersionRef | undefined;
      try {
        await editWithPrecondition(services.store.statusStore(), scope, request.dryRun, (copy) => {
          const status = (copy.status ?? {}) as PerformerStatus;
          if (wanted !== undefined && status.pendingVersion && status.pendingVersion.version !== wanted) {
            throw new NoVersionToSwitch(`the version waiting is ${JSON.stringify(status.pendingVersion.version ?? status.pendingVersion.image)}, not ${JSON.stringify(wanted)}`);
          }
          const next = requestPromotion(status);
          promoted = next.pendingVersion;
          replaces = status.currentVersion;
          copy.status = next;
        });
      } catch (err) {
        throw refused(services.store, request.name, err);
      }
      const { promoteRequested: _, podName: __, since: ___, ...version } = promoted as NonNullable<PerformerStatus['pendingVersion']>;
      return {
        object: {
          metadata: { name: request.name, namespace: request.namespace },
          spec: wanted !== undefined ? { version: wanted } : {},
          status: { promoted: version, ...(replaces ? { replaces } : {}) },
        },
      };
    };
  },
};
