// RSS of the server process holding 100,000 stored objects of ~1 KB (seeded straight into its
// sqlite file before it starts), once its watch cache has synced, one full LIST has been served
// and the process has been idle a few seconds (time for V8 to collect), against the stored JSON
// bytes. The RSS of an empty server is measured too (a detail: the fixed cost of the process).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { figure, round } from '../lib/figures.js';
import { keepAliveAgent, timedGet, waitReady } from '../lib/http.js';
import type { BenchPart } from '../lib/part.js';
import { startApiServer } from '../lib/processes.js';
import { seedSqlite, storedTemplate } from '../lib/seed.js';
import { knob, rssMegabytes } from '../lib/stats.js';

const NAMESPACE = 'memory';
const SETTLE_MS = 5_000;

/** RSS after `SETTLE_MS` of idleness: the lowest of a few samples over the last second. */
async function settledRss(pid: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS - 1_000));
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(await rssMegabytes(pid));
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return Math.min(...samples);
}

async function measureServer(args: string[], list: string | undefined): Promise<{ rssMb: number; listBytes?: number; listMs?: number }> {
  const server = await startApiServer(args);
  const agent = keepAliveAgent(server.tls);
  try {
    await waitReady(server, agent);
    let listBytes: number | undefined;
    let listMs: number | undefined;
    if (list) {
      const answer = await timedGet(agent, server.url, list);
      if (answer.status !== 200) throw new Error(`LIST answered ${answer.status}`);
      listBytes = answer.body.length;
      listMs = answer.ms;
    }
    return { rssMb: await settledRss(server.pid), listBytes, listMs };
  } finally {
    agent.destroy();
    await server.stop();
  }
}

export const memoryPart: BenchPart = {
  name: 'memory',
  description: 'RSS of the server with 100,000 stored ~1 KB objects (synced, listed once, settled) vs the stored JSON bytes',
  async run({ log }) {
    const objects = knob('OBJECTS', 100_000);
    const dir = mkdtempSync(join(tmpdir(), 'bench-memory-'));
    try {
      const empty = await measureServer([], undefined);
      log(`empty server: RSS ${round(empty.rssMb)} MB`);
      const template = await storedTemplate();
      const seedStart = performance.now();
      const seeded = await seedSqlite(join(dir, 'state.db'), template, [{ namespace: NAMESPACE, count: objects }]);
      const jsonMb = seeded.jsonBytes / 2 ** 20;
      log(`seeded ${seeded.objects} objects, ${round(jsonMb)} MB of JSON, in ${Math.round(performance.now() - seedStart)} ms`);
      const full = await measureServer([`--storage=sqlite://${join(dir, 'state.db')}`], '/apis/pvc-chonker.io/v1alpha1/pvcpolicies');
      log(`with ${objects} objects: RSS ${round(full.rssMb)} MB`);
      return [
        figure({
          part: 'memory',
          figure: `RSS with ${objects} stored objects of ~1 KB (synced, listed once, settled ${SETTLE_MS / 1000} s)`,
          measured: { value: full.rssMb, unit: 'MB' },
          baseline: { name: 'stored JSON bytes', value: jsonMb, unit: 'MB' },
          target: 'RSS ≤ 2× JSON + 100 MB',
          pass: full.rssMb <= 2 * jsonMb + 100,
          details: {
            emptyServerRssMb: round(empty.rssMb),
            objects: seeded.objects,
            jsonBytes: seeded.jsonBytes,
            listBytes: full.listBytes,
            listMs: full.listMs === undefined ? undefined : Math.round(full.listMs),
            seeding: 'sqlite file written through the Backend before the server started',
            mb: 'MiB (2^20 bytes), RSS and JSON alike',
          },
        }),
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
