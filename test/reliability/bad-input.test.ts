// Bad input, table-driven: every malformed, mismatched, invalid or oversized request gets the
// right metav1.Status (k8s-api-wire.md §3.6) and changes nothing (the store's revision is the
// same before and after the request). Custom verbs use a test kind with one verb (`greet`), as
// test/apiserver/subresource.test.ts does, so these cases do not depend on the operators' verbs.
import test from 'ava';
import type { TestServer } from '../helpers/server.js';
import { example, P, POOLS, startBadInputServer, TOPOLOGIES } from './bad-input-server.js';
import { Client, policy } from './helpers.js';

interface Case {
  title: string;
  method: string;
  path: string;
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  /** Expected code and reason. */
  status: number;
  reason: string;
  /** Fields `details.causes[].field` must include. */
  fields?: string[];
}

const json = 'application/json';
const mergePatch = 'application/merge-patch+json';
const jsonPatch = 'application/json-patch+json';
const applyPatch = 'application/apply-patch+yaml';
const nested = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const withSpec = (spec: Record<string, unknown>, name = 'new') => ({ ...policy(name), spec: { ...(policy(name) as any).spec, ...spec } });

const cases: Case[] = [
  // Bodies that do not decode.
  { title: 'malformed JSON', method: 'POST', path: P, body: '{"apiVersion": "pvc-chonker.io/v1alpha1", "kind":', contentType: json, status: 400, reason: 'BadRequest' },
  { title: 'JSON that is not an object', method: 'POST', path: P, body: '[1,2,3]', contentType: json, status: 400, reason: 'BadRequest' },
  { title: 'malformed YAML', method: 'POST', path: P, body: 'apiVersion: pvc-chonker.io/v1alpha1\nkind: PVCPolicy\nmetadata: {name: [unclosed\n', contentType: 'application/yaml', status: 400, reason: 'BadRequest' },
  { title: 'empty body', method: 'POST', path: P, body: '', contentType: json, status: 400, reason: 'BadRequest' },
  { title: 'unsupported Content-Type', method: 'POST', path: P, body: JSON.stringify(policy('new')), contentType: 'text/plain', status: 415, reason: 'UnsupportedMediaType' },
  { title: 'body over 3 MiB', method: 'POST', path: P, body: JSON.stringify({ ...policy('big'), metadata: { name: 'big', annotations: { a: 'x'.repeat(3 * 1024 * 1024 + 16) } } }), contentType: json, status: 413, reason: 'RequestEntityTooLarge' },
  { title: 'deeply nested object (1,000 levels, the limit) in an unknown field', method: 'POST', path: `${P}?fieldValidation=Strict`, body: `{"apiVersion":"pvc-chonker.io/v1alpha1","kind":"PVCPolicy","metadata":{"name":"deep"},"spec":{"selector":{"matchLabels":{"app":"db"}},"template":{"threshold":"80%"},"extra":${nested(997)}}}`, contentType: json, status: 400, reason: 'BadRequest' },
  { title: 'deeply nested object (10,000 levels) in an unknown field', method: 'POST', path: `${P}?fieldValidation=Strict`, body: `{"apiVersion":"pvc-chonker.io/v1alpha1","kind":"PVCPolicy","metadata":{"name":"deep"},"spec":${nested(10_000)}}`, contentType: json, status: 400, reason: 'BadRequest' },
  { title: 'deeply nested object (10,000 levels) in a merge patch', method: 'PATCH', path: `${P}/p`, body: `{"metadata":{"annotations":${nested(10_000)}}}`, contentType: mergePatch, status: 400, reason: 'BadRequest' },
  { title: 'deeply nested object (100,000 levels)', method: 'POST', path: P, body: `{"apiVersion":"pvc-chonker.io/v1alpha1","kind":"PVCPolicy","metadata":{"name":"deep","annotations":${nested(100_000)}}}`, contentType: json, status: 400, reason: 'BadRequest' },
  { title: 'deeply nested YAML (100,000 levels)', method: 'POST', path: P, body: `apiVersion: pvc-chonker.io/v1alpha1\nkind: PVCPolicy\nmetadata: {name: deep}\nspec: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`, contentType: 'application/yaml', status: 400, reason: 'BadRequest' },
  // Type and identity mismatches.
  { title: 'wrong apiVersion', method: 'POST', path: P, body: { ...policy('new'), apiVersion: 'pvc-chonker.io/v9' }, status: 400, reason: 'BadRequest' },
  { title: 'wrong kind', method: 'POST', path: P, body: { ...policy('new'), kind: 'StormCluster' }, status: 400, reason: 'BadRequest' },
  { title: 'name in the body differs from the URL (update)', method: 'PUT', path: `${P}/p`, body: { ...policy('q') }, status: 400, reason: 'BadRequest' },
  { title: 'namespace in the body differs from the URL (create)', method: 'POST', path: P, body: { ...policy('new'), metadata: { name: 'new', namespace: 'elsewhere' } }, status: 400, reason: 'BadRequest' },
  { title: 'invalid name (upper case, underscore)', method: 'POST', path: P, body: policy('Bad_Name'), status: 422, reason: 'Invalid', fields: ['metadata.name'] },
  { title: 'invalid name (too long)', method: 'POST', path: P, body: policy('a'.repeat(254)), status: 422, reason: 'Invalid', fields: ['metadata.name'] },
  { title: 'no name', method: 'POST', path: P, body: { ...policy('x'), metadata: {} }, status: 422, reason: 'Invalid', fields: ['metadata.name'] },
  { title: 'invalid label key', method: 'POST', path: P, body: policy('new', { 'bad key!': 'v' }), status: 422, reason: 'Invalid', fields: ['metadata.labels'] },
  // Unknown and duplicate fields under each fieldValidation mode (Ignore/Warn accept: dryRun keeps the store unchanged).
  { title: 'unknown field, fieldValidation=Strict', method: 'POST', path: `${P}?fieldValidation=Strict`, body: { ...policy('new'), spec: { ...(policy('new') as any).spec, bogus: 1 } }, status: 400, reason: 'BadRequest' },
  { title: 'unknown field, fieldValidation=Warn (dryRun)', method: 'POST', path: `${P}?fieldValidation=Warn&dryRun=All`, body: { ...policy('new'), spec: { ...(policy('new') as any).spec, bogus: 1 } }, status: 201, reason: '' },
  { title: 'unknown field, fieldValidation=Ignore (dryRun)', method: 'POST', path: `${P}?fieldValidation=Ignore&dryRun=All`, body: { ...policy('new'), spec: { ...(policy('new') as any).spec, bogus: 1 } }, status: 201, reason: '' },
  { title: 'duplicate field, fieldValidation=Strict', method: 'POST', path: `${P}?fieldValidation=Strict`, body: '{"apiVersion":"pvc-chonker.io/v1alpha1","kind":"PVCPolicy","metadata":{"name":"dup","name":"dup2"},"spec":{"selector":{"matchLabels":{"app":"db"}},"template":{"threshold":"80%"}}}', contentType: json, status: 400, reason: 'BadRequest' },
  { title: 'duplicate field, fieldValidation=Warn (dryRun)', method: 'POST', path: `${P}?fieldValidation=Warn&dryRun=All`, body: '{"apiVersion":"pvc-chonker.io/v1alpha1","kind":"PVCPolicy","metadata":{"name":"dup"},"spec":{"selector":{"matchLabels":{"app":"db"}},"template":{"threshold":"80%","threshold":"70%"}}}', contentType: json, status: 201, reason: '' },
  { title: 'invalid fieldValidation value', method: 'POST', path: `${P}?fieldValidation=Loose`, body: policy('new'), status: 400, reason: 'BadRequest' },
  // Wrong types and out-of-range values.
  { title: 'wrong type (number for a string)', method: 'POST', path: P, body: withSpec({ template: { threshold: 80 } }), status: 422, reason: 'Invalid', fields: ['spec.template.threshold'] },
  { title: 'wrong type (string for an object)', method: 'POST', path: P, body: withSpec({ selector: 'app=db' }), status: 422, reason: 'Invalid', fields: ['spec.selector'] },
  { title: 'wrong type (metadata.labels a list)', method: 'POST', path: P, body: { ...policy('new'), metadata: { name: 'new', labels: ['a'] } }, status: 422, reason: 'Invalid', fields: ['metadata.labels'] },
  { title: 'huge number (1e400) in an integer field', method: 'POST', path: POOLS, body: '{"apiVersion":"storm.apache.org/v1beta1","kind":"StormWorkerPool","metadata":{"name":"huge"},"spec":{"topologyRef":"wordcount","clusterRef":"production","replicas":1e400}}', contentType: json, status: 422, reason: 'Invalid', fields: ['spec.replicas'] },
  { title: 'huge integer (2^70) in an integer field', method: 'POST', path: POOLS, body: '{"apiVersion":"storm.apache.org/v1beta1","kind":"StormWorkerPool","metadata":{"name":"huge"},"spec":{"topologyRef":"wordcount","clusterRef":"production","replicas":1180591620717411303424}}', contentType: json, status: 422, reason: 'Invalid', fields: ['spec.replicas'] },
  { title: 'fractional number in an integer field', method: 'POST', path: POOLS, body: { ...example('stormworkerpool.yaml'), metadata: { name: 'frac' }, spec: { ...example('stormworkerpool.yaml').spec, replicas: 1.5 } }, status: 422, reason: 'Invalid', fields: ['spec.replicas'] },
  // Query parameters.
  { title: 'invalid label selector', method: 'GET', path: `${P}?labelSelector=${encodeURIComponent('app in (')}`, status: 400, reason: 'BadRequest' },
  { title: 'invalid label selector value', method: 'GET', path: `${P}?labelSelector=${encodeURIComponent('app=-bad-')}`, status: 400, reason: 'BadRequest' },
  { title: 'unsupported field selector field', method: 'GET', path: `${P}?fieldSelector=${encodeURIComponent('spec.bogus=1')}`, status: 400, reason: 'BadRequest' },
  { title: 'malformed field selector', method: 'GET', path: `${P}?fieldSelector=${encodeURIComponent('metadata.name')}`, status: 400, reason: 'BadRequest' },
  { title: 'non-numeric resourceVersion (list)', method: 'GET', path: `${P}?resourceVersion=abc`, status: 400, reason: 'BadRequest' },
  { title: 'non-numeric resourceVersion (get)', method: 'GET', path: `${P}/p?resourceVersion=abc`, status: 400, reason: 'BadRequest' },
  { title: 'non-numeric resourceVersion (watch)', method: 'GET', path: `${P}?watch=true&resourceVersion=abc`, status: 400, reason: 'BadRequest' },
  { title: 'resourceVersion far in the future (list, Exact)', method: 'GET', path: `${P}?resourceVersion=999999999&resourceVersionMatch=Exact`, status: 504, reason: 'Timeout' },
  { title: 'resourceVersionMatch without resourceVersion', method: 'GET', path: `${P}?resourceVersionMatch=Exact`, status: 400, reason: 'BadRequest' },
  { title: 'continue token that is not base64', method: 'GET', path: `${P}?limit=1&continue=%%%`, status: 400, reason: 'BadRequest' },
  { title: 'continue token with a bad payload', method: 'GET', path: `${P}?limit=1&continue=${Buffer.from('{"v":"meta.k8s.io/v1","rv":"x","start":"../../"}').toString('base64url')}`, status: 400, reason: 'BadRequest' },
  { title: 'continue token escaping the prefix', method: 'GET', path: `${P}?limit=1&continue=${Buffer.from('{"v":"meta.k8s.io/v1","rv":1,"start":"../../secrets/"}').toString('base64url')}`, status: 400, reason: 'BadRequest' },
  { title: 'limit beyond 2^53', method: 'GET', path: `${P}?limit=999999999999999999999`, status: 400, reason: 'BadRequest' },
  { title: 'resourceVersion beyond 2^53 (get)', method: 'GET', path: `${P}/p?resourceVersion=999999999999999999999`, status: 400, reason: 'BadRequest' },
  { title: 'negative limit', method: 'GET', path: `${P}?limit=-1`, status: 400, reason: 'BadRequest' },
  { title: 'invalid timeout', method: 'GET', path: `${P}?timeout=forever`, status: 400, reason: 'BadRequest' },
  { title: 'invalid dryRun value', method: 'POST', path: `${P}?dryRun=Maybe`, body: policy('new'), status: 400, reason: 'BadRequest' },
  // Patches.
  { title: 'JSON patch that is not a list', method: 'PATCH', path: `${P}/p`, body: '{"op":"add"}', contentType: jsonPatch, status: 400, reason: 'BadRequest' },
  { title: 'JSON patch with an unknown op', method: 'PATCH', path: `${P}/p`, body: '[{"op":"bogus","path":"/spec","value":1}]', contentType: jsonPatch, status: 400, reason: 'BadRequest' },
  { title: 'JSON patch on a missing path', method: 'PATCH', path: `${P}/p`, body: '[{"op":"replace","path":"/spec/nothing/here","value":1}]', contentType: jsonPatch, status: 422, reason: 'Invalid' },
  { title: 'JSON patch failing a test op', method: 'PATCH', path: `${P}/p`, body: '[{"op":"test","path":"/metadata/name","value":"other"}]', contentType: jsonPatch, status: 422, reason: 'Invalid' },
  { title: 'malformed merge patch', method: 'PATCH', path: `${P}/p`, body: '{"spec":', contentType: mergePatch, status: 400, reason: 'BadRequest' },
  { title: 'merge patch that is not an object', method: 'PATCH', path: `${P}/p`, body: '"spec"', contentType: mergePatch, status: 400, reason: 'BadRequest' },
  { title: 'strategic merge patch that changes nothing (accepted as a merge patch)', method: 'PATCH', path: `${P}/p`, body: '{"spec":{}}', contentType: 'application/strategic-merge-patch+json', status: 200, reason: '' },
  { title: 'patch with an unknown Content-Type', method: 'PATCH', path: `${P}/p`, body: '{"spec":{}}', contentType: 'application/x-patch', status: 415, reason: 'UnsupportedMediaType' },
  { title: 'apply patch without fieldManager', method: 'PATCH', path: `${P}/p`, body: JSON.stringify(policy('p')), contentType: applyPatch, status: 422, reason: 'Invalid', fields: ['fieldManager'] },
  { title: 'force on a non-apply patch', method: 'PATCH', path: `${P}/p?force=true`, body: '{}', contentType: mergePatch, status: 422, reason: 'Invalid', fields: ['force'] },
  { title: 'apply patch with malformed YAML', method: 'PATCH', path: `${P}/p?fieldManager=t`, body: 'metadata: {name: [', contentType: applyPatch, status: 400, reason: 'BadRequest' },
  { title: 'merge patch that makes the object invalid', method: 'PATCH', path: `${P}/p`, body: { spec: { template: { threshold: 'lots' } } }, contentType: mergePatch, status: 422, reason: 'Invalid', fields: ['spec.template.threshold'] },
  { title: 'merge patch renaming the object', method: 'PATCH', path: `${P}/p`, body: { metadata: { name: 'renamed' } }, contentType: mergePatch, status: 400, reason: 'BadRequest' },
  { title: 'merge patch changing the uid', method: 'PATCH', path: `${P}/p`, body: { metadata: { uid: '00000000-0000-0000-0000-000000000000' } }, contentType: mergePatch, status: 422, reason: 'Invalid', fields: ['metadata.uid'] },
  { title: 'merge patch with a resourceVersion precondition that does not match', method: 'PATCH', path: `${P}/p`, body: { metadata: { resourceVersion: '999999', labels: { a: 'b' } } }, contentType: mergePatch, status: 409, reason: 'Conflict' },
  { title: 'merge patch changing an immutable spec field', method: 'PATCH', path: `${TOPOLOGIES}/wordcount`, body: { spec: { clusterRef: 'other' } }, contentType: mergePatch, status: 422, reason: 'Invalid', fields: ['spec.clusterRef'] },
  { title: 'JSON patch changing an immutable spec field', method: 'PATCH', path: `${TOPOLOGIES}/wordcount`, body: '[{"op":"replace","path":"/spec/topology/name","value":"other"}]', contentType: jsonPatch, status: 422, reason: 'Invalid', fields: ['spec.topology.name'] },
  { title: 'patch of an object that does not exist', method: 'PATCH', path: `${P}/absent`, body: { metadata: { labels: { a: 'b' } } }, contentType: mergePatch, status: 404, reason: 'NotFound' },
  // Custom verb (test kind's `greet`).
  { title: 'custom verb: body fails its schema', method: 'POST', path: `${P}/p/greet`, body: { spec: { who: '' } }, status: 422, reason: 'Invalid' },
  { title: 'custom verb: unknown field in its body', method: 'POST', path: `${P}/p/greet?fieldValidation=Strict`, body: { spec: { who: 'x', bogus: 1 } }, status: 400, reason: 'BadRequest' },
  { title: 'custom verb: malformed body', method: 'POST', path: `${P}/p/greet`, body: '{"spec":', contentType: json, status: 400, reason: 'BadRequest' },
  { title: 'custom verb: wrong method', method: 'PUT', path: `${P}/p/greet`, body: { spec: { who: 'x' } }, status: 405, reason: 'MethodNotAllowed' },
  { title: 'custom verb: object does not exist', method: 'POST', path: `${P}/absent/greet`, body: { spec: { who: 'x' } }, status: 404, reason: 'NotFound' },
  { title: 'custom verb: unknown subresource', method: 'POST', path: `${P}/p/bogus`, body: { spec: { who: 'x' } }, status: 404, reason: 'NotFound' },
  // Path traversal in names.
  { title: 'path traversal: encoded slashes in the name (get)', method: 'GET', path: `${P}/..%2F..%2Fsecrets`, status: 400, reason: 'BadRequest' },
  { title: 'path traversal: name ".." (delete)', method: 'DELETE', path: `${P}/..`, status: 400, reason: 'BadRequest' },
  { title: 'path traversal: name "." (get)', method: 'GET', path: `${P}/.`, status: 400, reason: 'BadRequest' },
  { title: 'path traversal: encoded percent in the name (get)', method: 'GET', path: `${P}/a%25b`, status: 400, reason: 'BadRequest' },
  { title: 'path traversal: encoded ".." as the name (update)', method: 'PUT', path: `${P}/%2E%2E`, body: { ...policy('..') }, status: 400, reason: 'BadRequest' },
  { title: 'path traversal: name with a slash in the body (create)', method: 'POST', path: P, body: policy('../../secrets'), status: 422, reason: 'Invalid', fields: ['metadata.name'] },
  { title: 'path traversal: namespace with encoded slashes (list)', method: 'GET', path: `/apis/pvc-chonker.io/v1alpha1/namespaces/..%2Fother/pvcpolicies`, status: 400, reason: 'BadRequest' },
  { title: 'path traversal: namespace ".." (create)', method: 'POST', path: `/apis/pvc-chonker.io/v1alpha1/namespaces/../pvcpolicies`, body: policy('new'), status: 400, reason: 'BadRequest' },
  { title: 'path traversal: namespace with encoded slashes (create)', method: 'POST', path: `/apis/pvc-chonker.io/v1alpha1/namespaces/bad%2F..%2Fother/pvcpolicies`, body: policy('new'), status: 400, reason: 'BadRequest' },
];

