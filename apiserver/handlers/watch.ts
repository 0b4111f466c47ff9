import type { FastifyReply, FastifyRequest } from 'fastify';
import { convertToVersion, fieldSelectorToStorage } from '../../registry/conversion.js';
import { groupVersionOf } from '../../registry/kind.js';
import type { KubeObject } from '../../registry/meta.js';
import type { WatchEvent } from '../../registry/rest.js';
import { badRequest, toStatusError } from '../errors.js';
import { recordWatchEvent } from '../filters/metrics.js';
import { negotiate, type Negotiated } from '../negotiation.js';
import { encode, parseIncludeObject, partialObjectMetadata, toTable, type IncludeObject } from '../response.js';
import { boolParam, intParam, param, type ResourceContext, type RouteParams } from './context.js';

/** Bookmarks go out about once a minute, as the cacher sends them. */
const BOOKMARK_INTERVAL_MS = 60_000;
const FINAL_BOOKMARK_BEFORE_DEADLINE_MS = 2_000;
/** Without timeoutSeconds the server picks a timeout in [1800, 3600) s, like minRequestTimeout. */
const MIN_REQUEST_TIMEOUT_S = 1800;

/**
 * GET with `watch=true`: a chunked stream of newline-delimited JSON watch events
 * (`{"type":"ADDED","object":{...}}`), flushed as they come. Errors found before the stream
 * starts are ordinary Status responses; errors after it (410 Expired) are an ERROR event.
 */
export function watchHandler(ctx: ResourceContext) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const { namespace } = req.params as RouteParams;
    const negotiated = negotiate(req.headers.accept, { list: false });
    const includeObject = parseIncludeObject(param(req, 'includeObject'));
    const allowBookmarks = boolParam(req, 'allowWatchBookmarks');
    const sendInitialEventsParam = param(req, 'sendInitialEvents');
    const sendInitialEvents = boolParam(req, 'sendInitialEvents');
    const match = param(req, 'resourceVersionMatch');
    if (match && sendInitialEventsParam === undefined) {
      throw badRequest('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided');
    }
    if (sendInitialEventsParam !== undefined) {
      if (match !== 'NotOlderThan') {
        throw badRequest('resourceVersionMatch: Unsupported value: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan');
      }
      if (!allowBookmarks) throw badRequest('allowWatchBookmarks: Required value: sendInitialEvents requires setting allowWatchBookmarks to true');
    }
    const timeoutSeconds = intParam(req, 'timeoutSeconds');
    if (timeoutSeconds !== undefined && timeoutSeconds < 0) throw badRequest('timeoutSeconds: Invalid value: must be non-negative');
    const timeoutMs =
      timeoutSeconds !== undefined && timeoutSeconds > 0
        ? timeoutSeconds * 1000
        : (MIN_REQUEST_TIMEOUT_S + Math.random() * MIN_REQUEST_TIMEOUT_S) * 1000;

    const stream = await ctx.store.watch({
      namespace,
      labelSelector: param(req, 'labelSelector'),
      fieldSelector: fieldSelectorToStorage(ctx.decl, ctx.version, param(req, 'fieldSelector')),
      resourceVersion: param(req, 'resourceVersion'),
      sendInitialEvents: sendInitialEventsParam === undefined ? undefined : sendInitialEvents,
    });

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': negotiated.encoding === 'yaml' ? 'application/yaml;stream=watch' : 'application/json',
      'transfer-encoding': 'chunked',
      'cache-control': 'no-cache, private',
    });
    res.flushHeaders();

    let sentHeaders = false;
    const frame = (event: { type: string; object: unknown }): string =>
      negotiated.encoding === 'yaml' ? `---\n${encode(event, 'yaml')}` : `${JSON.stringify(event)}\n`;
    const write = async (text: string): Promise<void> => {
      if (res.destroyed) return;
      if (!res.write(text)) await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
    };
    const represent = (event: WatchEvent): unknown => {
      if (event.type === 'BOOKMARK') return representBookmark({ ...event.object, apiVersion: groupVersionOf(ctx.decl.group, ctx.version) }, negotiated);
      const out = representObject(ctx, event.object, negotiated, includeObject, !sentHeaders);
      if (negotiated.representation === 'Table') sentHeaders = true;
      return out;
    };

    const bookmarkTimer = allowBookmarks ? setInterval(() => stream.requestBookmark(), BOOKMARK_INTERVAL_MS) : undefined;
    // A last bookmark shortly before the deadline lets the client resume from the newest revision.
    const finalBookmark = allowBookmarks
      ? setTimeout(() => stream.requestBookmark(), Math.max(0, timeoutMs - FINAL_BOOKMARK_BEFORE_DEADLINE_MS))
      : undefined;
    const deadline = setTimeout(() => stream.close(), timeoutMs);
    res.on('close', () => stream.close());

    try {
      for await (const batch of stream) {
        let text = '';
        for (const event of batch) {
          if (event.type === 'BOOKMARK' && !allowBookmarks) continue;
          text += frame({ type: event.type, object: represent(event) });
          recordWatchEvent(ctx.decl.group, ctx.version, ctx.decl.kind);
        }
        if (text) await write(text);
      }
    } catch (err) {
      const status = toStatusError(err).status;
      await write(frame({ type: 'ERROR', object: status }));
    } finally {
      clearTimeout(deadline);
      if (bookmarkTimer) clearInterval(bookmarkTimer);
      if (finalBookmark) clearTimeout(finalBookmark);
      stream.close();
      if (!res.destroyed) res.end();
    }
  };
}

/** Bookmarks take the stream's representation too (metadata-only clients expect that). */
function representBookmark(obj: KubeObject, negotiated: Negotiated): unknown {
  switch (negotiated.representation) {
    case 'Table':
      return { kind: 'Table', apiVersion: negotiated.groupVersion, metadata: { resourceVersion: obj.metadata.resourceVersion }, columnDefinitions: [], rows: [] };
    case 'PartialObjectMetadata':
      return partialObjectMetadata(obj, negotiated.groupVersion);
    default:
      return obj;
  }
}

function representObject(ctx: ResourceContext, obj: KubeObject, negotiated: Negotiated, includeObject: IncludeObject, withHeaders: boolean): unknown {
  switch (negotiated.representation) {
    case 'Table':
      return toTable(ctx.decl, [obj], { includeObject, groupVersion: negotiated.groupVersion!, withHeaders, version: ctx.version });
    case 'PartialObjectMetadata':
      return partialObjectMetadata(convertToVersion(ctx.decl, obj, ctx.version), negotiated.groupVersion);
    default:
      return convertToVersion(ctx.decl, obj, ctx.version);
  }
}
