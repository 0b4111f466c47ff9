// Writing responses: objects, lists, Tables and PartialObjectMetadata, in JSON or YAML, plus
// Warning headers. Errors go through `sendStatus` so they always leave as a metav1.Status.
import type { FastifyReply } from 'fastify';
import { stringify } from 'yaml';
import { convertToVersion, storageVersion } from '../registry/conversion.js';
import { groupVersionOf, type KindDeclaration } from '../registry/kind.js';
import type { KubeObject, ObjectMeta } from '../registry/meta.js';
import { badRequest, type Status } from './errors.js';
import type { Encoding, Negotiated } from './negotiation.js';
import { encodedObjects, stringifyWithArray } from './encoded-objects.js';
import { encodeTableJson } from './table-encoding.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function parseIncludeObject(value: string | undefined): IncludeObject {
  if (value === undefined || value === '') return 'Metadata';
  if (value === 'None' || value === 'Metadata' || value === 'Object') return value;
  throw badRequest(`includeObject: Unsupported value: "${value}": supported values: "Metadata", "None", "Object"`);
}

export function partialObjectMetadata(obj: KubeObject, groupVersion = 'meta.k8s.io/v1'): KubeObject {
  return { kind: 'PartialObjectMetadata', apiVersion: groupVersion, metadata: obj.metadata };
}

export interface ListMeta {
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

function listMetadata(meta: ListMeta): Record<string, unknown> {
  const out: Record<string, unknown> = { resourceVersion: meta.resourceVersion };
  if (meta.continue) out.continue = meta.continue;
  if (meta.remainingItemCount !== undefined) out.remainingItemCount = meta.remainingItemCount;
  return out;
}

export function columnDefinitions(decl: KindDeclaration) {
  return decl.columns.map((c) => ({
    name: c.name,
    type: c.type === 'date' ? 'string' : c.type,
    format: c.type === 'date' ? 'date' : (c.format ?? ''),
    description: c.description,
    priority: c.priority,
  }));
}

interface TableOptions {
  includeObject: IncludeObject;
  groupVersion: string;
  list?: ListMeta;
  withHeaders: boolean;
  now?: Date;
  version?: string;
}

/** A Table body without its rows (`rows: []`, the last property). */
function tableHead(decl: KindDeclaration, objects: readonly KubeObject[], options: TableOptions): Record<string, unknown> {
  return {
    kind: 'Table',
    apiVersion: options.groupVersion,
    metadata: options.list ? listMetadata(options.list) : { resourceVersion: objects[0]?.metadata.resourceVersion ?? '' },
    columnDefinitions: options.withHeaders ? columnDefinitions(decl) : [],
    rows: [],
  };
}

/** A `meta.k8s.io` Table of `objects`; `withHeaders` false leaves out columnDefinitions (watch). */
export function toTable(decl: KindDeclaration, objects: readonly KubeObject[], options: TableOptions): Record<string, unknown> {
  const now = options.now ?? new Date();
  const rows = objects.map((obj) => {
    const row: Record<string, unknown> = {
      cells: decl.columns.map((c) => {
        const v = c.cell(obj, now);
        return v === undefined ? null : v;
      }),
    };
    // Cells come from the stored object; the row's object is in the version of the request.
    const shown = () => (options.version === undefined ? obj : convertToVersion(decl, obj, options.version));
    if (options.includeObject === 'Object') row.object = shown();
    else if (options.includeObject === 'Metadata') row.object = partialObjectMetadata(shown(), 'meta.k8s.io/v1');
    return row;
  });
  return { ...tableHead(decl, objects, options), rows };
}

/**
 * A Table to be sent: `toJSON()` is `toTable`'s body (JSON.stringify, YAML), and `encode` writes its
 * JSON straight from the objects (`table-encoding.ts`), the same bytes. The time is fixed at
 * construction, so both give the same ages.
 */
export class TableBody {
  private readonly options: TableOptions & { now: Date };

  constructor(
    private readonly decl: KindDeclaration,
    private readonly objects: readonly KubeObject[],
    options: TableOptions,
  ) {
    this.options = { ...options, now: options.now ?? new Date() };
  }

  toJSON(): Record<string, unknown> {
    return toTable(this.decl, this.objects, this.options);
  }

