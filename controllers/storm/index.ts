// The Storm controllers (StormCluster, StormTopology, StormWorkerPool), listed in
// controllers/index.ts. Each adds one line here.
import type { ControllerDeclaration } from '../controller.js';
import { stormClusterController } from './cluster.js';
import { topologyController } from './topology.js';
import { workerPoolController } from './workerpool.js';

export function stormControllers(): ControllerDeclaration[] {
  return [
    stormClusterController(),
    topologyController(),
    workerPoolController(),
  ];
}
