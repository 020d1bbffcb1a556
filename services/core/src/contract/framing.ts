import { ConfigError } from '../errors.js';
import { DecodeError } from './decode-error.js';
import type { UsageEventSchema, UsageEventSchemaRegistry } from './schema-registry.js';

/** Avro single-object encoding: C3 01, then the 8-byte little-endian CRC-64-AVRO fingerprint. */
export const SINGLE_OBJECT_MAGIC = Uint8Array.of(0xc3, 0x01);
export const SINGLE_OBJECT_HEADER_BYTES = 10;
/** Confluent Schema Registry framing: magic byte 0, then the 4-byte big-endian schema id. */
export const CONFLUENT_HEADER_BYTES = 5;

export interface ConfluentFramingOptions {
  /** Registry schema id → bundled schema version, as registered; core makes no registry calls. */
  ids: ReadonlyMap<number, number>;
  /** Registry schema id written in front of every encoded event; its version is the writer schema. */
  writeId: number;
}

/** The schema version a codec writes, checking that Confluent settings and writeVersion agree. */
export function resolveWriteVersion(
  registry: UsageEventSchemaRegistry,
  options: { writeVersion?: number; confluent?: ConfluentFramingOptions },
): number {
  const confluent = options.confluent;
  if (!confluent) return options.writeVersion ?? registry.latest.version;
  for (const [id, version] of confluent.ids) {
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) {
      throw new ConfigError(
        'confluent.ids',
        `The Confluent schema id ${id} is not a 32-bit unsigned integer.`,
      );
    }
    registry.get(version);
  }
  const version = confluent.ids.get(confluent.writeId);
  if (version === undefined) {
    throw new ConfigError(
      'confluent.writeId',
      `confluent.writeId ${confluent.writeId} is not in confluent.ids.`,
    );
  }
  if (options.writeVersion !== undefined && options.writeVersion !== version) {
    throw new ConfigError(
      'writeVersion',
      `writeVersion ${options.writeVersion} disagrees with confluent.writeId ${confluent.writeId}, which is v${version}.`,
    );
  }
  return version;
}

export function singleObjectHeader(schema: UsageEventSchema): Buffer {
  const header = Buffer.alloc(SINGLE_OBJECT_HEADER_BYTES);
  header.set(SINGLE_OBJECT_MAGIC, 0);
  header.writeBigUInt64LE(schema.fingerprint, 2);
  return header;
}

export function confluentHeader(id: number): Buffer {
  const header = Buffer.alloc(CONFLUENT_HEADER_BYTES);
  header.writeUInt32BE(id, 1);
  return header;
}

/** `known` lists the bundled versions with their fingerprints, for the message. */
export function unknownFingerprint(high: number, low: number, known: string): DecodeError {
  const hex = high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0');
  return new DecodeError(
    'unknown_schema',
    `No bundled usage-event schema has the fingerprint ${hex} (known: ${known}).`,
    { fingerprint: hex },
  );
}

export function badMagic(bytes: Uint8Array, confluent: boolean): DecodeError {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 10)).toString('hex');
  const expected = confluent
    ? 'C3 01 + 8-byte fingerprint or 00 + 4-byte schema id'
    : 'C3 01 + 8-byte fingerprint';
  return new DecodeError(
    'undecodable',
    `A usage event must start with ${expected}, but ${bytes.length} bytes start with ${head || 'nothing'}.`,
  );
}
