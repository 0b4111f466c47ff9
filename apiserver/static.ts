// Serving precomputed documents (discovery, OpenAPI): Accept parsing with media-type parameters
// and q-values, strong ETags over the exact bytes sent, and If-None-Match → 304. Everything here
// is computed once at install time; a request only compares strings and writes a Buffer.
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface MediaRange {
  /** `application`, `*`. */
  type: string;
  /** `json`, `*`, `com.github.proto-openapi.spec.v3.v1.0+protobuf`. */
  subtype: string;
  /** Parameters other than `q`, keys lower-cased, values unquoted (`g`, `v`, `as`, `charset`). */
  params: Record<string, string>;
  q: number;
}

/**
 * The media ranges of an `Accept` header, most preferred first: by q-value (default 1), ties in
 * the client's order (as goautoneg does). Ranges with `q=0` are dropped. A missing or empty header
 * is `*\/*`.
 */
export function parseAccept(header: string | string[] | undefined): MediaRange[] {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  if (text.trim() === '') return [{ type: '*', subtype: '*', params: {}, q: 1 }];
  const ranges: MediaRange[] = [];
  for (const part of text.split(',')) {
    const [mediaType, ...rest] = part.split(';').map((s) => s.trim());
    if (!mediaType) continue;
    const slash = mediaType.indexOf('/');
    const type = (slash < 0 ? mediaType : mediaType.slice(0, slash)).toLowerCase();
    const subtype = (slash < 0 ? '*' : mediaType.slice(slash + 1)).toLowerCase();
    const params: Record<string, string> = {};
    let q = 1;
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq <= 0) continue;
      const key = p.slice(0, eq).trim().toLowerCase();
      const value = p.slice(eq + 1).trim().replace(/^"|"$/g, '');
      if (key === 'q') {
        const n = Number(value);
        q = Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 1;
      } else params[key] = value;
    }
    if (q > 0) ranges.push({ type, subtype, params, q });
  }
  // Array.prototype.sort is stable: equal q-values keep the client's order.
  return ranges.sort((a, b) => b.q - a.q);
}

/** Whether `range` admits `type/subtype` (wildcards allowed on the range side). */
export function rangeMatches(range: MediaRange, type: string, subtype: string): boolean {
  return (range.type === '*' || range.type === type) && (range.subtype === '*' || range.subtype === subtype);
}

/** Upper-case hex SHA-512 of the bytes, as kube-apiserver's discovery and kube-openapi compute ETags. */
export function sha512Hex(bytes: Buffer | string): string {
  return createHash('sha512').update(bytes).digest('hex').toUpperCase();
}

/** A body ready to send: bytes, Content-Type and its strong ETag (the quoted SHA-512 hex). */
export interface StaticDocument {
  body: Buffer;
  contentType: string;
  /** The bare hash (no quotes), usable in `?hash=`. */
  hash: string;
  /** The ETag header value: `"<hash>"`. */
  etag: string;
}

export function staticDocument(value: unknown, contentType: string): StaticDocument {
  const body = Buffer.from(JSON.stringify(value));
  const hash = sha512Hex(body);
  return { body, contentType, hash, etag: `"${hash}"` };
}

/** Whether an `If-None-Match` header names `etag` (a list, weak forms and `*` allowed). */
export function ifNoneMatchMatches(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const text = Array.isArray(header) ? header.join(',') : header;
  for (const raw of text.split(',')) {
    const tag = raw.trim().replace(/^W\//, '');
    if (tag === '*' || tag === etag) return true;
  }
  return false;
}

/**
 * Sends `doc` with its ETag; answers 304 without a body when the client already has it.
 * `headers` are set on both the 200 and the 304 (Vary, Cache-Control, Expires).
 */
export function sendStatic(req: FastifyRequest, reply: FastifyReply, doc: StaticDocument, headers: Record<string, string> = {}): FastifyReply {
  reply.header('etag', doc.etag);
  for (const [name, value] of Object.entries(headers)) reply.header(name, value);
  if (ifNoneMatchMatches(req.headers['if-none-match'], doc.etag)) return reply.code(304).send();
  return reply.code(200).header('content-type', doc.contentType).send(doc.body);
}
