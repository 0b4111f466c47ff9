// Certificate rotation without a restart: the serving certificate and key, the client CA and the
// front-proxy (request-header) CA are each replaced on disk while the server runs, and new
// connections use the new ones.
import test from 'ava';
import { rmSync, writeFileSync } from 'node:fs';
import { issueCertificate } from '../../apiserver/tls.js';
import { startTestServer } from '../helpers/server.js';
import { call, clientCert, eventually, forbiddenUser, newCa, tempDir, writeFile } from './helpers.js';

const LIST = '/apis/storm.apache.org/v1beta1/namespaces/ns/stormtopologies';

test('the serving certificate and key are reloaded when they change on disk', async (t) => {
  const dir = tempDir('rotate-serving-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const servingCa1 = newCa('serving-ca-1');
  const servingCa2 = newCa('serving-ca-2');
  const clientCa = newCa('client-ca');
  const admin = clientCert(clientCa, 'admin', ['system:masters']);
  const first = issueCertificate(servingCa1, { commonName: 'apiserver', hosts: ['127.0.0.1', 'localhost'], usage: 'server' });
  const certFile = writeFile(dir, 'tls.crt', first.cert);
  const keyFile = writeFile(dir, 'tls.key', first.key);
  const server = await startTestServer({
    storage: 'memory',
    'tls-cert-file': certFile,
    'tls-private-key-file': keyFile,
    'client-ca-file': writeFile(dir, 'client-ca.crt', clientCa.cert),
    'file-reload-interval': '100ms',
  });
  t.teardown(() => server.stop());
  t.is((await call({ url: server.url, caPem: servingCa1.cert }, 'GET', LIST, { cert: admin })).status, 200);

  const second = issueCertificate(servingCa2, { commonName: 'apiserver', hosts: ['127.0.0.1', 'localhost'], usage: 'server' });
  writeFileSync(certFile, second.cert);
  writeFileSync(keyFile, second.key);
  const res = await eventually('a connection with the new serving certificate', async () => {
    try {
      return await call({ url: server.url, caPem: servingCa2.cert }, 'GET', LIST, { cert: admin });
    } catch {
      return undefined;
    }
  });
  t.is(res.status, 200);
  await t.throwsAsync(call({ url: server.url, caPem: servingCa1.cert }, 'GET', LIST, { cert: admin }), undefined, 'the old certificate is no longer served');
});

test('the client CA file is reloaded: certificates of the new CA authenticate, of the old one no longer', async (t) => {
  const dir = tempDir('rotate-client-ca-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const oldCa = newCa('client-ca-old');
  const newCaCert = newCa('client-ca-new');
  const caFile = writeFile(dir, 'client-ca.crt', oldCa.cert);
  const server = await startTestServer({ storage: 'memory', 'client-ca-file': caFile, 'file-reload-interval': '100ms' });
  t.teardown(() => server.stop());
  const oldUser = clientCert(oldCa, 'old-user');
  const newUser = clientCert(newCaCert, 'new-user');
  t.is(forbiddenUser(await call(server, 'GET', LIST, { cert: oldUser })), 'old-user');
  t.is(forbiddenUser(await call(server, 'GET', LIST, { cert: newUser })), 'system:anonymous');

  writeFileSync(caFile, newCaCert.cert);
  await eventually('the new client CA', async () => (forbiddenUser(await call(server, 'GET', LIST, { cert: newUser })) === 'new-user' ? true : undefined));
  t.is(forbiddenUser(await call(server, 'GET', LIST, { cert: oldUser })), 'system:anonymous');
});

test('the front-proxy CA file is reloaded (a daily rotation needs no restart)', async (t) => {
  const dir = tempDir('rotate-proxy-ca-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const yesterday = newCa('front-proxy-ca-1');
  const today = newCa('front-proxy-ca-2');
  const caFile = writeFile(dir, 'front-proxy-ca.crt', yesterday.cert);
  const server = await startTestServer({ storage: 'memory', 'requestheader-client-ca-file': caFile, 'file-reload-interval': '100ms' });
  t.teardown(() => server.stop());
  const headers = { 'X-Remote-User': 'carol' };
  const oldProxy = { cert: clientCert(yesterday, 'front-proxy-client'), headers };
  const newProxy = { cert: clientCert(today, 'front-proxy-client'), headers };
  t.is(forbiddenUser(await call(server, 'GET', LIST, oldProxy)), 'carol');

  writeFileSync(caFile, today.cert);
  await eventually('the new front-proxy CA', async () => (forbiddenUser(await call(server, 'GET', LIST, newProxy)) === 'carol' ? true : undefined));
  t.is(forbiddenUser(await call(server, 'GET', LIST, oldProxy)), 'system:anonymous');
});
