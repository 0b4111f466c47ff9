// Events about what a controller did (`Submitted`, `Expanded`, `ExpansionFailed`, …): core/v1
// Events on the host cluster whose involvedObject is OUR object, so `kubectl describe` against
// the aggregated API and `kubectl get events` on the host both show them.
//
// Like client-go's EventCorrelator (its identical-event part): an event identical to one recorded
// before (same object, type, reason, message, component) does not create a new Event; the earlier
// one's `count` and `lastTimestamp` are bumped instead. Recording never blocks or fails the
// caller: writes are queued in order and failures are logged. `flush()` waits for the queue.
import type { CoreV1Event, CoreV1Api } from '@kubernetes/client-node';
import type { KubeObject } from '../registry/meta.js';
import { realClock, type Clock } from './clock.js';
import { httpCode } from './http-errors.js';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /** Records `reason` (CamelCase) with a human-readable `message` about `obj`. */
  event(obj: KubeObject, type: EventType, reason: string, message: string): void;
  /** Resolves when every event recorded so far has been written (or has failed). */
  flush(): Promise<void>;
}

export interface EventLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Kept per correlation key; the oldest are forgotten beyond this many (client-go: 4096). */
const MAX_CORRELATED = 4096;
/** core/v1 Event message limit the API server enforces (1 KiB). */
const MAX_MESSAGE = 1024;

export interface HostEventRecorderOptions {
  core: CoreV1Api;
  /** `source.component` / `reportingComponent`, e.g. `operators-apiserver/storm`. */
  component: string;
  /** `source.host` / `reportingInstance`: this replica. */
  instance: string;
  clock?: Clock;
  log?: EventLogger;
}


export class HostEventRecorder implements EventRecorder {
  private readonly clock: Clock;
  private readonly correlated = new Map<string, CoreV1Event>();
  private queue: Promise<void> = Promise.resolve();
  private seq = 0;

  constructor(private readonly options: HostEventRecorderOptions) {
    this.clock = options.clock ?? realClock;
  }

  event(obj: KubeObject, type: EventType, reason: string, message: string): void {
    const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 3)}...` : message;
    const at = this.clock.now();
    this.queue = this.queue.then(() => this.write(obj, type, reason, text, at));
  }

  flush(): Promise<void> {
    return this.queue;
  }

  private async write(obj: KubeObject, type: EventType, reason: string, message: string, at: number): Promise<void> {
    const meta = obj.metadata;
    const key = [obj.apiVersion, obj.kind, meta.namespace ?? '', meta.name, meta.uid ?? '', type, reason, message].join('\u0000');
    const previous = this.correlated.get(key);
    try {
      let written: CoreV1Event | undefined;
      if (previous) written = await this.bump(previous, at);
      written ??= await this.create(obj, type, reason, message, at);
      this.correlated.delete(key);
      this.correlated.set(key, written);
      if (this.correlated.size > MAX_CORRELATED) this.correlated.delete(this.correlated.keys().next().value!);
    } catch (err) {
      this.options.log?.warn({ err, reason, object: `${meta.namespace ?? ''}/${meta.name}` }, 'event: could not write to the host cluster');
    }
  }

  /** count+1 on the earlier Event; undefined when it is gone or changed (then a new one is created). */
  private async bump(previous: CoreV1Event, at: number): Promise<CoreV1Event | undefined> {
    const body: CoreV1Event = { ...previous, count: (previous.count ?? 1) + 1, lastTimestamp: new Date(at) };
    try {
      return await this.options.core.replaceNamespacedEvent({ name: previous.metadata.name!, namespace: previous.metadata.namespace!, body });
    } catch (err) {
      const code = httpCode(err);
      if (code === 404 || code === 409) return undefined;
      throw err;
    }
  }

  private create(obj: KubeObject, type: EventType, reason: string, message: string, at: number): Promise<CoreV1Event> {
    const meta = obj.metadata;
    const namespace = meta.namespace || 'default';
    // client-go names events `<object>.<unix nanos in hex>`; the counter keeps names unique within a millisecond.
    const suffix = (BigInt(at) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16);
    const body: CoreV1Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${meta.name}.${suffix}`, namespace },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
      },
      type,
      reason,
      message,
      count: 1,
      firstTimestamp: new Date(at),
      lastTimestamp: new Date(at),
      source: { component: this.options.component, host: this.options.instance },
      reportingComponent: this.options.component,
      reportingInstance: this.options.instance,
    };
    return this.options.core.createNamespacedEvent({ namespace, body });
  }
}

/** Without a host cluster (standalone): events go to the log only. */
export class LogEventRecorder implements EventRecorder {
  constructor(
    private readonly log: EventLogger,
    private readonly component: string,
  ) {}

  event(obj: KubeObject, type: EventType, reason: string, message: string): void {
    const entry = { component: this.component, kind: obj.kind, object: `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`, type, reason, message };
    if (type === 'Warning') this.log.warn(entry, 'event');
    else this.log.info(entry, 'event');
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }
}
