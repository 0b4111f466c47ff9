// Every kind the server serves. Adding a kind: a folder registry/<group>/<kind>/ and a line here.
import { declaration as hourglassExecutor } from './hourglass.eigenlayer.io/hourglassexecutor/index.js';
import { declaration as performer } from './hourglass.eigenlayer.io/performer/index.js';
import type { KindDeclaration } from './kind.js';
import { declaration as pvcGroup } from './pvc-chonker.io/pvcgroup/index.js';
import { declaration as pvcPolicy } from './pvc-chonker.io/pvcpolicy/index.js';
import { declaration as stormCluster } from './storm.apache.org/stormcluster/index.js';
import { declaration as stormTopology } from './storm.apache.org/stormtopology/index.js';
import { declaration as stormWorkerPool } from './storm.apache.org/stormworkerpool/index.js';

export const allKinds: KindDeclaration[] = [
  stormCluster,
  stormTopology,
  stormWorkerPool,
  pvcPolicy,
  pvcGroup,
  hourglassExecutor,
  performer,
];
