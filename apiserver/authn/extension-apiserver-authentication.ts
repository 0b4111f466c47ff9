// The ConfigMap `kube-system/extension-apiserver-authentication` that kube-apiserver publishes for
// extension API servers: the client CA, the front-proxy (request-header) CA, allowed names and
// header names (JSON arrays). Read from the host cluster and re-read periodically.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';

export const AUTHENTICATION_CONFIGMAP = { namespace: 'kube-system', name: 'extension-apiserver-authentication' };

export interface PublishedAuthentication {
  clientCaPem?: string;
  requestHeader?: {
    caPem: string;
    allowedNames: string[];
    usernameHeaders: string[];
    groupHeaders: string[];
    extraHeaderPrefixes: string[];
  };
}

export function parseAuthenticationConfigMap(data: Record<string, string> | undefined): PublishedAuthentication {
  const result: PublishedAuthentication = {};
  if (!data) return result;
  if (data['client-ca-file']?.trim()) result.clientCaPem = data['client-ca-file'];
  if (data['requestheader-client-ca-file']?.trim()) {
    result.requestHeader = {
      caPem: data['requestheader-client-ca-file'],
      allowedNames: jsonList(data, 'requestheader-allowed-names'),
      usernameHeaders: jsonList(data, 'requestheader-username-headers'),
      groupHeaders: jsonList(data, 'requestheader-group-headers'),
      extraHeaderPrefixes: jsonList(data, 'requestheader-extra-headers-prefix'),
    };
  }
  return result;
}

function jsonList(data: Record<string, string>, key: string): string[] {
  const text = data[key];
  if (!text || text.trim() === '') return [];
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'string')) {
    throw new Error(`${AUTHENTICATION_CONFIGMAP.namespace}/${AUTHENTICATION_CONFIGMAP.name} ${key}: expected a JSON array of strings`);
  }
  return parsed;
}

/**
 * Reads the ConfigMap now and every `intervalMs`, calling `onData` whenever its data changed
 * (and once at the start). Resolves after the first read, rejecting if it failed: a server
 * that cannot learn its CAs must not start as if there were none.
 */
export async function watchAuthenticationConfigMap(
  kubeconfig: KubeConfig,
  intervalMs: number,
  onData: (published: PublishedAuthentication) => void,
  onError: (err: unknown) => void,
): Promise<{ stop(): void }> {
  const api = kubeconfig.makeApiClient(CoreV1Api);
  let last: string | undefined;
  const poll = async (): Promise<void> => {
    let data: Record<string, string> | undefined;
    try {
      const cm = await api.readNamespacedConfigMap(AUTHENTICATION_CONFIGMAP);
      data = cm.data ?? {};
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
      data = {}; // absent: nothing published (kube-apiserver without front proxy)
    }
    const text = JSON.stringify(data);
    if (text === last) return;
    onData(parseAuthenticationConfigMap(data));
    last = text;
  };
  await poll();
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    poll()
      .catch(onError)
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
