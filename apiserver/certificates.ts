// Certificates that change while the server runs: CA bundles that verify client certificate chains
// (node:crypto X509Certificate, validity dates included), the peer chain of a TLS connection, and
// files polled for changes (cert-manager and kubeadm rotate them in place or by symlink swap).
import { constants as cryptoConstants, createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TLSSocket, DetailedPeerCertificate } from 'node:tls';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** A set of trusted CA certificates, parsed once. */
export class CaBundle {
  readonly certificates: readonly X509Certificate[];
  constructor(readonly pem: string) {
    const blocks = pem.match(PEM_BLOCK) ?? [];
    this.certificates = blocks.map((b) => new X509Certificate(b));
    if (this.certificates.length === 0) throw new Error('no PEM certificate found in the CA bundle');
  }

  /**
   * Chains this bundle verified, with the time window in which the path found stays valid: a
   * connection's chain is the same array on every request (`peerCertificateChain`), so its
   * signatures are checked once per connection and CA bundle, its validity on every call.
   */
  private readonly verified = new WeakMap<readonly X509Certificate[], { from: number; to: number }>();

  /**
   * The leaf of `chain` when it chains to one of these CAs through the intermediates that follow
   * it in `chain`, every certificate being within its validity period at `now`; else undefined.
   */
  verify(chain: readonly X509Certificate[], now: Date = new Date()): X509Certificate | undefined {
    const leaf = chain[0];
    if (!leaf) return undefined;
    const at = now.getTime();
    const known = this.verified.get(chain);
    if (known && known.from <= at && at <= known.to) return leaf;
    const window = this.verifyPath(chain, at);
    if (!window) return undefined;
    this.verified.set(chain, window);
    return leaf;
  }

  /** The validity window shared by every certificate of a path from the leaf to one of these CAs. */
  private verifyPath(chain: readonly X509Certificate[], at: number): { from: number; to: number } | undefined {
    const [leaf, ...intermediates] = chain;
    let current = leaf;
    let from = -Infinity;
    let to = Infinity;
    const seen = new Set<string>();
    for (let depth = 0; depth < 10; depth++) {
      if (!validAt(current, at)) return undefined;
      from = Math.max(from, notBefore(current));
      to = Math.min(to, notAfter(current));
      const ca = this.certificates.find((c) => issued(c, current) && validAt(c, at));
      if (ca) return { from: Math.max(from, notBefore(ca)), to: Math.min(to, notAfter(ca)) };
      seen.add(current.fingerprint256);
      const parent = intermediates.find((c) => c.ca && !seen.has(c.fingerprint256) && issued(c, current));
      if (!parent) return undefined;
      current = parent;
    }
    return undefined;
  }
}

function issued(issuer: X509Certificate, subject: X509Certificate): boolean {
  return issuer.ca && subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
}

function notBefore(cert: X509Certificate): number {
  return new Date(cert.validFrom).getTime();
}

function notAfter(cert: X509Certificate): number {
  return new Date(cert.validTo).getTime();
}

function validAt(cert: X509Certificate, at: number): boolean {
  return notBefore(cert) <= at && at <= notAfter(cert);
}

/** Each connection's client certificate chain, read once (the server refuses renegotiation, so it cannot change). */
const peerChains = new WeakMap<TLSSocket, X509Certificate[]>();

/**
 * The client certificate chain the peer presented on `socket`, leaf first (empty without one);
 * the same array for every request on the connection.
 * Only the leaf is certain on a resumed TLS session; intermediates are used when present.
 */
export function peerCertificateChain(socket: TLSSocket): readonly X509Certificate[] {
  if (typeof socket.getPeerCertificate !== 'function') return [];
  const known = peerChains.get(socket);
  if (known) return known;
  const chain: X509Certificate[] = [];
  let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(new X509Certificate(cert.raw));
    cert = cert.issuerCertificate;
  }
  peerChains.set(socket, chain);
  return chain;
}

