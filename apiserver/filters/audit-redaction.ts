// What the audit log never records: credentials given inline in a request or answer body. Audit
// events at the Request and RequestResponse levels carry the bodies, and a rejected request (an
// operator key pasted as a plain value, say) would otherwise put the key into the audit log.
// kube-apiserver has no such step (it relies on Secrets being audited at Metadata level); the
// operators' kinds reference Secrets, so an inline credential is always a mistake worth hiding.
//
// Rule: every string under a credential-named field, at any depth, becomes "[REDACTED]"; a
// reference to a Secret inside such a field (`secretKeyRef`, `secretRef`, `valueFrom`) is kept,
// since it names where the credential lives, not the credential.

export const REDACTED = '[REDACTED]';

/** Field names whose string values (and strings nested below them) are credentials. */
const CREDENTIAL_FIELDS = new Set([
  'password',
  'token',
  'bearerToken',
  'apiKey',
  'privateKey',
  'operatorKey',
  'operatorKeys',
  'operatorPrivateKey',
  'client-key-data',
]);

/** Field names that reference a Secret rather than hold a credential. */
const SECRET_REFERENCES = new Set(['secretKeyRef', 'secretRef', 'valueFrom']);

/** A copy of `value` with inline credentials replaced; `value` itself is not changed. */
export function redactCredentials(value: unknown, insideCredential = false): unknown {
  if (typeof value === 'string') return insideCredential ? REDACTED : value;
  if (Array.isArray(value)) return value.map((item) => redactCredentials(item, insideCredential));
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      const inside = SECRET_REFERENCES.has(key) ? false : insideCredential || CREDENTIAL_FIELDS.has(key);
      copy[key] = redactCredentials(child, inside);
    }
    return copy;
  }
  return value;
}