  json(): string {
    return encodeTableJson(tableHead(this.decl, this.objects, this.options), this.decl, this.objects, this.options);
  }
}

/**
 * The body for one (stored) object in the negotiated representation, in `version` (default: the
 * storage version) of the request.
 */
export function objectBody(
  decl: KindDeclaration,
  obj: KubeObject,
  negotiated: Negotiated,
  includeObject: IncludeObject,
  version: string = storageVersion(decl),
): unknown {
  switch (negotiated.representation) {
    case 'Table':
      return new TableBody(decl, [obj], { includeObject, groupVersion: negotiated.groupVersion!, withHeaders: true, version });
    case 'PartialObjectMetadata':
      return partialObjectMetadata(convertToVersion(decl, obj, version), negotiated.groupVersion);
    default:
      return convertToVersion(decl, obj, version);
  }
}

/** The body for a list of (stored) objects in the negotiated representation, in `version`. */
export function listBody(
  decl: KindDeclaration,
  version: string,
  items: KubeObject[],
  meta: ListMeta,
  negotiated: Negotiated,
  includeObject: IncludeObject,
): unknown {
  switch (negotiated.representation) {
    case 'Table':
      return new TableBody(decl, items, { includeObject, groupVersion: negotiated.groupVersion!, list: meta, withHeaders: true, version });
    case 'PartialObjectMetadata':
      return {
        kind: 'PartialObjectMetadataList',
        apiVersion: negotiated.groupVersion,
        metadata: listMetadata(meta),
        items: items.map((o) => partialObjectMetadata(convertToVersion(decl, o, version), negotiated.groupVersion)),
      };
    default:
      return {
        apiVersion: groupVersionOf(decl.group, version),
        kind: decl.listKind,
        metadata: listMetadata(meta),
        items: items.map((o) => convertToVersion(decl, o, version)),
      };
  }
}

/**
 * The body in `encoding`. JSON reuses the encodings of watch-cache objects (`encoded-objects.ts`):
 * a cached object sent as it is, and the items of a list or the rows of a Table, are assembled
 * from them (a `TableBody` by `table-encoding.ts`); the bytes are exactly `JSON.stringify(body)`.
 */
export function encode(body: unknown, encoding: Encoding): string {
  if (body instanceof TableBody) return encoding === 'yaml' ? stringify(body.toJSON()) : body.json();
  if (encoding === 'yaml') return stringify(body);
  if (body === null || typeof body !== 'object' || Object.getPrototypeOf(body) !== Object.prototype) return JSON.stringify(body);
  const record = body as Record<string, unknown>;
  if (Array.isArray(record.items)) return stringifyWithArray(record, 'items');
  if (Array.isArray(record.rows)) return stringifyWithArray(record, 'rows');
  return encodedObjects.stringify(record);
}

export function contentType(encoding: Encoding): string {
  return encoding === 'yaml' ? 'application/yaml' : 'application/json';
}

export function send(reply: FastifyReply, code: number, body: unknown, encoding: Encoding = 'json'): FastifyReply {
  return reply.code(code).header('content-type', contentType(encoding)).send(encode(body, encoding));
}

export function sendStatus(reply: FastifyReply, status: Status): FastifyReply {
  if (status.code === 429 && status.details?.retryAfterSeconds !== undefined) {
    reply.header('retry-after', String(status.details.retryAfterSeconds));
  }
  return reply.code(status.code).header('content-type', 'application/json').send(JSON.stringify(status));
}

/**
 * `Warning: 299 - "text"` headers, deduplicated, each at most 256 characters and 4096 in all, as
 * kube-apiserver's warning recorder does.
 */
export function addWarnings(reply: FastifyReply, warnings: string[]): void {
  const unique = [...new Set(warnings)];
  let total = 0;
  const headers: string[] = [];
  for (const w of unique) {
    const text = w.length > 256 ? `${w.slice(0, 253)}...` : w;
    if (total + text.length > 4096) break;
    total += text.length;
    headers.push(`299 - ${JSON.stringify(text)}`);
  }
  if (headers.length > 0) reply.header('warning', headers);
}

/** Only the metadata fields a Status for a successful delete carries. */
export function successStatus(decl: KindDeclaration, meta: ObjectMeta): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name: meta.name, group: decl.group, kind: decl.plural, uid: meta.uid },
  };
}
