// Every controller the server runs (subject to `--controllers`). The Storm, pvc-chonker and
// Hourglass controllers add themselves here under the names `storm`, `pvcchonker`, `hourglass`.
import type { ControllerDeclaration } from './controller.js';
import type { UpstreamProvider } from './upstreams.js';
import { chonkerProvider } from './pvcchonker/chonker.js';
import { pvcChonkerController } from './pvcchonker/controller.js';
import { nimbusUpstream } from './storm/nimbus/index.js';
import { stormControllers } from './storm/index.js';
import { hourglassControllers, performerHealthProvider } from './hourglass/index.js';

export const allControllers: ControllerDeclaration[] = [pvcChonkerController(), ...hourglassControllers(), ...stormControllers()];

/** The upstream clients the controllers and computed subresources share (see `upstreams.ts`). */
export const allUpstreams: UpstreamProvider[] = [chonkerProvider as UpstreamProvider, nimbusUpstream as UpstreamProvider, performerHealthProvider() as UpstreamProvider];

export type { ControllerContext, ControllerDeclaration, ReconcileResult, Reconciler, WatchSpec } from './controller.js';
export { ControllerManager, type ManagerOptions } from './manager.js';
