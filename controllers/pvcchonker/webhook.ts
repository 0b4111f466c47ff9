// The PVC mutating admission webhook (`--enable-pvc-webhook`), `POST /mutate-pvc` on the server's
// HTTPS port: an `admission.k8s.io/v1` AdmissionReview for a PVC CREATE answered with a JSONPatch
// that copies the settings of the matching PVCPolicy and PVCGroup into the PVC's
// `pvc-chonker.io/*` annotations (the PVC's own annotations win, then the policy, then the group:
// the controller's resolution order), and names the group for a member chosen by the group's
// selector. The PVC is always allowed: the webhook only adds settings. A malformed review is a
// 400 metav1.Status, never a crash.
//
// kube-apiserver calls webhooks without a client certificate unless configured to, so with
// `--enable-pvc-webhook` the path is added to the always-allowed paths (apiserver/options.ts); it
// reads only our policies and groups and writes nothing.
import type { FastifyInstance } from 'fastify';
import { badRequest } from '../../apiserver/errors.js';
import type { KubeObject } from '../../registry/meta.js';
import type { Store } from '../../registry/store.js';
import type { Claim } from '../../registry/pvc-chonker.io/upstreams.js';
import { ANNOTATIONS, groupOf, matchingPolicy } from './settings.js';

export const WEBHOOK_PATH = '/mutate-pvc';

const TEMPLATE_ANNOTATIONS: Array<[string, string]> = [
  ['enabled', ANNOTATIONS.enabled],
  ['threshold', ANNOTATIONS.threshold],
  ['inodesThreshold', ANNOTATIONS.inodesThreshold],
  ['increase', ANNOTATIONS.increase],
  ['maxSize', ANNOTATIONS.maxSize],
  ['minScaleUp', ANNOTATIONS.minScaleUp],
  ['cooldown', ANNOTATIONS.cooldown],
];

export interface JsonPatchOp {
  op: 'add';
  path: string;
  value: unknown;
}

/** The annotations a new PVC gets from its policy and group (only those it does not set itself). */
export function webhookAnnotations(claim: Claim, policies: readonly KubeObject[], groups: readonly KubeObject[]): Record<string, string> {
  const own = claim.metadata.annotations ?? {};
  const policy = matchingPolicy(claim, policies);
  const group = groupOf(claim, groups);
  const out: Record<string, string> = {};
  const templates = [policy, group].map((o) => (o?.spec as { template?: Record<string, unknown> } | undefined)?.template ?? {});
  for (const [field, annotation] of TEMPLATE_ANNOTATIONS) {
    if (own[annotation] !== undefined) continue;
    for (const t of templates) {
      const v = t[field];
      if (v === undefined) continue;
      out[annotation] = String(v);
      break;
    }
  }
  if (group && own[ANNOTATIONS.group] === undefined) out[ANNOTATIONS.group] = group.metadata.name!;
  return out;
}

/** JSONPatch adding `annotations` to `claim` (RFC 6901 escaping of `/` and `~`). */
export function annotationPatch(claim: Claim, annotations: Record<string, string>): JsonPatchOp[] {
  if (Object.keys(annotations).length === 0) return [];
  if (!claim.metadata.annotations) return [{ op: 'add', path: '/metadata/annotations', value: annotations }];
  return Object.entries(annotations).map(([k, v]) => ({ op: 'add', path: `/metadata/annotations/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, value: v }));
}

interface AdmissionRequest {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  namespace?: string;
  operation?: string;
  object?: Claim & { kind?: string };
}

/** Decodes and checks an AdmissionReview body; throws a 400 StatusError saying what is wrong. */
export function parseAdmissionReview(body: unknown): AdmissionRequest {
  let review: unknown = body;
  if (Buffer.isBuffer(body) || typeof body === 'string') {
    try {
      review = JSON.parse(body.toString());
    } catch (err) {
      throw badRequest(`the AdmissionReview is not valid JSON: ${(err as Error).message}`);
    }
  }
  const r = review as { apiVersion?: unknown; kind?: unknown; request?: AdmissionRequest } | null;
  if (!r || typeof r !== 'object') throw badRequest('expected an admission.k8s.io/v1 AdmissionReview object');
  if (r.apiVersion !== 'admission.k8s.io/v1' || r.kind !== 'AdmissionReview') {
    throw badRequest(`expected apiVersion admission.k8s.io/v1, kind AdmissionReview; got ${String(r.apiVersion)}, ${String(r.kind)}`);
  }
  const req = r.request;
  if (!req || typeof req !== 'object') throw badRequest('AdmissionReview.request is missing');
  if (typeof req.uid !== 'string' || req.uid === '') throw badRequest('AdmissionReview.request.uid is missing');
  return req;
}

export interface AdmissionResponse {
  uid: string;
  allowed: true;
  patchType?: 'JSONPatch';
  patch?: string;
  warnings?: string[];
}

export function admit(req: AdmissionRequest, policies: readonly KubeObject[], groups: readonly KubeObject[]): AdmissionResponse {
  const isPVC = (req.kind?.kind ?? req.object?.kind) === 'PersistentVolumeClaim' && (req.kind?.group ?? '') === '';
  if (!isPVC || req.operation !== 'CREATE' || !req.object?.metadata) return { uid: req.uid, allowed: true };
  const claim: Claim = { ...req.object, metadata: { ...req.object.metadata, namespace: req.object.metadata.namespace || req.namespace || 'default' } };
  const patch = annotationPatch(req.object, webhookAnnotations(claim, policies, groups));
  if (patch.length === 0) return { uid: req.uid, allowed: true };
  return { uid: req.uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') };
}

/** Installs `POST /mutate-pvc`; reads PVCPolicies and PVCGroups from `stores`. */
export function installPVCWebhook(app: FastifyInstance, stores: Map<string, Store>): void {
  app.post(WEBHOOK_PATH, async (request, reply) => {
    const req = parseAdmissionReview(request.body);
    const namespace = req.object?.metadata?.namespace || req.namespace;
    const list = async (resource: string) => (namespace ? ((await stores.get(resource)?.list({ namespace }))?.items ?? []) : []);
    const response = admit(req, await list('pvcpolicies.pvc-chonker.io'), await list('pvcgroups.pvc-chonker.io'));
    return reply.header('content-type', 'application/json').send(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
  });
}
