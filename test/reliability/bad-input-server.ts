// The server the bad-input table and the fuzz run share: every kind, with PVCPolicy carrying a
// test custom verb (`greet`, as in test/apiserver/subresource.test.ts) so invalid custom-verb
// requests do not depend on the operators' verbs; no controllers; seeded with one PVCPolicy `p`,
// one StormTopology and one StormWorkerPool in namespace `bad`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { KindDeclaration } from '../../registry/kind.js';
import { allKinds } from '../../registry/kinds.js';
import { declaration as pvcpolicy } from '../../registry/pvc-chonker.io/pvcpolicy/index.js';
import type { SubresourceDeclaration } from '../../registry/subresource.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { Client, policy, POLICIES } from './helpers.js';

/** A verb with a strict request body, on a copy of PVCPolicy. */
const greet: SubresourceDeclaration = {
  name: 'greet',
  verb: 'create',
  kind: 'PolicyGreeting',
  description: 'Echoes a greeting (test verb).',
  requestSpec: z.object({ who: z.string().min(1), times: z.number().int().min(1).max(5).default(1) }).strict(),
  response: z.object({ status: z.object({ message: z.string() }) }),
  connect: (services) => async (request) => {
    await services.store.get({ namespace: request.namespace, name: request.name }, {});
    const spec = request.body!.spec as { who: string; times: number };
    return { code: 201, object: { metadata: { name: request.name, namespace: request.namespace }, status: { message: `hello ${spec.who}`.repeat(spec.times) } } };
  },
};
const TEST_KINDS: KindDeclaration[] = [...allKinds.filter((k) => k.kind !== 'PVCPolicy'), { ...pvcpolicy, subresources: [greet] }];

export const NAMESPACE = 'bad';
export const P = POLICIES(NAMESPACE);
export const TOPOLOGIES = `/apis/storm.apache.org/v1beta1/namespaces/${NAMESPACE}/stormtopologies`;
export const POOLS = `/apis/storm.apache.org/v1beta1/namespaces/${NAMESPACE}/stormworkerpools`;

export function example(file: string): any {
  const obj = parseYaml(readFileSync(join(process.cwd(), 'deploy/examples', file), 'utf8'));
  obj.metadata.namespace = NAMESPACE;
  return obj;
}

/** Starts a server with the test kinds and no controllers, with one PVCPolicy `p`, one StormTopology and one StormWorkerPool. */
export async function startBadInputServer(): Promise<TestServer> {
  const server = await startTestServer({ 'etcd-compaction-interval': '0' }, { kinds: TEST_KINDS, extensions: { controllers: [] } });
  const client = new Client(server);
  try {
    for (const [path, body] of [
      [P, policy('p')],
      [TOPOLOGIES, example('stormtopology.yaml')],
      [POOLS, example('stormworkerpool.yaml')],
    ] as const) {
      const res = await client.request('POST', path, { body });
      if (res.status !== 201) throw new Error(`seed ${path}: ${res.status} ${res.body}`);
    }
  } finally {
    client.close();
  }
  return server;
}
