// Front-proxy authentication end to end: X-Remote-* headers count only on a connection whose
// client certificate chains to the request-header CA with an allowed CN; every other way of
// sending them (no certificate, another CA, a disallowed CN, an expired certificate, a client-CA
// certificate) never yields that user. The audit log shows the user, groups and extras seen.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueCertificate, loadOrCreateLocalUser } from '../../apiserver/tls.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call, clientCert, eventually, forbiddenUser, newCa, tempDir, writeFile, type Credentials } from './helpers.js';

const LIST = '/apis/storm.apache.org/v1beta1/namespaces/ns/stormtopologies';
const proxyCa = newCa('front-proxy-ca');
const otherCa = newCa('some-other-ca');
const proxyCert = clientCert(proxyCa, 'front-proxy-client');
let server: TestServer;
let auditPath: string;

test.before(async () => {
  const dir = tempDir('front-proxy-');
  auditPath = join(dir, 'audit.log');
  server = await startTestServer({
    storage: 'memory',
    'requestheader-client-ca-file': writeFile(dir, 'front-proxy-ca.crt', proxyCa.cert),
    'requestheader-allowed-names': 'front-proxy-client,aggregator',
    'audit-log-path': auditPath,
  });
});
test.after.always(async () => {
  await server?.stop();
});

const spoofHeaders = { 'X-Remote-User': 'alice', 'X-Remote-Group': ['system:masters', 'storm-admins'] };

/** A certificate signed by the server's own CA (its x509 client CA), CN=someone, no groups. */
function serverCaCert(): { cert: string; key: string } {
  const certs = join(server.dir, 'certs');
  const ca = { cert: readFileSync(join(certs, 'ca.crt'), 'utf8'), key: readFileSync(join(certs, 'ca.key'), 'utf8') };
  return issueCertificate(ca, { commonName: 'someone', usage: 'client' });
}

const spoofs: Array<[string, () => Credentials, string]> = [
  ['no client certificate', () => ({ headers: spoofHeaders }), 'system:anonymous'],
  ['a certificate from another CA with an allowed CN', () => ({ cert: clientCert(otherCa, 'front-proxy-client'), headers: spoofHeaders }), 'system:anonymous'],
  ['a front-proxy CA certificate with a CN not in the allowed names', () => ({ cert: clientCert(proxyCa, 'mallory-proxy'), headers: spoofHeaders }), 'system:anonymous'],
  [
    'an expired front-proxy CA certificate with an allowed CN',
    () => ({ cert: issueCertificate(proxyCa, { commonName: 'front-proxy-client', usage: 'client', days: -1 }), headers: spoofHeaders }),
    'system:anonymous',
  ],
  ['a client-CA certificate (x509 user, not a proxy)', () => ({ cert: serverCaCert(), headers: spoofHeaders }), 'someone'],
  ['a bearer token (no token authenticator here, so ignored)', () => ({ token: 'forged', headers: spoofHeaders }), 'system:anonymous'],
];

for (const [title, credentials, seenAs] of spoofs) {
  test(`front-proxy spoofing with ${title}: never that user`, async (t) => {
    const res = await call(server, 'GET', LIST, credentials());
    t.is(res.status, 403, 'system:masters from a forged X-Remote-Group is not granted');
    t.is(forbiddenUser(res), seenAs);
  });
}

test('a front-proxy certificate with an allowed CN: user, every group and the extras from the headers', async (t) => {
  const asAlice = await call(server, 'GET', LIST, { cert: proxyCert, headers: { 'X-Remote-User': 'alice', 'X-Remote-Group': 'storm-admins' } });
  t.is(asAlice.status, 403);
  t.is(forbiddenUser(asAlice), 'alice');

  const res = await call(server, 'GET', LIST, {
    cert: proxyCert,
    headers: {
      'X-Remote-User': 'alice',
      'X-Remote-Group': ['storm-admins', 'system:masters'],
      'X-Remote-Extra-Acme.com%2FProject': ['p1', 'p2'],
      'X-Remote-Extra-Scopes': 'view',
    },
  });
  t.is(res.status, 200, 'groups come from every X-Remote-Group header');
  const auditID = String(res.headers['audit-id']);
  const event = await eventually('the audit event', async () =>
    readFileSync(auditPath, 'utf8')
      .split('\n')
      .filter((l) => l)
      .map((l) => JSON.parse(l))
      .find((e) => e.auditID === auditID),
  );
  t.deepEqual(event.user, {
    username: 'alice',
    groups: ['storm-admins', 'system:masters', 'system:authenticated'],
    extra: { 'acme.com/project': ['p1', 'p2'], scopes: ['view'] },
  });
});

test('the local user certificate still authenticates as system:masters next to a front proxy', async (t) => {
  const res = await call(server, 'GET', LIST, { cert: loadOrCreateLocalUser(join(server.dir, 'certs')) });
  t.is(res.status, 200);
});
