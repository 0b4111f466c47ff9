// The error catalogue: every failure leaves the server as a `metav1.Status` built here.
// Reasons, codes and message templates follow k8s.io/apimachinery/pkg/api/errors so that kubectl
// and client libraries recognise them (`kubectl` prints `Error from server (<Reason>): <message>`).
//
// This module is a leaf (no imports from the rest of the server) so that the registry can raise
// API errors too; storage errors are translated in `registry/store.ts`, at one boundary.

export type StatusReason =
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'BadRequest'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServerTimeout'
  | 'ServiceUnavailable'
  | 'Timeout';

export type CauseType =
  | 'FieldValueNotFound'
  | 'FieldValueRequired'
  | 'FieldValueDuplicate'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueTypeInvalid'
  | 'FieldManagerConflict'
  | 'ResourceVersionTooLarge'
  | 'UnexpectedServerResponse';

export interface StatusCause {
  reason: CauseType;
  message: string;
  field?: string;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: { continue?: string; resourceVersion?: string };
  status: 'Failure' | 'Success';
  message: string;
  reason: StatusReason | '';
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    uid?: string;
    causes?: StatusCause[];
    retryAfterSeconds?: number;
  };
  code: number;
}

/** A failure that carries its `metav1.Status`; throw it anywhere, the server sends `status`. */
export class StatusError extends Error {
  readonly status: Status;
  constructor(status: Status) {
    super(status.message);
    this.name = 'StatusError';
    this.status = status;
  }
  get code(): number {
    return this.status.code;
  }
  get reason(): StatusReason | '' {
    return this.status.reason;
  }
}

export function isStatusError(err: unknown, reason?: StatusReason): err is StatusError {
  return err instanceof StatusError && (reason === undefined || err.status.reason === reason);
}

/** Identifies a resource in messages: `stormtopologies.storm.apache.org`, kind and object name. */
export interface ResourceRef {
  group: string;
  resource: string;
  kind?: string;
  name?: string;
}

/** One validation failure at a field path, as `field.Error` in Kubernetes. */
export interface FieldError {
  type: CauseType;
  field: string;
  /** The offending value, quoted in the message when given. */
  value?: unknown;
  detail?: string;
}

function status(code: number, reason: StatusReason, message: string, details?: Status['details']): StatusError {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) s.details = details;
  return new StatusError(s);
}

function qualified(ref: ResourceRef): string {
  return ref.group ? `${ref.resource}.${ref.group}` : ref.resource;
}

function refDetails(ref: ResourceRef): NonNullable<Status['details']> {
  const d: NonNullable<Status['details']> = { group: ref.group };
  if (ref.name !== undefined) d.name = ref.name;
  d.kind = ref.resource;
  return d;
}

export function notFound(ref: ResourceRef & { name: string }): StatusError {
  return status(404, 'NotFound', `${qualified(ref)} "${ref.name}" not found`, refDetails(ref));
}

