// lifecycle.updateStrategy: rolling is accepted but served as recreate (Storm cannot update a
// running topology in place); the API says so in a `Warning: 299` header on create and update.
import test from 'ava';
import { httpsRequest, startTestServer, type TestServer } from '../helpers/server.js';
import { topologyObject } from './topology-harness.js';

let server: TestServer;
const NS = 'warn-ns';
const COLLECTION = `/apis/storm.apache.org/v1beta1/namespaces/${NS}/stormtopologies`;
const ROLLING_WARNING = /299 - "spec\.lifecycle\.updateStrategy: rolling is served as recreate \(Storm cannot update a running topology in place\); use spec\.deploymentStrategy\.type: blueGreen to keep a version running during an update"/;

test.before(async () => {
  server = await startTestServer({ storage: 'memory' });
});

test.after.always(async () => {
  await server?.stop();
});

const send = (method: string, path: string, body: unknown) =>
  httpsRequest(server, method, path, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

const warningsOf = (headers: Record<string, string | string[] | undefined>): string[] => {
  const value = headers.warning;
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
};

const cases: Array<{ title: string; lifecycle: Record<string, unknown>; strategy?: Record<string, unknown>; warns: boolean }> = [
  { title: 'rolling with recreate deployment', lifecycle: { updateStrategy: 'rolling' }, warns: true },
  { title: 'recreate (explicit)', lifecycle: { updateStrategy: 'recreate' }, warns: false },
  { title: 'updateStrategy absent (default recreate)', lifecycle: {}, warns: false },
  { title: 'rolling with blue-green (ignored, its own warning)', lifecycle: { updateStrategy: 'rolling' }, strategy: { type: 'blueGreen' }, warns: false },
];

for (const [i, c] of cases.entries()) {
  test(`updateStrategy warning on create and update: ${c.title}`, async (t) => {
    const name = `wc-${i}`;
    const obj = topologyObject(NS, name, (spec) => {
      spec.lifecycle = { killWaitSeconds: 0, ...c.lifecycle };
      if (c.strategy) spec.deploymentStrategy = c.strategy;
    });
    const created = await send('POST', COLLECTION, obj);
    t.is(created.status, 201, created.body);
    const onCreate = warningsOf(created.headers);
    t.is(onCreate.some((w) => ROLLING_WARNING.test(w)), c.warns, onCreate.join('\n'));

    const stored = JSON.parse(created.body);
    stored.spec.workers.replicas = 3;
    const updated = await send('PUT', `${COLLECTION}/${name}`, stored);
    t.is(updated.status, 200, updated.body);
    const onUpdate = warningsOf(updated.headers);
    t.is(onUpdate.some((w) => ROLLING_WARNING.test(w)), c.warns, onUpdate.join('\n'));
  });
}
