// Every controller the server runs (subject to `--controllers`). The Storm, pvc-chonker and
// Hourglass controllers add themselves here under the names `storm`, `pvcchonker`, `hourglass`.
import type { ControllerDeclaration } from './controller.js';

export const allControllers: ControllerDeclaration[] = [];

export type { ControllerContext, ControllerDeclaration, ReconcileResult, Reconciler, WatchSpec } from './controller.js';
export { ControllerManager, type ManagerOptions } from './manager.js';
