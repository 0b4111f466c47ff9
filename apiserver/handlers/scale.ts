import type { FastifyReply, FastifyRequest } from 'fastify';
import jsonPatch from 'fast-json-patch';
import type { ScaleMapping } from '../../registry/kind.js';
import type { KubeObject } from '../../registry/meta.js';
import { scaleOf, scaleReplicas, withReplicas } from '../../registry/scale.js';
import { parseJsonBody, parseYamlBody } from '../body.js';
import { badRequest, invalid, notFound, unsupportedMediaType } from '../errors.js';
import { bodyType, negotiate } from '../negotiation.js';
import { send } from '../response.js';
import { boolParam, dryRun, param, type ResourceContext, type RouteParams } from './context.js';
import { parseDocumentBody } from './decode.js';
import { managerOf } from './field-manager.js';
import { mergePatch, PATCH_TYPES } from './patch.js';
import { FieldSet } from '../../registry/fieldmanager/fieldset.js';
import type { ManagerRequest } from '../../registry/fieldmanager/managed-fields.js';
import { strategicMergePatch, StrategicPatchError } from '../../registry/patch/strategic.js';

/**
 * `/scale`: GET returns an autoscaling/v1 Scale; PUT and PATCH (on the Scale representation)
 * change the desired replicas through the main resource's update path, so validation, generation
 * and optimistic concurrency are the main resource's.
 */
export function scaleHandlers(ctx: ResourceContext, mapping: ScaleMapping) {
  const ref = (name: string) => ({ group: ctx.decl.group, resource: `${ctx.decl.plural}/scale`, kind: 'Scale', name });

  const get = async (req: FastifyRequest, reply: FastifyReply) => {
    const { namespace, name } = req.params as RouteParams;
    const negotiated = negotiate(req.headers.accept, { list: false });
    const obj = await ctx.store.get({ namespace, name: name! }, { resourceVersion: param(req, 'resourceVersion') });
    return send(reply, 200, scaleOf(mapping, obj), negotiated.encoding);
  };

  const write = (toScale: (current: KubeObject) => unknown, apply?: Partial<ManagerRequest>) => async (req: FastifyRequest, reply: FastifyReply) => {
    const { namespace, name } = req.params as RouteParams;
    const negotiated = negotiate(req.headers.accept, { list: false });
    const result = await ctx.store.update(
      { namespace, name: name! },
      (current) => {
        if (!current) throw notFound({ group: ctx.decl.group, resource: ctx.decl.plural, name: name! });
        const { replicas, resourceVersion, errors } = scaleReplicas(toScale(current));
        if (errors.length > 0) throw invalid(ref(name!), errors);
        const object = withReplicas(mapping, current, replicas);
        if (resourceVersion) object.metadata.resourceVersion = resourceVersion;
        return { object, errors: [], warnings: [] };
      },
      {
        dryRun: dryRun(req),
        managedFields: { ...managerOf(req, ctx, req.method === 'PATCH' ? 'PatchOptions' : 'UpdateOptions', apply !== undefined), subresource: 'scale', ...apply },
      },
    );
    return send(reply, 200, scaleOf(mapping, result.object), negotiated.encoding);
  };

  const update = (req: FastifyRequest, reply: FastifyReply) => {
    const body = parseDocumentBody(req).value;
    return write(() => body)(req, reply);
  };

  const patch = (req: FastifyRequest, reply: FastifyReply) => {
    const type = bodyType(req.headers['content-type']);
    if (type === 'apply-patch') return applyScale(req, reply);
    if (type !== 'json-patch' && type !== 'merge-patch' && type !== 'strategic-merge-patch') {
      throw unsupportedMediaType(req.headers['content-type'] ?? '', PATCH_TYPES);
    }
    const { value } = parseJsonBody(req.body as Buffer);
    if (type === 'json-patch' && !Array.isArray(value)) throw badRequest('json patch must be a JSON array of operations');
    return write((current) => {
      const scale = scaleOf(mapping, current);
      if (type === 'merge-patch') return mergePatch(scale, value);
      if (type === 'strategic-merge-patch') {
        try {
          return strategicMergePatch(scale, value);
        } catch (err) {
          if (err instanceof StrategicPatchError) throw badRequest(err.message);
          throw err;
        }
      }
      try {
        return jsonPatch.applyPatch(scale, value as jsonPatch.Operation[], true, false).newDocument;
      } catch (err) {
        throw invalid(ref(scale.metadata.name!), [{ type: 'FieldValueInvalid', field: 'patch', detail: (err as Error).message.split('\n')[0] }]);
      }
    })(req, reply);
  };

  /**
   * Server-side apply of a Scale: the manager applies the desired replicas only, owned as the
   * main resource's replicas field (`subresource: scale` in managedFields); conflicts as for apply.
   */
  const applyScale = (req: FastifyRequest, reply: FastifyReply) => {
    const { value } = parseYamlBody(req.body as Buffer);
    const replicas = (value as { spec?: { replicas?: unknown } } | null)?.spec?.replicas;
    const applied = new FieldSet(replicas === undefined ? [] : [mapping.specReplicasPath.split('.').map((f) => `f:${f}`)]);
    return write(
      (current) => (replicas === undefined ? scaleOf(mapping, current) : mergePatch(scaleOf(mapping, current), { spec: { replicas } })),
      { operation: 'Apply', applied, force: boolParam(req, 'force') },
    )(req, reply);
  };

  return { get, update, patch };
}
