import type { Type } from 'avsc';
import { ValidationError } from '../errors.js';
import { DecodeError } from './decode-error.js';
import {
  badMagic,
  CONFLUENT_HEADER_BYTES,
  type ConfluentFramingOptions,
  confluentHeader,
  resolveWriteVersion,
  SINGLE_OBJECT_HEADER_BYTES,
  singleObjectHeader,
  unknownFingerprint,
} from './framing.js';
import { bundledSchemaRegistry, type UsageEventSchemaRegistry } from './schema-registry.js';
import type { UsageEvent } from './usage-event.js';

export interface UsageEventCodecOptions {
  /** Schema version to write; defaults to the latest (or the version of `confluent.writeId`). */
  writeVersion?: number;
  /** Schema version decoded events are resolved to; defaults to the latest. */
  readerVersion?: number;
  /** Write Confluent framing instead of single-object encoding; decoding accepts both. */
  confluent?: ConfluentFramingOptions;
  /** Schema versions to use; defaults to the ones bundled under schemas/usage-event/. */
  registry?: UsageEventSchemaRegistry;
}

export interface DecodedUsageEvent {
  /** The event as the reader schema sees it: fields the writer lacked hold their defaults. */
  event: UsageEvent;
  /** Version of the schema the producer wrote with. */
  schemaVersion: number;
  /** The writer schema's fingerprint, 16 hex digits (see fingerprintHex). */
  fingerprint: string;
}

export interface UsageEventCodec {
  readonly writeVersion: number;
  readonly readerVersion: number;
  /** Encodes an event with the writer schema; throws ValidationError naming the field that does not fit. */
  encode(event: UsageEvent): Buffer;
  /** Decodes either framing and resolves to the reader schema; throws DecodeError. */
  decode(bytes: Uint8Array): DecodedUsageEvent;
}

type Resolver = ReturnType<Type['createResolver']>;

/** A writer schema together with how to read its bodies as the reader schema. */
interface WriterEntry {
  version: number;
  fingerprintHex: string;
  // The fingerprint as two 32-bit halves, so the hot path compares header bytes without BigInt.
  low: number;
  high: number;
  resolver: Resolver | undefined;
}

const INITIAL_SCRATCH_BYTES = 4096;

/**
 * Compiles once everything a message needs: header bytes, the writer type, and one resolver per
 * bundled writer version into the reader version. Each call then does no setup work.
 */
