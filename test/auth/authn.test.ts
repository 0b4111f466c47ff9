// Authenticators and caches in isolation: CA chain verification, x509 and front-proxy user
// mapping, the token file format, TokenReview and SubjectAccessReview caches on an injected clock,
// and the extension-apiserver-authentication ConfigMap format.
import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { authenticateRequest, type AuthenticationRequest } from '../../apiserver/authn/authenticator.js';
import { parseAuthenticationConfigMap } from '../../apiserver/authn/extension-apiserver-authentication.js';
import { DEFAULT_REQUEST_HEADERS, FrontProxyAuthenticator } from '../../apiserver/authn/front-proxy.js';
import { parseTokenFile, TokenFileAuthenticator } from '../../apiserver/authn/token-file.js';
import { TokenReviewAuthenticator, type TokenReviewStatus } from '../../apiserver/authn/token-review.js';
import { X509Authenticator } from '../../apiserver/authn/x509.js';
import { SubjectAccessReviewAuthorizer, type SubjectAccessReviewSpec } from '../../apiserver/authz/subject-access-review.js';
import type { AuthorizationAttributes } from '../../apiserver/authz/authorizer.js';
import { CaBundle } from '../../apiserver/certificates.js';
import { issueCertificate, createCertificateAuthority } from '../../apiserver/tls.js';
import forge from 'node-forge';

const root = createCertificateAuthority('root-ca');
const other = createCertificateAuthority('other-ca');
const x509 = (pem: string) => new X509Certificate(pem);

