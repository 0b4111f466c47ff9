// Security: every endpoint (each resource × subresource × verb of every kind, plus the
// non-resource paths) × an unauthenticated user, a user with no roles, and forged front-proxy
// headers returns no data and changes nothing; the TLS listener speaks TLS 1.2+ only and there
// is no plaintext listener; bearer tokens and private keys never reach the logs, the audit log
// (at RequestResponse level) or an API answer.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueCertificate, createCertificateAuthority } from '../../apiserver/tls.js';
import { parseOptions, completeOptions } from '../../apiserver/options.js';
import { accessCases, describe as describeCase, requestFor } from '../auth/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { Client, policy, POLICIES, startServerProcess, until, type Endpoint, type ServerProcess } from './helpers.js';

const NAMESPACE = 'sec';
/** Paths kube-apiserver's system:discovery role opens to every authenticated user. */
const DISCOVERY = /^\/(apis(\/[a-z0-9.-]+(\/v[a-z0-9]+)?)?|openapi\/v[23])$/;
const NON_RESOURCE_PATHS = ['/apis', '/api', '/apis/pvc-chonker.io', '/apis/pvc-chonker.io/v1alpha1', '/openapi/v2', '/openapi/v3', '/metrics', '/api/v1/namespaces/sec'];

let dir: string;
let server: TestServer;
let personas: Array<{ name: string; endpoint: Endpoint; headers: Record<string, string> }>;
test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'reliability-security-'));
  // A front-proxy CA is configured, so X-Remote-* headers are honoured — from its certificates only.
  const frontProxyCa = createCertificateAuthority('front-proxy-ca');
  writeFileSync(join(dir, 'front-proxy-ca.crt'), frontProxyCa.cert);
  server = await startTestServer({ 'requestheader-client-ca-file': join(dir, 'front-proxy-ca.crt'), 'etcd-compaction-interval': '0' }, { extensions: { controllers: [] } });
  const admin = new Client(server);
  const created = await admin.request('POST', POLICIES(NAMESPACE), { body: policy('p') });
  if (created.status !== 201) throw new Error(`seed: ${created.body}`);
  admin.close();
  const ca = { cert: readFileSync(join(server.dir, 'certs', 'ca.crt'), 'utf8'), key: readFileSync(join(server.dir, 'certs', 'ca.key'), 'utf8') };
  const nobody = issueCertificate(ca, { commonName: 'nobody', usage: 'client' });
  // A client certificate from the wrong CA claiming to be the front proxy.
  const rogueProxy = issueCertificate(createCertificateAuthority('rogue'), { commonName: 'front-proxy-client', usage: 'client' });
  const forged = { 'X-Remote-User': 'admin', 'X-Remote-Group': 'system:masters', 'X-Remote-Extra-Scopes': 'all' };
  const base = { url: server.url, caPem: server.caPem };
  personas = [
    { name: 'unauthenticated', endpoint: base, headers: {} },
    { name: 'user with no roles', endpoint: { ...base, clientCert: nobody }, headers: {} },
    { name: 'forged front-proxy headers, no certificate', endpoint: base, headers: forged },
    { name: 'forged front-proxy headers, no-roles user certificate', endpoint: { ...base, clientCert: nobody }, headers: forged },
    { name: 'forged front-proxy headers, certificate from another CA', endpoint: { ...base, clientCert: rogueProxy }, headers: forged },
  ];
});
test.after.always(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('every endpoint × unauthenticated, no-roles and forged front-proxy users: 401/403 Status, no data, nothing changed', async (t) => {
  t.timeout(240_000);
  const before = await server.backend.currentRevision();
  const cases = accessCases();
  let requests = 0;
  const leaks: string[] = [];
  for (const persona of personas) {
    // A rogue certificate fails the TLS handshake's client verification or authenticates as nobody.
    const client = new Client(persona.endpoint, { maxSockets: 8 });
    const one = async (method: string, url: string, body?: unknown) => {
      requests++;
      let res;
      try {
        res = await client.request(method, url, { body, headers: { ...persona.headers, ...(method === 'PATCH' ? { 'content-type': 'application/merge-patch+json' } : {}) } });
      } catch (err) {
        return; // the connection was refused: nothing returned, nothing changed
      }
      // Authenticated users may read discovery and the OpenAPI documents (kube's system:discovery
      // role binds them to system:authenticated): schemas, not objects. Everything else is refused.
      const schemaOnly = persona.endpoint.clientCert !== undefined && DISCOVERY.test(url) && res.status < 300;
      const ok = schemaOnly || ((res.status === 401 || res.status === 403 || (res.status === 404 && url === '/api')) && (res.json?.kind === 'Status' || res.status === 404));
      if (!ok) leaks.push(`${persona.name}: ${method} ${url} → ${res.status} ${res.body.slice(0, 120)}`);
    };
    await Promise.all(
      cases.map(async (c) => {
        const { method, url } = requestFor(c, NAMESPACE, 'p');
        const body = method === 'GET' || method === 'DELETE' ? undefined : { ...policy('p'), spec: { who: 'x' } };
        await one(method, url.includes('watch=true') ? `${url}&timeoutSeconds=1` : url, body);
        void describeCase;
      }),
    );
    await Promise.all(NON_RESOURCE_PATHS.map((p) => one('GET', p)));
    await one('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'get', group: 'pvc-chonker.io', resource: 'pvcpolicies' } } }).catch(() => undefined);
    client.close();
  }
  // SelfSubjectAccessReview answers about the caller itself; it is allowed for any authenticated
  // user (as in kube-apiserver) and must say "not allowed" here — never admin's answer.
  t.deepEqual(leaks.filter((l) => !l.includes('selfsubjectaccessreviews')), [], 'no endpoint answered with data');
  for (const l of leaks.filter((x) => x.includes('selfsubjectaccessreviews'))) t.notRegex(l, /"allowed":true/, l);
  t.is(await server.backend.currentRevision(), before, 'the store did not change');
  t.log(`${requests} requests (${cases.length} resource endpoints + ${NON_RESOURCE_PATHS.length + 1} others) × ${personas.length} personas`);
});

test('TLS: 1.2 and 1.3 handshakes succeed, 1.0 and 1.1 fail, and a plaintext HTTP request gets no answer', async (t) => {
  const { hostname, port } = new URL(server.url);
  const handshake = (version: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3') =>
    new Promise<string>((resolve) => {
      const socket = tlsConnect({ host: hostname, port: Number(port), ca: server.caPem, minVersion: version, maxVersion: version, ciphers: 'DEFAULT@SECLEVEL=0', servername: undefined });
      socket.once('secureConnect', () => {
        const got = socket.getProtocol() ?? 'unknown';
        socket.destroy();
        resolve(got);
      });
      socket.once('error', (err) => resolve(`error: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    });
  t.is(await handshake('TLSv1.3'), 'TLSv1.3');
  t.is(await handshake('TLSv1.2'), 'TLSv1.2');
  for (const old of ['TLSv1', 'TLSv1.1'] as const) {
    const result = await handshake(old);
    t.regex(result, /^error: /, `${old} must be refused, got ${result}`);
    t.log(`${old}: ${result}`);
  }
  // Plain HTTP on the serving port: no HTTP answer carrying data.
  const plain = await new Promise<string>((resolve) => {
    const socket = netConnect({ host: hostname, port: Number(port) }, () => socket.write(`GET ${POLICIES(NAMESPACE)} HTTP/1.1\r\nHost: x\r\n\r\n`));
    let data = '';
    socket.on('data', (c) => (data += c.toString('latin1')));
    socket.on('close', () => resolve(data));
    socket.on('error', () => resolve(data));
    socket.setTimeout(5_000, () => socket.destroy());
  });
  t.notRegex(plain, /PVCPolicy|"items"/, 'no data over plaintext');
  t.false(/^HTTP\/1\.[01] 2\d\d/.test(plain), `no 2xx over plaintext: ${plain.slice(0, 60)}`);
  // Without --insecure-port (as here) the server has no plaintext listener.
  t.is(server.insecureUrl, undefined);
});

test('--insecure-port: refused off loopback; on loopback it serves plaintext as system:unsecured and drops forged front-proxy headers', async (t) => {
  for (const [args, message] of [
    [['--insecure-port=8080', '--insecure-bind-address=0.0.0.0'], /loopback/],
    [['--insecure-port=8080', '--insecure-bind-address=10.1.2.3'], /loopback/],
    [['--insecure-port=80a'], /--insecure-port=80a/],
    [['--insecure-port=70000'], /--insecure-port=70000/],
  ] as const) {
    t.throws(() => completeOptions(parseOptions([...args])), { message }, args.join(' '));
  }
  const auditDir = mkdtempSync(join(tmpdir(), 'reliability-insecure-'));
  const auditPath = join(auditDir, 'audit.log');
  const dev = await startTestServer({ 'insecure-port': '0', 'audit-log-path': auditPath, 'audit-level': 'Metadata' }, { extensions: { controllers: [] } });
  try {
    t.regex(dev.insecureUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
    const plain = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${dev.insecureUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json', 'X-Remote-User': 'mallory', 'X-Remote-Group': 'forged' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as any };
    };
    const created = await plain('POST', POLICIES('dev'), policy('over-plaintext'));
    t.is(created.status, 201, JSON.stringify(created.json));
    const listed = await plain('GET', POLICIES('dev'));
    t.deepEqual(listed.json.items.map((i: any) => i.metadata.name), ['over-plaintext']);
    // The TLS listener still authenticates: no client certificate is anonymous there.
    const anonymous = new Client({ url: dev.url, caPem: dev.caPem });
    t.is((await anonymous.request('GET', POLICIES('dev'))).status, 403);
    anonymous.close();
    const users = await until(() => {
      const lines = readFileSync(auditPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
      const mine = lines.filter((e) => e.stage === 'ResponseComplete' && e.requestURI.startsWith(POLICIES('dev')));
      return mine.length >= 3 ? mine.map((e) => e.user.username) : undefined;
    }, 'audit events of the three requests');
    t.deepEqual(users.slice(0, 2), ['system:unsecured', 'system:unsecured'], 'plaintext requests are system:unsecured, never the forged X-Remote-User');
    t.is(users[2], 'system:anonymous');
  } finally {
    await dev.stop();
    rmSync(auditDir, { recursive: true, force: true });
  }
});

test('secrets (bearer tokens, private keys) never appear in logs, the audit log or API answers', async (t) => {
  t.timeout(120_000);
  const secretDir = mkdtempSync(join(tmpdir(), 'reliability-secrets-'));
  let proc: ServerProcess | undefined;
  try {
    const token = `tok-${'s3cr3t'.repeat(4)}`;
    const wrongToken = `bad-${'w0ng'.repeat(5)}`;
    writeFileSync(join(secretDir, 'tokens.csv'), `${token},tina,1001,"system:masters"\n`);
    const auditPath = join(secretDir, 'audit.log');
    proc = await startServerProcess(join(secretDir, 'certs'), [
      `--storage=sqlite://${join(secretDir, 'state.db')}`,
      `--token-auth-file=${join(secretDir, 'tokens.csv')}`,
      `--audit-log-path=${auditPath}`,
      '--audit-level=RequestResponse',
      '--v=8',
    ], 30_000, { env: { LOG_LEVEL: 'trace' }, keepOutputBytes: 64 * 1024 * 1024 });
    const endpoint = { url: proc.endpoint.url, caPem: proc.endpoint.caPem };
    const withToken = new Client(endpoint);
    const asAdmin = new Client(proc.endpoint);
    await until(async () => (await asAdmin.request('GET', '/readyz')).status === 200, 'readyz');
    const answers: string[] = [];
    const record = async (p: Promise<{ status: number; body: string }>) => answers.push((await p).body);
    await record(withToken.request('POST', POLICIES(NAMESPACE), { body: policy('p', {}, { note: 'hello' }), headers: { authorization: `Bearer ${token}` } }));
    await record(withToken.request('GET', POLICIES(NAMESPACE), { headers: { authorization: `Bearer ${token}` } }));
    await record(withToken.request('GET', POLICIES(NAMESPACE), { headers: { authorization: `Bearer ${wrongToken}` } }));
    await record(withToken.request('GET', '/metrics', { headers: { authorization: `Bearer ${token}` } }));
    await record(asAdmin.request('GET', '/openapi/v2'));
    await record(asAdmin.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'get', resource: 'pvcpolicies' } } } }));
    withToken.close();
    asAdmin.close();
    // Stop the server so every log and audit line is flushed.
    proc.child.kill('SIGTERM');
    await proc.exited;
    const logs = proc.output();
    const audit = readFileSync(auditPath, 'utf8');
    t.true(audit.includes('pvcpolicies'), 'the audit log recorded the requests');
    t.true(logs.length > 0, 'the server logged');
    const keyBody = (pem: string) => pem.split('\n').filter((l) => l && !l.startsWith('-----')).slice(1, 3).join('');
    const secrets: Record<string, string> = {
      'bearer token': token,
      'rejected bearer token': wrongToken,
      'CA private key': keyBody(readFileSync(join(secretDir, 'certs', 'ca.key'), 'utf8')),
      'serving private key': keyBody(readFileSync(join(secretDir, 'certs', 'apiserver.key'), 'utf8')),
      'local user private key': keyBody(readFileSync(join(secretDir, 'certs', 'local-user.key'), 'utf8')),
    };
    for (const [what, secret] of Object.entries(secrets)) {
      t.false(logs.includes(secret), `${what} in the server log`);
      t.false(audit.includes(secret), `${what} in the audit log`);
      t.false(answers.some((a) => a.includes(secret)), `${what} in an API answer`);
    }
    t.log(`checked ${(logs.length / 1024).toFixed(0)} KiB of logs (trace level), ${(audit.length / 1024).toFixed(0)} KiB of audit log (RequestResponse), ${answers.length} answers`);
  } finally {
    if (proc && proc.child.exitCode === null && proc.child.signalCode === null) {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
    rmSync(secretDir, { recursive: true, force: true });
  }
});
