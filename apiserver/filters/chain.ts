// The filters run as one fastify onRequest hook per stretch of the chain (instead of one hook per
// filter), and what they do when the response is done (count it, clear its timer, give back its
// in-flight slot) runs from one `close` listener per request. A filter is a plain function of the
// request: it throws a StatusError to answer instead of the handler, and returns a promise only
// when it must wait (a webhook TokenReview or SubjectAccessReview); the chain then goes on after it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** One filter: throws to answer the request; a promise only when it must wait. */
export type RequestFilter = (req: FastifyRequest, reply: FastifyReply) => void | Promise<void>;

/**
 * Runs once per request when its response is done or its connection went away, whichever is
 * first (the response's `close`), also for hijacked responses (watch) and requests a filter
 * turned away. Reads what its filter left on the request; must not throw.
 */
export type RequestEnd = (req: FastifyRequest, reply: FastifyReply) => void;

function runFrom(filters: readonly RequestFilter[], from: number, req: FastifyRequest, reply: FastifyReply): void | Promise<void> {
  for (let i = from; i < filters.length; i++) {
    const pending = filters[i](req, reply);
    if (pending !== undefined) return pending.then(() => runFrom(filters, i + 1, req, reply));
  }
  return undefined;
}

/** Installs `filters`, in order, as one onRequest hook. */
export function installFilters(app: FastifyInstance, filters: readonly RequestFilter[]): void {
  app.addHook('onRequest', (req, reply, done) => {
    let pending: void | Promise<void>;
    try {
      pending = runFrom(filters, 0, req, reply);
    } catch (err) {
      done(err as Error);
      return;
    }
    if (pending === undefined) done();
    else pending.then(() => done(), done);
  });
}

/** A filter that registers the one `close` listener of each request, running `ends` in order. */
export function requestEnds(ends: readonly RequestEnd[]): RequestFilter {
  return (req, reply) => {
    reply.raw.on('close', () => {
      for (const end of ends) end(req, reply);
    });
  };
}
