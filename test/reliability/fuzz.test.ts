// Fuzzing with fast-check over request bodies, query parameters, headers and patch documents,
// against a real server: no answer is a 5xx, every error is a metav1.Status, and nothing the
// server accepts is an invalid object (the stored/returned object passes the kind's schema and
// the metadata rules). Runs are bounded (FUZZ_RUNS cases per property) with a fixed seed that is
// printed, so a failure replays with `FUZZ_SEED=<seed>`.
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { validateObjectMeta } from '../../registry/meta.js';
import { declaration as pvcpolicy } from '../../registry/pvc-chonker.io/pvcpolicy/index.js';
import type { TestServer } from '../helpers/server.js';
import { Client, policy, scale, type Answer } from './helpers.js';
import { NAMESPACE, P, startBadInputServer } from './bad-input-server.js';

const RUNS = scale('FUZZ_RUNS', 300, 150);
const SEED = Number(process.env.FUZZ_SEED ?? 20261123);


let server: TestServer;
let client: Client;
test.before(async () => {
  server = await startBadInputServer();
  client = new Client(server, { maxSockets: 8 });
});
test.after.always(async () => {
  client?.close();
  await server?.stop();
});

/** Why `obj` (a PVCPolicy the server accepted) is invalid, or undefined when it is valid. */
function invalidity(obj: any): string | undefined {
  if (obj?.apiVersion !== 'pvc-chonker.io/v1alpha1' || obj?.kind !== 'PVCPolicy') return `apiVersion/kind ${obj?.apiVersion}/${obj?.kind}`;
  const metaErrors = validateObjectMeta(obj.metadata ?? {}, true);
  if (metaErrors.length > 0) return `metadata: ${JSON.stringify(metaErrors)}`;
  if (obj.metadata.namespace !== NAMESPACE) return `namespace ${obj.metadata.namespace}`;
  const spec = pvcpolicy.spec.safeParse(obj.spec);
  if (!spec.success) return `spec: ${spec.error.message}`;
  return undefined;
}

/** The checks every fuzzed answer must pass; returns false (fast-check reports the case) otherwise. */
function acceptable(res: Answer, accepted: (json: any) => string | undefined = () => undefined): boolean {
  // 504 with cause ResourceVersionTooLarge is the documented answer to a resourceVersion the
  // store has not reached yet (k8s-api-wire.md §3.5), not a server failure.
  const tooLarge = res.status === 504 && res.json?.details?.causes?.some((c: { reason?: string }) => c.reason === 'ResourceVersionTooLarge');
  if (res.status >= 500 && !tooLarge) throw new Error(`${res.status}: ${res.body.slice(0, 300)}`);
  if (res.status >= 400 && res.json !== undefined && res.json.kind !== 'Status') throw new Error(`error answer is not a Status: ${res.body.slice(0, 300)}`);
  if (res.status >= 200 && res.status < 300) {
    const why = accepted(res.json);
    if (why) throw new Error(`accepted an invalid object (${res.status}): ${why}: ${res.body.slice(0, 300)}`);
  }
  return true;
}

async function check(t: ExecutionContext, name: string, property: fc.IAsyncProperty<any>): Promise<void> {
  const started = Date.now();
  try {
    await fc.assert(property, { seed: SEED, numRuns: RUNS, endOnFailure: true, includeErrorInReport: true });
  } catch (err) {
    t.fail(`${name} failed (replay with FUZZ_SEED=${SEED}): ${String((err as Error).message).slice(0, 2000)}`);
    return;
  }
  t.log(`${name}: ${RUNS} cases, seed ${SEED}, ${((Date.now() - started) / 1000).toFixed(1)}s`);
  t.pass();
}

// Values that tend to break decoders: huge and odd numbers, long and odd strings, nesting.
const nasty = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom(1e308, -1e308, 2 ** 53 + 1, -0, 0.1, '', ' ', '..', '../x', '%2F', '\u0000', 'a'.repeat(300), null, true, [], {}),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

/** Paths into a valid PVCPolicy that a mutation replaces or adds. */
const paths = fc.constantFrom(
  ['apiVersion'], ['kind'], ['metadata'], ['metadata', 'name'], ['metadata', 'namespace'], ['metadata', 'labels'], ['metadata', 'labels', 'k'],
  ['metadata', 'annotations'], ['metadata', 'generateName'], ['metadata', 'finalizers'], ['metadata', 'resourceVersion'], ['metadata', 'uid'],
  ['metadata', 'ownerReferences'], ['metadata', 'managedFields'], ['spec'], ['spec', 'selector'], ['spec', 'selector', 'matchLabels'],
  ['spec', 'selector', 'matchExpressions'], ['spec', 'template'], ['spec', 'template', 'threshold'], ['spec', 'template', 'cooldown'],
  ['spec', 'unknown'], ['status'], ['extra'],
);

function setPath(obj: any, path: readonly string[], value: unknown): any {
  const copy = structuredClone(obj);
  let node = copy;
  for (const key of path.slice(0, -1)) {
    if (node[key] === null || typeof node[key] !== 'object') node[key] = {};
    node = node[key];
  }
  node[path[path.length - 1]] = value;
  return copy;
}

let counter = 0;
const freshName = () => `fz-${(counter++).toString(36)}`;