let server: TestServer;
let client: Client;
test.before(async () => {
  server = await startBadInputServer();
  client = new Client(server, { maxSockets: 4 });
});
test.after.always(async () => {
  client?.close();
  await server?.stop();
});

for (const c of cases) {
  test.serial(`bad input: ${c.title} → ${c.status}${c.reason ? ` ${c.reason}` : ''}, nothing changes`, async (t) => {
    const before = await server.backend.currentRevision();
    const headers: Record<string, string> = { ...(c.headers ?? {}) };
    if (c.contentType) headers['content-type'] = c.contentType;
    else if (c.body !== undefined && c.method === 'PATCH') headers['content-type'] = mergePatch;
    const res = await client.request(c.method, c.path, { body: c.body, headers });
    t.is(res.status, c.status, `${c.method} ${c.path.slice(0, 120)}: ${res.body.slice(0, 400)}`);
    if (c.status >= 400) {
      t.is(res.json?.kind, 'Status', res.body.slice(0, 200));
      t.is(res.json?.status, 'Failure');
      t.is(res.json?.code, c.status);
      t.is(res.json?.reason, c.reason, res.json?.message);
      if (c.fields) {
        const fields = (res.json?.details?.causes ?? []).map((cause: { field?: string }) => cause.field);
        for (const f of c.fields) t.true(fields.some((x: string) => x === f || x?.startsWith(`${f}.`) || x?.startsWith(`${f}[`)), `cause for ${f} in ${JSON.stringify(fields)}`);
      }
    }
    t.is(await server.backend.currentRevision(), before, 'the store did not change');
  });
}
