// The CAs and header names that client-certificate authentication uses right now: flags
// (files, re-read when they change) override what the host cluster publishes in
// extension-apiserver-authentication. Listeners hear about every change (the TLS server
// advertises the union of both CAs to clients, so it must rebuild its secure context).
import { readFileSync } from 'node:fs';
import { CaBundle, watchFiles, type FileWatch } from '../certificates.js';
import type { PublishedAuthentication } from './extension-apiserver-authentication.js';
import { DEFAULT_REQUEST_HEADERS, type RequestHeaderConfig } from './front-proxy.js';

export interface ClientCertificateFlags {
  clientCaFile?: string;
  /**
   * The server's own CA (standalone certificates in --cert-dir), trusted for x509 in addition to
   * the client CA: it signs the local user's certificate in the kubeconfig the server writes, and
   * only whoever can read --cert-dir can issue more.
   */
  localCaFile?: string;
  requestHeaderCaFile?: string;
  /** Each undefined when the flag was not given (then the published value or the default applies). */
  requestHeaderAllowedNames?: string[];
  requestHeaderUsernameHeaders?: string[];
  requestHeaderGroupHeaders?: string[];
  requestHeaderExtraHeaderPrefixes?: string[];
}

export class ClientCertificateConfig {
  private fileClientCa?: CaBundle;
  private localCa?: CaBundle;
  private combinedClientCa?: CaBundle;
  private fileRequestHeaderCa?: CaBundle;
  private published: PublishedAuthentication = {};
  private publishedClientCa?: CaBundle;
  private publishedRequestHeaderCa?: CaBundle;
  private readonly watches: FileWatch[] = [];
  private readonly listeners: Array<() => void> = [];

  /** Reads the flag files now; a missing or malformed file fails start-up. */
  constructor(private readonly flags: ClientCertificateFlags) {
    if (flags.clientCaFile) this.fileClientCa = new CaBundle(readFileSync(flags.clientCaFile, 'utf8'));
    if (flags.localCaFile) this.localCa = new CaBundle(readFileSync(flags.localCaFile, 'utf8'));
    this.combine();
    if (flags.requestHeaderCaFile) this.fileRequestHeaderCa = new CaBundle(readFileSync(flags.requestHeaderCaFile, 'utf8'));
  }

  /** Polls the flag files every `intervalMs`. */
  watch(intervalMs: number, onError: (err: unknown) => void): void {
    if (this.flags.clientCaFile) {
      this.watches.push(
        watchFiles([this.flags.clientCaFile], intervalMs, ([pem]) => {
          this.fileClientCa = new CaBundle(pem);
          this.changed();
        }, onError),
      );
    }
    if (this.flags.localCaFile) {
      this.watches.push(
        watchFiles([this.flags.localCaFile], intervalMs, ([pem]) => {
          this.localCa = new CaBundle(pem);
          this.changed();
        }, onError),
      );
    }
    if (this.flags.requestHeaderCaFile) {
      this.watches.push(
        watchFiles([this.flags.requestHeaderCaFile], intervalMs, ([pem]) => {
          this.fileRequestHeaderCa = new CaBundle(pem);
          this.changed();
        }, onError),
      );
    }
  }

  /** What the host cluster published (a malformed CA there throws and keeps the previous one). */
  setPublished(published: PublishedAuthentication): void {
    const clientCa = published.clientCaPem ? new CaBundle(published.clientCaPem) : undefined;
    const requestHeaderCa = published.requestHeader ? new CaBundle(published.requestHeader.caPem) : undefined;
    this.published = published;
    this.publishedClientCa = clientCa;
    this.publishedRequestHeaderCa = requestHeaderCa;
    this.changed();
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  stop(): void {
    for (const w of this.watches) w.stop();
  }

  /** The client CA (flag file, else published) plus the local CA, as one bundle. */
  clientCa(): CaBundle | undefined {
    return this.combinedClientCa;
  }

  private combine(): void {
    const pems = [(this.fileClientCa ?? this.publishedClientCa)?.pem, this.localCa?.pem].filter((p): p is string => p !== undefined);
    this.combinedClientCa = pems.length > 0 ? new CaBundle(pems.join('\n')) : undefined;
  }

  requestHeader(): RequestHeaderConfig | undefined {
    const ca = this.fileRequestHeaderCa ?? this.publishedRequestHeaderCa;
    if (!ca) return undefined;
    const published = this.published.requestHeader;
    const pick = (flag: string[] | undefined, fromCluster: string[] | undefined, fallback: string[]): string[] =>
      flag ?? (fromCluster && fromCluster.length > 0 ? fromCluster : fallback);
    return {
      ca,
      allowedNames: this.flags.requestHeaderAllowedNames ?? published?.allowedNames ?? [],
      usernameHeaders: pick(this.flags.requestHeaderUsernameHeaders, published?.usernameHeaders, DEFAULT_REQUEST_HEADERS.usernameHeaders),
      groupHeaders: pick(this.flags.requestHeaderGroupHeaders, published?.groupHeaders, DEFAULT_REQUEST_HEADERS.groupHeaders),
      extraHeaderPrefixes: pick(
        this.flags.requestHeaderExtraHeaderPrefixes,
        published?.extraHeaderPrefixes,
        DEFAULT_REQUEST_HEADERS.extraHeaderPrefixes,
      ),
    };
  }

  /** PEM of every CA a client certificate may chain to: what the TLS server advertises. */
  acceptedCasPem(): string[] {
    const pems = [this.clientCa()?.pem, this.fileRequestHeaderCa?.pem ?? this.publishedRequestHeaderCa?.pem];
    return pems.filter((p): p is string => p !== undefined);
  }

  private changed(): void {
    this.combine();
    for (const l of this.listeners) l();
  }
}
