// Seeding many stored objects fast: straight into a sqlite file through the storage Backend,
// before the server that serves them starts (creating 100,000 objects through the API would
// take minutes on these machines). The objects have exactly the shape the server stores: the
// template is an object created through the API of a scratch server (uid, creationTimestamp,
// managedFields and all), stored as `registry/store.ts` encodes it (without
// `metadata.resourceVersion`, which is the key's modRevision) under the Store's key layout
// `/registry/<group>/<plural>/<namespace>/<name>`.
import { randomUUID } from 'node:crypto';
import { openBackend } from '../../../registry/storage/index.js';
import { Client } from '../../lib/https-client.js';
import { benchObject, POLICIES } from './objects.js';
import { startApiServer } from './processes.js';

const POLICY_PREFIX = '/registry/pvc-chonker.io/pvcpolicies/';

/** A PVCPolicy as the server stores it (no resourceVersion), created through a scratch server's API. */
export async function storedTemplate(bytes = 1024): Promise<Record<string, any>> {
  const server = await startApiServer();
  try {
    const client = new Client(server.endpoint);
    const created = await client.request('POST', POLICIES('template'), { body: benchObject('template', bytes) });
    client.close();
    if (created.status !== 201) throw new Error(`template create answered ${created.status}: ${created.body}`);
    const obj = created.json as Record<string, any>;
    delete obj.metadata.resourceVersion;
    return obj;
  } finally {
    await server.stop();
  }
}

export interface SeededNamespace {
  namespace: string;
  count: number;
}

/**
 * Writes `count` objects per namespace into the sqlite file at `path` (created if absent), each
 * a copy of `template` with its own name, namespace and uid. Returns the stored JSON bytes.
 */
export async function seedSqlite(path: string, template: Record<string, any>, namespaces: SeededNamespace[]): Promise<{ objects: number; jsonBytes: number }> {
  const backend = await openBackend({ url: `sqlite://${path}` });
  let objects = 0;
  let jsonBytes = 0;
  try {
    for (const { namespace, count } of namespaces) {
      for (let i = 0; i < count; i++) {
        const name = `obj-${String(i).padStart(6, '0')}`;
        const obj = { ...template, metadata: { ...template.metadata, name, namespace, uid: randomUUID() } };
        const value = Buffer.from(JSON.stringify(obj));
        await backend.create(`${POLICY_PREFIX}${namespace}/${name}`, value);
        objects++;
        jsonBytes += value.length;
      }
    }
  } finally {
    await backend.close();
  }
  return { objects, jsonBytes };
}
