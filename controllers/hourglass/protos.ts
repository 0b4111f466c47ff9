// The performer's gRPC services, loaded from our own .proto files at run time with
// @grpc/proto-loader: `grpc.health.v1.Health` and `eigenlayer.hourglass.v1.performer.PerformerService`.
//
// tsc does not copy .proto files: from `dist/controllers/hourglass/` they are found at the source
// path `controllers/hourglass/proto/` of the checkout (or next to the compiled file, when a build
// step has copied them there).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const PROTO_FILES = ['health.proto', 'performer.proto'];

/** The directory holding the .proto files: next to this module, else the source tree's. */
export function protoDirectory(): string {
  const candidates = [new URL('./proto/', import.meta.url), new URL('../../../controllers/hourglass/proto/', import.meta.url)].map((u) => fileURLToPath(u));
  const found = candidates.find((dir) => PROTO_FILES.every((f) => existsSync(`${dir}${f}`)));
  if (!found) throw new Error(`performer .proto files not found in ${candidates.join(' or ')}`);
  return found;
}

/** Enums as their names, 64-bit integers as strings, field names as in the .proto (`task_id`). */
const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

export interface PerformerProtos {
  /** Client constructor and service definition of `grpc.health.v1.Health`. */
  Health: grpc.ServiceClientConstructor;
  /** Client constructor and service definition of `eigenlayer.hourglass.v1.performer.PerformerService`. */
  PerformerService: grpc.ServiceClientConstructor;
}

let loaded: PerformerProtos | undefined;

export function performerProtos(): PerformerProtos {
  if (loaded) return loaded;
  const dir = protoDirectory();
  const definition = protoLoader.loadSync(
    PROTO_FILES.map((f) => `${dir}${f}`),
    { ...LOADER_OPTIONS, includeDirs: [dir] },
  );
  const root = grpc.loadPackageDefinition(definition) as any;
  loaded = {
    Health: root.grpc.health.v1.Health as grpc.ServiceClientConstructor,
    PerformerService: root.eigenlayer.hourglass.v1.performer.PerformerService as grpc.ServiceClientConstructor,
  };
  return loaded;
}

/** `grpc.health.v1.HealthCheckResponse.ServingStatus` names. */
export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

/** The name of a gRPC status code (`UNAVAILABLE`), or the number when unknown. */
export function grpcCodeName(code: number): string {
  return grpc.status[code] ?? String(code);
}
