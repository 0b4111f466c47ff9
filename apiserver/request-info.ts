// Request attributes, computed once per request from method + URL (k8s.io/apiserver
// pkg/endpoints/request/requestinfo.go): what authorization, audit, max-in-flight and metrics see.

export type ResourceVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface RequestInfo {
  /** True for `/api/...` and `/apis/...` paths that name a resource; false for everything else. */
  isResourceRequest: boolean;
  /** The URL path without the query. */
  path: string;
  /** A resource verb for resource requests; the lowercased HTTP method for non-resource paths. */
  verb: string;
  /** `api` or `apis` for API paths, '' otherwise. */
  apiPrefix: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
}

const API_PREFIXES = new Set(['api', 'apis']);
/** Paths under a namespace item that are not subresources of the namespace (`namespaces/ns/pods`). */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

function nonResource(path: string, method: string, apiPrefix = '', apiGroup = '', apiVersion = ''): RequestInfo {
  return {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiPrefix,
    apiGroup,
    apiVersion,
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
  };
}

/**
 * The attributes of a request. Pure: the same method and URL always give the same answer.
 * `url` is a path with an optional query (`/apis/g/v/namespaces/ns/things?watch=true`).
 */
export function resolveRequestInfo(method: string, url: string): RequestInfo {
  const { path, query: queryOf } = splitUrl(url);
  const parts = path.split('/').filter((p) => p !== '').map(safeDecode);
  if (parts.length === 0 || !API_PREFIXES.has(parts[0])) return nonResource(path, method);

  const apiPrefix = parts[0];
  let rest = parts.slice(1);
  let apiGroup = '';
  if (apiPrefix === 'apis') {
    if (rest.length < 1) return nonResource(path, method, apiPrefix);
    apiGroup = rest[0];
    rest = rest.slice(1);
  }
  if (rest.length < 1) return nonResource(path, method, apiPrefix, apiGroup);
  const apiVersion = rest[0];
  rest = rest.slice(1);
  // `/apis/g/v` is discovery, not a resource.
  if (rest.length < 1) return nonResource(path, method, apiPrefix, apiGroup, apiVersion);

  const upper = method.toUpperCase();
  let verb: string;
  switch (upper) {
    case 'POST':
      verb = 'create';
      break;
    case 'GET':
    case 'HEAD':
      verb = 'get';
      break;
    case 'PUT':
      verb = 'update';
      break;
    case 'PATCH':
      verb = 'patch';
      break;
    case 'DELETE':
      verb = 'delete';
      break;
    default:
      verb = '';
  }
  // The deprecated `/watch/` path prefix.
  if (rest[0] === 'watch') {
    if (verb === 'get') verb = 'watch';
    rest = rest.slice(1);
  }

  let namespace = '';
  if (rest[0] === 'namespaces') {
    if (rest.length > 1) {
      namespace = rest[1];
      // `namespaces/ns` and `namespaces/ns/status|finalize` address the namespace itself.
      if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2])) rest = rest.slice(2);
    }
  }
  // Deeper paths (`pods/x/proxy/a/b`) keep the first three parts; the rest is a subpath.
  const resource = rest[0] ?? '';
  let name = rest[1] ?? '';
  const subresource = rest[2] ?? '';

  // Collection verbs.
  if (name === '') {
    if (verb === 'get') verb = isTrue(queryOf().get('watch')) ? 'watch' : 'list';
    else if (verb === 'delete') verb = 'deletecollection';
  }
  // A list or watch narrowed to one object by `fieldSelector=metadata.name=x` names it, so that
  // resourceNames rules apply (as kube-apiserver does).
  if ((verb === 'list' || verb === 'watch') && name === '') {
    const selected = nameFromFieldSelector(queryOf().get('fieldSelector'));
    if (selected !== undefined) name = selected;
  }
  return {
    isResourceRequest: true,
    path,
    verb,
    apiPrefix,
    apiGroup,
    apiVersion,
    namespace,
    resource,
    subresource,
    name,
  };
}

/** Characters a URL path keeps as they are (WHATWG URL parsing changes nothing else about them). */
const PLAIN_PATH = /^\/(?!\/)[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;
/** Dot segments, also percent-encoded (`%2e`), which URL parsing resolves. */
const DOT_SEGMENT = /\/\.|%2e/i;
/** Anything but printable ASCII without `#` (fragments, spaces, controls, non-ASCII: URL parsing drops or encodes them). */
const URL_SPECIAL = /[^\x21-\x22\x24-\x7e]/;

/**
 * The path and query of a request URL, as `new URL(url, base)` gives them; a plain path (the
 * usual case) is taken as it is, anything else goes through URL parsing. The query is parsed
 * only when asked for (collections).
 */
function splitUrl(url: string): { path: string; query: () => URLSearchParams } {
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  if (!URL_SPECIAL.test(url) && url[q + 1] !== '?' && PLAIN_PATH.test(rawPath) && !DOT_SEGMENT.test(rawPath)) {
    return { path: rawPath, query: () => new URLSearchParams(q < 0 ? '' : url.slice(q + 1)) };
  }
  const parsed = new URL(url, 'http://request.invalid');
  return { path: parsed.pathname, query: () => parsed.searchParams };
}

/** True for verbs that write: what the mutating max-in-flight limit counts. */
export function isMutatingVerb(verb: string): boolean {
  return verb !== 'get' && verb !== 'list' && verb !== 'watch' && verb !== 'head' && verb !== 'options';
}

/** Requests without a bounded duration: not counted in max-in-flight, no request timeout. */
export function isLongRunning(info: RequestInfo): boolean {
  if (!info.isResourceRequest) return false;
  if (info.verb === 'watch') return true;
  return ['proxy', 'exec', 'attach', 'portforward', 'log'].includes(info.subresource);
}

function isTrue(value: string | null): boolean {
  return value !== null && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

function nameFromFieldSelector(selector: string | null): string | undefined {
  if (!selector) return undefined;
  for (const term of selector.split(',')) {
    const m = /^metadata\.name(==|=)(.*)$/.exec(term.trim());
    if (m) return m[2];
  }
  return undefined;
}

function safeDecode(part: string): string {
  if (!part.includes('%')) return part; // nothing to decode
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
