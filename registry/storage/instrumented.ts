// A Backend that times every call of another one and reports it to an observer, as
// kube-apiserver's etcd3 store does for `etcd_request_duration_seconds{operation,type}`. The
// operation is the Backend method (`get`, `list`, `create`, `update`, `delete`, `watch`,
// `compact`, ...); the type is what `typeOf(key)` says the key holds (e.g.
// `stormtopologies.storm.apache.org`). Failed calls are timed too. Behaviour is otherwise the
// inner backend's, errors included.
import type { Backend, GetOptions, KeyValue, ListOptions, ListResult, Watch, WatchOptions } from './backend.js';

export type StorageObserver = (operation: string, type: string, seconds: number) => void;

export interface InstrumentationOptions {
  observe: StorageObserver;
  /** The object type of a key or prefix; calls without a key (compact, ping) are typed ''. */
  typeOf: (key: string) => string;
}

export function instrumentBackend(inner: Backend, options: InstrumentationOptions): Backend {
  const { observe, typeOf } = options;
  async function timed<T>(operation: string, type: string, call: () => Promise<T>): Promise<T> {
    const started = process.hrtime.bigint();
    try {
      return await call();
    } finally {
      observe(operation, type, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }
  return {
    name: inner.name,
    get: (key: string, opts?: GetOptions): Promise<KeyValue | undefined> => timed('get', typeOf(key), () => inner.get(key, opts)),
    list: (prefix: string, opts?: ListOptions): Promise<ListResult> => timed('list', typeOf(prefix), () => inner.list(prefix, opts)),
    create: (key: string, value: Buffer) => timed('create', typeOf(key), () => inner.create(key, value)),
    update: (key: string, value: Buffer, expected: number) => timed('update', typeOf(key), () => inner.update(key, value, expected)),
    delete: (key: string, expected?: number) => timed('delete', typeOf(key), () => inner.delete(key, expected)),
    // Opening a watch is synchronous; what is timed is the call, not the stream's lifetime.
    watch(prefix: string, afterRevision: number, opts?: WatchOptions): Watch {
      const started = process.hrtime.bigint();
      try {
        return inner.watch(prefix, afterRevision, opts);
      } finally {
        observe('watch', typeOf(prefix), Number(process.hrtime.bigint() - started) / 1e9);
      }
    },
    compact: (revision: number) => timed('compact', '', () => inner.compact(revision)),
    compactedRevision: () => timed('compactedRevision', '', () => inner.compactedRevision()),
    currentRevision: () => timed('currentRevision', '', () => inner.currentRevision()),
    ping: () => timed('ping', '', () => inner.ping()),
    close: () => inner.close(),
  };
}
