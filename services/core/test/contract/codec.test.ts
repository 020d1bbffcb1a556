import {
  BurnrateError,
  bundledSchemaRegistry,
  ConfigError,
  createUsageEventCodec,
  DecodeError,
  decodeUsageEvent,
  encodeUsageEvent,
  ValidationError,
} from '@burnrate/core';
import { describe, expect, it } from 'vitest';
import { makeUsageEvent } from '../fixtures/usage-events.js';

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('usage-event codec', () => {
  const registry = bundledSchemaRegistry();
  const v1 = registry.get(1);
  const latest = registry.latest;

  it('writes C3 01 and the little-endian fingerprint of the writer schema', () => {
    const bytes = encodeUsageEvent(makeUsageEvent(), { version: 1 });
    expect([bytes[0], bytes[1]]).toEqual([0xc3, 0x01]);
    expect(bytes.readBigUInt64LE(2)).toBe(v1.fingerprint);
    expect(encodeUsageEvent(makeUsageEvent()).readBigUInt64LE(2)).toBe(latest.fingerprint);
  });

  it('round-trips an event, and the v2 fields when written with v2', () => {
    const event = makeUsageEvent({ environment: 'production', request_id: 'req_1', step_kind: 'rerank' });
    const decoded = decodeUsageEvent(encodeUsageEvent(event));
    expect(decoded.event).toEqual(event);
    expect(decoded.schemaVersion).toBe(latest.version);
    expect(decoded.fingerprint).toBe(latest.fingerprintHex);
  });

  it('lets a v2 reader read v1 data, with the new fields null', () => {
    const event = makeUsageEvent();
    const decoded = decodeUsageEvent(encodeUsageEvent(event, { version: 1 }));
    expect(decoded.schemaVersion).toBe(1);
    expect(decoded.event).toEqual({ ...event, environment: null, request_id: null });
  });

  it('lets a v1 reader read v2 data, dropping new fields and mapping a new symbol to the default', () => {
    const v1Reader = createUsageEventCodec({ readerVersion: 1 });
    const event = makeUsageEvent({ environment: 'staging', request_id: 'r', step_kind: 'rerank' });
    const decoded = v1Reader.decode(encodeUsageEvent(event, { version: 2 }));
    expect(decoded.schemaVersion).toBe(2);
    const { environment: _e, request_id: _r, ...v1Fields } = event;
    expect(decoded.event).toEqual({ ...v1Fields, step_kind: 'other' });
  });

  it('writes absent v2 fields as null', () => {
    const event = makeUsageEvent();
    expect(decodeUsageEvent(encodeUsageEvent(event)).event.environment).toBeNull();
  });

  it('returns a buffer of its own for every event', () => {
    const codec = createUsageEventCodec();
    const first = codec.encode(makeUsageEvent({ customer_ref: 'first' }));
    const copy = Buffer.from(first);
    codec.encode(makeUsageEvent({ customer_ref: 'second-and-longer' }));
    expect(first.equals(copy)).toBe(true);
  });

  it('encodes events larger than its scratch buffer, and keeps working after', () => {
    const codec = createUsageEventCodec();
    const tags = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, 'é'.repeat(256)]));
    const big = makeUsageEvent({ tags });
    const bytes = codec.encode(big);
    expect(bytes.length).toBeGreaterThan(16_000);
    expect(codec.decode(bytes).event).toEqual({ ...big, environment: null, request_id: null });
    const small = makeUsageEvent();
    expect(codec.decode(codec.encode(small)).event.customer_ref).toBe(small.customer_ref);
  });

  it('decodes from a Uint8Array that is not a Buffer and sits inside a larger array', () => {
    const bytes = encodeUsageEvent(makeUsageEvent());
    const backing = new Uint8Array(bytes.length + 7);
    backing.set(bytes, 3);
    const view = backing.subarray(3, 3 + bytes.length);
    expect(decodeUsageEvent(view).event.customer_ref).toBe('acme');
  });

  it('names the field an event does not fit the writer schema with', () => {
    const error = catchError(() => encodeUsageEvent(makeUsageEvent({ step_kind: 'rerank' }), { version: 1 }));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('step_kind');
    expect((error as Error).message).toBe(
      'step_kind "rerank" does not fit usage-event schema v1, which expects one of llm_call, tool_call, embedding, retry, eval, other.',
    );

    const nested = catchError(() =>
      encodeUsageEvent({ ...makeUsageEvent(), tokens: { ...makeUsageEvent().tokens, output: 1.5 } }),
    );
    expect((nested as ValidationError).field).toBe('tokens.output');
    expect((catchError(() => encodeUsageEvent(null as never)) as ValidationError).field).toBe('event');
  });

  describe('decode errors', () => {
    const good = encodeUsageEvent(makeUsageEvent());

    function decodeError(bytes: Uint8Array): DecodeError {
      const error = catchError(() => decodeUsageEvent(bytes));
      expect(error).toBeInstanceOf(DecodeError);
      expect(error).toBeInstanceOf(BurnrateError);
      expect((error as DecodeError).retriable).toBe(false);
      return error as DecodeError;
    }

    it('rejects bytes without the magic', () => {
      const error = decodeError(Buffer.from('{"event_id":"x"}'));
      expect(error.code).toBe('undecodable');
      expect(error.message).toMatch(/must start with C3 01/);
      expect(decodeError(new Uint8Array()).code).toBe('undecodable');
      expect(decodeError(good.subarray(0, 9)).code).toBe('undecodable');
    });

    it('rejects an unknown fingerprint and names it in hex', () => {
      const bytes = Buffer.from(good);
      bytes.writeBigUInt64LE(0x0123456789abcdefn, 2);
      const error = decodeError(bytes);
      expect(error.code).toBe('unknown_schema');
      expect(error.fingerprint).toBe('0123456789abcdef');
      expect(error.message).toContain('0123456789abcdef');
    });

    it('rejects a truncated body', () => {
      const error = decodeError(good.subarray(0, good.length - 3));
      expect(error.code).toBe('undecodable');
      expect(error.fingerprint).toBe(latest.fingerprintHex);
    });

    it('rejects trailing bytes', () => {
      expect(decodeError(Buffer.concat([good, Buffer.of(0)])).message).toMatch(/trailing/);
    });

    it('rejects a body that does not decode', () => {
      // The first field is the event_id string; a length of -1 (zig-zag 0x01) is no string.
      const bytes = Buffer.concat([good.subarray(0, 10), Buffer.of(0x01), good.subarray(11)]);
      expect(decodeError(bytes).code).toBe('undecodable');
      // occurred_at (after the 1-byte length and 36 bytes of event_id) replaced by a varint
      // beyond 2^53, which cannot become a JS number without loss.
      let end = 47;
      while (good[end]! & 0x80) end++;
      const huge = Buffer.concat([
        good.subarray(0, 47),
        Buffer.of(0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f),
        good.subarray(end + 1),
      ]);
      expect(decodeError(huge).message).toMatch(/precision/);
    });
  });

  describe('Confluent framing', () => {
    const ids = new Map([
      [101, 1],
      [102, 2],
    ]);

    it('writes magic 0 and the big-endian schema id, and reads both framings', () => {
      const codec = createUsageEventCodec({ confluent: { ids, writeId: 101 } });
      expect(codec.writeVersion).toBe(1);
      const bytes = codec.encode(makeUsageEvent());
      expect([...bytes.subarray(0, 5)]).toEqual([0, 0, 0, 0, 101]);
      expect(bytes.subarray(5).equals(encodeUsageEvent(makeUsageEvent(), { version: 1 }).subarray(10))).toBe(
        true,
      );
      const decoded = codec.decode(bytes);
      expect(decoded.schemaVersion).toBe(1);
      expect(decoded.event.customer_ref).toBe('acme');
      expect(codec.decode(encodeUsageEvent(makeUsageEvent())).schemaVersion).toBe(2);
    });

    it('rejects an id it has no version for', () => {
      const codec = createUsageEventCodec({ confluent: { ids, writeId: 102 } });
      const bytes = codec.encode(makeUsageEvent());
      bytes.writeUInt32BE(7, 1);
      const error = catchError(() => codec.decode(bytes)) as DecodeError;
      expect(error.code).toBe('unknown_schema');
      expect(error.schemaId).toBe(7);
    });

    it('is not accepted by a codec without Confluent options', () => {
      const bytes = createUsageEventCodec({ confluent: { ids, writeId: 102 } }).encode(makeUsageEvent());
      expect((catchError(() => decodeUsageEvent(bytes)) as DecodeError).code).toBe('undecodable');
    });

    it('refuses settings that do not add up', () => {
      const missing = catchError(() => createUsageEventCodec({ confluent: { ids, writeId: 5 } }));
      expect(missing).toBeInstanceOf(ConfigError);
      expect((missing as ConfigError).field).toBe('confluent.writeId');
      const clash = catchError(() =>
        createUsageEventCodec({ writeVersion: 2, confluent: { ids, writeId: 101 } }),
      );
      expect((clash as ConfigError).field).toBe('writeVersion');
      const unknownVersion = catchError(() =>
        createUsageEventCodec({ confluent: { ids: new Map([[1, 9]]), writeId: 1 } }),
      );
      expect((unknownVersion as BurnrateError).code).toBe('unknown_schema_version');
    });
  });
});
