// Upstream clients — Nimbus over Thrift, kubelet metrics, performer gRPC — shared by the controllers
// and the computed subresources. Each group's module declares providers (`allUpstreams` in
// `controllers/index.ts`); the server creates every client once at start, lets tests override
// them (`ServerExtensions.upstreams`), hands them to subresources (`SubresourceServices.upstream`)
// and controllers (`ControllerContext.upstream`), and closes them on stop.
import type { CompletedOptions } from '../apiserver/options.js';
import type { UpstreamKey } from '../registry/subresource.js';
import type { ControllerLogger } from './controller.js';
import type { HostClient } from './host-client.js';

export interface UpstreamContext {
  /** The host cluster, when the server has one. */
  host: HostClient | undefined;
  options: CompletedOptions;
  log: ControllerLogger;
}

export interface UpstreamProvider<T = unknown> {
  key: UpstreamKey<T>;
  create(context: UpstreamContext): T;
  /** Releases what `create` opened (pools, channels). */
  close?(client: T): Promise<void> | void;
}

/** The running upstream clients, by key name. */
export class Upstreams {
  private readonly clients = new Map<string, { client: unknown; close?: () => Promise<void> | void }>();

  static create(providers: UpstreamProvider[], context: UpstreamContext, overrides: Array<[UpstreamKey<unknown>, unknown]> = []): Upstreams {
    const upstreams = new Upstreams();
    const overridden = new Map(overrides.map(([key, client]) => [key.name, client]));
    for (const provider of providers) {
      if (overridden.has(provider.key.name)) continue;
      const client = provider.create(context);
      upstreams.clients.set(provider.key.name, { client, close: provider.close && (() => provider.close!(client)) });
    }
    for (const [name, client] of overridden) upstreams.clients.set(name, { client });
    return upstreams;
  }

  get<T>(key: UpstreamKey<T>): T | undefined {
    return this.clients.get(key.name)?.client as T | undefined;
  }

  async close(): Promise<void> {
    for (const { close } of this.clients.values()) await close?.();
    this.clients.clear();
  }
}
