import { bundledSchemaRegistry } from '@burnrate/core';

/**
 * An independent, strict reader of usage-event single-object encoding, written from the Avro
 * specification for the fuzz to compare the production decoder against (differential testing). It
 * shares no code with the codec: varints are read as BigInt, strings must be valid UTF-8, ints must
 * fit 32 bits, and a count that cannot fit in the bytes left is refused at once. Longs beyond the
 * codec's documented exact range (|n| ≤ 2^53 − 2) are refused as the contract says.
 */
export class ReferenceDecodeError extends Error {}

/** The exact range of longs the contract decodes (JavaScript numbers; avsc refuses beyond). */
export const MAX_EXACT_LONG = 2n ** 53n - 2n;

interface SchemaObject {
  type: string;
  symbols?: string[];
  fields?: Array<{ name: string; type: Schema; default?: unknown }>;
  values?: Schema;
  default?: unknown;
}
type Schema = string | SchemaObject | Schema[];

const utf8 = new TextDecoder('utf-8', { fatal: true });

class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  get left(): number {
    return this.buf.length - this.pos;
  }

  byte(): number {
    if (this.pos >= this.buf.length) throw new ReferenceDecodeError('truncated');
    return this.buf[this.pos++]!;
  }

  varint(): bigint {
    // Short varints (below 2^28) in plain numbers; longer ones in BigInt.
    const first = this.pos;
    let small = 0;
    for (let i = 0; i < 4 && this.pos < this.buf.length; i++) {
      const b = this.buf[this.pos++]!;
      small |= (b & 0x7f) << (7 * i);
      if ((b & 0x80) === 0) {
        const z = small >>> 0;
        return BigInt((z >>> 1) ^ -(z & 1));
      }
    }
    this.pos = first;
    let z = 0n;
    let shift = 0n;
    for (let i = 0; ; i++) {
      if (i >= 10) throw new ReferenceDecodeError('varint longer than 10 bytes');
      const b = this.byte();
      z |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) break;
    }
    z &= (1n << 64n) - 1n;
    return (z >> 1n) ^ -(z & 1n);
  }

  long(): number {
    const n = this.varint();
    if (n > MAX_EXACT_LONG || n < -MAX_EXACT_LONG) throw new ReferenceDecodeError(`long ${n} beyond 2^53`);
    return Number(n);
  }

  int(): number {
    const n = this.varint();
    if (n > 2n ** 31n - 1n || n < -(2n ** 31n)) throw new ReferenceDecodeError(`int ${n} beyond 32 bits`);
    return Number(n);
  }

  string(): string {
    const n = this.varint();
    if (n < 0n || n > BigInt(this.left))
      throw new ReferenceDecodeError(`string length ${n} beyond the bytes left`);
    const bytes = this.buf.subarray(this.pos, this.pos + Number(n));
    this.pos += Number(n);
    try {
      return utf8.decode(bytes);
    } catch {
      throw new ReferenceDecodeError('string is not valid UTF-8');
    }
  }

  double(): number {
    if (this.left < 8) throw new ReferenceDecodeError('truncated double');
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
    this.pos += 8;
    return view.getFloat64(0, true);
  }
}

function read(r: Reader, schema: Schema): unknown {
  if (Array.isArray(schema)) {
    const index = r.varint();
    if (index < 0n || index >= BigInt(schema.length)) throw new ReferenceDecodeError(`union index ${index}`);
    return read(r, schema[Number(index)]!);
  }
  const type = typeof schema === 'string' ? schema : schema.type;
  switch (type) {
    case 'null':
      return null;
    case 'string':
      return r.string();
    case 'long':
      return r.long();
    case 'int':
      return r.int();
    case 'double':
      return r.double();
    case 'enum': {
      const symbols = (schema as SchemaObject).symbols!;
      const index = r.varint();
      if (index < 0n || index >= BigInt(symbols.length))
        throw new ReferenceDecodeError(`enum index ${index}`);
      return symbols[Number(index)];
    }
    case 'record': {
      const out: Record<string, unknown> = {};
      for (const f of (schema as SchemaObject).fields!) {
        out[f.name] = read(r, f.type);
      }
      return out;
    }
    case 'map': {
      const out: Record<string, unknown> = {};
      for (;;) {
        let count = r.varint();
        if (count === 0n) return out;
        if (count < 0n) {
          count = -count;
          const size = r.varint();
          if (size < 0n || size > BigInt(r.left)) throw new ReferenceDecodeError(`map block size ${size}`);
        }
        // Every entry takes at least two bytes (two lengths): a larger count cannot be true.
        if (count * 2n > BigInt(r.left)) throw new ReferenceDecodeError(`map block count ${count}`);
        for (let i = 0n; i < count; i++) {
          const key = r.string();
          const value = read(r, (schema as SchemaObject).values!);
          if (key === '__proto__') {
            Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
          } else out[key] = value;
        }
      }
    }
    default:
      throw new Error(`the reference decoder does not handle ${type}`);
  }
}

export interface ReferenceDecoded {
  version: number;
  /** The event resolved to the latest schema: fields the writer lacks hold the reader's defaults. */
  event: Record<string, unknown>;
}

/** Decodes or throws ReferenceDecodeError; never anything else for any input. */
export function referenceDecode(bytes: Uint8Array): ReferenceDecoded {
  if (bytes.length < 10 || bytes[0] !== 0xc3 || bytes[1] !== 0x01)
    throw new ReferenceDecodeError('bad magic');
  const fingerprint = Buffer.from(bytes.buffer, bytes.byteOffset + 2, 8).readBigUInt64LE(0);
  const registry = bundledSchemaRegistry();
  const writer = registry.versions.find((v) => v.fingerprint === fingerprint);
  if (!writer) throw new ReferenceDecodeError('unknown fingerprint');
  const r = new Reader(bytes.subarray(10));
  const written = read(r, writer.schema as Schema) as Record<string, unknown>;
  if (r.left !== 0) throw new ReferenceDecodeError(`${r.left} trailing bytes`);
  const reader = registry.latest.schema as SchemaObject;
  const event: Record<string, unknown> = {};
  for (const f of reader.fields!) {
    if (Object.hasOwn(written, f.name)) {
      const value = written[f.name];
      if (typeof f.type === 'object' && !Array.isArray(f.type) && f.type.type === 'enum') {
        event[f.name] = f.type.symbols!.includes(value as string) ? value : f.type.default;
      } else event[f.name] = value;
    } else event[f.name] = structuredClone(f.default);
  }
  return { version: writer.version, event };
}
