import type { FastifyRequest } from 'fastify';
import { decodeObject, type Decoded } from '../../registry/codec.js';
import { parseJsonBody, parseYamlBody, type ParsedBody } from '../body.js';
import { badRequest, unsupportedMediaType } from '../errors.js';
import { bodyType } from '../negotiation.js';
import { fieldValidation, type ResourceContext } from './context.js';

export const OBJECT_BODY_TYPES = ['application/json', 'application/yaml'];

/** The raw request body; the server registers a catch-all parser that keeps bodies as Buffers. */
export function rawBody(req: FastifyRequest): Buffer {
  const body = req.body;
  if (body === undefined || body === null) return Buffer.alloc(0);
  return Buffer.isBuffer(body) ? body : Buffer.from(String(body));
}

/** A JSON or YAML document from the body (create, update, delete options, custom verbs). */
export function parseDocumentBody(req: FastifyRequest): ParsedBody {
  const type = bodyType(req.headers['content-type']);
  const raw = rawBody(req);
  if (type === 'json') return parseJsonBody(raw);
  if (type === 'yaml') return parseYamlBody(raw);
  throw unsupportedMediaType(req.headers['content-type'] ?? '', OBJECT_BODY_TYPES);
}

/** The body of a create or update as an object of the resource's kind. */
export function decodeObjectBody(req: FastifyRequest, ctx: ResourceContext): Decoded {
  const raw = rawBody(req);
  if (raw.length === 0) throw badRequest('the request body is empty; an object of kind ' + ctx.decl.kind + ' is required');
  const { value, duplicates } = parseDocumentBody(req);
  return decodeObject(ctx.decl, ctx.version, value, fieldValidation(req), duplicates);
}