export function createUsageEventCodec(options: UsageEventCodecOptions = {}): UsageEventCodec {
  const registry = options.registry ?? bundledSchemaRegistry();
  const confluent = options.confluent;
  const writeVersion = resolveWriteVersion(registry, options);
  const writer = registry.get(writeVersion);
  const reader = options.readerVersion === undefined ? registry.latest : registry.get(options.readerVersion);
  const readerType = reader.type;

  const entries = registry.versions.map((w): WriterEntry => {
    return {
      version: w.version,
      fingerprintHex: w.fingerprintHex,
      low: Number(w.fingerprint & 0xffffffffn),
      high: Number(w.fingerprint >> 32n),
      resolver: w === reader ? undefined : readerType.createResolver(w.type),
    };
  });
  const known = entries.map((e) => `v${e.version} ${e.fingerprintHex}`).join(', ');
  const byConfluentId = new Map<number, WriterEntry>();
  for (const [id, version] of confluent?.ids ?? []) {
    byConfluentId.set(id, entries.find((e) => e.version === version)!);
  }

  const header = confluent ? confluentHeader(confluent.writeId) : singleObjectHeader(writer);
  const writerType = writer.type;
  let scratch = Buffer.alloc(INITIAL_SCRATCH_BYTES);
  header.copy(scratch);

  function encode(event: UsageEvent): Buffer {
    let end: number;
    try {
      end = writerType.encode(event, scratch, header.length);
      if (end < 0) {
        // Too big for the scratch buffer: grow it for this and later events, then write again.
        scratch = Buffer.alloc(Math.max(scratch.length * 2, scratch.length - end + header.length));
        header.copy(scratch);
        end = writerType.encode(event, scratch, header.length);
      }
    } catch (cause) {
      throw encodeError(writerType, writer.version, event, cause);
    }
    const out = Buffer.allocUnsafe(end);
    scratch.copy(out, 0, 0, end);
    return out;
  }

  function decode(bytes: Uint8Array): DecodedUsageEvent {
    let entry: WriterEntry | undefined;
    let offset: number;
    if (bytes.length >= SINGLE_OBJECT_HEADER_BYTES && bytes[0] === 0xc3 && bytes[1] === 0x01) {
      const low = (bytes[2]! | (bytes[3]! << 8) | (bytes[4]! << 16) | (bytes[5]! << 24)) >>> 0;
      const high = (bytes[6]! | (bytes[7]! << 8) | (bytes[8]! << 16) | (bytes[9]! << 24)) >>> 0;
      for (const e of entries) {
        if (e.low === low && e.high === high) {
          entry = e;
          break;
        }
      }
      if (!entry) throw unknownFingerprint(high, low, known);
      offset = SINGLE_OBJECT_HEADER_BYTES;
    } else if (confluent && bytes.length >= CONFLUENT_HEADER_BYTES && bytes[0] === 0) {
      const id = ((bytes[1]! << 24) | (bytes[2]! << 16) | (bytes[3]! << 8) | bytes[4]!) >>> 0;
      entry = byConfluentId.get(id);
      if (!entry) {
        throw new DecodeError(
          'unknown_schema',
          `No usage-event schema version is mapped to Confluent schema id ${id}.`,
          {
            schemaId: id,
          },
        );
      }
      offset = CONFLUENT_HEADER_BYTES;
    } else {
      throw badMagic(bytes, confluent !== undefined);
    }
    const body = Buffer.from(bytes.buffer, bytes.byteOffset + offset, bytes.length - offset);
    let event: UsageEvent;
    try {
      event = readerType.fromBuffer(body, entry.resolver);
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      const field = cause instanceof DecodeError ? cause.field : undefined;
      throw new DecodeError(
        'undecodable',
        `The body of a usage event written with schema v${entry.version} does not decode (${reason.replace(/\.$/, '')}).`,
        { cause, fingerprint: entry.fingerprintHex, ...(field === undefined ? {} : { field }) },
      );
    }
    return { event, schemaVersion: entry.version, fingerprint: entry.fingerprintHex };
  }

  return { writeVersion, readerVersion: reader.version, encode, decode };
}

function encodeError(type: Type, version: number, event: unknown, cause: unknown): ValidationError {
  let path = '';
  let expected = '';
  let value: unknown;
  type.isValid(event, {
    errorHook: (p: string[], v: unknown, t: Type) => {
      if (path) return;
      path = p.join('.');
      value = v;
      const symbols = (t as { symbols?: string[] }).symbols;
      expected = symbols ? `one of ${symbols.join(', ')}` : JSON.stringify(t.schema());
    },
  });
  const error = path
    ? new ValidationError(
        path,
        `${path} ${JSON.stringify(value) ?? 'undefined'} does not fit usage-event schema v${version}, which expects ${expected}.`,
      )
    : new ValidationError(
        'event',
        `The event does not fit usage-event schema v${version} (${String(cause)}).`,
      );
  error.cause = cause;
  return error;
}

const defaultCodecs = new Map<number | undefined, UsageEventCodec>();

function defaultCodec(version: number | undefined): UsageEventCodec {
  let codec = defaultCodecs.get(version);
  if (!codec) {
    codec = createUsageEventCodec({ writeVersion: version });
    defaultCodecs.set(version, codec);
  }
  return codec;
}

/**
 * Single-object encoding of an event with the bundled schema `version` (default: latest). Checks
 * only that the event fits the schema; run validateUsageEvent first for the semantic rules.
 */
export function encodeUsageEvent(event: UsageEvent, options: { version?: number } = {}): Buffer {
  return defaultCodec(options.version).encode(event);
}

/** Decodes a single-object encoded event, resolving it to the latest bundled schema. */
export function decodeUsageEvent(bytes: Uint8Array): DecodedUsageEvent {
  return defaultCodec(undefined).decode(bytes);
}
