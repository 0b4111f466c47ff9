import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** A named health check; it resolves when healthy and rejects with the reason otherwise. */
export interface HealthCheck {
  name: string;
  check: () => Promise<void>;
}

export interface HealthChecks {
  /** Checks of `/livez` (and `/healthz`). */
  live: HealthCheck[];
  /** Checks of `/readyz` in addition to the live ones. */
  ready: HealthCheck[];
}

/**
 * `/healthz`, `/livez` and `/readyz` as kube-apiserver serves them: `ok`, or with `?verbose` one
 * `[+]name ok` line per check and `<endpoint> check passed`; a failing check prints
 * `[-]name failed: reason withheld` and the endpoint answers 500. `?exclude=name` (repeatable)
 * skips checks. `/<endpoint>/<check>` runs a single check.
 */
export function installHealth(app: FastifyInstance, checks: HealthChecks): void {
  const endpoints: Record<string, HealthCheck[]> = {
    healthz: checks.live,
    livez: checks.live,
    readyz: [...checks.live, ...checks.ready],
  };
  for (const [endpoint, list] of Object.entries(endpoints)) {
    app.get(`/${endpoint}`, (req, reply) => serve(endpoint, list, req, reply));
    app.get(`/${endpoint}/:check`, (req, reply) => {
      const name = (req.params as { check: string }).check;
      const single = list.filter((c) => c.name === name);
      if (single.length === 0) return reply.code(404).type('text/plain; charset=utf-8').send('404 page not found\n');
      return serve(endpoint, single, req, reply);
    });
  }
}

async function serve(endpoint: string, list: HealthCheck[], req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const query = req.query as Record<string, string | string[] | undefined>;
  const excluded = new Set([query.exclude ?? []].flat());
  const verbose = query.verbose !== undefined;
  const results = await Promise.all(
    list
      .filter((c) => !excluded.has(c.name))
      .map(async (c) => {
        try {
          await c.check();
          return { name: c.name, ok: true };
        } catch (err) {
          req.log.warn({ check: c.name, err: (err as Error).message }, `${endpoint} check failed`);
          return { name: c.name, ok: false };
        }
      }),
  );
  const failed = results.some((r) => !r.ok);
  const lines = results.map((r) => (r.ok ? `[+]${r.name} ok` : `[-]${r.name} failed: reason withheld`));
  for (const name of excluded) lines.push(`[+]${name} excluded: ok`);
  reply.code(failed ? 500 : 200).type('text/plain; charset=utf-8');
  if (failed) {
    reply.send(`${lines.join('\n')}\n${endpoint} check failed\n`);
  } else if (verbose) {
    reply.send(`${lines.join('\n')}\n${endpoint} check passed\n`);
  } else {
    reply.send('ok');
  }
}
