import type { FastifyReply, FastifyRequest } from 'fastify';
import { convertToVersion, fieldSelectorToStorage } from '../../registry/conversion.js';
import { groupVersionOf } from '../../registry/kind.js';
import type { KubeObject } from '../../registry/meta.js';
import type { WatchEvent } from '../../registry/rest.js';
import { badRequest, toStatusError } from '../errors.js';
import { recordWatchEvents } from '../filters/metrics.js';
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
    const write = async (data: string | Buffer): Promise<void> => {
      if (res.destroyed) return;
      if (!res.write(data)) await drained(res);
    };
    // The frames of one batch leave as ONE chunk of the chunked response in one writev, without
    // being copied into one buffer: written straight to the connection, framed here exactly as the
    // response would frame `res.write(batch)` (`<size hex>\r\n<data>\r\n`). This is sound only
    // while this response owns the connection: `res.socket` is set once the response is the
    // connection's current one and stays until it ends (a response queued behind a pipelined one
    // has none: it goes through `res.write`), and only while the response is chunked (an HTTP/1.0
    // client gets no chunked framing). The head went out with flushHeaders above; `res.end()`
    // still writes the last chunk.
    const connection = res.chunkedEncoding ? res.socket : null;
    const writeAll = async (batch: Array<string | Buffer>): Promise<void> => {
      if (res.destroyed) return;
      let flowing = true;
      if (connection && !connection.destroyed) {
        let size = 0;
        for (const data of batch) size += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
        connection.cork();
        connection.write(`${size.toString(16)}\r\n`, 'latin1');
        for (const data of batch) connection.write(data);
        flowing = connection.write('\r\n', 'latin1');
        connection.uncork();
        if (!flowing) await drained(connection);
        return;
      }
      for (const data of batch) flowing = res.write(data);
      if (!flowing) await drained(res);
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

    // Every watcher of this resource that negotiated the same representation gets the same bytes
    // for an event: they are encoded once per event (see `sharedFrames`), not once per watcher.
    // Table frames depend on the watcher (column headers only in its first one) and are not shared.
    const sharedKeys =
      negotiated.representation === 'Table'
        ? undefined
        : sharedFrameKeys(`${negotiated.encoding}\0${negotiated.representation}\0${negotiated.groupVersion ?? ''}\0${ctx.version}`);
    const frameOf = (event: WatchEvent): string | Buffer => {
      if (event.type === 'BOOKMARK' || !sharedKeys) return frame({ type: event.type, object: represent(event) });
      return sharedFrames.get(event.object, sharedKeys[event.type], () => frame({ type: event.type, object: represent(event) }));
    };
    const frames: Array<string | Buffer> = [];

    try {
      for await (const batch of stream) {
        for (const event of batch) {
          if (event.type === 'BOOKMARK' && !allowBookmarks) continue;
          frames.push(frameOf(event));
        }
        if (frames.length > 0) recordWatchEvents(ctx.decl.group, ctx.version, ctx.decl.kind, frames.length);
        if (frames.length > 0) await writeAll(frames);
        frames.length = 0;
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

/** Resolves on 'drain' or 'close', whichever comes first, and removes both listeners. */
function drained(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

type SharedEventType = Exclude<WatchEvent['type'], 'BOOKMARK'>;

function sharedFrameKeys(representation: string): Record<SharedEventType, string> {
  return { ADDED: `ADDED\0${representation}`, MODIFIED: `MODIFIED\0${representation}`, DELETED: `DELETED\0${representation}` };
}

/**
 * Encoded watch frames of the watch cache's objects, by object and (event type, representation).
 * The cache shares one immutable object between its state, its history and every watcher (see
 * registry/cacher.ts), so an object's frame is the same for every watcher that negotiated the
 * same representation. Bounded: the oldest entries go beyond `maxFrames` frames or `maxBytes`
 * bytes; a frame needed again after that is encoded again (a watcher replaying old history).
 */
class SharedFrames {
  private readonly byObject = new WeakMap<object, Map<string, Buffer>>();
  /** Insertion order, for eviction: objects and the key of the frame each added. */
  private readonly order: Array<{ object: object; key: string; bytes: number }> = [];
  private head = 0;
  private bytes = 0;

  constructor(
    private readonly maxFrames: number,
    private readonly maxBytes: number,
  ) {}

  get(object: object, key: string, encode: () => string): Buffer {
    let frames = this.byObject.get(object);
    const hit = frames?.get(key);
    if (hit) return hit;
    const encoded = Buffer.from(encode());
    if (!frames) this.byObject.set(object, (frames = new Map()));
    frames.set(key, encoded);
    this.order.push({ object, key, bytes: encoded.length });
    this.bytes += encoded.length;
    while (this.order.length - this.head > this.maxFrames || this.bytes > this.maxBytes) this.evictOldest();
    return encoded;
  }

  private evictOldest(): void {
    const oldest = this.order[this.head++];
    this.bytes -= oldest.bytes;
    const frames = this.byObject.get(oldest.object);
    if (frames?.delete(oldest.key) && frames.size === 0) this.byObject.delete(oldest.object);
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
  }
}

const sharedFrames = new SharedFrames(8192, 64 * 1024 * 1024);

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
