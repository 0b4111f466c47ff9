// TLS to Nimbus: the client material of a cluster (spec.nimbus.thrift.tls.certSecret) read from
// the host cluster, and the node:tls options built from it.
//
// The Secret (a `kubernetes.io/tls` Secret, in the StormCluster's namespace) holds:
//   ca.crt   PEM CAs trusted for the Nimbus certificate (replaces the system CAs); optional
//   tls.crt  PEM client certificate (chain) presented to Nimbus; optional, with tls.key
//   tls.key  its PEM private key
// Without certSecret the system CAs verify Nimbus and no client certificate is sent.
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import { isIP } from 'node:net';
import { createHash } from 'node:crypto';
import { NimbusError, type NimbusTlsSettings } from '../../../registry/storm.apache.org/upstreams.js';
import type { HostClient } from '../../host-client.js';
import { describeHostError, httpCode, isHostUnavailable } from '../../http-errors.js';

export const CA_KEY = 'ca.crt';
export const CERT_KEY = 'tls.crt';
export const KEY_KEY = 'tls.key';

export interface TlsMaterial {
  ca?: string;
  cert?: string;
  key?: string;
}

/** Reads the TLS material a cluster names; rejects with a NimbusError that says what is wrong. */
export type TlsMaterialSource = (tls: NimbusTlsSettings) => Promise<TlsMaterial>;

/**
 * The material of `certSecret` from the host cluster's Secret. Errors: code TLS for a Secret that
 * is missing, refused (403), malformed, or when there is no host cluster (standalone) to read it
 * from; code Unavailable when the host cluster does not answer (transient).
 */
export function hostSecretTlsMaterial(host: HostClient | undefined): TlsMaterialSource {
  return async (tls) => {
    if (!tls.certSecret) return {};
    const ref = `${tls.secretNamespace}/${tls.certSecret}`;
    if (!host) {
      throw new NimbusError('TLS', `spec.nimbus.thrift.tls.certSecret names Secret ${ref}, but the server has no host cluster (--kubeconfig or in-cluster) to read it from`);
    }
    let data: Record<string, string> | undefined;
    try {
      data = (await host.core.readNamespacedSecret({ namespace: tls.secretNamespace, name: tls.certSecret })).data;
    } catch (err) {
      if (httpCode(err) === 404) throw new NimbusError('TLS', `Secret ${ref} (spec.nimbus.thrift.tls.certSecret) not found in the host cluster`, { cause: err });
      if (isHostUnavailable(err)) throw new NimbusError('Unavailable', `cannot read Secret ${ref} (spec.nimbus.thrift.tls.certSecret): ${describeHostError(err)}`, { cause: err });
      throw new NimbusError('TLS', `cannot read Secret ${ref} (spec.nimbus.thrift.tls.certSecret): ${describeHostError(err)}`, { cause: err });
    }
    return materialOf(ref, data ?? {});
  };
}

/** The PEM strings of a Secret's base64 `data`; checks the keys go together. */
export function materialOf(ref: string, data: Record<string, string>): TlsMaterial {
  const text = (key: string) => (data[key] ? Buffer.from(data[key], 'base64').toString('utf8') : undefined);
  const material: TlsMaterial = { ca: text(CA_KEY), cert: text(CERT_KEY), key: text(KEY_KEY) };
  if (!material.ca && !material.cert && !material.key) {
    throw new NimbusError('TLS', `Secret ${ref} has none of ${CA_KEY}, ${CERT_KEY}, ${KEY_KEY}`);
  }
  if (Boolean(material.cert) !== Boolean(material.key)) {
    throw new NimbusError('TLS', `Secret ${ref} has ${material.cert ? CERT_KEY : KEY_KEY} without ${material.cert ? KEY_KEY : CERT_KEY}: a client certificate needs both`);
  }
  return Object.fromEntries(Object.entries(material).filter(([, v]) => v !== undefined)) as TlsMaterial;
}

/** A digest of the material: a change means new connections. */
export function materialFingerprint(material: TlsMaterial): string {
  return createHash('sha256').update(JSON.stringify([material.ca ?? '', material.cert ?? '', material.key ?? ''])).digest('hex');
}

/**
 * node:tls options: the CA (else the system CAs), the client certificate, and verification of the
 * certificate against `serverName` (the host the cluster names, which may differ from the address
 * dialled when the pool resolves it elsewhere); none with insecureSkipVerify.
 */
export function tlsConnectionOptions(tls: NimbusTlsSettings, material: TlsMaterial): ConnectionOptions {
  return {
    ...(material.ca ? { ca: material.ca } : {}),
    ...(material.cert && material.key ? { cert: material.cert, key: material.key } : {}),
    rejectUnauthorized: !tls.insecureSkipVerify,
    // SNI carries DNS names only.
    ...(isIP(tls.serverName) ? {} : { servername: tls.serverName }),
    checkServerIdentity: (_host, cert) => checkServerIdentity(tls.serverName, cert),
  };
}
