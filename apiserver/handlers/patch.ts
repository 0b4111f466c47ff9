import type { FastifyReply, FastifyRequest } from 'fastify';
import jsonPatch from 'fast-json-patch';
import { decodeObject } from '../../registry/codec.js';
import { convertFromVersion, convertToVersion, storageVersion } from '../../registry/conversion.js';
import { applyConfiguration } from '../../registry/fieldmanager/apply.js';
import { KUBECTL_MANAGER, LAST_APPLIED_FIELD, lastAppliedFields, syncLastApplied } from '../../registry/fieldmanager/last-applied.js';
import { appliedFieldSet, scopeFilter, type ManagerRequest } from '../../registry/fieldmanager/managed-fields.js';
import type { KubeObject } from '../../registry/meta.js';
import { patchMetaOf, type PatchMeta } from '../../registry/patch/meta.js';
import { StrategicPatchError, strategicMergePatch } from '../../registry/patch/strategic.js';
import type { Store } from '../../registry/store.js';
import { parseJsonBody, parseYamlBody } from '../body.js';
import { badRequest, invalid, isStatusError, notFound, unsupportedMediaType, type ResourceRef } from '../errors.js';
import { bodyType, negotiate } from '../negotiation.js';
import { addWarnings, objectBody, parseIncludeObject, send } from '../response.js';
import { boolParam, dryRun, fieldValidation, inRequestVersion, param, type ResourceContext, type RouteParams } from './context.js';
import { rawBody } from './decode.js';
import { invalidOptions, managerOf } from './field-manager.js';

/** Every PATCH body type, in the order kube-apiserver lists them (415 responses, OpenAPI). */
export const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];

export type PatchDocumentType = 'json-patch' | 'merge-patch' | 'strategic-merge-patch';

/** RFC 7386 JSON merge patch: objects merge recursively, `null` deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** Checks the shape of a JSON, merge or strategic patch document (400 when it cannot be one). */
export function validatePatchDocument(type: PatchDocumentType, patch: unknown): void {
  if (type === 'json-patch') {
    if (!Array.isArray(patch)) throw badRequest('json patch must be a JSON array of operations');
    const problem = jsonPatch.validate(patch as jsonPatch.Operation[]);
    if (problem) throw badRequest(`invalid JSON patch: ${problem.message}`);
  } else if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    throw badRequest(`${type === 'merge-patch' ? 'merge' : 'strategic merge'} patch must be a JSON object`);
  }
}

/**
 * Applies a JSON, merge or strategic merge patch to `current` (not modified), with `meta` the
 * list semantics of the version `current` is in. The result is still to be decoded.
 */
export function patchObject(type: PatchDocumentType, current: unknown, patch: unknown, meta: PatchMeta, ref: ResourceRef & { kind: string; name: string }): unknown {
  switch (type) {
    case 'merge-patch':
      return mergePatch(current, patch);
    case 'strategic-merge-patch':
      try {
        return strategicMergePatch(current, patch, meta);
      } catch (err) {
        if (err instanceof StrategicPatchError) throw badRequest(err.message);
        throw err;
      }
    case 'json-patch':
      try {
        return jsonPatch.applyPatch(structuredClone(current), structuredClone(patch) as jsonPatch.Operation[], true, false).newDocument;
      } catch (err) {
        throw invalid(ref, [{ type: 'FieldValueInvalid', field: 'patch', value: JSON.stringify(patch), detail: (err as Error).message.split('\n')[0] }]);
      }
  }
}

/**
 * PATCH of one object (main resource or `/status`). The patch is applied to the current object
 * inside the Store's update loop, so a concurrent write makes it re-apply to the newer object;
 * a `metadata.resourceVersion` set by the patch itself is a precondition (409 when stale).
 *
 * Server-side apply (`application/apply-patch+yaml`, YAML or JSON) needs `fieldManager`; it merges
 * the configuration by the schema's list semantics, drops fields the manager applied before and no
 * longer does, records ownership (409 on conflicts unless `force=true`), and creates a missing
 * object (201). It works in the storage version, where managedFields' paths are kept.
 */
