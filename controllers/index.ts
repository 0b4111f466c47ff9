// Every controller the server runs (subject to `--controllers`). The Storm, pvc-chonker and
// Hourglass controllers add themselves here under the names `storm`, `pvcchonker`, `hourglass`.
import type { ControllerDeclaration } from './controller.js';
import type { UpstreamProvider } from './upstreams.js';

export const allControllers: ControllerDeclaration[] = [];

/** The upstream clients the controllers and computed subresources share (see `upstreams.ts`). */
export const allUpstreams: UpstreamProvider[] = [];

export type { ControllerContext, ControllerDeclaration, ReconcileResult, Reconciler, WatchSpec } from './controller.js';
export { ControllerManager, type ManagerOptions } from './manager.js';
