// Content negotiation: which representation and encoding a client asked for in `Accept`, and
// how the body it sent in `Content-Type` is encoded.
import { notAcceptable } from './errors.js';

/** What the response carries: the object itself, a Table, or only its metadata. */
export type Representation = 'object' | 'Table' | 'PartialObjectMetadata';
export type Encoding = 'json' | 'yaml';

export interface Negotiated {
  representation: Representation;
  encoding: Encoding;
  /** For Table: `meta.k8s.io/v1` or `meta.k8s.io/v1beta1`, the version the client asked for. */
  groupVersion?: string;
}

interface MediaRange {
  type: string;
  params: Record<string, string>;
}

function parseAccept(header: string): MediaRange[] {
  return header
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [type, ...rest] = part.split(';').map((s) => s.trim());
      const params: Record<string, string> = {};
      for (const p of rest) {
        const eq = p.indexOf('=');
        if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"|"$/g, '');
      }
      return { type: type.toLowerCase(), params };
    })
    .filter((r) => r.params.q !== '0');
}

const MEDIA_TYPES: Record<string, Encoding> = {
  'application/json': 'json',
  'application/yaml': 'yaml',
  'application/*': 'json',
  '*/*': 'json',
};

export const SUPPORTED_MEDIA_TYPES = ['application/json', 'application/yaml'];

/**
 * Picks the first acceptable media range of `Accept`, in the client's order (as kube-apiserver
 * does). `as=Table` / `as=PartialObjectMetadata[List]` need `g=meta.k8s.io` and `v=v1` (Table also
 * `v1beta1`); `list` says whether the response is a list (then the `...List` form is expected).
 * Protobuf and CBOR ranges are skipped. Nothing acceptable → 406 NotAcceptable.
 */
export function negotiate(accept: string | undefined, options: { list: boolean }): Negotiated {
  if (!accept || accept.trim() === '') return PLAIN_JSON;
  if (accept.length > MAX_REMEMBERED_ACCEPT_LENGTH) return negotiateNow(accept, options);
  // Clients send the same few Accept headers over and over: the answers are remembered (frozen).
  const known = options.list ? negotiatedForLists : negotiatedForObjects;
  let negotiated = known.get(accept);
  if (negotiated === undefined) {
    negotiated = Object.freeze(negotiateNow(accept, options)); // a 406 throws: never remembered
    if (known.size >= MAX_REMEMBERED_ACCEPTS) known.clear();
    known.set(accept, negotiated);
  }
  return negotiated;
}

const PLAIN_JSON: Negotiated = Object.freeze({ representation: 'object', encoding: 'json' });
const MAX_REMEMBERED_ACCEPT_LENGTH = 512;
const MAX_REMEMBERED_ACCEPTS = 256;
const negotiatedForLists = new Map<string, Negotiated>();
const negotiatedForObjects = new Map<string, Negotiated>();

function negotiateNow(accept: string, options: { list: boolean }): Negotiated {
  for (const range of parseAccept(accept)) {
    const encoding = MEDIA_TYPES[range.type];
    if (!encoding) continue;
    const as = range.params.as;
    if (!as) return { representation: 'object', encoding };
    const g = range.params.g;
    const v = range.params.v;
    if (as === 'Table' && g === 'meta.k8s.io' && (v === 'v1' || v === 'v1beta1')) {
      return { representation: 'Table', encoding, groupVersion: `meta.k8s.io/${v}` };
    }
    const pomKind = options.list ? 'PartialObjectMetadataList' : 'PartialObjectMetadata';
    if (as === pomKind && g === 'meta.k8s.io' && (v === 'v1' || v === 'v1beta1')) {
      return { representation: 'PartialObjectMetadata', encoding, groupVersion: `meta.k8s.io/${v}` };
    }
  }
  throw notAcceptable(SUPPORTED_MEDIA_TYPES);
}

/** Body encodings a request may carry, by Content-Type (parameters such as charset ignored). */
export type BodyType = 'json' | 'yaml' | 'json-patch' | 'merge-patch' | 'strategic-merge-patch' | 'apply-patch';

const BODY_TYPES: Record<string, BodyType> = {
  'application/json': 'json',
  'application/yaml': 'yaml',
  'application/json-patch+json': 'json-patch',
  'application/merge-patch+json': 'merge-patch',
  'application/strategic-merge-patch+json': 'strategic-merge-patch',
  'application/apply-patch+yaml': 'apply-patch',
};

/** The body type of a Content-Type header; a missing header is JSON (as kube-apiserver treats it). */
export function bodyType(contentType: string | undefined): BodyType | undefined {
  if (!contentType || contentType.trim() === '') return 'json';
  return BODY_TYPES[contentType.split(';')[0].trim().toLowerCase()];
}
