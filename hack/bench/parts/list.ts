// LIST 10,000 objects of ~1 KB (JSON and Table), p50 of sequential requests, against
// JSON.stringify of the same objects in this process; and a paged LIST (limit=500) through
// 100,000 objects against one unpaged LIST of the same 100,000. The objects are seeded straight
// into the server's sqlite file before it starts (lib/seed.ts). Bodies are timed to their last
// byte and never parsed (lib/http.ts), for subject and baseline alike.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { figure, round } from '../lib/figures.js';
import { continueToken, keepAliveAgent, timedGet, waitReady } from '../lib/http.js';
import { POLICIES } from '../lib/objects.js';
import type { BenchPart } from '../lib/part.js';
import { startApiServer, type ApiServer } from '../lib/processes.js';
import { seedSqlite, storedTemplate } from '../lib/seed.js';
import { knob, percentile } from '../lib/stats.js';
import type { Agent } from 'node:https';

const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io';
const PAGE_LIMIT = 500;

async function sequentialMs(agent: Agent, server: ApiServer, path: string, times: number, headers: Record<string, string> = {}): Promise<number[]> {
  const durations: number[] = [];
  for (let i = 0; i < times; i++) {
    const answer = await timedGet(agent, server.url, path, headers);
    if (answer.status !== 200) throw new Error(`GET ${path} answered ${answer.status}: ${answer.body.subarray(0, 300).toString()}`);
    durations.push(answer.ms);
  }
  return durations;
}

/** Every page of `path` at `limit`; total wall time and the number of pages and bytes. */
async function pagedMs(agent: Agent, server: ApiServer, path: string, limit: number): Promise<{ ms: number; pages: number; bytes: number }> {
  const start = performance.now();
  let token: string | undefined;
  let pages = 0;
  let bytes = 0;
  do {
    const answer = await timedGet(agent, server.url, `${path}?limit=${limit}${token ? `&continue=${encodeURIComponent(token)}` : ''}`);
    if (answer.status !== 200) throw new Error(`paged LIST answered ${answer.status}: ${answer.body.subarray(0, 300).toString()}`);
    pages++;
    bytes += answer.body.length;
    token = continueToken(answer.body);
  } while (token);
  return { ms: performance.now() - start, pages, bytes };
}

export const listPart: BenchPart = {
  name: 'list',
  description: 'LIST 10,000 ~1 KB objects (JSON, Table) p50 vs JSON.stringify; paged LIST (limit=500) through 100,000 vs one unpaged LIST',
  async run({ log }) {
    const listObjects = knob('LIST_OBJECTS', 10_000);
    const pagedObjects = knob('OBJECTS', 100_000);
    const times = knob('LIST_TIMES', 15);
    const dir = mkdtempSync(join(tmpdir(), 'bench-list-'));
    let server: ApiServer | undefined;
    let agent: Agent | undefined;
    try {
      log('template object from a scratch server');
      const template = await storedTemplate();
      const seedStart = performance.now();
      const seeded = await seedSqlite(join(dir, 'state.db'), template, [
        { namespace: 'list', count: listObjects },
        { namespace: 'paged', count: pagedObjects },
      ]);
      log(`seeded ${seeded.objects} objects (${round(seeded.jsonBytes / 2 ** 20)} MiB of JSON) straight into sqlite in ${Math.round(performance.now() - seedStart)} ms`);
      server = await startApiServer([`--storage=sqlite://${join(dir, 'state.db')}`]);
      agent = keepAliveAgent(server.tls);
      await waitReady(server, agent);

      // LIST of `listObjects` (consistent read, served by the watch cache once it has caught up).
      const listPath = POLICIES('list');
      const sample = await timedGet(agent, server.url, listPath);
      const listed = JSON.parse(sample.body.toString('utf8')) as { items: unknown[] };
      if (listed.items.length !== listObjects) throw new Error(`LIST returned ${listed.items.length} items, expected ${listObjects}`);
      const stringifyMs: number[] = [];
      for (let i = 0; i < times; i++) {
        const start = performance.now();
        JSON.stringify(listed);
        stringifyMs.push(performance.now() - start);
      }
      const stringifyP50 = percentile(stringifyMs, 50);
      await sequentialMs(agent, server, listPath, 2);
      const jsonMs = await sequentialMs(agent, server, listPath, times);
      await sequentialMs(agent, server, listPath, 2, { accept: TABLE_ACCEPT });
      const tableMs = await sequentialMs(agent, server, listPath, times, { accept: TABLE_ACCEPT });
      const tableBytes = (await timedGet(agent, server.url, listPath, { accept: TABLE_ACCEPT })).body.length;
      log(`LIST ${listObjects}: JSON p50 ${round(percentile(jsonMs, 50))} ms, Table p50 ${round(percentile(tableMs, 50))} ms, JSON.stringify p50 ${round(stringifyP50)} ms`);

      // Paged vs unpaged through `pagedObjects`, best of two each.
      const pagedPath = POLICIES('paged');
      const unpaged = Math.min(...(await sequentialMs(agent, server, pagedPath, 2)));
      const pagedRuns = [await pagedMs(agent, server, pagedPath, PAGE_LIMIT), await pagedMs(agent, server, pagedPath, PAGE_LIMIT)];
      const paged = pagedRuns.reduce((a, b) => (a.ms <= b.ms ? a : b));
      log(`${pagedObjects} objects: unpaged ${Math.round(unpaged)} ms, paged (${paged.pages} pages) ${Math.round(paged.ms)} ms`);

      const listFigure = (what: string, samples: number[], bytes: number) => {
        const p50 = percentile(samples, 50);
        return figure({
          part: 'list',
          figure: `LIST ${listObjects} objects of ~1 KB, ${what}, p50 (sequential)`,
          measured: { value: p50, unit: 'ms' },
          baseline: { name: 'JSON.stringify of the same list in the bench process', value: stringifyP50, unit: 'ms' },
          target: 'p50 ≤ 2× stringify + 5 ms',
          pass: p50 <= 2 * stringifyP50 + 5,
          details: { requests: samples.length, p90Ms: round(percentile(samples, 90)), minMs: round(Math.min(...samples)), bodyBytes: bytes, seeding: 'sqlite file written through the Backend before the server started' },
        });
      };
      return [
        listFigure('JSON', jsonMs, sample.body.length),
        listFigure('Table', tableMs, tableBytes),
        figure({
          part: 'list',
          figure: `paged LIST (limit=${PAGE_LIMIT}) through ${pagedObjects} objects, total time`,
          measured: { value: paged.ms, unit: 'ms' },
          baseline: { name: `one unpaged LIST of the same ${pagedObjects}`, value: unpaged, unit: 'ms' },
          target: 'ratio ≤ 1.5',
          pass: paged.ms / unpaged <= 1.5,
          details: { pages: paged.pages, pagedBytes: paged.bytes, runsMs: pagedRuns.map((r) => Math.round(r.ms)), note: 'best of two runs each; both served by the watch cache (pages while its state is still the first page\'s snapshot, as here; else from storage at that revision)' },
        }),
      ];
    } finally {
      agent?.destroy();
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
