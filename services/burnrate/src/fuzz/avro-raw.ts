import { bundledSchemaRegistry, type UsageEvent } from '@burnrate/core';
import type { Type } from 'avsc';

/**
 * Avro binary pieces written by hand, so the fuzz can put any bytes where a field belongs: longs
 * beyond 2^53, wrong union branches, lengths that lie. Values that fit go through avsc itself.
 */
const MASK64 = (1n << 64n) - 1n;

/** Zig-zag varint of any 64-bit signed value (Avro long encoding). */
export function rawLong(value: bigint): Buffer {
  if (value >= 0n && value < 64n) return Buffer.of(Number(value) << 1);
  let z = ((value << 1n) ^ (value >> 63n)) & MASK64;
  const out: number[] = [];
  do {
    let b = Number(z & 0x7fn);
    z >>= 7n;
    if (z !== 0n) b |= 0x80;
    out.push(b);
  } while (z !== 0n);
  return Buffer.from(out);
}

/** A varint of `bytes` bytes that encodes 0 followed by continuation bits: longer than any long may be. */
export function overlongVarint(bytes: number): Buffer {
  const out = Buffer.alloc(bytes, 0x80);
  out[bytes - 1] = 0x00;
  return out;
}

export function rawString(bytes: Buffer | string): Buffer {
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  return Buffer.concat([rawLong(BigInt(data.length)), data]);
}

function stringsOf(items: Array<Buffer | string>): Buffer[] {
  const out: Buffer[] = [];
  for (const item of items) {
    const data = typeof item === 'string' ? Buffer.from(item, 'utf8') : item;
    out.push(rawLong(BigInt(data.length)), data);
  }
  return out;
}

export function rawDouble(value: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeDoubleLE(value);
  return out;
}

/** A map written as the given blocks; a negative count carries the block's byte size, as Avro allows. */
export function rawMap(
  blocks: Array<{ entries: Array<[Buffer | string, Buffer | string]>; sized?: boolean }>,
) {
  const parts: Buffer[] = [];
  for (const block of blocks) {
    const body = Buffer.concat(stringsOf(block.entries.flat()));
    if (block.sized) parts.push(rawLong(-BigInt(block.entries.length)), rawLong(BigInt(body.length)));
    else parts.push(rawLong(BigInt(block.entries.length)));
    parts.push(body);
  }
  parts.push(Buffer.of(0));
  return Buffer.concat(parts);
}

/** What a top-level field of the usage event is, for choosing mutations that fit (or do not fit) it. */
export type FieldShape =
  | 'string'
  | 'nullable_string'
  | 'long'
  | 'int'
  | 'nullable_long'
  | 'nullable_double'
  | 'enum'
  | 'record'
  | 'map';

export interface Segment {
  name: string;
  shape: FieldShape;
  bytes: Buffer;
}

export interface EncodedEvent {
  version: number;
  header: Buffer;
  segments: Segment[];
}

interface AvscField {
  name: string;
  type: Type & { typeName: string; types?: Array<{ typeName: string }> };
}

function shapeOf(type: AvscField['type']): FieldShape {
  switch (type.typeName) {
    case 'string':
      return 'string';
    case 'long':
      return 'long';
    case 'int':
      return 'int';
    case 'enum':
      return 'enum';
    case 'record':
      return 'record';
    case 'map':
      return 'map';
    case 'union:unwrapped': {
      const other = type.types!.find((t) => t.typeName !== 'null')!.typeName;
      if (other === 'string') return 'nullable_string';
      if (other === 'long') return 'nullable_long';
      if (other === 'double') return 'nullable_double';
      throw new Error(`unexpected union branch ${other}`);
    }
    default:
      throw new Error(`unexpected field type ${type.typeName}`);
  }
}

/** The event as single-object encoding cut into its header and one segment per field. */
export function encodeSegments(event: UsageEvent, version: number): EncodedEvent {
  const schema = bundledSchemaRegistry().get(version);
  const header = Buffer.alloc(10);
  header[0] = 0xc3;
  header[1] = 0x01;
  header.writeBigUInt64LE(schema.fingerprint, 2);
  const fields = (schema.type as unknown as { fields: AvscField[] }).fields;
  const segments = fields.map((f) => ({
    name: f.name,
    shape: shapeOf(f.type),
    bytes: f.type.toBuffer((event as unknown as Record<string, unknown>)[f.name] ?? null),
  }));
  return { version, header, segments };
}

export function assemble(encoded: EncodedEvent): Buffer {
  return Buffer.concat([encoded.header, ...encoded.segments.map((s) => s.bytes)]);
}

/** A copy with field `name`'s bytes replaced. */
export function withSegment(encoded: EncodedEvent, name: string, bytes: Buffer): EncodedEvent {
  return {
    ...encoded,
    segments: encoded.segments.map((s) => (s.name === name ? { ...s, bytes } : s)),
  };
}

/** Offsets of each field's bytes within the assembled message. */
export function segmentOffsets(encoded: EncodedEvent): Map<string, { start: number; end: number }> {
  const out = new Map<string, { start: number; end: number }>();
  let at = encoded.header.length;
  for (const s of encoded.segments) {
    out.set(s.name, { start: at, end: at + s.bytes.length });
    at += s.bytes.length;
  }
  return out;
}
