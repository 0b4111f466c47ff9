// Subresources beyond `status` and `scale`: computed reads (`GET …/{name}/metrics`) and custom verbs
// (`POST …/{name}/promote`, in the style of `pods/eviction`). A kind declares them as data
// (`KindDeclaration.subresources`); the server installs one route per declaration, lists it in
// discovery and OpenAPI, and RBAC sees it as its own resource (`stormtopologies/promote`).
//
// Contract of a handler:
// - It is built once at install time by `connect(services)`; it reaches the outside world (Nimbus,
//   kubelets, performers) only through `services.upstream(key)`, interfaces the server registers
//   (registry code never imports `controllers/`).
// - The server has already checked the route, authorization, and for `create` decoded the body
//   (JSON or YAML) and checked its `apiVersion` (`<group>/<version>` of the URL, or absent) and
//   `kind` (the declaration's `kind`, or absent), and validated `spec` against `requestSpec`
//   (422 Invalid with field paths otherwise). `request.body` is that object with `spec` parsed.
// - It returns the response object without `apiVersion`/`kind` (the server sets them from the
//   declaration and the URL's version) and the status code (default 200; 201 for a verb that
//   created something). Errors are thrown as `StatusError`s from `apiserver/errors.ts`
//   (404 for a missing parent object, 409/422/503 as the kind's issue says).
// - `dryRun` requests change nothing and answer as if they had.
import type { z } from 'zod';
import type { KubeObject } from './meta.js';
import type { Store } from './store.js';

export interface SubresourceUser {
  username: string;
  uid?: string;
  groups: string[];
}

export interface SubresourceRequest {
  namespace?: string;
  /** The parent object's name. */
  name: string;
  /** The URL's version of the parent's group (`v1beta1`, `v1alpha1`). */
  version: string;
  /** Query parameters (first value of each). */
  query: Record<string, string | undefined>;
  user: SubresourceUser;
  dryRun: boolean;
  /** Aborted when the client goes away or the request times out. */
  signal: AbortSignal;
  /** `create` only: the decoded request object (`spec` validated by `requestSpec`). */
  body?: KubeObject;
}

export interface SubresourceResponse {
  /** 200 unless said otherwise. */
  code?: 200 | 201 | 202;
  /** The response object without apiVersion/kind. */
  object: Record<string, unknown>;
}

export type SubresourceHandler = (request: SubresourceRequest) => Promise<SubresourceResponse>;

/** A typed name for an upstream client (`upstreamKey<NimbusClients>('storm.nimbus')`). */
export interface UpstreamKey<T> {
  readonly name: string;
  /** Never set; carries the type. */
  readonly __type?: T;
}

export function upstreamKey<T>(name: string): UpstreamKey<T> {
  return { name };
}

/** What the server gives a subresource (and a controller) to work with. */
export interface SubresourceServices {
  /** The parent kind's Store. */
  store: Store;
  /** Every Store, keyed `plural.group` (`stormclusters.storm.apache.org`). */
  stores: Map<string, Store>;
  /** The upstream client registered under `key`; undefined when the server has none. */
  upstream<T>(key: UpstreamKey<T>): T | undefined;
  now(): Date;
}

export interface SubresourceDeclaration {
  /** The path segment and RBAC subresource name (`promote`). */
  name: string;
  /** `get`: a computed read. `create`: a custom verb, a POST of a request object. */
  verb: 'get' | 'create';
  /** Kind of the response object (and for `create` of the request object), in the parent's group. */
  kind: string;
  /** One or two sentences; the OpenAPI description. */
  description: string;
  /** `create` only: schema of the request object's `spec` (with defaults). */
  requestSpec?: z.ZodType;
  /** Schema of the response object's body below apiVersion/kind (for OpenAPI). */
  response: z.ZodType;
  /** `get` only: accepted query parameters, name → description (others are ignored, as k8s does). */
  queryParameters?: Record<string, string>;
  connect(services: SubresourceServices): SubresourceHandler;
}
