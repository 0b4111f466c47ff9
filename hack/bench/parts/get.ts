// GET one object served from the watch cache, 50 connections, against bare fastify serving the
// same bytes with the same TLS setting. `?resourceVersion=0` is how a client asks for a read from
// the watch cache (kube-apiserver semantics: without a resourceVersion a GET is a consistent read
// from storage); that read is measured too, as a detail.
import { figure, round } from '../lib/figures.js';
import { assertClean, load, type LoadResult } from '../lib/load.js';
import type { BenchPart } from '../lib/part.js';
import { startApiServer, startBareFastify, type RunningProcess } from '../lib/processes.js';
import { knob } from '../lib/stats.js';
import { Client } from '../../lib/https-client.js';
import { benchObject, POLICIES } from '../lib/objects.js';

const CONNECTIONS = 50;

async function measure(target: RunningProcess, path: string, seconds: number): Promise<LoadResult> {
  await load({ url: target.url, tls: target.tls, request: { path }, connections: CONNECTIONS, durationSeconds: 2 }); // warm-up
  return assertClean(`GET ${path}`, await load({ url: target.url, tls: target.tls, request: { path }, connections: CONNECTIONS, durationSeconds: seconds }));
}

export const getPart: BenchPart = {
  name: 'get',
  description: 'GET one object from the watch cache at 50 connections vs bare fastify serving the same bytes',
  async run({ log }) {
    const seconds = knob('SECONDS', 10);
    const server = await startApiServer();
    let fastify: RunningProcess | undefined;
    try {
      const client = new Client(server.endpoint);
      const created = await client.request('POST', POLICIES('default'), { body: benchObject('bench-get') });
      if (created.status !== 201) throw new Error(`create answered ${created.status}: ${created.body}`);
      const storagePath = `${POLICIES('default')}/bench-get`;
      const path = `${storagePath}?resourceVersion=0`;
      const got = await client.request('GET', path);
      client.close();
      log(`object is ${got.body.length} bytes; server: ${seconds} s at ${CONNECTIONS} connections`);
      const subject = await measure(server, path, seconds);
      log(`GET without resourceVersion (consistent read from storage): ${seconds / 2} s`);
      const fromStorage = await measure(server, storagePath, seconds / 2);
      fastify = await startBareFastify(server, got.body);
      log('bare fastify');
      const baseline = await measure(fastify, path, seconds);
      return [
        figure({
          part: 'get',
          figure: `GET one object (watch cache), rps at ${CONNECTIONS} connections`,
          measured: { value: subject.rps, unit: 'rps' },
          baseline: { name: 'bare fastify, same bytes and TLS', value: baseline.rps, unit: 'rps' },
          target: 'ratio ≥ 0.60',
          pass: subject.rps / baseline.rps >= 0.6,
          details: {
            objectBytes: got.body.length,
            seconds,
            server: { p50Ms: subject.p50Ms, p99Ms: subject.p99Ms, requests: subject.requests },
            fastify: { p50Ms: baseline.p50Ms, p99Ms: baseline.p99Ms, requests: baseline.requests },
            fromStorage: { rps: round(fromStorage.rps), ratio: round(fromStorage.rps / baseline.rps, 3), p50Ms: fromStorage.p50Ms, p99Ms: fromStorage.p99Ms },
            p99Ratio: round(subject.p99Ms / baseline.p99Ms),
          },
        }),
      ];
    } finally {
      await fastify?.stop();
      await server.stop();
    }
  },
};
