// The Hourglass controllers (`hourglass`: Performers; `hourglass-executor`: HourglassExecutors)
// and the performer gRPC client they and the `connection` subresource share.
import { PERFORMER_HEALTH, type PerformerHealth } from '../../registry/hourglass.eigenlayer.io/upstreams.js';
import type { ControllerDeclaration } from '../controller.js';
import type { UpstreamProvider } from '../upstreams.js';
import { executorController, type ExecutorControllerOptions } from './executor.js';
import { PerformerClientPool, type PerformerClientPoolOptions } from './grpc-pool.js';
import { performerController, type PerformerControllerOptions } from './performer.js';

export interface HourglassControllerOptions {
  performer?: PerformerControllerOptions;
  executor?: ExecutorControllerOptions;
}

export function hourglassControllers(options: HourglassControllerOptions = {}): ControllerDeclaration[] {
  return [performerController(options.performer), executorController(options.executor)];
}

/** One pooled gRPC client for every performer endpoint (`grpc-pool.ts`). */
export function performerHealthProvider(options: PerformerClientPoolOptions = {}): UpstreamProvider<PerformerHealth> {
  return {
    key: PERFORMER_HEALTH,
    create: () => new PerformerClientPool(options),
    close: (client) => (client as PerformerClientPool).close(),
  };
}

export { executorController, performerController, PerformerClientPool };
