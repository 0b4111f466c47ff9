// POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews: "may I?" answered by this
// server's own authorizer for the requesting user, so that `kubectl auth can-i create
// stormtopologies --subresource=promote` works against a standalone server.
import type { FastifyInstance } from 'fastify';
import { attributesOf, type Authorizer } from './authz/authorizer.js';
import { badRequest } from './errors.js';
import { requestUser } from './filters/request-context.js';
import { send } from './response.js';
import type { RequestInfo } from './request-info.js';

export const SELF_SUBJECT_ACCESS_REVIEW_PATH = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';

interface ReviewSpec {
  resourceAttributes?: Partial<Record<'namespace' | 'verb' | 'group' | 'version' | 'resource' | 'subresource' | 'name', string>>;
  nonResourceAttributes?: { path?: string; verb?: string };
}

export function installSelfSubjectAccessReview(app: FastifyInstance, authorizer: Authorizer): void {
  app.post(SELF_SUBJECT_ACCESS_REVIEW_PATH, async (req, reply) => {
    let review: { spec?: ReviewSpec } & Record<string, unknown>;
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.from(String(req.body ?? ''));
    try {
      review = isProtobufEnvelope(body) ? decodeProtobufReview(body) : JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw badRequest(`error decoding SelfSubjectAccessReview: ${(err as Error).message}`);
    }
    const spec = review?.spec ?? {};
    const ra = spec.resourceAttributes;
    const nra = spec.nonResourceAttributes;
    if ((ra === undefined) === (nra === undefined)) {
      throw badRequest('SelfSubjectAccessReview.authorization.k8s.io is invalid: spec: exactly one of nonResourceAttributes or resourceAttributes must be specified');
    }
    const info: RequestInfo = ra
      ? {
          isResourceRequest: true,
          path: '',
          verb: ra.verb ?? '',
          apiPrefix: 'apis',
          apiGroup: ra.group ?? '',
          apiVersion: ra.version ?? '',
          namespace: ra.namespace ?? '',
          resource: ra.resource ?? '',
          subresource: ra.subresource ?? '',
          name: ra.name ?? '',
        }
      : {
          isResourceRequest: false,
          path: nra?.path ?? '',
          verb: nra?.verb ?? '',
          apiPrefix: '',
          apiGroup: '',
          apiVersion: '',
          namespace: '',
          resource: '',
          subresource: '',
          name: '',
        };
    const result = await authorizer.authorize(attributesOf(requestUser(req), info));
    return send(reply, 201, {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec,
      status: {
        allowed: result.decision === 'allow',
        ...(result.decision === 'deny' ? { denied: true } : {}),
        ...(result.reason ? { reason: result.reason } : {}),
      },
    });
  });
}

// kubectl sends built-in kinds as Kubernetes protobuf: the magic `k8s\0`, then a runtime.Unknown
// {typeMeta=1, raw=2} whose raw is the SelfSubjectAccessReview {metadata=1, spec=2}; spec is
// {resourceAttributes=1, nonResourceAttributes=2} (k8s.io/api authorization/v1 generated.proto).
// Only these string and message fields are read; the answer goes back as JSON, which it accepts.
const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
const RESOURCE_ATTRIBUTE_FIELDS = ['', 'namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name'] as const;

function isProtobufEnvelope(body: Buffer): boolean {
  return body.length >= 4 && body.subarray(0, 4).equals(PROTOBUF_MAGIC);
}

/** The length-delimited fields of one protobuf message, by field number (others skipped). */
function protobufFields(buf: Buffer): Map<number, Buffer> {
  const fields = new Map<number, Buffer>();
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated protobuf');
      const byte = buf[pos++];
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
    }
  };
  while (pos < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) varint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const length = varint();
      if (pos + length > buf.length) throw new Error('truncated protobuf');
      fields.set(field, buf.subarray(pos, pos + length));
      pos += length;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  return fields;
}

function decodeProtobufReview(body: Buffer): { spec: ReviewSpec } {
  const unknown = protobufFields(body.subarray(4));
  const raw = unknown.get(2);
  if (!raw) throw new Error('protobuf envelope without an object');
  const spec = protobufFields(protobufFields(raw).get(2) ?? Buffer.alloc(0));
  const result: ReviewSpec = {};
  const ra = spec.get(1);
  if (ra) {
    const attrs = protobufFields(ra);
    const out: NonNullable<ReviewSpec['resourceAttributes']> = {};
    RESOURCE_ATTRIBUTE_FIELDS.forEach((name, i) => {
      const value = attrs.get(i);
      if (name && value !== undefined) out[name] = value.toString('utf8');
    });
    result.resourceAttributes = out;
  }
  const nra = spec.get(2);
  if (nra) {
    const attrs = protobufFields(nra);
    result.nonResourceAttributes = { path: attrs.get(1)?.toString('utf8') ?? '', verb: attrs.get(2)?.toString('utf8') ?? '' };
  }
  return { spec: result };
}
