import type { Backend } from './backend.js';

export * from './backend.js';

/**
 * Options for opening a store, from the `--storage` URL and the etcd TLS flags.
 *
 * `--storage` forms:
 * - `memory`                                   process memory, gone on exit (tests)
 * - `sqlite:///abs/path/state.db`, `sqlite://relative/state.db`, `sqlite` (= `./data/state.db`)
 * - `etcd3://host:port[,host:port...]`         real etcd (or kine); `etcd3s://` for TLS
 */
export interface StorageOptions {
  url: string;
  /** Prefix under which every key of this server lives (etcd only; default `/`). */
  etcdPrefix?: string;
  etcdCaFile?: string;
  etcdCertFile?: string;
  etcdKeyFile?: string;
}

export const DEFAULT_STORAGE_URL = 'sqlite://data/state.db';

type Opener = (options: StorageOptions, location: string) => Promise<Backend>;

// Drivers are imported lazily so that, e.g., the memory store never loads the SQLite addon.
const drivers: Record<string, Opener> = {
  memory: async () => (await import('./memory.js')).openMemoryBackend(),
  sqlite: async (_options, location) =>
    (await import('./sqlite.js')).openSqliteBackend(location === '' ? 'data/state.db' : location),
  etcd3: async (options, location) =>
    (await import('./etcd3.js')).openEtcd3Backend({ ...options, endpoints: endpointList(location, 'http') }),
  etcd3s: async (options, location) =>
    (await import('./etcd3.js')).openEtcd3Backend({ ...options, endpoints: endpointList(location, 'https') }),
};

/** Splits `scheme://location` (or a bare `scheme`), rejecting unknown schemes with the known list. */
export function parseStorageUrl(url: string): { scheme: string; location: string } {
  const match = /^([a-z0-9]+)(?::\/\/(.*))?$/.exec(url.trim());
  const scheme = match?.[1];
  if (!match || !scheme || !(scheme in drivers)) {
    throw new Error(
      `--storage=${url}: expected one of memory, sqlite://<path>, etcd3://<host:port>[,...], etcd3s://<host:port>[,...]`,
    );
  }
  return { scheme, location: match[2] ?? '' };
}

export async function openBackend(options: StorageOptions): Promise<Backend> {
  const { scheme, location } = parseStorageUrl(options.url);
  return drivers[scheme](options, location);
}

function endpointList(location: string, protocol: 'http' | 'https'): string[] {
  const hosts = location.split(',').map((h) => h.trim()).filter(Boolean);
  if (hosts.length === 0) throw new Error('--storage=etcd3://: at least one host:port is required');
  return hosts.map((h) => (/^https?:\/\//.test(h) ? h : `${protocol}://${h}`));
}
