// Certificate serial numbers must be DER INTEGERs OpenSSL accepts: positive and minimally encoded.
// A leading 0x00 before a byte below 0x80 made about one certificate in 512 unreadable
// ("illegal padding") to node:crypto and TLS, failing a random test server's start.
import { X509Certificate } from 'node:crypto';
import test from 'ava';
import { createCertificateAuthority, serialNumber } from '../../apiserver/tls.js';

test('serial numbers are positive and minimally encoded: the leading byte is 0x01…0x7f', (t) => {
  for (let i = 0; i < 20_000; i++) {
    const serial = serialNumber();
    const leading = Number.parseInt(serial.slice(0, 2), 16);
    if (leading < 0x01 || leading > 0x7f) t.fail(`serial ${serial} starts with 0x${serial.slice(0, 2)}`);
  }
  t.pass();
});

test('certificates the server makes are readable by node:crypto', (t) => {
  for (let i = 0; i < 5; i++) {
    const ca = createCertificateAuthority(`test-ca-${i}`);
    t.notThrows(() => new X509Certificate(ca.cert));
  }
});
