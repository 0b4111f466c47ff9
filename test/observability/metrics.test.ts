// /metrics after a few requests: kube-apiserver's metric names and label sets (so that existing
// dashboards and alerts work), the storage metrics, watch events, long-running requests, and the
// process metrics.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { httpsRequest, startTestServer, type TestServer } from '../helpers/server.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

function find(samples: Sample[], name: string, labels: Record<string, string>): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

async function scrape(server: TestServer): Promise<Sample[]> {
  const res = await httpsRequest(server, 'GET', '/metrics');
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${res.body}`);
  return parseExposition(res.body);
}

const POLICIES = '/apis/pvc-chonker.io/v1alpha1/namespaces/metrics-test/pvcpolicies';

function policy(name: string): string {
  return JSON.stringify({
    apiVersion: 'pvc-chonker.io/v1alpha1',
    kind: 'PVCPolicy',
    metadata: { name, namespace: 'metrics-test' },
    spec: { selector: { matchLabels: { app: 'db' } }, template: { enabled: true, threshold: '85%', increase: '25%' } },
  });
}

const TOPOLOGIES = '/apis/storm.apache.org/v1beta1/namespaces/metrics-test/stormtopologies';

let server: TestServer;
test.before(async () => {
  // No controllers: the test sets the topology's status itself.
  server = await startTestServer({}, { extensions: { controllers: [] } });
  const json = { 'content-type': 'application/json' };
  const steps: Array<[string, string, { headers?: Record<string, string>; body?: string }, number]> = [
    ['POST', POLICIES, { headers: json, body: policy('one') }, 201],
    ['POST', `${POLICIES}?dryRun=All`, { headers: json, body: policy('dry') }, 201],
    ['GET', POLICIES, {}, 200],
    ['GET', `${POLICIES}/one`, {}, 200],
    ['GET', `${POLICIES}/absent`, {}, 404],
    ['PATCH', `${POLICIES}/one?fieldManager=metrics-test`, { headers: { 'content-type': 'application/apply-patch+yaml' }, body: policy('one') }, 200],
    ['GET', `${POLICIES}?watch=true&timeoutSeconds=1`, {}, 200],
    ['GET', '/readyz', {}, 200],
  ];
  for (const [method, path, options, status] of steps) {
    const res = await httpsRequest(server, method, path, options);
    if (res.status !== status) throw new Error(`${method} ${path}: ${res.status} ${res.body}`);
  }
  // A topology whose status says Failed (as the storm controller would write it).
  const example = parse(readFileSync(fileURLToPath(new URL('../../../deploy/examples/stormtopology.yaml', import.meta.url)), 'utf8')) as { metadata: Record<string, unknown> };
  example.metadata.namespace = 'metrics-test';
  const created = await httpsRequest(server, 'POST', TOPOLOGIES, { headers: json, body: JSON.stringify(example) });
  if (created.status !== 201) throw new Error(`create topology: ${created.status} ${created.body}`);
  const failed = { ...(JSON.parse(created.body) as Record<string, unknown>), status: { phase: 'Failed' } };
  const updated = await httpsRequest(server, 'PUT', `${TOPOLOGIES}/wordcount/status`, { headers: json, body: JSON.stringify(failed) });
  if (updated.status !== 200) throw new Error(`topology status: ${updated.status} ${updated.body}`);
  // An anonymous request is counted too, with the code it got.
  const anonymous = await httpsRequest({ url: server.url, caPem: server.caPem }, 'GET', POLICIES);
  if (anonymous.status !== 403) throw new Error(`anonymous list: ${anonymous.status}`);
});
test.after.always(async () => {
  await server?.stop();
});

const resourceLabels = { group: 'pvc-chonker.io', version: 'v1alpha1', resource: 'pvcpolicies', subresource: '', component: 'apiserver' };

const requestCases: Array<{ title: string; labels: Record<string, string> }> = [
  { title: 'create', labels: { ...resourceLabels, verb: 'POST', scope: 'resource', dry_run: '', code: '201' } },
  { title: 'create with dryRun', labels: { ...resourceLabels, verb: 'POST', scope: 'resource', dry_run: 'All', code: '201' } },
  { title: 'list', labels: { ...resourceLabels, verb: 'LIST', scope: 'namespace', dry_run: '', code: '200' } },
  { title: 'get', labels: { ...resourceLabels, verb: 'GET', scope: 'resource', code: '200' } },
  { title: 'get of a missing object', labels: { ...resourceLabels, verb: 'GET', scope: 'resource', code: '404' } },
  { title: 'server-side apply', labels: { ...resourceLabels, verb: 'APPLY', scope: 'resource', code: '200' } },
  { title: 'watch', labels: { ...resourceLabels, verb: 'WATCH', scope: 'namespace', code: '200' } },
  { title: 'forbidden (anonymous)', labels: { ...resourceLabels, verb: 'LIST', scope: 'namespace', code: '403' } },
  { title: 'non-resource', labels: { verb: 'GET', group: '', version: '', resource: '', subresource: '/readyz', scope: '', code: '200' } },
];

for (const { title, labels } of requestCases) {
  test(`apiserver_request_total and apiserver_request_duration_seconds count the ${title} request`, async (t) => {
    const samples = await scrape(server);
    const counted = find(samples, 'apiserver_request_total', labels);
    t.is(counted.length, 1, JSON.stringify(find(samples, 'apiserver_request_total', { resource: labels.resource })));
    t.true(counted[0].value >= 1);
    const { code: _code, ...durationLabels } = labels;
    const count = find(samples, 'apiserver_request_duration_seconds_count', durationLabels);
    t.true(count.length === 1 && count[0].value >= 1);
    t.true(find(samples, 'apiserver_request_duration_seconds_bucket', { ...durationLabels, le: '+Inf' }).length === 1);
  });
}

test('every apiserver_request_total sample has exactly the upstream label set', async (t) => {
  const samples = find(await scrape(server), 'apiserver_request_total', {});
  t.true(samples.length > 0);
  for (const s of samples) t.deepEqual(Object.keys(s.labels).sort(), ['code', 'component', 'dry_run', 'group', 'resource', 'scope', 'subresource', 'verb', 'version']);
});

test('apiserver_current_inflight_requests reports both request kinds (the scrape itself is in flight)', async (t) => {
  const samples = await scrape(server);
  const readOnly = find(samples, 'apiserver_current_inflight_requests', { request_kind: 'readOnly' });
  const mutating = find(samples, 'apiserver_current_inflight_requests', { request_kind: 'mutating' });
  t.is(readOnly.length, 1);
  t.true(readOnly[0].value >= 1);
  t.is(mutating.length, 1);
});

test('apiserver_longrunning_requests counts an open watch until it ends', async (t) => {
  const watchLabels = { ...resourceLabels, verb: 'WATCH', scope: 'namespace' };
  const open = request(new URL(`${POLICIES}?watch=true`, server.url), { ca: server.caPem, cert: server.clientCert?.cert, key: server.clientCert?.key });
  const response = new Promise<import('node:http').IncomingMessage>((resolve, reject) => open.on('response', resolve).on('error', reject));
  open.end();
  const res = await response;
  t.is(res.statusCode, 200);
  const during = find(await scrape(server), 'apiserver_longrunning_requests', watchLabels);
  t.is(during.length, 1);
  t.true(during[0].value >= 1);
  const before = during[0].value;
  const closed = new Promise((resolve) => res.on('close', resolve));
  open.destroy();
  await closed;
  // The server sees the close asynchronously; wait for the gauge to come down (generous deadline).
  const deadline = Date.now() + 10_000;
  let after = before;
  while (Date.now() < deadline) {
    after = find(await scrape(server), 'apiserver_longrunning_requests', watchLabels)[0]?.value ?? 0;
    if (after < before) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  t.is(after, before - 1);
});

test('apiserver_watch_events_total counts the events sent to watchers, by group, version and kind', async (t) => {
  const samples = find(await scrape(server), 'apiserver_watch_events_total', { group: 'pvc-chonker.io', version: 'v1alpha1', kind: 'PVCPolicy' });
  t.is(samples.length, 1);
  t.true(samples[0].value >= 1);
});

test('apiserver_storage_objects counts the stored objects per resource', async (t) => {
  const samples = await scrape(server);
  t.deepEqual(find(samples, 'apiserver_storage_objects', { resource: 'pvcpolicies.pvc-chonker.io' }).map((s) => s.value), [1]);
  t.deepEqual(find(samples, 'apiserver_storage_objects', { resource: 'stormtopologies.storm.apache.org' }).map((s) => s.value), [1]);
  t.deepEqual(find(samples, 'apiserver_storage_objects', { resource: 'performers.hourglass.eigenlayer.io' }).map((s) => s.value), [0]);
});

test('operators_object_phase reports the status.phase of each object (what the topology-failed alert reads)', async (t) => {
  const samples = find(await scrape(server), 'operators_object_phase', { group: 'storm.apache.org', resource: 'stormtopologies' });
  t.deepEqual(
    samples.map((s) => [s.labels.namespace, s.labels.name, s.labels.phase, s.value]),
    [['metrics-test', 'wordcount', 'Failed', 1]],
  );
  // Objects without a phase (the policy) are not reported.
  t.deepEqual(find(await scrape(server), 'operators_object_phase', { resource: 'pvcpolicies' }), []);
});

test('etcd_request_duration_seconds times the storage calls by operation and type', async (t) => {
  const samples = await scrape(server);
  for (const operation of ['create', 'get', 'update', 'list', 'watch']) {
    const count = find(samples, 'etcd_request_duration_seconds_count', { operation, type: 'pvcpolicies.pvc-chonker.io' });
    t.is(count.length, 1, operation);
    t.true(count[0].value >= 1, operation);
  }
});

test('process and Node.js runtime metrics are exported', async (t) => {
  const names = new Set((await scrape(server)).map((s) => s.name));
  for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
    t.true(names.has(name), name);
  }
});

test('a scrape succeeds while another server in the process has watch caches that never synced', async (t) => {
  // Nothing listens on port 1: this server's caches stay unsynced (it still serves /metrics).
  const unsynced = await startTestServer({ storage: 'etcd3://127.0.0.1:1' }, { waitForReady: false, extensions: { controllers: [] } });
  try {
    const res = await httpsRequest(server, 'GET', '/metrics');
    t.is(res.status, 200);
    const own = await httpsRequest(unsynced, 'GET', '/metrics');
    t.is(own.status, 200);
    t.regex(own.body, /^# TYPE operators_object_phase gauge$/m);
  } finally {
    await unsynced.stop();
  }
});