/** The values of one attribute (`CN`, `O`) of a certificate subject. */
export function subjectAttribute(cert: X509Certificate, key: string): string[] {
  let subject = subjects.get(cert);
  if (!subject) {
    subject = cert.subject.split('\n');
    subjects.set(cert, subject);
  }
  const values: string[] = [];
  for (const line of subject) {
    const eq = line.indexOf('=');
    if (eq > 0 && line.slice(0, eq) === key) values.push(line.slice(eq + 1));
  }
  return values;
}

/** Subject lines per certificate object (a connection's chain is read once, its subject once). */
const subjects = new WeakMap<X509Certificate, string[]>();

export interface FileWatch {
  stop(): void;
}

/**
 * Polls `paths` every `intervalMs` and calls `onChange` with their contents when any of them
 * changed (content comparison, so symlink swaps and in-place rewrites both count). A read error
 * (a file briefly missing during a swap) is reported to `onError` and retried on the next poll.
 */
export function watchFiles(
  paths: string[],
  intervalMs: number,
  onChange: (contents: string[]) => void,
  onError: (err: unknown) => void = () => {},
): FileWatch {
  let last = paths.map((p) => safeRead(p));
  const timer = setInterval(() => {
    let now: string[];
    try {
      now = paths.map((p) => readFileSync(p, 'utf8'));
    } catch (err) {
      onError(err);
      return;
    }
    if (now.every((c, i) => c === last[i])) return;
    try {
      onChange(now);
      last = now;
    } catch (err) {
      // A half-written pair (new cert, old key) fails to load; the next poll tries again.
      onError(err);
    }
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

function safeRead(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export interface ServingFiles {
  certFile: string;
  keyFile: string;
}

/**
 * The HTTPS server's TLS material, kept current without a restart: the serving certificate and
 * key (re-read from their files when they change) and the CAs client certificates may chain to
 * (advertised to clients in the CertificateRequest, so a Go client picks the right certificate).
 * Client certificates are requested but verified per request by the authenticators, against the
 * CA bundles current at that moment; new connections get the new serving certificate.
 */
export class DynamicServingTls {
  private watch?: FileWatch;
  private server?: { setSecureContext(options: object): void };
  constructor(
    private serving: { cert: string; key: string },
    private readonly files: ServingFiles | undefined,
    private readonly acceptedCas: () => string[],
  ) {}

  /** Options for `https.createServer` (fastify's `https`). */
  serverOptions(): { cert: string; key: string; ca?: string[]; requestCert: true; rejectUnauthorized: false; minVersion: 'TLSv1.2'; secureOptions: number } {
    const cas = this.acceptedCas();
    return {
      cert: this.serving.cert,
      key: this.serving.key,
      ...(cas.length > 0 ? { ca: cas } : {}),
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      // No TLS 1.2 renegotiation (Go's TLS server, hence kube-apiserver, has none either): a
      // connection's client certificate is fixed at its handshake, which `peerCertificateChain` relies on.
      secureOptions: cryptoConstants.SSL_OP_NO_RENEGOTIATION,
    };
  }

  /** Starts following the serving files; `server` gets every new secure context. */
  attach(server: { setSecureContext(options: object): void }, intervalMs: number, onError: (err: unknown) => void, onReload: () => void = () => {}): void {
    this.server = server;
    // CAs may have changed between building the server options and now.
    this.refresh();
    if (!this.files) return;
    this.watch = watchFiles([this.files.certFile, this.files.keyFile], intervalMs, ([cert, key]) => {
      const leaf = new X509Certificate(cert);
      if (!leaf.checkPrivateKey(createPrivateKey(key))) throw new Error('serving certificate and key do not match (yet)');
      this.serving = { cert, key };
      this.refresh();
      onReload();
    }, onError);
  }

  /** Rebuilds the secure context (after a CA change). */
  refresh(): void {
    if (!this.server) return;
    const { requestCert: _r, rejectUnauthorized: _u, ...context } = this.serverOptions();
    this.server.setSecureContext(context);
  }

  stop(): void {
    this.watch?.stop();
  }
}