export function patchHandler(ctx: ResourceContext, store: Store) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const { namespace, name } = req.params as RouteParams;
    const negotiated = negotiate(req.headers.accept, { list: false });
    const includeObject = parseIncludeObject(param(req, 'includeObject'));
    const type = bodyType(req.headers['content-type']);
    if (type !== 'json-patch' && type !== 'merge-patch' && type !== 'strategic-merge-patch' && type !== 'apply-patch') {
      throw unsupportedMediaType(req.headers['content-type'] ?? '', PATCH_TYPES);
    }
    const apply = type === 'apply-patch';
    const manager = managerOf(req, ctx, 'PatchOptions', apply);
    const force = boolParam(req, 'force');
    if (force && !apply) throw invalidOptions('PatchOptions', [{ type: 'FieldValueForbidden', field: 'force', detail: 'may not be specified for non-apply patch' }]);
    const { value: patch, duplicates } = apply ? parseYamlBody(rawBody(req)) : parseJsonBody(rawBody(req));
    const validation = fieldValidation(req);
    const ref = { group: ctx.decl.group, resource: ctx.decl.plural, kind: ctx.decl.kind, name: name! };

    const checked = (current: KubeObject | undefined, decoded: ReturnType<typeof decodeObject>) => {
      if (!current) return decoded;
      const meta = decoded.object.metadata;
      if (meta.uid !== undefined && meta.uid !== current.metadata.uid) {
        throw invalid(ref, [{ type: 'FieldValueInvalid', field: 'metadata.uid', value: meta.uid, detail: 'field is immutable' }]);
      }
      // A resourceVersion the patch inherited from the current object is no precondition: the
      // patch re-applies to the newer object on a conflict. One the patch sets itself is.
      if (meta.resourceVersion === current.metadata.resourceVersion) delete meta.resourceVersion;
      return decoded;
    };
    let build: (current: KubeObject | undefined) => ReturnType<typeof decodeObject>;
    let managedFields: ManagerRequest = manager;
    // For kubectl's own applies: what the live object's last-applied annotation sets (see last-applied.ts).
    let clientSideApplied: Set<string> | undefined;
    if (apply) {
      if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) throw badRequest('apply patch must be a YAML or JSON object');
      const meta = patchMetaOf(ctx.decl);
      const config = convertFromVersion(ctx.decl, structuredClone(patch) as KubeObject, ctx.version);
      const applied = appliedFieldSet(config, meta).filter(scopeFilter(store.subresource));
      const byKubectl = manager.manager === KUBECTL_MANAGER;
      managedFields = { ...manager, operation: 'Apply', applied, force, ignored: byKubectl ? LAST_APPLIED_FIELD : undefined };
      build = (current) => {
        if (!current && store.subresource) throw notFound(ref);
        const { object } = applyConfiguration(current, config, manager.manager, store.subresource, meta);
        if (byKubectl) {
          clientSideApplied = lastAppliedFields(current, meta);
          syncLastApplied(current, object, patch as KubeObject);
        }
        return checked(current, decodeObject(ctx.decl, storageVersion(ctx.decl), object, validation, duplicates));
      };
    } else {
      validatePatchDocument(type, patch);
      const meta = patchMetaOf(ctx.decl, ctx.version);
      build = (current) => {
        if (!current) throw notFound(ref);
        // The patch applies to the object as the request's version shows it.
        const patched = patchObject(type, convertToVersion(ctx.decl, current, ctx.version), patch, meta, ref);
        return checked(current, decodeObject(ctx.decl, ctx.version, patched, validation, duplicates));
      };
    }
    const write = (fields: ManagerRequest) =>
      inRequestVersion(ctx, store.update({ namespace, name: name! }, build, { dryRun: dryRun(req), forceAllowCreate: apply && !store.subresource, managedFields: fields }));
    let result: Awaited<ReturnType<typeof write>>;
    try {
      result = await write(managedFields);
    } catch (err) {
      // kubectl taking over from client-side apply: conflicts only on fields the last-applied
      // annotation sets are no conflicts (kube-apiserver's lastAppliedManager).
      const causes = isStatusError(err, 'Conflict') ? (err.status.details?.causes ?? []) : [];
      const allowed = clientSideApplied;
      if (!allowed || causes.length === 0 || !causes.every((c) => c.reason === 'FieldManagerConflict' && allowed.has(c.field ?? ''))) throw err;
      result = await write({ ...managedFields, force: true });
    }
    addWarnings(reply, result.warnings);
    return send(reply, result.created ? 201 : 200, objectBody(ctx.decl, result.object, negotiated, includeObject, ctx.version), negotiated.encoding);
  };
}
