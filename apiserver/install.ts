// Route installation, derived from the kind declarations: for every kind and served version,
// the collection, item, `/status` (unless the kind has none) and (when declared) `/scale` routes of a
// Kubernetes API, under `/apis/<group>/<version>` or, for the core group, `/api/<version>`.
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { groupVersionPath, hasStatus, type KindDeclaration } from '../registry/kind.js';
import type { Store } from '../registry/store.js';
import type { SubresourceServices } from '../registry/subresource.js';
import { methodNotAllowed } from './errors.js';
import type { ResourceContext } from './handlers/context.js';
import { createHandler } from './handlers/create.js';
import { deleteHandler } from './handlers/delete.js';
import { deleteCollectionHandler } from './handlers/deletecollection.js';
import { getHandler } from './handlers/get.js';
import { listHandler } from './handlers/list.js';
import { patchHandler } from './handlers/patch.js';
import { scaleHandlers } from './handlers/scale.js';
import { subresourceHandler } from './handlers/subresource.js';
import { updateHandler } from './handlers/update.js';

type Handler = (req: FastifyRequest, reply: FastifyReply) => unknown;
const ALL_METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

export interface InstalledResource {
  decl: KindDeclaration;
  store: Store;
  /** What the kind's computed subresources and verbs are built with. */
  services: SubresourceServices;
}

/** Registers `handlers` on `url`, and 405 MethodNotAllowed for every other method. */
function route(app: FastifyInstance, url: string, handlers: Partial<Record<HTTPMethods, Handler>>): void {
  for (const [method, handler] of Object.entries(handlers)) {
    if (handler) app.route({ method: method as HTTPMethods, url, handler });
  }
  const others = ALL_METHODS.filter((m) => !(m in handlers) && !(m === 'HEAD' && 'GET' in handlers));
  if (others.length > 0) {
    app.route({
      method: others,
      url,
      handler: async (req) => {
        throw methodNotAllowed(req.method, url.replace(/:(\w+)/g, '{$1}'));
      },
    });
  }
}

export function installResource(app: FastifyInstance, resource: InstalledResource): void {
  const { decl, store } = resource;
  const statusStore = store.statusStore();
  // Each subresource's handler is built once and shared by every served version.
  const connected = (decl.subresources ?? []).map((sub) => sub.connect(resource.services));
  for (const version of decl.versions) {
    const ctx: ResourceContext = { decl, version, store, statusStore };
    const base = groupVersionPath(decl.group, version);
    const collection = decl.namespaced ? `${base}/namespaces/:namespace/${decl.plural}` : `${base}/${decl.plural}`;
    const item = `${collection}/:name`;

    route(app, collection, {
      GET: listHandler(ctx),
      POST: createHandler(ctx),
      DELETE: deleteCollectionHandler(ctx),
    });
    if (decl.namespaced) route(app, `${base}/${decl.plural}`, { GET: listHandler(ctx) });
    route(app, item, {
      GET: getHandler(ctx, store),
      PUT: updateHandler(ctx, store),
      PATCH: patchHandler(ctx, store),
      DELETE: deleteHandler(ctx),
    });
    if (hasStatus(decl)) {
      route(app, `${item}/status`, {
        GET: getHandler(ctx, statusStore),
        PUT: updateHandler(ctx, statusStore),
        PATCH: patchHandler(ctx, statusStore),
      });
    }
    if (decl.scale) {
      const scale = scaleHandlers(ctx, decl.scale);
      route(app, `${item}/scale`, { GET: scale.get, PUT: scale.update, PATCH: scale.patch });
    }
    for (const [i, sub] of (decl.subresources ?? []).entries()) {
      const handler = subresourceHandler(ctx, sub, connected[i]);
      route(app, `${item}/${sub.name}`, sub.verb === 'get' ? { GET: handler } : { POST: handler });
    }
  }
}
