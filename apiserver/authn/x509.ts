// x509 client certificates: a chain to the client CA authenticates user = CN, groups = O.
import { subjectAttribute, type CaBundle } from '../certificates.js';
import { NOT_MINE, type AuthenticationRequest, type AuthenticationResult, type Authenticator } from './authenticator.js';

export class X509Authenticator implements Authenticator {
  readonly name = 'x509';
  /** `ca` is read per request, so a rotated client CA applies without a restart. */
  constructor(
    private readonly ca: () => CaBundle | undefined,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  authenticate(req: AuthenticationRequest): AuthenticationResult {
    const ca = this.ca();
    if (!ca || req.peerCertificates.length === 0) return NOT_MINE;
    const leaf = ca.verify(req.peerCertificates, this.clock());
    if (!leaf) return NOT_MINE;
    const username = subjectAttribute(leaf, 'CN')[0];
    if (!username) return { kind: 'error', message: 'client certificate without a common name' };
    return { kind: 'user', authenticator: this.name, user: { username, groups: subjectAttribute(leaf, 'O') } };
  }
}
