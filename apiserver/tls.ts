import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import forge from 'node-forge';

export interface ServingCertificate {
  cert: string;
  key: string;
  /** PEM of the CA that signed `cert` (the cert itself when it is self-signed). */
  ca: string;
}

export interface CertificateAuthority {
  cert: string;
  key: string;
}

/** Creates a CA for `commonName`, valid for `days`. Keys come from node:crypto (fast); forge signs. */
export function createCertificateAuthority(commonName: string, days = 3650): CertificateAuthority {
  const { publicKey, privateKey } = newRsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serialNumber();
  setValidity(cert, days);
  const subject = [{ name: 'commonName', value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(privateKey) };
}

/**
 * Issues a certificate signed by `ca`. `hosts` become subjectAltNames (IP addresses or DNS names);
 * `organizations` become O= entries, which Kubernetes reads as groups of a client certificate.
 */
export function issueCertificate(
  ca: CertificateAuthority,
  options: { commonName: string; hosts?: string[]; organizations?: string[]; usage: 'server' | 'client' | 'both'; days?: number },
): { cert: string; key: string } {
  const { publicKey, privateKey } = newRsaKeyPair();
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const caKey = forge.pki.privateKeyFromPem(ca.key);
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serialNumber();
  setValidity(cert, options.days ?? 365);
  cert.setSubject([
    { name: 'commonName', value: options.commonName },
    ...(options.organizations ?? []).map((o) => ({ name: 'organizationName', value: o })),
  ]);
  cert.setIssuer(caCert.subject.attributes);
  const extKeyUsage = {
    name: 'extKeyUsage',
    serverAuth: options.usage !== 'client',
    clientAuth: options.usage !== 'server',
  };
  const extensions: object[] = [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    extKeyUsage,
  ];
  if (options.hosts?.length) {
    extensions.push({
      name: 'subjectAltName',
      altNames: options.hosts.map((h) => (/^[\d.]+$|:/.test(h) ? { type: 7, ip: h } : { type: 2, value: h })),
    });
  }
  cert.setExtensions(extensions);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(privateKey) };
}

/**
 * A client certificate for the local standalone user, signed by the CA in `dir` (user
 * `operators-local`, group `system:masters`), kept next to it. x509 client authentication reads
 * CN as the user and O as groups; the kubeconfig written in standalone mode carries it.
 */
export function loadOrCreateLocalUser(dir: string): { cert: string; key: string } {
  const paths = { cert: join(dir, 'local-user.crt'), key: join(dir, 'local-user.key') };
  if (existsSync(paths.cert) && existsSync(paths.key)) {
    return { cert: readFileSync(paths.cert, 'utf8'), key: readFileSync(paths.key, 'utf8') };
  }
  const ca = { cert: readFileSync(join(dir, 'ca.crt'), 'utf8'), key: readFileSync(join(dir, 'ca.key'), 'utf8') };
  const user = issueCertificate(ca, { commonName: 'operators-local', organizations: ['system:masters'], usage: 'client' });
  writeFileSync(paths.cert, user.cert);
  writeFileSync(paths.key, user.key, { mode: 0o600 });
  return user;
}

/**
 * The serving certificate for standalone mode: read from `dir` when present, otherwise a new CA
 * and a certificate for localhost / 127.0.0.1 / ::1 plus `extraHosts`, written to `dir` so that
 * a kubeconfig stays valid across restarts.
 */
export function loadOrCreateSelfSigned(dir: string, extraHosts: string[] = []): ServingCertificate {
  const paths = { ca: join(dir, 'ca.crt'), caKey: join(dir, 'ca.key'), cert: join(dir, 'apiserver.crt'), key: join(dir, 'apiserver.key') };
  if (Object.values(paths).every((p) => existsSync(p))) {
    return { cert: readFileSync(paths.cert, 'utf8'), key: readFileSync(paths.key, 'utf8'), ca: readFileSync(paths.ca, 'utf8') };
  }
  const ca = createCertificateAuthority('operators-apiserver-ca');
  const serving = issueCertificate(ca, {
    commonName: 'operators-apiserver',
    hosts: ['localhost', '127.0.0.1', '::1', ...extraHosts],
    usage: 'server',
  });
  mkdirSync(dirname(paths.cert), { recursive: true });
  writeFileSync(paths.ca, ca.cert);
  writeFileSync(paths.caKey, ca.key, { mode: 0o600 });
  writeFileSync(paths.cert, serving.cert);
  writeFileSync(paths.key, serving.key, { mode: 0o600 });
  return { ...serving, ca: ca.cert };
}

function newRsaKeyPair(): { publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey } {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKey = forge.pki.privateKeyFromPem(pair.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  const publicKey = forge.pki.publicKeyFromPem(pair.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  return { publicKey, privateKey };
}

/**
 * 16 random bytes as a DER INTEGER that is positive and minimally encoded: the leading byte is in
 * 0x01…0x7f. A leading 0x00 before a byte below 0x80 is "illegal padding" to OpenSSL, which then
 * refuses the whole certificate (node-forge writes the hex as given).
 */
export function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) || 0x01;
  return bytes.toString('hex');
}

function setValidity(cert: forge.pki.Certificate, days: number): void {
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 5 * 60_000);
  cert.validity.notAfter = new Date(now + days * 86_400_000);
}
