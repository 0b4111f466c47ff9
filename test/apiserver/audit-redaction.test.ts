import test from 'ava';
import { REDACTED, redactCredentials } from '../../apiserver/filters/audit-redaction.js';

const cases: Array<[string, unknown, unknown]> = [
  ['an inline operator key', { spec: { config: { operatorKeys: { bls: 'k1', ecdsa: 'k2' } } } }, { spec: { config: { operatorKeys: { bls: REDACTED, ecdsa: REDACTED } } } }],
  [
    'a Secret reference under a credential field is kept',
    { operatorKeys: { bls: { secretKeyRef: { name: 'keys', key: 'bls.key' } } } },
    { operatorKeys: { bls: { secretKeyRef: { name: 'keys', key: 'bls.key' } } } },
  ],
  ['passwords and tokens at any depth, in arrays too', { a: [{ password: 'p' }, { b: { token: 't' } }] }, { a: [{ password: REDACTED }, { b: { token: REDACTED } }] }],
  ['a list of credentials', { apiKey: ['x', 'y'] }, { apiKey: [REDACTED, REDACTED] }],
  ['numbers and booleans under a credential field stay', { token: { ttl: 5, enabled: true } }, { token: { ttl: 5, enabled: true } }],
  ['everything else is untouched', { metadata: { name: 'token', annotations: { password: 'x' } } }, { metadata: { name: 'token', annotations: { password: REDACTED } } }],
  ['non-objects', 'plain', 'plain'],
];

for (const [title, input, expected] of cases) {
  test(`audit redaction: ${title}`, (t) => {
    const before = JSON.stringify(input);
    t.deepEqual(redactCredentials(input), expected);
    t.is(JSON.stringify(input), before, 'the input is not changed');
  });
}
