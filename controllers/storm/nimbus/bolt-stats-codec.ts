// A hand-written Thrift codec for Storm's BoltStats, whose maps are keyed by the struct
// GlobalStreamId (`map<string window, map<GlobalStreamId, i64|double>>`). The JavaScript that
// Thrift's compiler generates uses plain objects for maps: reading turns every struct key into
// "[object Object]" (collapsing the streams) and writing cannot encode them at all. This class
// replaces the generated BoltStats (the generated ExecutorSpecificStats builds and reads
// `ttypes.BoltStats`, so swapping the export is enough) and keeps each inner map as a list of
// entries.
import type { ThriftProtocol } from './generated.js';

/** One entry of a GlobalStreamId-keyed map. */
export interface GlobalStreamValue {
  componentId: string;
  streamId: string;
  value: number;
}

/** window → entries. */
export type WindowedEntries = Record<string, GlobalStreamValue[]>;

const FIELDS = [
  { id: 1, name: 'acked', value: 'i64' },
  { id: 2, name: 'failed', value: 'i64' },
  { id: 3, name: 'process_ms_avg', value: 'double' },
  { id: 4, name: 'executed', value: 'i64' },
  { id: 5, name: 'execute_ms_avg', value: 'double' },
] as const;

type FieldName = (typeof FIELDS)[number]['name'];

/** Field ids 1–3 are required in storm.thrift; 4–5 optional. */
export type BoltStatsFields = Partial<Record<FieldName, WindowedEntries>>;

/** The Thrift protocol calls the codec makes: the generated code's protocol. */
type Protocol = ThriftProtocol;

export function installBoltStatsCodec(types: Record<string, unknown>, T: Record<string, number>): void {
  class BoltStats implements BoltStatsFields {
    acked?: WindowedEntries;
    failed?: WindowedEntries;
    process_ms_avg?: WindowedEntries;
    executed?: WindowedEntries;
    execute_ms_avg?: WindowedEntries;

    constructor(args?: BoltStatsFields) {
      for (const { name } of FIELDS) if (args?.[name]) this[name] = args[name];
    }

    read(input: Protocol): void {
      input.readStructBegin();
      for (;;) {
        const { ftype, fid } = input.readFieldBegin();
        if (ftype === T.STOP) break;
        const field = FIELDS.find((f) => f.id === fid);
        if (field && ftype === T.MAP) this[field.name] = readWindowedEntries(input);
        else input.skip(ftype);
        input.readFieldEnd();
      }
      input.readStructEnd();
    }

    write(output: Protocol): void {
      output.writeStructBegin('BoltStats');
      for (const field of FIELDS) {
        const windows = this[field.name];
        if (!windows) continue;
        const valueType = field.value === 'i64' ? T.I64 : T.DOUBLE;
        output.writeFieldBegin(field.name, T.MAP, field.id);
        const entries = Object.entries(windows);
        output.writeMapBegin(T.STRING, T.MAP, entries.length);
        for (const [window, values] of entries) {
          output.writeString(window);
          output.writeMapBegin(T.STRUCT, valueType, values.length);
          for (const { componentId, streamId, value } of values) {
            writeGlobalStreamId(output, componentId, streamId);
            if (field.value === 'i64') output.writeI64(value);
            else output.writeDouble(value);
          }
          output.writeMapEnd();
        }
        output.writeMapEnd();
        output.writeFieldEnd();
      }
      output.writeFieldStop();
      output.writeStructEnd();
    }
  }

  function readWindowedEntries(input: Protocol): WindowedEntries {
    const out: WindowedEntries = {};
    const outer = input.readMapBegin();
    for (let i = 0; i < (outer.size || 0); i++) {
      const window = input.readString();
      const inner = input.readMapBegin();
      const values: GlobalStreamValue[] = [];
      for (let j = 0; j < (inner.size || 0); j++) {
        const key = inner.ktype === T.STRUCT ? readGlobalStreamId(input) : undefined;
        if (!key) input.skip(inner.ktype);
        const value = readNumber(input, inner.vtype);
        if (key && value !== undefined) values.push({ ...key, value });
      }
      input.readMapEnd();
      out[window] = values;
    }
    input.readMapEnd();
    return out;
  }

  function readNumber(input: Protocol, type: number): number | undefined {
    if (type === T.I64) return input.readI64().toNumber(true);
    if (type === T.DOUBLE) return input.readDouble();
    input.skip(type);
    return undefined;
  }

  function readGlobalStreamId(input: Protocol): { componentId: string; streamId: string } {
    let componentId = '';
    let streamId = '';
    input.readStructBegin();
    for (;;) {
      const { ftype, fid } = input.readFieldBegin();
      if (ftype === T.STOP) break;
      if (fid === 1 && ftype === T.STRING) componentId = input.readString();
      else if (fid === 2 && ftype === T.STRING) streamId = input.readString();
      else input.skip(ftype);
      input.readFieldEnd();
    }
    input.readStructEnd();
    return { componentId, streamId };
  }

  function writeGlobalStreamId(output: Protocol, componentId: string, streamId: string): void {
    output.writeStructBegin('GlobalStreamId');
    output.writeFieldBegin('componentId', T.STRING, 1);
    output.writeString(componentId);
    output.writeFieldEnd();
    output.writeFieldBegin('streamId', T.STRING, 2);
    output.writeString(streamId);
    output.writeFieldEnd();
    output.writeFieldStop();
    output.writeStructEnd();
  }

  types.BoltStats = BoltStats;
}