test('fuzz: mutated PVCPolicy bodies under each fieldValidation mode: no 5xx, nothing invalid accepted', async (t) => {
  t.timeout(300_000);
  await check(
    t,
    'mutated create bodies',
    fc.asyncProperty(
      fc.array(fc.tuple(paths, nasty), { minLength: 1, maxLength: 3 }),
      fc.constantFrom('', 'Strict', 'Warn', 'Ignore'),
      fc.constantFrom('application/json', 'application/yaml'),
      async (mutations, validation, contentType) => {
        let body: any = policy(freshName());
        for (const [path, value] of mutations) body = setPath(body, path, value);
        const text = contentType === 'application/json' ? JSON.stringify(body) : (await import('yaml')).stringify(body);
        const res = await client.request('POST', `${P}${validation ? `?fieldValidation=${validation}` : ''}`, { body: text ?? 'null', headers: { 'content-type': contentType } });
        return acceptable(res, invalidity);
      },
    ),
  );
});

test('fuzz: arbitrary request bodies (JSON values, raw bytes) on create, update and custom verb: no 5xx', async (t) => {
  t.timeout(300_000);
  await check(
    t,
    'arbitrary bodies',
    fc.asyncProperty(
      fc.oneof(fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v) ?? 'null'), fc.string({ unit: 'binary', maxLength: 200 }), fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b))),
      fc.constantFrom(['POST', P], ['PUT', `${P}/p`], ['POST', `${P}/p/greet`], ['PUT', `${P}/p/status`]),
      fc.constantFrom('application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf', 'text/plain', ''),
      async (body, [method, path], contentType) => {
        const res = await client.request(method, path, { body, headers: contentType ? { 'content-type': contentType } : {} });
        return acceptable(res, path.endsWith('/greet') ? () => undefined : invalidity);
      },
    ),
  );
});

test('fuzz: patch documents of every patch type: no 5xx, the object stays valid', async (t) => {
  t.timeout(300_000);
  await check(
    t,
    'patch documents',
    fc.asyncProperty(
      fc.constantFrom('application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'),
      fc.oneof(
        fc.jsonValue({ maxDepth: 5 }),
        fc.array(fc.record({ op: fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test', 'bogus'), path: fc.oneof(fc.constantFrom('/spec', '/spec/template/threshold', '/metadata/name', '/metadata/labels/x', '/status', '/', '', '/spec/selector/matchLabels/app', '/metadata/uid', '/apiVersion'), fc.string()), value: nasty, from: fc.constantFrom('/spec', '/metadata/labels', '/x') }, { requiredKeys: ['op', 'path'] }), { maxLength: 4 }),
        fc.tuple(paths, nasty).map(([path, value]) => setPath({}, path, value)),
      ),
      fc.boolean(),
      async (contentType, patch, force) => {
        const query = contentType.includes('apply') ? `?fieldManager=fuzz${force ? '&force=true' : ''}` : '';
        const res = await client.request('PATCH', `${P}/p${query}`, { body: JSON.stringify(patch) ?? 'null', headers: { 'content-type': contentType } });
        return acceptable(res, invalidity);
      },
    ),
  );
  // Whatever was applied, the stored object is still valid.
  const stored = await client.request('GET', `${P}/p`);
  t.is(stored.status, 200);
  t.is(invalidity(stored.json), undefined);
});

test('fuzz: query parameters of list, watch and get: no 5xx', async (t) => {
  t.timeout(300_000);
  const value = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('0', '1', '-1', '999999999999999999999', 'abc', '', 'Exact', 'NotOlderThan', 'true', 'false', '%', 'a=b', 'a in (x)', '!a', 'a,b', 'metadata.name=p', 'spec.x=1'));
  await check(
    t,
    'query parameters',
    fc.asyncProperty(
      fc.dictionary(fc.constantFrom('labelSelector', 'fieldSelector', 'resourceVersion', 'resourceVersionMatch', 'continue', 'limit', 'timeoutSeconds', 'allowWatchBookmarks', 'sendInitialEvents', 'watch', 'pretty', 'timeout', 'includeObject', 'bogus'), value, { maxKeys: 5 }),
      fc.constantFrom(P, `${P}/p`, `/apis/pvc-chonker.io/v1alpha1/pvcpolicies`),
      fc.constantFrom('application/json', 'application/json;as=Table;v=v1;g=meta.k8s.io', 'application/yaml', '*/*'),
      async (params, path, accept) => {
        const query = new URLSearchParams(params);
        // A watch must end: at most one second.
        if (query.has('watch') || query.has('sendInitialEvents')) query.set('timeoutSeconds', '1');
        const res = await client.request('GET', `${path}?${query}`, { headers: { accept }, timeoutMs: 30_000 });
        return acceptable(res);
      },
    ),
  );
});

test('fuzz: request headers (Content-Type, Accept, impersonation-like and arbitrary ones): no 5xx', async (t) => {
  t.timeout(300_000);
  const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}$/);
  const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,60}$/);
  await check(
    t,
    'headers',
    fc.asyncProperty(
      fc.dictionary(fc.oneof(token, fc.constantFrom('content-type', 'accept', 'accept-encoding', 'x-remote-user', 'x-remote-group', 'impersonate-user', 'authorization', 'audit-id', 'content-encoding', 'x-forwarded-for')), headerValue, { maxKeys: 5 }),
      fc.constantFrom(['GET', P], ['GET', `${P}/p`], ['POST', P], ['PATCH', `${P}/p`]),
      async (headers, [method, path]) => {
        const body = method === 'GET' ? undefined : JSON.stringify(method === 'POST' ? policy(freshName()) : { metadata: { labels: { fuzz: 'h' } } });
        delete headers['content-length'];
        delete headers['transfer-encoding'];
        delete headers['host'];
        delete headers['connection'];
        const res = await client.request(method, path, { body, headers });
        return acceptable(res, method === 'GET' ? () => undefined : invalidity);
      },
    ),
  );
});
