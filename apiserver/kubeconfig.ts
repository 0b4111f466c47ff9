import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

/**
 * Writes a kubeconfig that points kubectl at this server: cluster `operators-apiserver` with the
 * serving CA, context and user `operators-local`, authenticated by `clientCert` when given
 * (without credentials kubectl would prompt for a password).
 */
export function writeKubeconfig(path: string, server: string, caPem: string, clientCert?: { cert: string; key: string }): void {
  const user = clientCert
    ? {
        'client-certificate-data': Buffer.from(clientCert.cert).toString('base64'),
        'client-key-data': Buffer.from(clientCert.key).toString('base64'),
      }
    : {};
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'operators-apiserver', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } },
    ],
    users: [{ name: 'operators-local', user }],
    contexts: [{ name: 'operators-local', context: { cluster: 'operators-apiserver', user: 'operators-local' } }],
    'current-context': 'operators-local',
  };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, stringify(config), { mode: 0o600 });
}
