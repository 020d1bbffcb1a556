import { isUtf8 } from 'node:buffer';
import avsc from 'avsc';
import { DecodeError } from './decode-error.js';

/**
 * avsc reads strings leniently and trusts map block counts. For bytes from a topic both are unsafe:
 * - invalid UTF-8 became U+FFFD, so a corrupted record decoded to a different, valid-looking event;
 * - a block count is a 64-bit varint, and avsc loops that many times even past the end of the bytes
 *   (2^40 entries in a 100-byte record: the consumer spins for days);
 * - a map key `__proto__` was assigned, not defined, and vanished from the decoded tags.
 * compileStrict() compiles a schema with string and map types whose reads refuse all three, each
 * naming the field it belongs to. Writing is unchanged. avsc shares one instance per primitive type
 * name, so every string is first annotated with its field (a custom attribute, which the parsing
 * canonical form and so the fingerprint ignore) and a typeHook makes a type per field.
 */

const FIELD = 'burnrate.field';

// The parts of avsc's Tap (its read cursor) these readers use.
interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  skipLong(): void;
  isValid(): boolean;
  _invalidate(): void;
}

interface Readable {
  _read(tap: Tap): unknown;
}

/** Reads a string as avsc does, but refuses bytes that are not UTF-8. */
function readString(tap: Tap, field: string): string | undefined {
  const len = tap.readLong();
  if (len < 0) {
    tap._invalidate();
    return '';
  }
  const start = tap.pos;
  const buf = tap.buf;
  tap.pos += len;
  if (tap.pos > buf.length) return undefined; // fromBuffer reports the truncation
  const end = tap.pos;
  // Nearly every string is ASCII: check bytes until the first one above 0x7f, then validate the rest.
  for (let i = start; i < end; i++) {
    if (buf[i]! > 0x7f) {
      if (!isUtf8(buf.subarray(i, end))) {
        throw new DecodeError('undecodable', `${field} is not valid UTF-8.`, { field });
      }
      break;
    }
  }
  return buf.toString('utf8', start, end);
}

function strictString(field: string): avsc.Type {
  const Base = avsc.types.StringType as unknown as new () => avsc.Type;
  class StrictString extends Base {
    _read(tap: Tap): string | undefined {
      return readString(tap, field);
    }
  }
  return new StrictString();
}

function strictMap(field: string, schema: unknown, opts: unknown): avsc.Type {
  const Base = avsc.types.MapType as unknown as new (schema: unknown, opts: unknown) => avsc.Type;
  class StrictMap extends Base {
    // `this` is the map type or, when reading another writer version, its resolver: both carry the
    // valuesType to read with.
    _read(this: { valuesType: Readable }, tap: Tap): Record<string, unknown> {
      const values = this.valuesType;
      const map: Record<string, unknown> = {};
      for (;;) {
        let n = tap.readLong();
        if (n === 0 || !tap.isValid()) return map;
        if (n < 0) {
          n = -n;
          tap.skipLong(); // the block's size in bytes
        }
        // Every entry takes at least one byte (its key's length): a larger count cannot be true.
        const left = tap.buf.length - tap.pos;
        if (n > left) {
          throw new DecodeError(
            'undecodable',
            `${field} claims ${n} entries in a block, more than the ${left} bytes left can hold.`,
            { field },
          );
        }
        for (; n > 0; n--) {
          const key = readString(tap, field);
          const value = values._read(tap);
          if (!tap.isValid()) return map;
          if (key === '__proto__') {
            Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
          } else map[key as string] = value;
        }
      }
    }
  }
  return new StrictMap(schema, opts);
}

type Node = string | { type: unknown; [k: string]: unknown } | Node[];

/** Copies the schema with every string and map annotated with the field it belongs to. */
function annotate(node: Node, field: string): Node {
  if (Array.isArray(node)) return node.map((branch) => annotate(branch, field));
  if (node === 'string') return { type: 'string', [FIELD]: field };
  if (typeof node !== 'object' || node === null) return node;
  switch (node.type) {
    case 'string':
      return { ...node, [FIELD]: field };
    case 'map':
      return { ...node, values: annotate(node.values as Node, field), [FIELD]: field };
    case 'record':
    case 'error':
      return {
        ...node,
        fields: (node.fields as Array<{ name: string; type: Node }>).map((f) => ({
          ...f,
          type: annotate(f.type, field ? `${field}.${f.name}` : f.name),
        })),
      };
    case 'array':
      throw new Error('compileStrict does not handle arrays; the usage event has none');
    default:
      return typeof node.type === 'object' ? { ...node, type: annotate(node.type as Node, field) } : node;
  }
}

function typeHook(schema: unknown, opts: unknown): avsc.Type | undefined {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return undefined;
  const s = schema as { type: unknown; [FIELD]?: string };
  const field = s[FIELD];
  if (field === undefined) return undefined;
  if (s.type === 'string') return strictString(field);
  if (s.type === 'map') return strictMap(field, schema, opts);
  return undefined;
}

/**
 * Compiles a usage-event schema as every codec reads and writes it: unions unwrapped (events are
 * plain objects), no record methods, and the strict reads above.
 */
export function compileStrict(schema: unknown): avsc.Type {
  return avsc.Type.forSchema(annotate(schema as Node, '') as avsc.Schema, {
    wrapUnions: 'never',
    omitRecordMethods: true,
    typeHook: typeHook as never,
  });
}