/** An intermediate CA signed by `root` (forge, since issueCertificate makes leaves only). */
function intermediateOf(parent: { cert: string; key: string }): { cert: string; key: string } {
  const keys = forge.pki.rsa.generateKeyPair(1024);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '0a';
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  cert.setSubject([{ name: 'commonName', value: 'intermediate-ca' }]);
  cert.setIssuer(forge.pki.certificateFromPem(parent.cert).subject.attributes);
  cert.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, digitalSignature: true, critical: true }]);
  cert.sign(forge.pki.privateKeyFromPem(parent.key), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

test('CaBundle.verify: direct, through an intermediate, wrong CA, expired, not yet valid, intermediate missing', (t) => {
  const bundle = new CaBundle(root.cert);
  const leaf = issueCertificate(root, { commonName: 'u', usage: 'client' });
  const intermediate = intermediateOf(root);
  const viaIntermediate = issueCertificate(intermediate, { commonName: 'v', usage: 'client' });
  const now = new Date();
  t.truthy(bundle.verify([x509(leaf.cert)], now));
  t.truthy(bundle.verify([x509(viaIntermediate.cert), x509(intermediate.cert)], now));
  t.is(bundle.verify([x509(viaIntermediate.cert)], now), undefined, 'without the intermediate');
  t.is(bundle.verify([x509(issueCertificate(other, { commonName: 'u', usage: 'client' }).cert)], now), undefined);
  t.is(bundle.verify([x509(leaf.cert)], new Date(Date.now() + 400 * 86_400_000)), undefined, 'expired');
  t.is(bundle.verify([x509(leaf.cert)], new Date(Date.now() - 86_400_000)), undefined, 'not yet valid');
  t.is(bundle.verify([], now), undefined);
  // A leaf cannot act as a CA for another leaf.
  const leafAsCa = issueCertificate({ cert: leaf.cert, key: leaf.key }, { commonName: 'w', usage: 'client' });
  t.is(bundle.verify([x509(leafAsCa.cert), x509(leaf.cert)], now), undefined);
  t.throws(() => new CaBundle('not a pem'));
});

const req = (over: Partial<AuthenticationRequest>): AuthenticationRequest => ({ headers: {}, peerCertificates: [], ...over });

test('x509: user = CN, groups = every O; other CAs are not this authenticator\'s', (t) => {
  const authn = new X509Authenticator(() => new CaBundle(root.cert));
  const cert = issueCertificate(root, { commonName: 'jane', organizations: ['dev', 'ops'], usage: 'client' });
  t.deepEqual(authn.authenticate(req({ peerCertificates: [x509(cert.cert)] })), {
    kind: 'user',
    authenticator: 'x509',
    user: { username: 'jane', groups: ['dev', 'ops'] },
  });
  t.deepEqual(authn.authenticate(req({ peerCertificates: [x509(issueCertificate(other, { commonName: 'x', usage: 'client' }).cert)] })), { kind: 'none' });
  t.deepEqual(authn.authenticate(req({})), { kind: 'none' });
});

test('front proxy: allowed names (empty = any CN), every group header, extras lowercased and unescaped, custom header names', (t) => {
  const proxy = x509(issueCertificate(root, { commonName: 'front-proxy-client', usage: 'client' }).cert);
  const stranger = x509(issueCertificate(root, { commonName: 'stranger', usage: 'client' }).cert);
  const headers = {
    'x-remote-user': ['ann'],
    'x-remote-group': ['a', 'b'],
    'x-remote-extra-acme.com%2fteam': ['t1', 't2'],
    'x-remote-extra-Scopes': ['s'],
  };
  const config = { ca: new CaBundle(root.cert), ...DEFAULT_REQUEST_HEADERS };
  const restricted = new FrontProxyAuthenticator(() => ({ ...config, allowedNames: ['front-proxy-client'] }));
  const open = new FrontProxyAuthenticator(() => ({ ...config, allowedNames: [] }));
  const expected = { kind: 'user', authenticator: 'requestheader', user: { username: 'ann', groups: ['a', 'b'], extra: { 'acme.com/team': ['t1', 't2'], scopes: ['s'] } } };
  t.deepEqual(restricted.authenticate(req({ headers, peerCertificates: [proxy] })), expected);
  t.deepEqual(restricted.authenticate(req({ headers, peerCertificates: [stranger] })), { kind: 'none' });
  t.deepEqual(open.authenticate(req({ headers, peerCertificates: [stranger] })), expected);
  t.deepEqual(restricted.authenticate(req({ headers })), { kind: 'none' }, 'no certificate, headers ignored');
  t.deepEqual(restricted.authenticate(req({ headers: {}, peerCertificates: [proxy] })), { kind: 'none' }, 'a proxy without a user header');
  const custom = new FrontProxyAuthenticator(() => ({
    ...config,
    allowedNames: [],
    usernameHeaders: ['X-User', 'X-Remote-User'],
    groupHeaders: ['X-Groups'],
    extraHeaderPrefixes: ['X-Extra-'],
  }));
  t.like(custom.authenticate(req({ headers: { 'x-remote-user': ['fallback'], 'x-groups': ['g'], 'x-remote-group': ['ignored'] }, peerCertificates: [proxy] })), {
    user: { username: 'fallback', groups: ['g'] },
  });
});

test('the chain: the first authenticator decides, an invalid token is an error, anonymous last (or 401 when off)', async (t) => {
  const tokens = new TokenFileAuthenticator(() => new Map([['good', { username: 'tom', groups: ['g'] }]]));
  const on = { authenticators: [tokens], anonymous: true };
  t.deepEqual(await authenticateRequest(on, req({ headers: { authorization: ['Bearer good'] } })), {
    user: { username: 'tom', groups: ['g', 'system:authenticated'] },
    authenticator: 'token-file',
  });
  t.deepEqual(await authenticateRequest(on, req({ headers: { authorization: ['Bearer bad'] } })), { error: 'invalid bearer token' });
  t.deepEqual(await authenticateRequest(on, req({})), { user: { username: 'system:anonymous', groups: ['system:unauthenticated'] }, authenticator: 'anonymous' });
  t.deepEqual(await authenticateRequest({ ...on, anonymous: false }, req({})), { error: 'no credentials' });
});

test('token file: kube-apiserver CSV with optional quoted groups; malformed lines name the line', (t) => {
  const tokens = parseTokenFile('# comment\nt1,alice,uid1,"dev,ops"\nt2,bob,uid2\n\nt3,carol,,viewers\n');
  t.deepEqual(tokens.get('t1'), { username: 'alice', uid: 'uid1', groups: ['dev', 'ops'] });
  t.deepEqual(tokens.get('t2'), { username: 'bob', uid: 'uid2', groups: [] });
  t.deepEqual(tokens.get('t3'), { username: 'carol', groups: ['viewers'] });
  t.throws(() => parseTokenFile('t1,alice'), { message: /line 1/ });
});

test('TokenReview: positive and negative answers cached for their TTL on the injected clock; failures not cached', async (t) => {
  let now = 0;
  const reviewed: string[] = [];
  let fail = false;
  const authn = new TokenReviewAuthenticator({
    cacheTtlMs: 10_000,
    negativeCacheTtlMs: 5_000,
    clock: () => now,
    review: async (token): Promise<TokenReviewStatus> => {
      reviewed.push(token);
      if (fail) throw new Error('host down');
      return token === 'good' ? { authenticated: true, user: { username: 'u', groups: ['g'] } } : { authenticated: false };
    },
  });
  const withToken = (token: string) => req({ headers: { authorization: [`Bearer ${token}`] } });
  t.like(await authn.authenticate(withToken('good')), { kind: 'user', user: { username: 'u', groups: ['g'] } });
  t.like(await authn.authenticate(withToken('bad')), { kind: 'error' });
  now = 4_999;
  await authn.authenticate(withToken('good'));
  await authn.authenticate(withToken('bad'));
  t.deepEqual(reviewed, ['good', 'bad']);
  now = 5_000;
  await authn.authenticate(withToken('bad'));
  t.deepEqual(reviewed, ['good', 'bad', 'bad'], 'the negative answer expired');
  now = 10_000;
  fail = true;
  t.like(await authn.authenticate(withToken('good')), { kind: 'error' });
  fail = false;
  t.like(await authn.authenticate(withToken('good')), { kind: 'user' });
  t.is(reviewed.filter((r) => r === 'good').length, 3, 'a failed review is not cached');
  t.deepEqual(await authn.authenticate(req({})), { kind: 'none' });
});

test('SubjectAccessReview: full attributes with subresource; allowed and denied cached separately on the injected clock', async (t) => {
  let now = 0;
  const specs: SubjectAccessReviewSpec[] = [];
  const authz = new SubjectAccessReviewAuthorizer({
    allowedTtlMs: 10_000,
    deniedTtlMs: 1_000,
    clock: () => now,
    review: async (spec) => {
      specs.push(spec);
      return spec.resourceAttributes?.subresource === 'promote' ? { allowed: true } : { allowed: false, denied: true, reason: 'no' };
    },
  });
  const attrs = (subresource: string): AuthorizationAttributes => ({
    user: { username: 'u', uid: 'id', groups: ['g'], extra: { k: ['v'] } },
    verb: 'create',
    isResourceRequest: true,
    path: '/apis/storm.apache.org/v1beta1/namespaces/ns/stormtopologies/t/' + subresource,
    apiGroup: 'storm.apache.org',
    apiVersion: 'v1beta1',
    namespace: 'ns',
    resource: 'stormtopologies',
    subresource,
    name: 't',
  });
  t.deepEqual(await authz.authorize(attrs('promote')), { decision: 'allow' });
  t.deepEqual(await authz.authorize(attrs('rebalance')), { decision: 'deny', reason: 'no' });
  t.deepEqual(specs[0], {
    user: 'u',
    uid: 'id',
    groups: ['g'],
    extra: { k: ['v'] },
    resourceAttributes: { namespace: 'ns', verb: 'create', group: 'storm.apache.org', version: 'v1beta1', resource: 'stormtopologies', subresource: 'promote', name: 't' },
  });
  now = 999;
  await authz.authorize(attrs('promote'));
  await authz.authorize(attrs('rebalance'));
  t.is(specs.length, 2);
  now = 1_000;
  await authz.authorize(attrs('promote'));
  await authz.authorize(attrs('rebalance'));
  t.is(specs.length, 3, 'only the denial expired');
});

test('extension-apiserver-authentication: keys parsed, JSON arrays checked', (t) => {
  const parsed = parseAuthenticationConfigMap({
    'client-ca-file': 'CA1',
    'requestheader-client-ca-file': 'CA2',
    'requestheader-allowed-names': '["front-proxy-client"]',
    'requestheader-username-headers': '["X-Remote-User"]',
    'requestheader-group-headers': '["X-Remote-Group"]',
    'requestheader-extra-headers-prefix': '["X-Remote-Extra-"]',
  });
  t.deepEqual(parsed, {
    clientCaPem: 'CA1',
    requestHeader: {
      caPem: 'CA2',
      allowedNames: ['front-proxy-client'],
      usernameHeaders: ['X-Remote-User'],
      groupHeaders: ['X-Remote-Group'],
      extraHeaderPrefixes: ['X-Remote-Extra-'],
    },
  });
  t.deepEqual(parseAuthenticationConfigMap({ 'client-ca-file': 'CA1' }), { clientCaPem: 'CA1' });
  t.throws(() => parseAuthenticationConfigMap({ 'requestheader-client-ca-file': 'CA2', 'requestheader-allowed-names': 'front-proxy-client' }));
});
