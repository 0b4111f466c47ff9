// Loads the Thrift code generated from storm.thrift (CommonJS in gen/, checked in; regenerate with
// `bash hack/gen-thrift.sh`) and installs the hand-written BoltStats codec in place of the
// generated class (see bolt-stats-codec.ts). Client and stand-in Nimbus both load it from here.
//
// gen/ is found next to this file (source runs, and `npm run build` copies it into dist/) or, from
// dist/ without the copy, at the source path.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installBoltStatsCodec } from './bolt-stats-codec.js';

const here = dirname(fileURLToPath(import.meta.url));
const genDir = [join(here, 'gen'), join(here, '..', '..', '..', '..', 'controllers', 'storm', 'nimbus', 'gen')].find((dir) =>
  existsSync(join(dir, 'Nimbus.js')),
);
if (!genDir) throw new Error(`generated Nimbus Thrift code not found next to ${here} (run hack/gen-thrift.sh)`);

const require = createRequire(import.meta.url);

/** A generated struct class: built from a plain object of its (snake_case) fields. */
export type ThriftStructClass = new (args?: Record<string, unknown>) => Record<string, any> & {
  read(input: unknown): void;
  write(output: unknown): void;
};

/** The generated storm_types module (classes by struct name, enums as name → number maps). */
export const stormTypes = require(join(genDir, 'storm_types.js')) as Record<string, any> & {
  NumErrorsChoice: Record<'ALL' | 'NONE' | 'ONE', number>;
  ComponentType: Record<'BOLT' | 'SPOUT', number>;
};

/** The generated Nimbus service module: `Client` (promise methods, `recv_*`) and `Processor`. */
export const nimbusService = require(join(genDir, 'Nimbus.js')) as {
  Client: new (output: unknown, protocolClass: unknown) => NimbusGeneratedClient;
  Processor: new (handler: object) => { process(input: unknown, output: unknown): void };
};

export interface NimbusGeneratedClient {
  _reqs: Record<number, (error: unknown, result?: unknown) => void>;
  [method: string]: any;
}

/** The thrift npm runtime (transport, protocol, exceptions) the generated code uses. */
export const thriftRuntime = require('thrift') as {
  Thrift: {
    TException: new (message?: string) => Error;
    TApplicationException: new (type?: number, message?: string) => Error & { type: number };
    TApplicationExceptionType: Record<string, number>;
    TProtocolException: new (type?: number, message?: string) => Error;
    MessageType: { CALL: number; REPLY: number; EXCEPTION: number; ONEWAY: number };
    Type: Record<string, number>;
  };
  TFramedTransport: new (buffer?: Buffer, onFlush?: (frame: Buffer, seqid?: number) => void) => unknown;
  TBinaryProtocol: new (transport: unknown, strictRead?: boolean, strictWrite?: boolean) => ThriftProtocol;
};

export interface ThriftProtocol {
  readMessageBegin(): { fname: string; mtype: number; rseqid: number };
  readMessageEnd(): void;
  readStructBegin(): void;
  readStructEnd(): void;
  readFieldBegin(): { fname: string; ftype: number; fid: number };
  readFieldEnd(): void;
  readMapBegin(): { ktype: number; vtype: number; size: number };
  readMapEnd(): void;
  readString(): string;
  readI64(): { toNumber(allowImprecise?: boolean): number };
  readDouble(): number;
  skip(type: number): void;
  writeStructBegin(name: string): void;
  writeStructEnd(): void;
  writeFieldBegin(name: string, type: number, id: number): void;
  writeFieldEnd(): void;
  writeFieldStop(): void;
  writeMapBegin(ktype: number, vtype: number, size: number): void;
  writeMapEnd(): void;
  writeString(value: string): void;
  writeI64(value: number): void;
  writeDouble(value: number): void;
}

/** TBinaryProtocol in strict mode both ways (a version header on every message), as Storm's client writes. */
export function strictBinaryProtocol(transport: unknown): ThriftProtocol {
  return new thriftRuntime.TBinaryProtocol(transport, true, true);
}

/** For the generated Client, which builds its protocol with `new pClass(transport)`. */
export const StrictBinaryProtocol = function (this: unknown, transport: unknown) {
  return strictBinaryProtocol(transport);
} as unknown as new (transport: unknown) => ThriftProtocol;

installBoltStatsCodec(stormTypes, thriftRuntime.Thrift.Type);
