// Who a write is recorded for in `metadata.managedFields`: the `fieldManager` query parameter, or
// (except for apply, where it is required) the User-Agent up to its first "/" — as kube-apiserver
// names managers (`kubectl-client-side-apply`, `kubectl-edit`, `kubectl` from `kubectl/v1.32 ...`).
import type { FastifyRequest } from 'fastify';
import type { ManagerRequest } from '../../registry/fieldmanager/managed-fields.js';
import { storageVersion } from '../../registry/conversion.js';
import { groupVersionOf } from '../../registry/kind.js';
import { invalid, type FieldError } from '../errors.js';
import { param, type ResourceContext } from './context.js';

const MAX_LENGTH = 128;

export type OptionsKind = 'CreateOptions' | 'UpdateOptions' | 'PatchOptions';

/** 422 `PatchOptions.meta.k8s.io "" is invalid: ...`, as apimachinery's ValidatePatchOptions reports. */
export function invalidOptions(kind: OptionsKind, errors: FieldError[]) {
  return invalid({ group: 'meta.k8s.io', resource: kind, kind, name: '' }, errors);
}

/** The User-Agent's product name: `kubectl` of `kubectl/v1.32.0 (linux/amd64) kubernetes/abc`. */
export function prefixFromUserAgent(userAgent: string | undefined): string {
  return [...(userAgent ?? '').split('/')[0]].filter((c) => isPrintable(c)).slice(0, MAX_LENGTH).join('');
}

function isPrintable(c: string): boolean {
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(c);
}

/**
 * The manager of an Update-operation write through `ctx` (`operation` is changed by the caller for
 * apply). Throws 422 for a fieldManager that is too long or not printable, or missing when `required`.
 */
export function managerOf(req: FastifyRequest, ctx: ResourceContext, kind: OptionsKind, required = false): ManagerRequest {
  const given = param(req, 'fieldManager') ?? '';
  const errors: FieldError[] = [];
  if (given === '' && required) errors.push({ type: 'FieldValueRequired', field: 'fieldManager', detail: 'is required for apply patch' });
  if ([...given].length > MAX_LENGTH) errors.push({ type: 'FieldValueTooLong', field: 'fieldManager', detail: `may not be more than ${MAX_LENGTH} bytes` });
  [...given].forEach((c, i) => {
    if (!isPrintable(c)) {
      const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
      errors.push({ type: 'FieldValueInvalid', field: 'fieldManager', value: given, detail: `invalid character ${code} (at position ${i})` });
    }
  });
  if (errors.length > 0) throw invalidOptions(kind, errors);
  return {
    manager: given !== '' ? given : prefixFromUserAgent(req.headers['user-agent']),
    operation: 'Update',
    // The Store tracks fields on the stored object, so entries name the storage version: the
    // version their FieldsV1 paths are in, whatever version the request was made in.
    apiVersion: groupVersionOf(ctx.decl.group, storageVersion(ctx.decl)),
  };
}
