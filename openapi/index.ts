// Serving `/openapi/v2`, the `/openapi/v3` root and `/openapi/v3/apis/<g>/<v>` (for the core group
// of the test host cluster, `/openapi/v3/api/<v>`) as kube-openapi's handlers do. The documents are static: built once at install, with their ETags.
//
// v3 (kube-openapi `handler3`): the root lists `apis/<g>/<v>` with `serverRelativeURL`
// `/openapi/v3/apis/<g>/<v>?hash=<ETag>`. A group version answers with `ETag` and `Vary: Accept`;
// with the current `?hash=` it is immutable (`Cache-Control: public, immutable`, `Expires` a year
// ahead); a stale hash is a 301 to the current URL; `If-None-Match` gives 304; an Accept that
// admits no JSON (e.g. protobuf only) is a 406 Status.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { notAcceptable, pathNotFound } from '../apiserver/errors.js';
import { sendStatus } from '../apiserver/response.js';
import { parseAccept, rangeMatches, sendStatic, staticDocument, type StaticDocument } from '../apiserver/static.js';
import { groupVersionOf, type KindDeclaration } from '../registry/kind.js';
import { buildV2, buildV3, type OpenAPIOptions } from './build.js';

export { buildV2, buildV3, definitionName, DEFAULT_PATCH_CONTENT_TYPES, routesOf, type OpenAPIOptions } from './build.js';

export interface OpenAPIDocuments {
  v2: StaticDocument;
  v3Root: StaticDocument;
  /** Keyed by group version as in apiVersion: `<group>/<version>`, or `<version>` for the core group. */
  v3: Map<string, StaticDocument>;
}

/** A v3 document's path below `/openapi/v3/`: `apis/<g>/<v>`, or `api/<v>` for the core group `v1`. */
export function v3Path(groupVersion: string): string {
  return groupVersion.includes('/') ? `apis/${groupVersion}` : `api/${groupVersion}`;
}

/** `/openapi/v3/apis/<g>/<v>?hash=<hash>` (`/openapi/v3/api/v1?hash=` for the core group). */
export function v3URL(groupVersion: string, hash: string): string {
  return `/openapi/v3/${v3Path(groupVersion)}?hash=${hash}`;
}

export function buildOpenAPIDocuments(kinds: KindDeclaration[], options: OpenAPIOptions = {}): OpenAPIDocuments {
  const v3 = new Map<string, StaticDocument>();
  const groupVersions = new Map<string, { group: string; version: string }>();
  for (const k of kinds) for (const version of k.versions) groupVersions.set(groupVersionOf(k.group, version), { group: k.group, version });
  const rootPaths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of [...groupVersions.keys()].sort()) {
    const { group, version } = groupVersions.get(gv)!;
    const doc = staticDocument(buildV3(kinds, group, version, options), 'application/json');
    v3.set(gv, doc);
    rootPaths[v3Path(gv)] = { serverRelativeURL: v3URL(gv, doc.hash) };
  }
  return {
    v2: staticDocument(buildV2(kinds, options), 'application/json'),
    v3Root: staticDocument({ paths: rootPaths }, 'application/json'),
    v3,
  };
}

/** Whether Accept admits the JSON form of a document (`application/json`, `application/*`, `*\/*`). */
export function acceptsJson(accept: string | string[] | undefined): boolean {
  return parseAccept(accept).some((r) => rangeMatches(r, 'application', 'json'));
}

const ONE_YEAR_MS = 365 * 24 * 60 * 60 * 1000;

export function installOpenAPI(app: FastifyInstance, kinds: KindDeclaration[], options: OpenAPIOptions = {}): OpenAPIDocuments {
  const docs = buildOpenAPIDocuments(kinds, options);
  const json = (doc: StaticDocument) => (req: FastifyRequest, reply: FastifyReply) => {
    reply.header('vary', 'Accept');
    if (!acceptsJson(req.headers.accept)) return sendStatus(reply, notAcceptable(['application/json']).status);
    return sendStatic(req, reply, doc);
  };

  app.get('/openapi/v2', json(docs.v2));
  app.get('/openapi/v3', json(docs.v3Root));
  const groupVersion = (gv: string) => (req: FastifyRequest, reply: FastifyReply) => {
    const doc = docs.v3.get(gv);
    if (!doc) return sendStatus(reply, pathNotFound().status);
    reply.header('vary', 'Accept');
    if (!acceptsJson(req.headers.accept)) return sendStatus(reply, notAcceptable(['application/json']).status);
    const hash = (req.query as Record<string, string | string[] | undefined>).hash;
    const given = Array.isArray(hash) ? hash[0] : hash;
    if (given !== undefined && given !== '') {
      if (given !== doc.hash) return reply.code(301).header('location', v3URL(gv, doc.hash)).header('etag', doc.etag).send();
      return sendStatic(req, reply, doc, {
        'cache-control': 'public, immutable',
        expires: new Date(Date.now() + ONE_YEAR_MS).toUTCString(),
      });
    }
    return sendStatic(req, reply, doc);
  };
  app.get('/openapi/v3/apis/:group/:version', (req, reply) => {
    const { group, version } = req.params as { group: string; version: string };
    return groupVersion(`${group}/${version}`)(req, reply);
  });
  // The core group's version alone; a named group's documents are never keyed without a `/`.
  app.get('/openapi/v3/api/:version', (req, reply) => groupVersion((req.params as { version: string }).version)(req, reply));
  return docs;
}
