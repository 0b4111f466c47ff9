// Computed subresources and custom verbs (`registry/subresource.ts`): GET of a computed object, or
// POST of a request object (`kubectl create --raw …/promote -f promotion.json`). This handler owns
// the protocol part — body decoding and checking, dryRun, the response's apiVersion/kind, the
// client going away — and the declaration's handler owns the meaning.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parsePart } from '../../registry/codec.js';
import { groupVersionOf } from '../../registry/kind.js';
import type { KubeObject } from '../../registry/meta.js';
import type { SubresourceDeclaration, SubresourceHandler, SubresourceRequest } from '../../registry/subresource.js';
import { badRequest, invalid, type FieldError } from '../errors.js';
import { negotiate } from '../negotiation.js';
import { addWarnings, send } from '../response.js';
import { dryRun, fieldValidation, type Query, type ResourceContext, type RouteParams } from './context.js';
import { parseDocumentBody, rawBody } from './decode.js';

const REQUEST_FIELDS = new Set(['apiVersion', 'kind', 'metadata', 'spec']);

export function subresourceHandler(ctx: ResourceContext, sub: SubresourceDeclaration, handler: SubresourceHandler) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const { namespace, name } = req.params as RouteParams;
    const negotiated = negotiate(req.headers.accept, { list: false });
    const query: Record<string, string | undefined> = {};
    for (const [key, value] of Object.entries(req.query as Query)) query[key] = Array.isArray(value) ? value[0] : value;
    const user = req.user ?? { username: 'system:anonymous', groups: ['system:unauthenticated'] };

    const aborted = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableEnded) aborted.abort(new Error('the client went away'));
    };
    reply.raw.once('close', onClose);

    const request: SubresourceRequest = {
      namespace,
      name: name!,
      version: ctx.version,
      query,
      user: { username: user.username, uid: user.uid, groups: user.groups ?? [] },
      dryRun: dryRun(req),
      signal: aborted.signal,
    };
    if (sub.verb === 'create') {
      const decoded = decodeRequestObject(req, ctx, sub, name!);
      addWarnings(reply, decoded.warnings);
      request.body = decoded.object;
    }
    try {
      const result = await handler(request);
      const object = { apiVersion: groupVersionOf(ctx.decl.group, ctx.version), kind: sub.kind, ...result.object };
      return send(reply, result.code ?? 200, object, negotiated.encoding);
    } finally {
      reply.raw.off('close', onClose);
    }
  };
}

/**
 * The POSTed request object: JSON or YAML (no Content-Type is JSON, as `kubectl create --raw`
 * sends), an empty body is an empty request, `apiVersion` any served version of the group,
 * `kind` the declaration's, `spec` validated and defaulted by `requestSpec`.
 */
function decodeRequestObject(
  req: FastifyRequest,
  ctx: ResourceContext,
  sub: SubresourceDeclaration,
  name: string,
): { object: KubeObject; warnings: string[] } {
  const value = rawBody(req).length === 0 ? {} : parseDocumentBody(req).value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest(`the body of the request must be a JSON or YAML object of kind ${sub.kind}`);
  }
  const input = value as Record<string, unknown>;
  const served = ctx.decl.versions.map((v) => groupVersionOf(ctx.decl.group, v));
  if (input.apiVersion !== undefined && !served.includes(String(input.apiVersion))) {
    throw badRequest(`the API version in the data (${String(input.apiVersion)}) must be one of ${served.join(', ')}`);
  }
  if (input.kind !== undefined && input.kind !== sub.kind) {
    throw badRequest(`the kind in the data (${String(input.kind)}) does not match the expected kind (${sub.kind})`);
  }
  const unknown = Object.keys(input).filter((k) => !REQUEST_FIELDS.has(k));
  const errors: FieldError[] = [];
  const metadata = input.metadata ?? {};
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    errors.push({ type: 'FieldValueTypeInvalid', field: 'metadata', value: metadata, detail: 'must be an object' });
  }
  let spec: unknown = input.spec;
  if (sub.requestSpec) spec = parsePart(sub.requestSpec, 'spec', input.spec ?? {}, unknown, errors);
  else if (input.spec !== undefined) unknown.push('spec');

  const validation = fieldValidation(req);
  const reported = unknown.map((f) => `unknown field "${f}"`);
  if (reported.length > 0 && validation === 'Strict') throw badRequest(`strict decoding error: ${reported.join(', ')}`);
  if (errors.length > 0) throw invalid({ group: ctx.decl.group, resource: `${ctx.decl.plural}/${sub.name}`, kind: sub.kind, name }, errors);
  const object: KubeObject = {
    apiVersion: groupVersionOf(ctx.decl.group, ctx.version),
    kind: sub.kind,
    metadata: metadata as KubeObject['metadata'],
  };
  if (spec !== undefined) object.spec = spec as Record<string, unknown>;
  return { object, warnings: validation === 'Warn' ? reported : [] };
}
