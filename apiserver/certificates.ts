// Certificates that change while the server runs: CA bundles that verify client certificate chains
// (node:crypto X509Certificate, validity dates included), the peer chain of a TLS connection, and
// files polled for changes (cert-manager and kubeadm rotate them in place or by symlink swap).
import { createPrivateKey, X509Certificate } from 'node:crypto';
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
   * The leaf of `chain` when it chains to one of these CAs through the intermediates that follow
   * it in `chain`, every certificate being within its validity period at `now`; else undefined.
   */
  verify(chain: readonly X509Certificate[], now: Date = new Date()): X509Certificate | undefined {
    const [leaf, ...intermediates] = chain;
    if (!leaf) return undefined;
    let current = leaf;
    const seen = new Set<string>();
    for (let depth = 0; depth < 10; depth++) {
      if (!validAt(current, now)) return undefined;
      if (this.certificates.some((ca) => issued(ca, current) && validAt(ca, now))) return leaf;
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

function validAt(cert: X509Certificate, now: Date): boolean {
  return new Date(cert.validFrom).getTime() <= now.getTime() && now.getTime() <= new Date(cert.validTo).getTime();
}

/**
 * The client certificate chain the peer presented on `socket`, leaf first (empty without one).
 * Only the leaf is certain on a resumed TLS session; intermediates are used when present.
 */
export function peerCertificateChain(socket: TLSSocket): X509Certificate[] {
  if (typeof socket.getPeerCertificate !== 'function') return [];
  const chain: X509Certificate[] = [];
  let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(new X509Certificate(cert.raw));
    cert = cert.issuerCertificate;
  }
  return chain;
}

/** The values of one attribute (`CN`, `O`) of a certificate subject. */
export function subjectAttribute(cert: X509Certificate, key: string): string[] {
  const values: string[] = [];
  for (const line of cert.subject.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && line.slice(0, eq) === key) values.push(line.slice(eq + 1));
  }
  return values;
}

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
  serverOptions(): { cert: string; key: string; ca?: string[]; requestCert: true; rejectUnauthorized: false; minVersion: 'TLSv1.2' } {
    const cas = this.acceptedCas();
    return {
      cert: this.serving.cert,
      key: this.serving.key,
      ...(cas.length > 0 ? { ca: cas } : {}),
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
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
