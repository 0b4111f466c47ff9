// The PVC mutating admission webhook: the JSONPatch for a group member and for a PVC matching no
// policy, the resolution order, malformed reviews, and the endpoint over HTTPS (called without a
// client certificate, as kube-apiserver calls webhooks).
import test from 'ava';
import fastJsonPatch from 'fast-json-patch';
import { admit, annotationPatch, parseAdmissionReview, WEBHOOK_PATH } from '../../controllers/pvcchonker/webhook.js';
import { StatusError } from '../../apiserver/errors.js';
import { create } from '../controllers/helpers.js';
import { httpsRequest, startTestServer } from '../helpers/server.js';
import { claim, group, policy } from './fixtures.js';

function review(object: unknown, operation = 'CREATE') {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u-1', kind: { group: '', version: 'v1', kind: 'PersistentVolumeClaim' }, namespace: 'ns', operation, object } };
}

function pvc(name: string, labels?: Record<string, string>, annotations?: Record<string, string>) {
  const c = claim(name, { labels, annotations });
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: c.metadata, spec: c.spec };
}

const decodePatch = (patch?: string) => JSON.parse(Buffer.from(patch ?? '', 'base64').toString());

test('a group member gets the group template (after its own annotations and the policy) as annotations', (t) => {
  const object = pvc('data-0', { app: 'db' }, { 'pvc-chonker.io/group': 'es', 'pvc-chonker.io/threshold': '70%' });
  const res = admit(parseAdmissionReview(review(object)), [policy('p', { matchLabels: { app: 'db' } }, { increase: '5Gi' })], [group('es', { threshold: '90%', increase: '50%', maxSize: '1Ti', cooldown: '1h' })]);
  t.like(res, { uid: 'u-1', allowed: true, patchType: 'JSONPatch' });
  const ops = decodePatch(res.patch);
  const patched = fastJsonPatch.applyPatch(structuredClone(object), ops).newDocument;
  t.deepEqual(patched.metadata.annotations, {
    'pvc-chonker.io/group': 'es',
    'pvc-chonker.io/threshold': '70%',
    'pvc-chonker.io/increase': '5Gi',
    'pvc-chonker.io/max-size': '1Ti',
    'pvc-chonker.io/cooldown': '1h',
  });
  t.true(ops.every((op: { path: string }) => op.path.startsWith('/metadata/annotations/pvc-chonker.io~1')), 'RFC 6901 escaping');
});

test('a member chosen by the group selector also gets the group annotation; no annotations yet: one add of the map', (t) => {
  const object = pvc('data-web-0', { app: 'web' });
  const res = admit(parseAdmissionReview(review(object)), [], [group('web', { enabled: true }, { matchLabels: { app: 'web' } })]);
  t.deepEqual(decodePatch(res.patch), [{ op: 'add', path: '/metadata/annotations', value: { 'pvc-chonker.io/enabled': 'true', 'pvc-chonker.io/group': 'web' } }]);
});

test('a PVC matching no policy or group is allowed unchanged; so are updates and other kinds', (t) => {
  t.deepEqual(admit(parseAdmissionReview(review(pvc('lonely', { app: 'x' }))), [policy('p', { matchLabels: { app: 'db' } }, { threshold: '90%' })], []), { uid: 'u-1', allowed: true });
  t.deepEqual(admit(parseAdmissionReview(review(pvc('d', { app: 'db' }), 'UPDATE')), [policy('p', { matchLabels: { app: 'db' } }, { threshold: '90%' })], []), { uid: 'u-1', allowed: true });
  t.deepEqual(annotationPatch(claim('c'), {}), []);
});

test('malformed AdmissionReviews are 400s that say what is wrong', (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [Buffer.from('{not json'), /not valid JSON/],
    [Buffer.from('[]'), /expected apiVersion admission.k8s.io\/v1/],
    [{ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: { uid: 'x' } }, /got admission.k8s.io\/v1beta1/],
    [{ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, /request is missing/],
    [{ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: {} }, /uid is missing/],
    [null, /expected an admission.k8s.io\/v1 AdmissionReview/],
  ];
  for (const [body, message] of cases) {
    const err = t.throws(() => parseAdmissionReview(body), { instanceOf: StatusError });
    t.is(err!.status.code, 400);
    t.regex(err!.status.message ?? '', message);
  }
});

test.serial('--enable-pvc-webhook serves /mutate-pvc to an unauthenticated caller with policies from storage', async (t) => {
  const server = await startTestServer({ 'enable-pvc-webhook': 'true', controllers: '-pvcchonker' });
  t.teardown(() => server.stop());
  await create(server.stores.get('pvcpolicies.pvc-chonker.io')!, policy('db', { matchLabels: { app: 'db' } }, { threshold: '90%' }));
  const anonymous = { url: server.url, caPem: server.caPem };
  const ok = await httpsRequest(anonymous, 'POST', WEBHOOK_PATH, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(review(pvc('d', { app: 'db' }))) });
  t.is(ok.status, 200, ok.body);
  const body = JSON.parse(ok.body);
  t.like(body, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'u-1', allowed: true, patchType: 'JSONPatch' } });
  t.deepEqual(decodePatch(body.response.patch), [{ op: 'add', path: '/metadata/annotations', value: { 'pvc-chonker.io/threshold': '90%' } }]);

  const bad = await httpsRequest(anonymous, 'POST', WEBHOOK_PATH, { headers: { 'content-type': 'application/json' }, body: '{"apiVersion":"v1"' });
  t.is(bad.status, 400);
  t.like(JSON.parse(bad.body), { kind: 'Status', code: 400 });
});

test.serial('without --enable-pvc-webhook there is no webhook path', async (t) => {
  const server = await startTestServer({ controllers: '-pvcchonker' });
  t.teardown(() => server.stop());
  const res = await httpsRequest(server, 'POST', WEBHOOK_PATH, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(review(pvc('d'))) });
  t.is(res.status, 404);
});
