// What every handler of one resource shares: the kind, the served version, its stores, and the
// query-parameter parsing kube-apiserver applies to every request.
import type { FastifyRequest } from 'fastify';
import type { FieldValidation } from '../../registry/codec.js';
import { fieldPathToVersion, fieldSelectorToStorage, isStorageVersion } from '../../registry/conversion.js';
import type { KindDeclaration } from '../../registry/kind.js';
import type { DeleteOptions, ListOptions } from '../../registry/rest.js';
import type { Store } from '../../registry/store.js';
import { badRequest, StatusError } from '../errors.js';

export interface ResourceContext {
  decl: KindDeclaration;
  version: string;
  store: Store;
  statusStore: Store;
}

export interface RouteParams {
  namespace?: string;
  name?: string;
}

export type Query = Record<string, string | string[] | undefined>;

/** A query parameter's single value; repeated parameters take the first, as Go's url.Values.Get. */
export function param(req: FastifyRequest, name: string): string | undefined {
  const v = (req.query as Query)[name];
  return Array.isArray(v) ? v[0] : v;
}

export function boolParam(req: FastifyRequest, name: string): boolean {
  const v = param(req, name);
  if (v === undefined || v === '' || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '1') return true;
  throw badRequest(`invalid value for ${name}: "${v}" (expected true or false)`);
}

export function intParam(req: FastifyRequest, name: string): number | undefined {
  const v = param(req, name);
  if (v === undefined || v === '') return undefined;
  // Beyond 2^53 a number loses digits (and a storage driver may refuse it): as invalid as "abc".
  if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw badRequest(`invalid value for ${name}: "${v}" (expected an integer)`);
  return Number(v);
}

export function dryRun(req: FastifyRequest): boolean {
  const raw = (req.query as Query).dryRun;
  const values = raw === undefined ? [] : [raw].flat();
  for (const v of values) {
    if (v !== 'All') throw badRequest(`Invalid dryRun value: dryRun: Unsupported value: "${v}": supported values: "All"`);
  }
  return values.length > 0;
}

/** `fieldValidation` as kube-apiserver reads it; absent means Warn. */
export function fieldValidation(req: FastifyRequest): FieldValidation {
  const v = param(req, 'fieldValidation');
  if (v === undefined || v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw badRequest(`fieldValidation: Unsupported value: "${v}": supported values: "Ignore", "Strict", "Warn"`);
}

/** List options, validated as apimachinery's ValidateListOptions does. */
export function listOptions(req: FastifyRequest, namespace: string | undefined): ListOptions {
  const resourceVersion = param(req, 'resourceVersion');
  const match = param(req, 'resourceVersionMatch');
  const cont = param(req, 'continue');
  const limit = intParam(req, 'limit');
  if (limit !== undefined && limit < 0) throw badRequest('limit: Invalid value: must be non-negative');
  if (match !== undefined && match !== '') {
    if (match !== 'NotOlderThan' && match !== 'Exact') {
      throw badRequest(`resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`);
    }
    if (!resourceVersion) throw badRequest('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided');
    if (cont) throw badRequest('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided');
    if (match === 'Exact' && resourceVersion === '0') {
      throw badRequest('resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
    }
  }
  if (cont && resourceVersion && resourceVersion !== '0') {
    throw badRequest('specifying resource version is not allowed when using continue');
  }
  return {
    namespace,
    labelSelector: param(req, 'labelSelector'),
    fieldSelector: param(req, 'fieldSelector'),
    limit,
    continue: cont || undefined,
    resourceVersion: resourceVersion || undefined,
    resourceVersionMatch: (match || undefined) as ListOptions['resourceVersionMatch'],
  };
}

/**
 * List options of a request in `ctx.version` as the Store evaluates them: its field selector
 * rewritten to the storage version's labels (`registry/conversion.ts`).
 */
export function storageListOptions(ctx: ResourceContext, options: ListOptions): ListOptions {
  return { ...options, fieldSelector: fieldSelectorToStorage(ctx.decl, ctx.version, options.fieldSelector) };
}

/**
 * Awaits a write of a request in `ctx.version`. The kind's rules run on the stored object, so a
 * 422 names storage-version paths; it is re-issued with the request version's paths, and the
 * rules' warnings that start with a field path (`spec.x: deprecated, ...`) are renamed alike.
 */
export async function inRequestVersion<T extends { warnings: string[] }>(ctx: ResourceContext, write: Promise<T>): Promise<T> {
  try {
    const result = await write;
    if (isStorageVersion(ctx.decl, ctx.version)) return result;
    const warnings = result.warnings.map((w) => w.replace(/^([\w.[\]/-]+): /, (_m, path: string) => `${fieldPathToVersion(ctx.decl, path, ctx.version)}: `));
    return { ...result, warnings };
  } catch (err) {
    if (isStorageVersion(ctx.decl, ctx.version) || !(err instanceof StatusError) || err.status.reason !== 'Invalid') throw err;
    const details = err.status.details;
    const causes = (details?.causes ?? []).map((c) => (c.field === undefined ? c : { ...c, field: fieldPathToVersion(ctx.decl, c.field, ctx.version) }));
    const messages = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
    const summary = messages.length === 1 ? messages[0] : `[${messages.join(', ')}]`;
    const at = err.status.message.indexOf(' is invalid: ');
    const message = at < 0 ? err.status.message : `${err.status.message.slice(0, at)} is invalid: ${summary}`;
    throw new StatusError({ ...err.status, message, details: { ...details, causes } });
  }
}

/** DeleteOptions from the body (if any) and the query, the query winning as in kube-apiserver. */
export function deleteOptions(req: FastifyRequest, body: Record<string, unknown> | undefined): DeleteOptions {
  const options: DeleteOptions = { dryRun: dryRun(req) };
  if (body) {
    if (body.kind !== undefined && body.kind !== 'DeleteOptions') throw badRequest(`expected DeleteOptions, got ${String(body.kind)}`);
    if (Array.isArray(body.dryRun) && body.dryRun.length > 0) {
      if (body.dryRun.some((v) => v !== 'All')) throw badRequest('Invalid dryRun value: supported values: "All"');
      options.dryRun = true;
    }
    const pre = body.preconditions as { uid?: string; resourceVersion?: string } | undefined;
    if (pre) options.preconditions = { uid: pre.uid, resourceVersion: pre.resourceVersion };
    if (typeof body.propagationPolicy === 'string') options.propagationPolicy = body.propagationPolicy as DeleteOptions['propagationPolicy'];
    if (typeof body.gracePeriodSeconds === 'number') options.gracePeriodSeconds = body.gracePeriodSeconds;
  }
  const policy = param(req, 'propagationPolicy');
  if (policy) options.propagationPolicy = policy as DeleteOptions['propagationPolicy'];
  if (options.propagationPolicy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(options.propagationPolicy)) {
    throw badRequest(
      `propagationPolicy: Unsupported value: "${options.propagationPolicy}": supported values: "Background", "Foreground", "Orphan"`,
    );
  }
  const grace = intParam(req, 'gracePeriodSeconds');
  if (grace !== undefined) options.gracePeriodSeconds = grace;
  return options;
}