/** 404 for a path no route serves. */
export function pathNotFound(): StatusError {
  return status(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function alreadyExists(ref: ResourceRef & { name: string }): StatusError {
  return status(409, 'AlreadyExists', `${qualified(ref)} "${ref.name}" already exists`, refDetails(ref));
}

export function conflict(ref: ResourceRef & { name: string }, why: string): StatusError {
  return status(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(ref)} "${ref.name}": ${why}`, refDetails(ref));
}

/** The usual optimistic-concurrency conflict text of kube-apiserver. */
export const STALE_OBJECT_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';

const causeWords: Partial<Record<CauseType, string>> = {
  FieldValueNotFound: 'Not found',
  FieldValueRequired: 'Required value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  FieldValueTypeInvalid: 'Invalid value',
};

/** `spec.x: Invalid value: "v": detail`, exactly as field.Error.Error() prints it. */
export function formatFieldError(e: FieldError): string {
  const words = causeWords[e.type] ?? e.type;
  const parts = [`${e.field}: ${words}`];
  const showsValue = e.value !== undefined && e.type !== 'FieldValueRequired' && e.type !== 'FieldValueForbidden';
  if (showsValue) parts.push(typeof e.value === 'string' ? JSON.stringify(e.value) : describeValue(e.value));
  if (e.detail) parts.push(e.detail);
  return parts.join(': ');
}

function describeValue(v: unknown): string {
  if (v === null || typeof v !== 'object') return String(v);
  const json = JSON.stringify(v);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

/** 422 Invalid with one cause per field error: `<Kind>.<group> "<name>" is invalid: [...]`. */
export function invalid(ref: ResourceRef & { kind: string; name: string }, errors: FieldError[]): StatusError {
  const messages = errors.map(formatFieldError);
  const summary = messages.length === 1 ? messages[0] : `[${messages.join(', ')}]`;
  const qualifiedKind = ref.group ? `${ref.kind}.${ref.group}` : ref.kind;
  return status(422, 'Invalid', `${qualifiedKind} "${ref.name}" is invalid: ${summary}`, {
    name: ref.name,
    group: ref.group,
    kind: ref.kind,
    causes: errors.map((e, i) => ({
      reason: e.type,
      message: messages[i].slice(e.field.length + 2),
      field: e.field,
    })),
  });
}

export function badRequest(message: string, causes?: StatusCause[]): StatusError {
  return status(400, 'BadRequest', message, causes ? { causes } : undefined);
}

export function methodNotAllowed(method: string, what: string): StatusError {
  return status(405, 'MethodNotAllowed', `${method} is not supported on ${what}`);
}

export function notAcceptable(supported: string[]): StatusError {
  return status(406, 'NotAcceptable', `only the following media types are accepted: ${supported.join(', ')}`);
}

export function unsupportedMediaType(contentType: string, supported: string[]): StatusError {
  return status(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${supported.join(', ')}` +
      (contentType ? ` (got ${contentType})` : ''),
  );
}

export function requestEntityTooLarge(limitBytes: number): StatusError {
  return status(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limitBytes}`);
}

/** 410 Expired: a resourceVersion or continue token older than the compacted history. */
export function expired(message: string, continueToken?: string): StatusError {
  const err = status(410, 'Expired', message);
  if (continueToken !== undefined) err.status.metadata.continue = continueToken;
  return err;
}

export function gone(message: string): StatusError {
  return status(410, 'Gone', message);
}

export function unauthorized(message = 'Unauthorized'): StatusError {
  return status(401, 'Unauthorized', message);
}

/** 403; an empty `ref.resource` (a non-resource path) reads `forbidden: <message>`, as NewForbidden. */
export function forbidden(ref: ResourceRef, message: string): StatusError {
  if (!ref.resource && !ref.group) return status(403, 'Forbidden', `forbidden: ${message}`, {});
  const what = ref.name !== undefined ? `${qualified(ref)} "${ref.name}"` : qualified(ref);
  return status(403, 'Forbidden', `${what} is forbidden: ${message}`, refDetails(ref));
}

export function tooManyRequests(retryAfterSeconds: number): StatusError {
  return status(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds });
}

export function internalError(message: string): StatusError {
  return status(500, 'InternalError', `Internal error occurred: ${message}`, {
    causes: [{ reason: 'UnexpectedServerResponse', message }],
  });
}

export function serviceUnavailable(message: string): StatusError {
  return status(503, 'ServiceUnavailable', message);
}

export function timeout(message: string, retryAfterSeconds?: number): StatusError {
  return status(504, 'Timeout', message, retryAfterSeconds !== undefined ? { retryAfterSeconds } : undefined);
}

/** 504 when a read asks for a resourceVersion the store has not reached yet. */
export function resourceVersionTooLarge(requested: number, current: number): StatusError {
  return status(504, 'Timeout', `Too large resource version: ${requested}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: `Too large resource version` }],
    retryAfterSeconds: 1,
  });
}

/** Any thrown value as a StatusError; unknown errors become 500 InternalError. */
export function toStatusError(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  return internalError(err instanceof Error ? err.message : String(err));
}
